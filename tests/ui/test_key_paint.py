"""A key bound to the App reaches the terminal in the same turn as the key,
not at the screen's next update tick."""

from __future__ import annotations

from quantdesk.console.app import QuantDeskApp
from quantdesk.console.panes.depth import DepthPane

from support.app import start

SIZE = (200, 50)


async def test_a_market_key_is_painted_before_the_key_handler_returns(session):
    app = QuantDeskApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        depth = app.query_one(DepthPane)
        before = depth.market
        shown: list[str] = []
        display = app._display

        def recording(screen, update) -> None:
            display(screen, update)
            shown.append(depth.render_line(0).text)

        app._display = recording
        # The App runs a key's binding here (after the focused pane let it bubble);
        # no turn of the loop, so no screen update tick, happens in between.
        assert await app._check_bindings("right_square_bracket")
        assert depth.market != before
        assert shown, "the key's frame must be sent while the key is handled"
        assert shown[-1].startswith(f"{depth.market} ")
