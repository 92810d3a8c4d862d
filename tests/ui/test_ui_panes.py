"""What each pane shows, and when it repaints."""

from __future__ import annotations

import logging

import pytest
from rich.text import Text

from quantdesk.core.model import AccountState, BookDelta, Position, VenueStatus
from quantdesk.console import format as fmt
from quantdesk.console.app import QuantDeskApp
from quantdesk.console.panes import catalogue
from quantdesk.console.panes.base import Pane
from quantdesk.console.panes.catalogue import PaneEntry, UnknownPane, pane_class
from quantdesk.console.panes.depth import FADE_NS, DepthPane
from quantdesk.console.panes.funding import FundingPane
from quantdesk.console.panes.positions import PositionsPane
from quantdesk.console.panes.spreads import SpreadsPane
from quantdesk.console.statusbar import StatusBar

from support.app import pane_lines, pane_text, start

SIZE = (200, 50)


def size_cell_background(pane: DepthPane, y: int):
    """Background colour of the size cell (second column) of ladder row ``y``."""
    line = pane.render_line(y)
    x = 0
    for seg in line:
        x += len(seg.text)
        if seg.text.strip() and x > 12:  # first non-blank segment past the price column
            return seg.style.bgcolor if seg.style else None
    return None


async def test_panes_repaint_only_when_the_cache_revisions_they_read_move(session):
    app = QuantDeskApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        now = session.clock()
        depth, funding, spreads, positions = app.panes
        for pane in app.panes:
            pane.tick(now)  # settle
        # Nothing happened: no pane rebuilds.
        assert [p.tick(now) for p in app.panes] == [False, False, False, False]
        # Book traffic of another market: depth (per book) and funding stay put.
        book = session.cache.book("sim-drift", "BTC-PERP")
        price, size = book.best_bid()
        session.bus.publish(
            "book.sim-drift.BTC-PERP",
            BookDelta("sim-drift", "BTC-PERP", book.seq + 1, now, bids=[(price, size + 1_000_000)]),
        )
        assert depth.tick(now) is False
        assert funding.tick(now) is False
        assert spreads.tick(now) is True
        assert positions.tick(now) is False
        # Funding countdowns move with the clock, once a second.
        assert funding.tick(now + 1_000_000_000) is True


async def test_changed_levels_flash_then_fade_within_half_a_second(session):
    app = QuantDeskApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        depth = app.query_one(DepthPane)
        now = session.clock()
        depth.tick(now)
        lines = pane_lines(depth)
        mid_row = next(i for i, line in enumerate(lines) if line.startswith("──"))
        bid_row = mid_row + 1
        quiet_bg = size_cell_background(depth, bid_row)

        book = session.cache.book("sim-drift", "SOL-PERP")
        price, size = book.best_bid()
        session.bus.publish(
            "book.sim-drift.SOL-PERP",
            BookDelta("sim-drift", "SOL-PERP", book.seq + 1, now, bids=[(price, size + 10_000_000)]),
        )
        session.clock.advance(1_000_000)
        app.frame()
        assert size_cell_background(depth, bid_row) != quiet_bg
        # The untouched level next to it does not flash.
        assert size_cell_background(depth, bid_row + 1) == quiet_bg

        session.clock.advance(FADE_NS)
        app.frame()
        assert size_cell_background(depth, bid_row) == quiet_bg


async def test_depth_shows_crossed_and_resyncing_books_and_recovers(session):
    app = QuantDeskApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        depth = app.query_one(DepthPane)
        book = session.cache.book("sim-drift", "SOL-PERP")
        now = session.clock()
        ask = book.best_ask()[0]
        session.bus.publish(
            "book.sim-drift.SOL-PERP",
            BookDelta("sim-drift", "SOL-PERP", book.seq + 1, now, bids=[(ask + 1_000, 5_000_000_000)]),
        )
        app.frame()
        text = pane_text(depth)
        assert "CROSSED" in text
        assert "do not trade on this book" in text
        # the overlap: the 5-unit bid above the best ask meets the asks at or below it
        overlap = session.cache.book("sim-drift", "SOL-PERP").crossing_size()
        assert overlap > 0 and f"({fmt.size(overlap, session.cache.markets[('sim-drift', 'SOL-PERP')])} overlap)" in text

        # A sequence gap: the pane says so, the venue is asked for a snapshot.
        session.bus.publish(
            "book.sim-drift.SOL-PERP", BookDelta("sim-drift", "SOL-PERP", book.seq + 5, now, bids=[(ask, 1)])
        )
        app.frame()
        text = pane_text(depth)
        assert "RESYNCING" in text
        assert "Sequence gap" in text

        session.advance(10)  # the sim answers the resync request with a snapshot
        app.frame()
        text = pane_text(depth)
        assert "RESYNCING" not in text
        assert "CROSSED" not in text


async def test_a_stale_venue_is_marked_in_depth_and_status_bar(session):
    app = QuantDeskApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        now = session.clock()
        session.bus.publish("status.sim-drift", VenueStatus("sim-drift", "stale", now, now - 12_000_000_000))
        session.clock.advance(12_000_000_000)
        app.frame()
        assert "STALE 12s" in pane_lines(app.query_one(DepthPane))[0]
        bar = app.query_one(StatusBar)
        assert "sim-drift stale" in bar.render().plain


async def test_a_venue_that_goes_quiet_is_shown_stale_with_its_age(session):
    app = QuantDeskApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        depth, bar = app.query_one(DepthPane), app.query_one(StatusBar)
        assert "STALE" not in pane_lines(depth)[0]
        session.clock.advance(7_000_000_000)  # no events for 7 s
        app.frame()
        assert "STALE 7." in pane_lines(depth)[0]
        assert "sim-drift stale 7." in bar.render().plain
        session.clock.advance(5_000_000_000)
        app.frame()
        assert "STALE 12s" in pane_lines(depth)[0]
        for pane in (app.query_one(FundingPane), app.query_one(SpreadsPane)):
            assert pane_lines(pane)[0] == "sim-drift is stale for 12s: its figures may be out of date."
        session.advance(50)  # data flows again
        app.frame()
        assert "STALE" not in pane_lines(depth)[0]
        assert "stale" not in pane_text(app.query_one(SpreadsPane))
        assert "sim-drift connected" in bar.render().plain


async def test_funding_lists_every_market_on_every_venue_with_borrow_labelled(session):
    app = QuantDeskApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        lines = pane_lines(app.query_one(FundingPane))
        assert lines[0].split()[:5] == ["Market", "Venue", "Type", "Rate", "1h"]
        rows = {}
        current = ""
        # each row's second line is its rate history below the zero line, under the history column
        table_rows = [line for line in lines[1:] if line.strip() and not line.startswith(" " * 20)]
        for line in table_rows[:6]:
            parts = line.split()
            if parts[0].endswith("-PERP"):
                current = parts.pop(0)
            rows[(parts[0], current)] = parts
        assert set(rows) == set(session.cache.markets)
        for (venue, symbol), parts in rows.items():
            f = session.cache.funding[(venue, symbol)]
            assert parts[1] == ("borrow" if venue == "sim-jup" else "funding")
            assert parts[1] == f.kind
            assert fmt.apr_pct(f.annualized, sign=f.kind == "funding") in parts
            assert fmt.countdown(f.next_ts - session.clock()) in parts


async def test_spreads_show_each_venue_and_the_best_bid_and_ask_across_venues(session):
    app = QuantDeskApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        lines = pane_lines(app.query_one(SpreadsPane))
        cache = session.cache
        for symbol in ("SOL-PERP", "BTC-PERP", "ETH-PERP"):
            i = next(i for i, line in enumerate(lines) if line.startswith(symbol))
            drift_row, jup_row, best_row = lines[i], lines[i + 1], lines[i + 2]
            assert drift_row.split()[1] == "sim-drift" and drift_row.split()[-3] == "ref"
            assert jup_row.split()[0] == "sim-jup"
            books = [cache.book(v, symbol) for v in ("sim-drift", "sim-jup")]
            market = cache.markets[("sim-drift", symbol)]
            best_bid = max(b.best_bid()[0] for b in books)
            best_ask = min(b.best_ask()[0] for b in books)
            dec = fmt.price_decimals(market)
            assert best_row.split()[1:3] == [
                fmt.price(best_bid, market, decimals=dec),
                fmt.price(best_ask, market, decimals=dec),
            ]


async def test_positions_empty_state_then_a_position_and_equity(session):
    app = QuantDeskApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        pane = app.query_one(PositionsPane)
        text = pane_text(pane)
        assert "No open positions" in text
        for column in ("Market", "Venue", "Side", "Size", "Entry", "Mark", "uPnL", "rPnL", "Liq", "Lev", "Margin"):
            assert column in pane_lines(pane)[1]
        now = session.clock()
        session.bus.publish(
            "position.sim-drift",
            Position(
                "sim-drift",
                "SOL-PERP",
                base=2_500_000_000,
                quote_entry=-362_500_000,
                entry_price=145_000_000,
                mark_price=146_000_000,
                unrealized_pnl=2_500_000,
                liquidation_price=98_000_000,
                margin=72_500_000,
                leverage_bps=50_000,
                ts=now,
            ),
        )
        account = AccountState("sim-drift", now, 1_000_000_000, 1_002_500_000, 900_000_000, 72_500_000, 93, 3_600)
        session.bus.publish("account.sim-drift", account)
        app.frame()
        lines = pane_lines(pane)
        assert "equity $1,002.50" in lines[0]
        row = lines[2].split()
        assert row == [
            *("SOL-PERP", "sim-drift", "LONG", "2.50", "145.000", "146.000"),
            *("+2.50", "+0.00", "98.000", "5.00x", "72.50"),
        ]


async def test_status_bar_shows_venues_feed_rate_and_the_session_clock(session):
    app = QuantDeskApp(session)
    async with app.run_test(size=SIZE):
        await app.session_started.wait()
        session.advance(100)
        app.frame()
        bar = app.query_one(StatusBar)
        text = bar.render().plain
        assert "sim-drift connected" in text and "sim-jup connected" in text
        assert fmt.clock(session.clock()) in text
        assert "feed — ev/s" in text  # under a second of clock time: no rate yet
        session.advance(400)  # 400 events x 5 ms of simulated time = 2 s: a full window
        app.frame()
        before, clock_before = session.cache.events, session.clock()
        session.advance(400)
        app.frame()
        rate = (session.cache.events - before) * 1e9 / (session.clock() - clock_before)
        assert bar.feed_rate is not None and abs(bar.feed_rate - rate) / rate < 0.01
        assert f"feed {fmt.per_second(bar.feed_rate)} ev/s" in bar.render().plain


async def test_a_pane_that_fails_to_draw_says_so_and_logs_the_traceback(session, caplog):
    class BrokenPane(Pane):
        pane_type = "broken-for-test"

        def state_key(self, now_ns):
            return now_ns

        def build(self, now_ns, width, height) -> list[Text]:
            raise ZeroDivisionError("division by zero")

    catalogue.register(PaneEntry("broken-for-test", "BROKEN", BrokenPane, "a pane that cannot draw"))
    try:
        app = QuantDeskApp(session, panes=["broken-for-test", "depth"])
        with caplog.at_level(logging.ERROR):
            async with app.run_test(size=SIZE) as pilot:
                await start(app, pilot, events=10)
                text = pane_text(app.query_one(BrokenPane))
                assert "could not be drawn (ZeroDivisionError: division by zero)" in text
                assert "keeps working" in text
                assert app.query_one(DepthPane).market == "SOL-PERP"
        assert any("failed to draw" in r.message and r.exc_info for r in caplog.records)
    finally:
        catalogue.unregister("broken-for-test")


def test_unknown_pane_type_names_the_known_ones():
    with pytest.raises(UnknownPane) as err:
        pane_class("depht")
    message = str(err.value)
    assert message.startswith("unknown pane type 'depht'; choose one of: alerts, chart, depth, ")
    for name in ("funding", "positions", "spreads"):
        assert name in message


async def test_spreads_flag_a_cross_venue_arbitrage(session):
    app = QuantDeskApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        pane = app.query_one(SpreadsPane)
        assert "ARB" not in pane_text(pane)
        drift = session.cache.book("sim-drift", "SOL-PERP")
        jup = session.cache.book("sim-jup", "SOL-PERP")
        above_ask = drift.best_ask()[0] + 20_000  # 0.02 USD through the sim-drift ask
        session.bus.publish(
            "book.sim-jup.SOL-PERP",
            BookDelta("sim-jup", "SOL-PERP", jup.seq + 1, session.clock(), bids=[(above_ask, 1_000_000_000)]),
        )
        app.frame()
        lines = pane_lines(pane)
        best = next(line for line in lines if line.split()[:1] == ["best"])
        assert "ARB" in best
        assert "bid sim-jup · ask sim-drift" in best
        market = session.cache.markets[("sim-jup", "SOL-PERP")]
        assert fmt.price(above_ask, market, decimals=3) in best
