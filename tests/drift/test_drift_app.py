"""The terminal on a live Drift venue: the Textual app on a Session whose
DriftVenue reads the local DLOB WebSocket + HTTP servers (fixture data). The
depth pane shows the fixture's SOL-PERP book, the funding pane Drift's
funding from the data API, the health pane the feed's counters; when the
DLOB server drops the connection (and refuses the next handshake with a 429)
or goes silent, the status shows down / stale, then live again."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest

from support.drift_servers import BookSource, DlobWsServer, HttpServer, load_fixture
from quantdesk.venues.session import Session
from quantdesk.console.app import QuantDeskApp
from quantdesk.console.panes.depth import DepthPane
from quantdesk.console.panes.funding import FundingPane
from quantdesk.console.panes.health import HealthPane
from quantdesk.console.statusbar import StatusBar
from quantdesk.venues.drift.venue import DriftVenue
from support.app import until_shown
from support.drift_servers import local

SOL = "SOL-PERP"
SIZE = (200, 50)


def text(widget) -> str:
    return "\n".join(widget.render_line(y).text.rstrip() for y in range(widget.size.height))


def live_app(ws: DlobWsServer, http: HttpServer, **venue_kw) -> tuple[QuantDeskApp, DriftVenue]:
    venue = DriftVenue(local(ws, http), **venue_kw)
    app = QuantDeskApp(Session([venue], time.time_ns))
    app.configure_console(layout="live")
    return app, venue


def price(raw: str) -> str:
    return f"{Decimal(raw).scaleb(-6):,.4f}"


def size(raw: str) -> str:
    return f"{Decimal(raw).scaleb(-9):,.2f}"


async def test_depth_funding_and_health_panes_show_drift_data(servers):
    ws, http = servers
    app, venue = live_app(ws, http)
    fixture = load_fixture("dlob_l2_sol_perp.json")
    async with app.run_test(size=SIZE) as pilot:
        await app.session_started.wait()
        depth = app.query_one(DepthPane)
        funding = app.query_one(FundingPane)
        health = app.query_one(HealthPane)
        cache = app.session.cache
        await until_shown(app, pilot, lambda: cache.book("drift", SOL) is not None and (("drift", SOL) in cache.funding),
                    "the book and funding")
        await until_shown(app, pilot, lambda: price(fixture["bids"][0]["price"]) in text(depth), "the book on screen")

        # the depth ladder: every fixture level, best bid and ask with their sizes
        assert depth.venue == "drift" and depth.market == SOL
        shown = text(depth)
        for level in fixture["bids"][:5] + fixture["asks"][:5]:
            assert price(level["price"]) in shown, level
        best_bid_row = next(line for line in shown.splitlines() if price(fixture["bids"][0]["price"]) in line)
        assert size(fixture["bids"][0]["size"]) in best_bid_row
        best_ask_row = next(line for line in shown.splitlines() if price(fixture["asks"][0]["price"]) in line)
        assert size(fixture["asks"][0]["size"]) in best_ask_row

        # funding: the data API's newest record, fundingRate -0.001 USD/SOL/h over a 176 USD twap:
        # -0.000568% per hour (-0.0006% at four places), -4.98% a year
        row = next(line for line in text(funding).splitlines() if "drift" in line and "funding" in line)
        assert row.split()[0] == SOL
        assert "-0.0006%" in row and "-4.98%" in row

        # health: the venue's column with live counters
        await until_shown(app, pilot, lambda: venue.health.rpc_slot is not None and "connected" in text(health),
                    "health figures")
        h = text(health)
        assert "drift" in h.splitlines()[0]
        lines = {line.split()[0]: line for line in h.splitlines() if line.strip()}
        assert "connected" in lines["State"]
        lag = lines["Slot"].split()[-1]
        assert lines["Slot"].startswith("Slot lag") and lag.lstrip("-").isdigit()  # RPC slot minus DLOB slot, not "—"
        assert lines["Errors"].split()[-1] == "0" and lines["Reconnects"].split()[-1] == "0"
        assert lines["429s"].split()[-1] == "0" and lines["Malformed"].split()[-1] == "0"
        assert "ms" in lines["RPC"]  # a latency was measured


async def test_dropped_connection_shows_down_then_recovers(servers):
    ws, http = servers
    app, venue = live_app(ws, http)
    async with app.run_test(size=SIZE) as pilot:
        await app.session_started.wait()
        bar = app.query_one(StatusBar)
        health = app.query_one(HealthPane)
        await until_shown(app, pilot, lambda: "drift connected" in bar.render().plain, "connected")

        ws.reject_429 = 1  # the first reconnect is refused with 429, Retry-After 1s
        ws.retry_after = "1"
        await ws.drop_all()
        await until_shown(app, pilot, lambda: "drift down" in bar.render().plain, "the status bar to show down")
        assert "down" in next(line for line in text(health).splitlines() if line.startswith("State"))

        await until_shown(app, pilot, lambda: "drift connected" in bar.render().plain, "recovery")
        await until_shown(app, pilot, lambda: venue.health.books > 0 and venue.health.reconnects >= 2, "fresh books")
        app.frame()
        await pilot.pause()
        lines = {line.split()[0]: line for line in text(health).splitlines() if line.strip()}
        assert int(lines["429s"].split()[-1]) >= 1
        assert int(lines["Reconnects"].split()[-1]) >= 2
        assert int(lines["Errors"].split()[-1]) >= 1
        assert "connected" in lines["State"]
        # the book was resynced from a REST snapshot after the reconnect
        assert venue.health.rest_snapshots >= 2


async def test_silent_feed_shows_stale_then_recovers(servers, timers):
    ws, http = servers
    app, venue = live_app(ws, http, timers=timers)
    async with app.run_test(size=SIZE) as pilot:
        await app.session_started.wait()
        bar = app.query_one(StatusBar)
        await until_shown(app, pilot, lambda: "drift connected" in bar.render().plain, "connected")
        ws.silent = True
        silence = venue.deployment.silence_s
        await until_shown(app, pilot, lambda: "drift stale" in bar.render().plain, "the status bar to show stale",
                          advance=lambda: timers.advance(silence))
        assert app.query_one(DepthPane).health_lines(app.session.clock())  # the pane warns its data may be old
        ws.silent = False
        await until_shown(app, pilot, lambda: "drift connected" in bar.render().plain, "recovery")
        assert venue.health.silences >= 1


async def test_health_pane_shows_the_event_rate_of_simulated_venues():
    from quantdesk.venues.session import simulated_session
    from quantdesk.venues.sim.clock import ManualClock

    session = simulated_session(clock=ManualClock(1_795_000_000_000_000_000), paused=True)
    app = QuantDeskApp(session, panes=("health",), columns=1)
    async with app.run_test(size=(100, 20)) as pilot:
        await app.session_started.wait()
        pane = app.query_one(HealthPane)
        venues = session.venues
        app.frame()  # the rate window starts here
        t0, e0 = session.clock(), {v: venues[v].events for v in venues}
        session.advance(400)  # 5 ms of simulated time per event: about two seconds
        app.frame()
        await pilot.pause()
        elapsed = session.clock() - t0
        rows = {line.split()[0]: line for line in text(pane).splitlines() if line.strip()}
        assert "Events/s" in rows["Simulated"]
        for v in ("sim-drift", "sim-jup"):
            rate = (venues[v].events - e0[v]) * 1e9 / elapsed
            assert rate > 0
            assert rows[v].split()[1] == "connected" and rows[v].split()[-1] == f"{rate:,.0f}"
