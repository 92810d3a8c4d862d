"""Real-shaped DLOB frames through the Drift adapter to the screen: fills with
and without a taker on the Trades pane, a frozen book under live heartbeats
in the status bar, a refused subscription in the health pane."""

from __future__ import annotations

import time

from support.app import until_shown
from support.drift_servers import fill_record, local
from quantdesk.console.app import QuantDeskApp
from quantdesk.console.panes.health import HealthPane
from quantdesk.console.panes.trades import TradesPane
from quantdesk.console.statusbar import StatusBar
from quantdesk.venues.drift.venue import DriftVenue
from quantdesk.venues.session import Session

SOL = "SOL-PERP"
SIZE = (160, 40)


def text(widget) -> str:
    return "\n".join(widget.render_line(y).text.rstrip() for y in range(widget.size.height))


async def test_fills_with_and_without_a_taker_show_on_the_tape(servers):
    ws, http = servers
    venue = DriftVenue(local(ws, http))
    app = QuantDeskApp(Session([venue], time.time_ns), panes=("trades", "health"), columns=2)
    async with app.run_test(size=SIZE) as pilot:
        await app.session_started.wait()
        cache = app.session.cache
        await until_shown(app, pilot, lambda: cache.book("drift", SOL) is not None, "the book")
        now_s = int(time.time())
        await ws.push_fill(fill_record(11, direction="long", ts=now_s))
        await ws.push_fill(fill_record(12, taker=False, direction="short", base=2, quote=353.08, ts=now_s))
        tape = app.query_one(TradesPane)
        await until_shown(app, pilot, lambda: "176.5400" in text(tape) and "176.5432" in text(tape), "both fills")
        rows = [line for line in text(tape).splitlines() if "176.54" in line]
        maker = next(line for line in rows if "176.5400" in line)
        taker = next(line for line in rows if "176.5432" in line)
        assert "SELL" in maker and "maker" in maker and "2.00" in maker
        assert "BUY" in taker and "taker" in taker
        assert "vol/min" in text(tape)


async def test_a_frozen_book_and_a_refused_subscription_are_on_screen(servers, timers):
    ws, http = servers
    nope = {"watchlist": [SOL, "NOPE-PERP"], "overrides": {"NOPE-PERP": {"index": 9}}}  # a market the server lacks
    venue = DriftVenue(local(ws, http, **nope, silence_s=60.0, book_stall_s=2.0), timers=timers)
    app = QuantDeskApp(Session([venue], time.time_ns), panes=("health",), columns=1)
    async with app.run_test(size=SIZE) as pilot:
        await app.session_started.wait()
        bar = app.query_one(StatusBar)
        health = app.query_one(HealthPane)
        await until_shown(app, pilot, lambda: venue.health.subscription_errors >= 2, "the refusals")
        await until_shown(app, pilot, lambda: app.session.cache.book("drift", SOL) is not None, "the SOL book")
        ws.heartbeats_only = True
        await until_shown(app, pilot, lambda: "drift stale" in bar.render().plain, "stale on heartbeats alone",
                          advance=lambda: timers.advance(1.0))
        lines = {line.split()[0]: line for line in text(health).splitlines() if line.strip()}
        assert int(lines["Sub"].split()[-1]) >= 2  # "Sub errors"
        assert "NOPE-PERP" in text(health)  # the last error names the refused market
        assert "SOL-PERP book has not advanced" in app.session.cache.status["drift"].message
        assert ws.connects == 1  # a refused market never counts as a stalled book
