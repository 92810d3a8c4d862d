"""Under a 50,000 events/s simulated feed the keyboard still works."""

from __future__ import annotations

import asyncio

from textual.events import Key

from quantdesk.venues.session import simulated_session
from quantdesk.console.app import QuantDeskApp
from quantdesk.console.panes.depth import DepthPane
from quantdesk.console.panes.funding import FundingPane

from support.app import SEED, pane_lines


async def wait_for(predicate, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_keys_take_effect_under_a_50k_events_per_second_feed():
    session = simulated_session(seed=SEED, rate=50_000)
    app = QuantDeskApp(session)
    async with app.run_test(size=(200, 50)):
        await app.session_started.wait()
        await wait_for(lambda: session.cache.events > 20_000)
        depth = app.query_one(DepthPane)
        assert depth.market == "SOL-PERP"

        # Keys arrive as a terminal delivers them: Key events posted to the App.
        # (Pilot.press would also wait for the app to go idle, which a 50k/s
        # feed never lets it do.)
        app.post_message(Key("right_square_bracket", "]"))
        await wait_for(lambda: pane_lines(depth)[0].startswith("BTC-PERP sim-drift"))
        app.post_message(Key("2", "2"))
        await wait_for(lambda: isinstance(app.focused, FundingPane))

        # The feed kept running through it and frames kept coming; panes were
        # rebuilt once per frame at most, never once per message.
        builds = 0
        build = depth.build

        def counting_build(*args):
            nonlocal builds
            builds += 1
            return build(*args)

        depth.build = counting_build
        events, frames = session.cache.events, app.frames
        await wait_for(lambda: session.cache.events > events + 10_000 and app.frames > frames + 2)
        assert 0 < builds <= app.frames - frames + 2  # + key-driven frames
        assert session.cache.events - events > 20 * builds
