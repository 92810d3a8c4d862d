"""``quantdesk show``: headless depth, funding and spreads for scripts."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from quantdesk import cli
from quantdesk.commands import show
from quantdesk.core.model import Market


def run(capfd, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["show", *argv])
    out, err = capfd.readouterr()
    return code, out, err


def as_json(text: str):
    # parse numbers as Decimal: the output promises exact decimals
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


def test_depth_json_is_one_exact_book(capfd):
    code, out, err = run(capfd, "depth", "--json", "--market", "ETH-PERP", "--depth", "5", "--seed", "3")
    assert code == 0, err
    d = as_json(out)
    assert set(d) == {"venue", "market", "seq", "ts", "bids", "asks", "mid", "spread_bps"}
    assert (d["venue"], d["market"]) == ("sim-drift", "ETH-PERP")
    assert 1 <= len(d["bids"]) <= 5 and 1 <= len(d["asks"]) <= 5
    assert all(set(lv) == {"price", "size"} for lv in d["bids"] + d["asks"])
    bids = [lv["price"] for lv in d["bids"]]
    asks = [lv["price"] for lv in d["asks"]]
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
    assert bids[0] < asks[0]
    assert 1_000 < bids[0] < 10_000  # human units: dollars, not 1e6 integers
    assert all((lv["price"] * 10**6) % 1 == 0 and (lv["size"] * 10**9) % 1 == 0 for lv in d["bids"] + d["asks"])
    assert d["mid"] == (bids[0] + asks[0]) / 2
    assert d["spread_bps"] == ((asks[0] - bids[0]) / d["mid"] * 10_000).quantize(Decimal("0.0001"))
    assert d["ts"] > 1_700_000_000 * 10**9  # ns


def test_depth_defaults_to_sol_on_the_first_venue_and_follows_venue(capfd):
    code, out, _ = run(capfd, "depth", "--json")
    assert code == 0 and (as_json(out)["venue"], as_json(out)["market"]) == ("sim-drift", "SOL-PERP")
    code, out, _ = run(capfd, "depth", "--json", "--venue", "sim-jup", "--depth", "3")
    d = as_json(out)
    assert code == 0 and (d["venue"], d["market"]) == ("sim-jup", "SOL-PERP")
    assert len(d["bids"]) == len(d["asks"]) == 3


def test_funding_json_has_one_row_per_venue_and_market(capfd):
    code, out, err = run(capfd, "funding", "--json")
    assert code == 0, err
    rows = as_json(out)
    assert {(r["venue"], r["market"]) for r in rows} == {
        (v, m) for v in ("sim-drift", "sim-jup") for m in ("SOL-PERP", "BTC-PERP", "ETH-PERP")
    }
    for r in rows:
        assert set(r) == {
            "venue", "market", "kind", "rate", "predicted_rate", "interval_s", "annualized",
            "next_ts", "open_interest_long", "open_interest_short",
        }
        assert r["kind"] == ("funding" if r["venue"] == "sim-drift" else "borrow")
        assert r["interval_s"] == 3600
        assert abs(r["rate"]) < Decimal("0.0125")  # a fraction per hour, not ppb or percent
        assert r["annualized"] == r["rate"] * 24 * 365
        assert r["open_interest_long"] > 0 and r["open_interest_short"] > 0
    assert all(r["rate"] > 0 for r in rows if r["kind"] == "borrow")


def test_funding_filters_by_venue_and_market(capfd):
    code, out, _ = run(capfd, "funding", "--json", "--venue", "sim-jup", "--market", "BTC-PERP")
    rows = as_json(out)
    assert code == 0 and [(r["venue"], r["market"]) for r in rows] == [("sim-jup", "BTC-PERP")]


def test_spreads_json_best_prices_and_basis(capfd):
    code, out, err = run(capfd, "spreads", "--json")
    assert code == 0, err
    markets = as_json(out)
    assert [m["market"] for m in markets] == ["SOL-PERP", "BTC-PERP", "ETH-PERP"]
    for m in markets:
        venues = m["venues"]
        assert [v["venue"] for v in venues] == ["sim-drift", "sim-jup"]
        best_bid = max(venues, key=lambda v: v["bid"])
        best_ask = min(venues, key=lambda v: v["ask"])
        assert m["best_bid"] == {"venue": best_bid["venue"], "price": best_bid["bid"]}
        assert m["best_ask"] == {"venue": best_ask["venue"], "price": best_ask["ask"]}
        for v in venues:
            assert v["mid"] == (v["bid"] + v["ask"]) / 2
        # the pool's basis against the order book, the reference
        ref, pool = venues[0]["mid"], venues[1]["mid"]
        assert m["basis_venues"] == ["sim-jup", "sim-drift"]
        assert m["basis_bps"] == ((pool - ref) / ref * 10_000).quantize(Decimal("0.0001"))
        assert venues[0]["basis_bps"] is None and venues[1]["basis_bps"] == m["basis_bps"]
        assert abs(m["basis_bps"]) < 100


def test_spreads_for_one_market(capfd):
    code, out, _ = run(capfd, "spreads", "--json", "--market", "BTC-PERP")
    assert code == 0 and [m["market"] for m in as_json(out)] == ["BTC-PERP"]


def test_tables_by_default(capfd):
    code, out, _ = run(capfd, "depth", "--market", "BTC-PERP", "--depth", "4")
    assert code == 0
    assert "sim-drift BTC-PERP" in out and "Bid size" in out and "Ask cum" in out
    assert "95," in out  # prices formatted with separators, in dollars
    code, out, _ = run(capfd, "funding")
    assert code == 0 and "borrow" in out and "funding" in out and "%" in out
    code, out, _ = run(capfd, "spreads")
    assert code == 0 and "Basis bps" in out and out.count("sim-jup") >= 3 and out.count("ref") == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["depth", "--market", "DOGE-PERP"], "unknown market 'DOGE-PERP'; valid markets: SOL-PERP, BTC-PERP, ETH-PERP"),
        (["funding", "--venue", "binance"], "unknown venue 'binance'; valid venues: sim-drift, sim-jup"),
    ],
)
def test_unknown_market_or_venue_exits_2_listing_the_valid_ones(capfd, argv, message):
    code, out, err = run(capfd, *argv)
    assert code == 2
    assert message in err
    assert out == "" and "Traceback" not in err


def test_timeout_names_what_is_missing(capfd, monkeypatch):
    real = show.build_session

    def with_a_silent_market(args):
        s = real(args)  # a listed market no venue publishes: the state never completes
        s.cache.add_markets([Market("sim-drift", "DOGE-PERP", "DOGE", "USDC", "clob", 1, 1)])
        return s

    monkeypatch.setattr(show, "build_session", with_a_silent_market)
    code, out, err = run(capfd, "funding", "--json", "--timeout", "0.3")
    assert code == 1 and out == ""
    assert "no full market state after 0.3 s" in err
    assert "sim-drift DOGE-PERP: order book, funding rate, oracle price" in err
    assert "SOL-PERP" not in err  # only what is missing


def test_bad_numbers_are_argparse_errors(capfd):
    with pytest.raises(SystemExit) as exc:
        cli.main(["show", "depth", "--depth", "0"])
    assert exc.value.code == 2
    assert "--depth: must be at least 1" in capfd.readouterr().err


def test_installed_command_pipes_json_to_a_script():
    proc = subprocess.run(
        [sys.executable, "-m", "quantdesk.cli", "show", "spreads", "--json", "--market", "SOL-PERP"],
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["market"] == "SOL-PERP"
    proc = subprocess.run(
        [sys.executable, "-m", "quantdesk.cli", "show", "depth", "--venue", "nope"], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 2 and "valid venues: sim-drift, sim-jup" in proc.stderr and "Traceback" not in proc.stderr


def test_trades_json_newest_first_with_side_and_liquidity(capfd):
    code, out, err = run(capfd, "trades", "--json", "--market", "SOL-PERP", "--limit", "5", "--seed", "3")
    assert code == 0, err
    rows = as_json(out)
    assert 1 <= len(rows) <= 5
    keys = {"venue", "market", "ts", "price", "size", "side", "liquidity", "aggressor", "maker", "taker"}
    assert all(set(r) == keys for r in rows)
    assert all(r["maker"] is None and r["taker"] is None for r in rows)  # the simulated venues name no accounts
    assert [r["ts"] for r in rows] == sorted((r["ts"] for r in rows), reverse=True)
    assert all(r["market"] == "SOL-PERP" and r["side"] in ("buy", "sell") and r["size"] > 0 for r in rows)
    assert all(r["aggressor"] == r["side"] for r in rows if r["liquidity"] == "taker")
    assert all(10 < r["price"] < 10_000 for r in rows)  # human units


def test_trades_view_names_the_aggressor_of_a_maker_fill():
    from quantdesk.core.bus import Bus
    from quantdesk.core.cache import MarketCache
    from quantdesk.core.model import Trade

    bus, cache = Bus(), MarketCache()
    cache.attach(bus)
    cache.add_markets([Market("drift", "SOL-PERP", "SOL", "USDC", "clob", 100, 10_000_000)])
    bus.publish("trade.drift.SOL-PERP", Trade("drift", "SOL-PERP", 1, 176_540_000, 2 * 10**9, "sell", "maker"))
    bus.publish("trade.drift.SOL-PERP", Trade("drift", "SOL-PERP", 2, 176_543_200, 5 * 10**8, "buy", "taker"))
    [newest, older] = show.trades_view(cache, "drift", "SOL-PERP", 10)
    assert (newest["aggressor"], newest["price"]) == ("buy", Decimal("176.5432"))
    assert (older["side"], older["liquidity"], older["aggressor"], older["size"]) == ("sell", "maker", "buy", Decimal(2))


def test_insights_json_is_the_ranked_report_in_human_units(capfd):
    code, out, err = run(capfd, "insights", "--json", "--seed", "3")
    assert code == 0, err
    d = as_json(out)
    assert set(d) == {"ts", "notional", "insights", "positions", "carry_pairs", "impact", "carry", "books", "basis"}
    assert d["notional"] == 10_000
    # every venue's fill cost side by side: both sides of each ladder notional, order-book venues first
    sol = [q for q in d["impact"] if q["market"] == "SOL-PERP"]
    assert [q["venue"] for q in sol][:8] == ["sim-drift"] * 8 and sol[-1]["venue"] == "sim-jup"
    assert {(q["side"], q["notional"]) for q in sol if q["venue"] == "sim-jup"} == {
        (side, n) for side in ("buy", "sell") for n in (1_000, 10_000, 100_000, 1_000_000)
    }
    assert all(100 < q["reference"] < 1_000 for q in sol)  # dollars, not 1e6 integers
    nets = [p["net_per_day"] for p in d["carry_pairs"]]
    assert nets == sorted(nets, reverse=True) and len(nets) == 6  # 3 markets x 2 directions
    kinds = {(c["venue"], c["kind"]) for c in d["carry"]}
    assert kinds == {("sim-drift", "funding"), ("sim-jup", "borrow")}
    code, out, _ = run(capfd, "insights", "--json", "--seed", "3", "--market", "ETH-PERP")
    assert code == 0 and {b["market"] for b in as_json(out)["books"]} == {"ETH-PERP"}


def test_insights_view_prints_what_the_pane_ranks():
    from quantdesk.commands.show_insights import insights_view
    from quantdesk.core.insights import InsightsEngine
    from quantdesk.core.model import Position, topic_for

    from support.insights_cache import P, S, three_venues

    bus, cache = three_venues()
    p = Position("book", "SOL-PERP", 10 * S, -1_000 * P, 100 * P, 100 * P, liquidation_price=95 * P, fees=350_000)
    bus.publish(topic_for(p), p)
    view = insights_view(cache, InsightsEngine().report(cache, 0))
    assert [(i["severity"], i["kind"]) for i in view["insights"]] == [("warning", "liquidation"), ("opportunity", "carry")]
    (pos,) = view["positions"]
    assert pos["liquidation_distance"] == Decimal("0.05") and pos["price"] == 100 and pos["fees"] == Decimal("0.35")
    assert pos["break_even"] == Decimal("100.070025")  # (1000 + 0.35) / 10 / (1 - 0.00035), rounded up
    best = view["carry_pairs"][0]
    assert (best["long_venue"], best["short_venue"], best["per_day"], best["open_cost"]) == ("book2", "book", Decimal("3.6"), 9)
