"""The Chart pane: candles built from the simulated venues' trades (and a pool's
oracle), the timeframe and market keys, position levels, the redraw cadence,
and Drift's data-API bars through a local data API."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from quantdesk.console.app import QuantDeskApp
from quantdesk.console.panes.chart import REDRAW_NS, ChartPane
from quantdesk.core.candles import timeframe_ns
from quantdesk.core.model import Position, topic_for
from quantdesk.venues.drift.venue import DriftVenue
from quantdesk.venues.session import SIM_STEP_NS, Session
from quantdesk.venues.sim.clock import ManualClock

from support.app import START_NS, pane_lines, paused_session, until_shown
from support.data_api import DataApiServer
from support.drift_servers import SOL, local

MINUTE_NS = 60 * 1_000_000_000
EVENTS_PER_MINUTE = 40


def grow(session: Session, minutes: int, events: int = EVENTS_PER_MINUTE) -> None:
    """``minutes`` of simulated market, ``events`` events a minute: the clock
    jumps to the next minute's end and the simulated venues print there."""
    for _ in range(minutes):
        session.clock.advance(MINUTE_NS - events * SIM_STEP_NS)
        session.advance(events)


def chart(app: QuantDeskApp) -> ChartPane:
    pane = app.pane_of_type("chart")
    assert isinstance(pane, ChartPane)
    return pane


def redraw(app: QuantDeskApp) -> None:
    """Draw the chart now, past its redraw cadence."""
    app.session.clock.advance(REDRAW_NS)
    app.frame()


async def later(session: Session) -> None:
    """A real server's answer is awaited; the chart's clock moves past its redraw cadence."""
    session.clock.advance(REDRAW_NS)
    await asyncio.sleep(0.02)


def header(pane: ChartPane) -> str:
    return next(line for line in pane_lines(pane) if line.startswith("O "))


def figure(line: str, tag: str) -> Decimal:
    words = line.split()
    return Decimal(words[words.index(tag) + 1].replace(",", ""))


async def _started(app: QuantDeskApp, pilot, minutes: int = 90) -> None:
    await app.session_started.wait()
    grow(app.session, minutes)
    redraw(app)
    await pilot.pause()


def test_chart_snapshot(snap_compare):
    """SOL-PERP on the simulated book at 15m with a long position: candles, volume,
    mark and oracle lines, the entry and (off the range) the liquidation price."""
    session = paused_session()
    app = QuantDeskApp(session, panes=["chart"])

    async def warm_up(pilot) -> None:
        await _started(app, pilot, minutes=24 * 60)
        pane = chart(app)
        last = session.cache.candles_of("sim-drift", SOL, "15m")[0][-1]
        pos = Position("sim-drift", SOL, 3_000_000_000, -3 * (last.close - 1_500_000), last.close - 1_500_000,
                       liquidation_price=last.close // 2, ts=session.clock())
        session.bus.publish(topic_for(pos), pos)
        pane.focus()
        redraw(app)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 36), run_before=warm_up)


async def test_bars_are_the_trades_of_each_timeframe_and_keys_step_through_them():
    session = paused_session()
    app = QuantDeskApp(session, panes=["chart", "depth"])
    async with app.run_test(size=(160, 44)) as pilot:
        await _started(app, pilot)
        pane = chart(app)
        assert (pane.market, pane.venue, pane.timeframe) == (SOL, "sim-drift", "15m")
        assert pane.border_title == f"CHART {SOL} @ sim-drift 15m"
        market = session.cache.markets[("sim-drift", SOL)]
        trades = list(session.cache.trades[("sim-drift", SOL)])
        # The forming bar closes at the last trade; its high and low hold every trade of its span kept in the tape.
        last = trades[-1]
        start = last.ts - last.ts % timeframe_ns("15m")
        inside = [t.price for t in trades if t.ts >= start]
        assert trades[0].ts < start  # the tape reaches back past the bar's start: all its trades are here
        line = header(pane)
        assert figure(line, "C") == market.price(last.price)
        assert figure(line, "H") == market.price(max(inside)) and figure(line, "L") == market.price(min(inside))
        pane.focus()
        await pilot.press("plus", "plus", "minus", "minus", "minus")  # 15m -> 1h -> 4h -> 1h -> 15m -> 5m
        assert pane.timeframe == "5m" and pane.border_title.endswith(" 5m")
        bars, source = session.cache.candles_of("sim-drift", SOL, "5m")
        assert source == "built" and all(b.ts % timeframe_ns("5m") == 0 for b in bars)
        assert figure(header(pane), "C") == market.price(last.price)
        await pilot.press("minus", "minus")  # stops at the shortest
        assert pane.timeframe == "1m"
        await pilot.press("right_square_bracket", "right_curly_bracket")
        assert pane.market != SOL and pane.venue == "sim-jup"
        assert pane.border_title == f"CHART {pane.market} @ sim-jup 1m"
        assert "bars from oracle prices since start" in "\n".join(pane_lines(pane))  # a pool fills at its oracle


async def test_a_position_draws_its_entry_and_liquidation_and_levels_track_mark_and_oracle():
    session = paused_session()
    app = QuantDeskApp(session, panes=["chart"])
    async with app.run_test(size=(140, 40)) as pilot:
        await _started(app, pilot)
        pane = chart(app)
        market = session.cache.markets[("sim-drift", SOL)]
        close = session.cache.candles_of("sim-drift", SOL, "15m")[0][-1].close
        entry, liq = close - 200_000, close // 3
        pos = Position("sim-drift", SOL, 2_000_000_000, -2 * entry, entry, liquidation_price=liq, ts=session.clock())
        session.bus.publish(topic_for(pos), pos)
        redraw(app)
        text = "\n".join(pane_lines(pane))
        d = 3  # the market's tick: 0.001
        assert f"E {market.price(entry):,.{d}f}" in text
        assert f"L {market.price(liq):,.{d}f}↓" in text  # far below the bars: at the bottom edge, not squeezing them
        mark = session.cache.mark[("sim-drift", SOL)].price
        assert f"M {market.price(mark):,.{d}f}" in text
        flat = Position("sim-drift", SOL, 0, 0, 0, realized_pnl=1, ts=session.clock())
        session.bus.publish(topic_for(flat), flat)
        redraw(app)
        assert "E " not in "\n".join(line[-20:] for line in pane_lines(pane))


async def test_new_data_redraws_at_most_four_times_a_second_and_keys_at_once():
    session = paused_session()
    app = QuantDeskApp(session, panes=["chart"])
    async with app.run_test(size=(120, 36)) as pilot:
        await _started(app, pilot)
        pane = chart(app)
        await pilot.pause()
        redraw(app)  # drawn now, at rest
        before = header(pane)
        session.advance(20)  # 100 ms of events: the forming bar moves
        assert not pane.tick(session.clock())  # within the cadence: not drawn yet
        assert header(pane) == before
        session.advance(40)
        assert pane.tick(session.clock())  # 300 ms after the last drawing
        assert header(pane) != before
        pane.focus()
        await pilot.press("plus")
        assert pane.timeframe == "1h" and " 1h" in pane.border_title
        assert "1h" in header(pane)


async def test_drift_bars_come_from_the_data_api_and_follow_its_updates(servers, data_api: DataApiServer):
    venue = DriftVenue(local(*servers, data_api_url=data_api.url))
    session = Session([venue], ManualClock(START_NS))
    app = QuantDeskApp(session, panes=["chart"])
    async with app.run_test(size=(140, 40)) as pilot:
        await app.session_started.wait()
        pane = chart(app)
        pane.set_timeframe("1h")
        await until_shown(app, pilot, lambda: "drift candles, live" in "\n".join(pane_lines(pane)), "data API bars",
                          advance=lambda: later(session))
        forming = dict(data_api.hourly[-1], fillHigh=190.5, fillClose=190.25)
        await data_api.push_update(forming)
        await until_shown(app, pilot, lambda: figure(header(pane), "C") == Decimal("190.250"), "the update",
                          advance=lambda: later(session))
        assert figure(header(pane), "H") == Decimal("190.500")
        assert data_api.subscribes[-1] == {"type": "subscribe", "symbol": SOL, "resolution": "60"}
        await pilot.press("minus")  # another timeframe: another stream, the last one let go
        await until_shown(app, pilot, lambda: data_api.subscribes[-1].get("resolution") == "15", "15m stream",
                          advance=lambda: later(session))
        assert session.candle_feed.state("drift", SOL, "1h") is None
