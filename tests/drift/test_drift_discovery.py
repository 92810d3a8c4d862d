"""Every listed market from the real mainnet PerpMarket/SpotMarket accounts in
tests/fixtures, over getProgramAccounts on the local RPC server."""

from __future__ import annotations

from support.drift_chain import LINES, pk, raw
from support.drift_servers import BookSource, HttpServer
from quantdesk.venues.drift.config import DRIFT_PROGRAM_ID
from quantdesk.venues.drift.discovery import discover, listed_markets
from quantdesk.venues.drift.idl import AccountDecoder, bundled_idl_path
from quantdesk.venues.solana.rpc import SolanaRpc


async def test_discovery_lists_every_perp_and_spot_market_with_its_figures():
    http = HttpServer(BookSource())
    for n, x in enumerate(LINES):
        http.accounts[pk(raw(n), 8) if x["account"] in ("PerpMarket", "SpotMarket") else f"user{n}"] = x["data_b64"]
    http.start()
    rpc = SolanaRpc([http.url], timeout_s=2.0)
    try:
        markets, problems = await discover(rpc, DRIFT_PROGRAM_ID, AccountDecoder(bundled_idl_path().read_text()))
    finally:
        await rpc.close()
        http.stop()
    assert problems == []
    perps = {m.symbol: m for m in markets if m.kind == "perp"}
    spots = {m.symbol: m for m in markets if m.kind == "spot"}
    assert sorted(perps) == ["1MBONK-PERP", "BTC-PERP", "ETH-PERP", "JUP-PERP", "SOL-PERP", "SUI-PERP", "WIF-PERP", "XRP-PERP"]
    assert sorted(spots) == ["SOL", "USDC", "wBTC", "wETH"]
    sol = perps["SOL-PERP"]
    assert (sol.index, sol.tick_size, sol.lot_size, sol.status, sol.tier, sol.prediction) == (
        0, 100, 10_000_000, "Active", "B", False)
    assert (perps["BTC-PERP"].index, perps["BTC-PERP"].tick_size, perps["BTC-PERP"].tier) == (1, 100_000, "A")
    assert perps["1MBONK-PERP"].status == "FundingPaused" and perps["WIF-PERP"].tier == "Speculative"
    assert (spots["SOL"].index, spots["SOL"].decimals, spots["SOL"].lot_size) == (1, 9, 100_000)
    assert [m.kind for m in markets] == ["perp"] * 8 + ["spot"] * 4  # perps first, by index
    assert [m.index for m in markets if m.kind == "perp"] == sorted(m.index for m in perps.values())
    # the User accounts were left out by the node, filtered on the discriminator
    calls = [b for m, _, b in http.requests if m == "POST" and b["method"] == "getProgramAccounts"]
    assert len(calls) == 2 and all(list(c["params"][1]["filters"][0]) == ["memcmp"] for c in calls)


def test_an_account_that_is_no_market_is_a_problem_not_a_crash():
    decoder = AccountDecoder(bundled_idl_path().read_text())
    user = next(n for n, x in enumerate(LINES) if x["account"] == "User")
    markets, problems = listed_markets(decoder, [("U1", raw(user)), ("X", b"\x00" * 8)])
    assert markets == [] and len(problems) == 2
    assert problems[0].startswith("U1: a User account is not a market")


def test_show_markets_discover_lists_the_chain_markets(tmp_path, capfd):
    import json

    from quantdesk import cli

    http = HttpServer(BookSource())
    for n, x in enumerate(LINES):
        if x["account"] in ("PerpMarket", "SpotMarket"):
            http.accounts[pk(raw(n), 8)] = x["data_b64"]
    http.start()
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[venues.drift]\nrpc_urls = ["{http.url}"]\nwatchlist = ["SOL-PERP", "WIF-PERP"]\n')
    try:
        code = cli.main(["show", "markets", "--venue", "drift", "--discover", "--json", "--config", str(cfg)])
        out, err = capfd.readouterr()
    finally:
        http.stop()
    assert code == 0, err
    rows = json.loads(out)
    sol = next(r for r in rows if r["market"] == "SOL-PERP")
    assert sol == {"venue": "drift", "name": "drift", "market": "SOL-PERP", "kind": "perp", "index": 0,
                   "tick_size": 0.0001, "lot_size": 0.01, "status": "Active", "tier": "B", "prediction": False,
                   "watchlist": True}
    assert sorted(r["market"] for r in rows if r["watchlist"]) == ["SOL-PERP", "WIF-PERP"]
    assert {r["market"] for r in rows if r["kind"] == "spot"} == {"USDC", "SOL", "wBTC", "wETH"}
    assert len(rows) == 12


def test_show_markets_discover_without_a_reachable_rpc_says_what_to_check(tmp_path, capfd):
    from quantdesk import cli

    cfg = tmp_path / "config.toml"
    cfg.write_text('[venues.drift]\nrpc_urls = ["http://127.0.0.1:9"]\nhttp_timeout_s = 0.5\nbackoff_max_s = 0.1\n'
                   'backoff_initial_s = 0.05\n')
    code = cli.main(["show", "markets", "--venue", "drift", "--discover", "--config", str(cfg)])
    _, err = capfd.readouterr()
    assert code == 1 and "could not list its markets over RPC" in err and "rpc_urls" in err
