"""The terminal with Jupiter beside Drift: one Session, a DriftVenue on the local DLOB
servers and a JupiterVenue on the local Solana node. The Funding pane compares Drift
funding with Jupiter borrow in the same annualized units, the Depth pane shows
Jupiter's quote ladder like a book, and a Jupiter outage shows in the status bar."""

from __future__ import annotations

import time

from support.app import until_shown
from support.drift_servers import local
from support.jupiter_chain import SOL_CUSTODY

from quantdesk.console.app import QuantDeskApp
from quantdesk.console.panes.depth import DepthPane
from quantdesk.console.panes.funding import FundingPane
from quantdesk.console.statusbar import StatusBar
from quantdesk.venues.drift.venue import DriftVenue
from quantdesk.venues.jupiter.config import JupiterConfig, JupiterMarket
from quantdesk.venues.jupiter.venue import JupiterVenue
from quantdesk.venues.session import Session

SIZE = (200, 50)


def text(widget) -> str:
    return "\n".join(widget.render_line(y).text.rstrip() for y in range(widget.size.height))


async def test_jupiter_borrow_beside_drift_funding_and_its_ladder_in_depth(servers, jupiter_node):
    ws, http = servers
    jupiter = JupiterVenue(
        JupiterConfig(
            rpc_urls=(jupiter_node.http.url,), ws_urls=(jupiter_node.pubsub.url,), collateral={}, price_api_url="",
            markets=(JupiterMarket("SOL-PERP", "SOL", SOL_CUSTODY),), stale_after_s=3600, poll_interval_s=0.1,
            ladder_usd=(1_000, 100_000),
        )
    )
    app = QuantDeskApp(Session([DriftVenue(local(ws, http)), jupiter], time.time_ns))
    app.configure_console(layout="live")
    async with app.run_test(size=SIZE) as pilot:
        await app.session_started.wait()
        cache = app.session.cache
        funding = app.query_one(FundingPane)
        await until_shown(
            app, pilot, lambda: ("drift", "SOL-PERP") in cache.funding and ("jupiter", "SOL-PERP") in cache.funding,
            "funding from both venues",
        )
        await until_shown(app, pilot, lambda: "borrow" in text(funding), "the borrow row")
        rows = text(funding).splitlines()
        drift_row = next(line for line in rows if "drift" in line and "funding" in line)
        jup_row = next(line for line in rows if "jupiter" in line and "borrow" in line)
        # one market, both venues: Drift's row names it, Jupiter's sits right under it
        # (between them at most the second line of Drift's history bars: no market, no venue)
        d, j = rows.index(drift_row), rows.index(jup_row)
        assert drift_row.split()[0] == "SOL-PERP" and j > d
        assert all(not line[:30].strip() for line in rows[d + 1 : j]), rows[d : j + 1]
        assert jup_row.split()[:2] == ["jupiter", "borrow"]
        assert "445K" in jup_row  # open interest long: the 444,579 SOL the pool has locked
        assert "-4.98%" in drift_row  # Drift's funding a year (the data API fixture)
        assert "13.49%" in jup_row  # the SOL custody's jump-rate borrow a year

        depth = app.query_one(DepthPane)
        depth.select(venue="jupiter", market="SOL-PERP")
        await until_shown(app, pilot, lambda: cache.book("jupiter", "SOL-PERP") is not None, "the ladder")
        await until_shown(app, pilot, lambda: "118.07" in text(depth), "the ladder on screen")
        shown = text(depth)
        # $1,000 at $118: 8.47 SOL, long all-in 118.0708 (6 bps + impact), short 117.9292
        assert "118.0708" in shown and "117.9292" in shown and "8.47" in shown

        bar = app.query_one(StatusBar)
        await until_shown(app, pilot, lambda: "jupiter connected" in bar.render().plain, "jupiter connected")
        jupiter_node.http.down = True
        jupiter_node.pubsub.refuse = True
        await jupiter_node.pubsub.drop_all()
        await until_shown(app, pilot, lambda: "jupiter down" in bar.render().plain, "jupiter down")
        assert "drift connected" in bar.render().plain  # one venue's outage leaves the other live
