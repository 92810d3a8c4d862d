"""The Insights pane on the paused simulated session: a position near
liquidation and a carry pair that pays after costs are ranked first with
their numbers, the command line opens it, and its snapshot is deterministic.

Update the snapshot after an intended change with
``pytest tests/ui/test_insights_pane.py --snapshot-update`` and review the SVG.
"""

from __future__ import annotations

from quantdesk.console.app import QuantDeskApp
from quantdesk.console.panes.insights import InsightsPane
from quantdesk.core.model import Funding, Position, topic_for
from quantdesk.venues.session import Session

from support.app import WARMUP_EVENTS, notes, pane_text, paused_session, start
from support.console_app import make_app

KEY = ("sim-drift", "SOL-PERP")


def desk_state(session: Session) -> None:
    """After the warm-up: a 50 SOL long 4 % above its liquidation price, and
    sim-drift funding at 0.01 %/h (longs pay), predicted to turn."""
    cache = session.cache
    price = cache.oracle[KEY].price
    now = session.clock()
    events = [
        Position(*KEY, 50 * 10**9, -50 * price, price, price, liquidation_price=price * 96 // 100,
                 fees=2_540_000, funding=-1_200_000, ts=now),
        Funding(*KEY, now, 100_000, -20_000, 3600, cache.funding[KEY].next_ts),
    ]
    for ev in events:
        session.bus.publish(topic_for(ev), ev)


async def test_the_board_ranks_the_liquidation_warning_then_the_carry_pair():
    session = paused_session()
    app = QuantDeskApp(session, panes=["insights"])
    async with app.run_test(size=(140, 60)) as pilot:
        await start(app, pilot)
        desk_state(session)
        app.frame()
        await pilot.pause()
        text = pane_text(app.query_one(InsightsPane))
        board = [line.strip() for line in text.splitlines() if line.strip()[:1] in "!+~"]
        assert board[0].startswith("! LIQ   SOL-PERP sim-drift") and "long 4.00% from liquidation" in board[0]
        assert board[1].startswith("+ CARRY SOL-PERP sim-jup / sim-drift") and "/day net per $10,000" in board[1]
        assert any(line.startswith("~ FUND  SOL-PERP sim-drift") and "shorts pay next" in line for line in board)
        # the numbers behind the warning, under it
        assert "liq " in text and "funding -$1.20" in text and "break-even" in text


async def test_the_command_line_word_opens_the_pane():
    app = make_app(layout="insights")
    async with app.run_test(size=(160, 45)) as pilot:
        await start(app, pilot)
        app.query_one("DepthPane").focus()
        await pilot.press("colon", *"INSIGHTS", "enter")
        await pilot.pause()
        pane = app.query_one(InsightsPane)
        assert app.focused is pane
        assert "Ranked: warnings, then opportunities" in pane_text(pane)


async def test_a_layout_without_the_pane_names_one_that_has_it():
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await start(app, pilot)
        await pilot.press("colon", *"INS", "enter")
        await pilot.pause()
        assert not app.query(InsightsPane)
        assert any("no insights pane; LAYOUT insights has one" in m for m in notes(app))


def test_insights_pane_snapshot(snap_compare):
    session = paused_session()
    app = QuantDeskApp(session, panes=["insights"])

    async def warm_up(pilot) -> None:
        await app.session_started.wait()
        session.advance(WARMUP_EVENTS)
        desk_state(session)
        app.frame()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(130, 50), run_before=warm_up)
