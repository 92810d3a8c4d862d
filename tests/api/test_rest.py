"""The data API's REST endpoints against a real Uvicorn server: what a bot or
notebook reads, with prices and sizes as exact decimal strings."""

from __future__ import annotations

import json
from decimal import Decimal

import msgspec

from quantdesk.core.model import Order, Position
from quantdesk.core.spreads import market_spreads

SOL = "SOL-PERP"


async def test_markets_lists_every_venue_market_with_decimal_steps(api_rig):
    r = await api_rig.get("/v1/markets")
    assert r.status_code == 200
    rows = {(m["venue"], m["market"]): m for m in r.json()}
    assert set(rows) == set(api_rig.session.cache.markets)
    m = api_rig.session.cache.markets[("sim-drift", SOL)]
    assert rows[("sim-drift", SOL)]["tick_size"] == format(m.price(m.tick_size), "f")
    assert rows[("sim-drift", SOL)]["lot_size"] == format(m.size(m.lot_size), "f")


async def test_book_is_the_cache_book_as_decimal_strings(api_rig):
    cache = api_rig.session.cache
    m = cache.markets[("sim-drift", SOL)]
    r = await api_rig.get(f"/v1/book/sim-drift/{SOL}", params={"depth": 5})
    assert r.status_code == 200
    body = r.json()
    assert body["synced"] is True and len(body["bids"]) == 5 and len(body["asks"]) == 5
    book = cache.books[("sim-drift", SOL)]
    expect_bids = [[format(m.price(lv.price), "f"), format(m.size(lv.size), "f")] for lv in book.depth("bid", 5)]
    assert body["bids"] == expect_bids
    assert all(isinstance(p, str) and isinstance(s, str) for p, s in body["bids"] + body["asks"])
    assert Decimal(body["bids"][0][0]) < Decimal(body["asks"][0][0])
    assert body["venue_seq"] == book.seq


async def test_book_refuses_bad_depth_and_unknown_market_saying_what_to_use(api_rig):
    r = await api_rig.get(f"/v1/book/sim-drift/{SOL}", params={"depth": "lots"})
    assert r.status_code == 400 and "1 to 500" in r.json()["error"]
    r = await api_rig.get("/v1/book/sim-drift/DOGE-PERP")
    assert r.status_code == 404 and f"sim-drift/{SOL}" in r.json()["error"]


async def test_trades_newest_first(api_rig):
    cache = api_rig.session.cache
    m = cache.markets[("sim-drift", SOL)]
    r = await api_rig.get(f"/v1/trades/sim-drift/{SOL}", params={"limit": 3})
    assert r.status_code == 200
    trades = r.json()["trades"]
    last = list(cache.trades[("sim-drift", SOL)])[-1]
    assert len(trades) == 3
    assert trades[0] == {"ts": last.ts, "price": format(m.price(last.price), "f"), "size": format(m.size(last.size), "f"), "side": last.side, "liquidity": last.liquidity}
    assert [t["ts"] for t in trades] == sorted((t["ts"] for t in trades), reverse=True)


async def test_funding_rates_as_fractions(api_rig):
    cache = api_rig.session.cache
    r = await api_rig.get("/v1/funding")
    assert r.status_code == 200
    rows = {(f["venue"], f["market"]): f for f in r.json()}
    assert set(rows) == set(cache.funding)
    f = cache.funding[("sim-drift", SOL)]
    assert Decimal(rows[("sim-drift", SOL)]["rate"]) == Decimal(f.rate) / 1_000_000_000
    assert rows[("sim-jup", SOL)]["kind"] == "borrow"


async def test_spreads_match_the_core_spreads(api_rig):
    r = await api_rig.get("/v1/spreads")
    assert r.status_code == 200
    body = {s["market"]: s for s in r.json()}
    core = {ms.symbol: ms for ms in market_spreads(api_rig.session.cache)}
    sol = body[SOL]
    assert [q["venue"] for q in sol["venues"]] == [q.venue for q in core[SOL].quotes]
    assert Decimal(sol["best_bid"]["price"]) == core[SOL].best_bid.price
    assert Decimal(sol["basis_bps"]) == core[SOL].basis_bps.quantize(Decimal("0.0001"))


async def test_insights_serve_the_report_and_its_position_figures_only_with_the_positions_scope(api_rig):
    from quantdesk.core.insights import InsightsEngine
    from quantdesk.core.insights.view import insights_view

    cache = api_rig.session.cache
    m = cache.markets[("sim-drift", SOL)]
    api_rig.session.bus.publish("position.sim-drift", Position(
        "sim-drift", SOL, base=m.to_size("40"), quote_entry=-m.to_price("6000"), entry_price=m.to_price("150"),
        leverage_bps=90_000, liquidation_price=m.to_price("140")))
    wide = await api_rig.get("/v1/insights", "market:read", "positions:read")
    narrow = await api_rig.get("/v1/insights")
    assert wide.status_code == narrow.status_code == 200
    full, public = wide.json(), narrow.json()
    # the same report the pane and `quantdesk show insights --json` give, as decimal strings
    expected = json.loads(msgspec.json.encode(insights_view(cache, InsightsEngine().report(cache, full["ts"]))))
    assert full["carry_pairs"] == expected["carry_pairs"] and full["books"] == expected["books"]
    assert [p["market"] for p in full["positions"]] == [SOL]
    assert any(i["kind"] == "liquidation" for i in full["insights"])
    assert public["positions"] == [] and not any(i["kind"] == "liquidation" for i in public["insights"])
    assert public["carry_pairs"] == full["carry_pairs"]
    nets = [Decimal(p["net_per_day"]) for p in full["carry_pairs"]]
    assert nets == sorted(nets, reverse=True)
    one = (await api_rig.get("/v1/insights", params={"market": SOL})).json()
    assert {b["market"] for b in one["books"]} == {SOL}
    assert (await api_rig.get("/v1/insights", params={"market": "DOGE-PERP"})).status_code == 404


async def test_positions_and_orders_need_the_positions_scope(api_rig):
    bus = api_rig.session.bus
    m = api_rig.session.cache.markets[("sim-drift", SOL)]
    bus.publish("position.sim-drift", Position("sim-drift", SOL, base=m.to_size("1.5"), quote_entry=-m.to_price("150"), entry_price=m.to_price("100.25"), leverage_bps=20_000))
    bus.publish("order.sim-drift", Order("sim-drift", SOL, "o-1", "buy", "limit", size=m.to_size("2"), price=m.to_price("99.5")))

    assert (await api_rig.get("/v1/positions", "market:read")).status_code == 403
    assert (await api_rig.get("/v1/orders", "market:read")).status_code == 403

    pos = (await api_rig.get("/v1/positions", "positions:read")).json()
    assert pos[0]["size"] == "1.500000000" and Decimal(pos[0]["entry_price"]) == Decimal("100.25") and pos[0]["leverage"] == "2"
    orders = (await api_rig.get("/v1/orders", "positions:read")).json()
    assert orders[0]["order_id"] == "o-1" and Decimal(orders[0]["price"]) == Decimal("99.5") and Decimal(orders[0]["size"]) == 2


async def test_openapi_describes_every_route(api_rig):
    r = await api_rig.http.get("/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    routes = {getattr(rt, "path", None) for rt in api_rig.api.routes()} - {"/v1/openapi.json", "/metrics"}
    assert routes == set(doc["paths"])


async def test_the_api_is_read_only(api_rig):
    r = await api_rig.http.post("/v1/orders", headers=api_rig.bearer("market:read", "positions:read"), json={"side": "buy"})
    assert r.status_code == 405
