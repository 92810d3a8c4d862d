"""Funding and borrow history: the Funding pane's sparklines around a zero line,
coloured by sign, and the funding history chart opened on demand with FHIST."""

from __future__ import annotations

from quantdesk.console.app import QuantDeskApp
from quantdesk.console.pane_screen import PaneScreen
from quantdesk.console.panes.funding import FundingPane
from quantdesk.console.panes.funding_history import FundingHistoryPane
from quantdesk.console.sparkline import EIGHTHS, ZERO
from quantdesk.core.model import FundingHistory, topic_for
from quantdesk.core.rate_history import HOUR_NS

from support.app import pane_lines, paused_session, start

SOL = "SOL-PERP"
BIG = 2_000_000  # 0.2 %/h: well above the simulated rates, so it sets the funding rows' scale


def past_rates(session, rates: list[int], venue: str = "sim-drift", market: str = SOL) -> int:
    """``rates`` for the hours before the current one, oldest first; returns the current hour's start."""
    now = session.clock()
    hour = now - now % HOUR_NS
    points = [(hour - (len(rates) - i) * HOUR_NS, r) for i, r in enumerate(rates)]
    ev = FundingHistory(venue, market, now, points)
    session.bus.publish(topic_for(ev), ev)
    return hour


def row_cells(pane: FundingPane, y: int) -> list[tuple[str, object]]:
    """(character, style) of every cell of one line."""
    return [(ch, seg.style) for seg in pane.render_line(y) for ch in seg.text]


async def test_the_funding_pane_draws_each_markets_hours_around_a_zero_line_in_sign_colours():
    session = paused_session()
    app = QuantDeskApp(session, panes=["funding"])
    async with app.run_test(size=(140, 44)) as pilot:
        await start(app, pilot)
        # hours -5 .. -1: +BIG, -BIG, 0, +BIG/2, -BIG/2; the current hour is the simulated rate
        past_rates(session, [BIG, -BIG, 0, BIG // 2, -BIG // 2])
        session.clock.advance(1_000_000_000)
        app.frame()
        await pilot.pause()
        pane = app.query_one(FundingPane)
        lines = pane_lines(pane)
        header = next(i for i, line in enumerate(lines) if line.startswith("Market"))
        assert "Last " in lines[header] and "h, 1/h" in lines[header]
        y = next(i for i, line in enumerate(lines) if line.startswith(SOL))
        x = lines[header].index("Last ")  # where the history column starts
        top, under = row_cells(pane, y)[x:], row_cells(pane, y + 1)[x:]
        assert len(top) > 8
        # the last six columns: five past hours, then this hour
        assert [ch for ch, _ in top[-6:-1]] == ["█", ZERO, ZERO, EIGHTHS[4], ZERO]
        assert [ch for ch, _ in under[-6:-1]] == [" ", "█", " ", " ", EIGHTHS[4]]  # the half bar hangs from the line
        gain, loss = pane.style("pane--gain"), pane.style("pane--loss")
        assert top[-6][1].color == gain.color and under[-5][1].color == loss.color
        assert under[-2][1].bgcolor == loss.color  # its upper half red, the lower half the pane's own colour
        assert [ch for ch, _ in top[:-6]] == [" "] * (len(top) - 6)  # before the history: blank


async def test_a_short_pane_draws_the_history_in_one_line():
    session = paused_session()
    app = QuantDeskApp(session, panes=["funding"])
    async with app.run_test(size=(140, 22)) as pilot:  # too short for two lines a row
        await start(app, pilot)
        past_rates(session, [BIG, -BIG, BIG // 4])
        session.clock.advance(1_000_000_000)
        app.frame()
        await pilot.pause()
        pane = app.query_one(FundingPane)
        lines = pane_lines(pane)
        y = next(i for i, line in enumerate(lines) if line.startswith(SOL))
        x = next(line for line in lines if line.startswith("Market")).index("Last ")
        cells = row_cells(pane, y)[x:]
        assert not lines[y + 1].startswith(" " * x)  # the next row is the next venue's, not a second line
        assert [ch for ch, _ in cells[-4:-1]] == ["█", "█", EIGHTHS[2]]  # size in eighths
        assert cells[-3][1].color == pane.style("pane--loss").color  # the sign by colour


async def test_fhist_opens_the_markets_history_over_the_layout_and_escape_closes_it():
    session = paused_session()
    app = QuantDeskApp(session)  # the default grid has no funding history pane
    async with app.run_test(size=(160, 44)) as pilot:
        await start(app, pilot)
        rates = [1_000 * (i % 5) - 1_500 for i in range(30)]  # 30 past hours
        past_rates(session, rates)
        session.clock.advance(1_000_000_000)
        app.command_line.open("SOL-PERP FHIST")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PaneScreen)
        pane = app.screen.query_one(FundingHistoryPane)
        app.screen.draw()
        await pilot.pause()
        assert pane.market == SOL and pane.border_title == f"FUNDING HISTORY {SOL}"
        text = "\n".join(pane_lines(pane))
        current = session.cache.funding[("sim-drift", SOL)].rate
        day = rates[-23:] + [current]
        avg = sum(day) // 24
        assert f"24h avg {avg / 1e7:+.4f}%" in text  # ppb per hour as %/h
        assert "sim-jup borrow" in text and "sim-drift funding" in text
        assert "31h known" in text  # 30 past hours and this one
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, PaneScreen)
