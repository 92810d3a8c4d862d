"""What reaches the terminal and when: a key bound to the App is painted in the
same turn as the key, and a rebuilt pane renders only the lines that changed."""

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


async def test_a_rebuilt_pane_renders_only_the_lines_that_changed(session):
    app = QuantDeskApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        depth = app.query_one(DepthPane)
        before = list(depth._strips)
        session.advance(3)  # a few book changes: most ladder rows read as before
        app.frame()
        after = depth._strips
        kept = sum(1 for a, b in zip(before, after) if a is b)
        changed = sum(1 for a, b in zip(before, after) if a != b)
        assert changed > 0, "the feed moved something on the ladder"
        assert kept >= len(after) - changed - 1  # every unchanged line kept its rendered strip


async def test_rows_reused_from_the_last_build_read_as_a_fresh_build(session):
    """Depth and spreads reuse the rows whose inputs did not move: after every
    feed step each pane shows exactly what it would drawn from nothing."""
    from quantdesk.console.panes.base import Pane, _same_text

    app = QuantDeskApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        panes = list(app.query(Pane))
        assert {p.pane_type for p in panes} >= {"depth", "spreads"}
        for step in range(120):
            session.advance(1 + step % 7)
            session.clock.advance(37_000_000)  # flashes start, fade and end along the way
            now = session.clock()
            for pane in panes:
                width, height = pane.size
                reused = pane.build(now, width, height)
                pane.pieces.reset()
                fresh = pane.build(now, width, height)
                assert len(reused) == len(fresh)
                for y, (a, b) in enumerate(zip(reused, fresh)):
                    assert _same_text(a, b), f"{pane.pane_type} line {y}: {a.plain!r} != {b.plain!r}"
