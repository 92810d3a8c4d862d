"""Read-only on-chain view through driftpy against a local JSON-RPC server
serving real mainnet account bytes: market figures and a watched wallet's
positions, checked against values read from the raw bytes by hand."""

from __future__ import annotations

import base64
import json
import struct
from fractions import Fraction
from pathlib import Path

import base58
import pytest

from support.drift_servers import BookSource, HttpServer
from support.wait import wait_until
from quantdesk.core.bus import Bus
from quantdesk.core.cache import MarketCache
from quantdesk.venues.base import TradingUnavailable
from quantdesk.venues.drift.account_view import DriftAccountView
from quantdesk.venues.drift.config import DriftDeployment, default_deployment
from quantdesk.venues.drift.health import FeedHealth
from quantdesk.venues.drift.rpc_link import rpc_for
from quantdesk.venues.solana.rpc import SolanaRpc

FIXTURES = Path(__file__).parent.parent / "fixtures" / "drift" / "mainnet_accounts.jsonl"
LINES = [json.loads(x) for x in FIXTURES.read_text().splitlines() if x.strip()]
USER_LINE = 21  # long 1.4 SOL-PERP, short 12 1MBONK-PERP


def raw(n: int) -> bytes:
    return base64.b64decode(LINES[n]["data_b64"])


def i64(b: bytes, off: int) -> int:
    return struct.unpack_from("<q", b, off)[0]


def i128(b: bytes, off: int) -> int:
    return int.from_bytes(b[off : off + 16], "little", signed=True)


def pk(b: bytes, off: int) -> str:
    return base58.b58encode(b[off : off + 32]).decode()


@pytest.fixture
def chain():
    """A local RPC whose accounts are the fixture markets (at their addresses)."""
    http = HttpServer(BookSource())
    markets: dict[int, bytes] = {}
    for n, x in enumerate(LINES):
        if x["account"] in ("PerpMarket", "SpotMarket"):
            http.accounts[pk(raw(n), 8)] = x["data_b64"]  # later snapshots of a market replace earlier ones
            if x["account"] == "PerpMarket":
                markets[struct.unpack_from("<H", raw(n), 1160)[0]] = raw(n)
    http.start()
    yield http, markets
    http.stop()


def view_for(http: HttpServer, user_bytes: bytes) -> tuple[DriftAccountView, SolanaRpc]:
    d = DriftDeployment(**{
        **default_deployment("drift").model_dump(),
        "rpc_urls": [http.url],
        "watchlist": ["SOL-PERP", "BTC-PERP", "ETH-PERP"],
    })
    health = FeedHealth()
    rpc = rpc_for(d, health)
    authority = pk(user_bytes, 8)
    sub = struct.unpack_from("<H", user_bytes, 4346)[0]
    return DriftAccountView(d, rpc, authority, sub_account_id=sub), rpc


async def test_watch_a_wallet_positions_and_markets_without_its_key(chain):
    http, markets = chain
    user_bytes = raw(USER_LINE)
    view, rpc = view_for(http, user_bytes)
    http.accounts[str(view.chain.user_address)] = LINES[USER_LINE]["data_b64"]
    bus = Bus()
    cache = MarketCache()
    cache.attach(bus)
    assert await view.poll_once(bus) is True, view.last_error
    await rpc.close()

    # markets, by hand from the PerpMarket bytes
    sol = markets[0]
    assert cache.oracle[("drift", "SOL-PERP")].price == i64(sol, 72)  # amm.historical_oracle_data.last_oracle_price
    oi = cache.open_interest[("drift", "SOL-PERP")]
    assert (oi.long, oi.short) == (abs(i128(sol, 304)), abs(i128(sol, 320)))
    f = cache.funding[("drift", "SOL-PERP")]
    # last_funding_rate (1e9 quote/base/hour) / last_oracle_price_twap (1e6) -> ppb of notional per hour
    assert f.rate == round(Fraction(i64(sol, 480) * 10**6, i64(sol, 96)))
    assert f.interval_s == 3600 and f.next_ts == (i64(sol, 792) + i64(sol, 800)) * 10**9
    assert ("drift", "BTC-PERP") in cache.open_interest and ("drift", "ETH-PERP") in cache.funding

    # positions, by hand from the User bytes: perp_positions at 424, 96 bytes each
    expected = {}
    for k in range(8):
        p = 424 + 96 * k
        base = i64(user_bytes, p + 8)
        if base:
            expected[struct.unpack_from("<H", user_bytes, p + 92)[0]] = (
                base, i64(user_bytes, p + 16), i64(user_bytes, p + 32), i64(user_bytes, p)
            )
    assert set(expected) == {0, 4}
    got = {pos.market: pos for pos in cache.positions.values()}
    assert set(got) == {"SOL-PERP", "1MBONK-PERP"}
    for index, name in ((0, "SOL-PERP"), (4, "1MBONK-PERP")):
        base, quote, quote_entry, last_cum = expected[index]
        m = markets[index]
        price = i64(m, 72)
        cum = i128(m, 608) if base > 0 else i128(m, 624)  # cumulative_funding_rate_long / _short
        pnl = base * price / 10**9 + quote - (cum - last_cum) * base / 10**9 / 10**3
        pos = got[name]
        assert pos.base == base and pos.quote_entry == quote_entry
        assert pos.entry_price == abs(quote_entry) * 10**9 // abs(base)
        assert pos.mark_price == price
        assert abs(pos.unrealized_pnl - pnl) <= 1
        assert pos.liquidation_price is not None
        if base > 0:
            assert pos.liquidation_price < price
        else:
            assert pos.liquidation_price > price

    acct = cache.accounts["drift"]
    assert 0 <= acct.health <= 100
    assert acct.margin_requirement > 0 and acct.leverage_bps > 0
    assert acct.free_collateral >= 0
    # the markets of the user's positions were fetched along with the configured ones
    rpc_calls = [b for m, p, b in http.requests if m == "POST"]
    assert all(c["method"] == "getMultipleAccounts" for c in rpc_calls)


async def test_unknown_wallet_reports_no_account(chain):
    http, _ = chain
    view, rpc = view_for(http, raw(USER_LINE))  # the User account is not served
    assert await view.poll_once(Bus()) is False
    assert "no Drift account" in view.last_error
    await rpc.close()


def test_a_bad_watch_address_is_a_clear_error():
    from quantdesk.venues.base import VenueError

    health = FeedHealth()
    d = default_deployment("drift")
    with pytest.raises(VenueError, match="not a Solana public key"):
        DriftAccountView(d, rpc_for(d, health), "my-wallet")


def test_velocity_has_no_on_chain_view_without_drift_addresses():
    health = FeedHealth()
    d = default_deployment("velocity")
    rpc = rpc_for(d, health)
    with pytest.raises(TradingUnavailable, match="market data still works"):
        DriftAccountView(d, rpc, "11111111111111111111111111111111")


async def test_venue_watching_a_wallet_shows_book_and_positions_in_the_cache(chain):
    import asyncio

    from support.drift_servers import DlobWsServer
    from quantdesk.venues.drift.venue import DriftVenue

    http, markets = chain
    ws = DlobWsServer(http.books)
    await ws.start()
    user_bytes = raw(USER_LINE)
    view, rpc = view_for(http, user_bytes)
    await rpc.close()
    http.accounts[str(view.chain.user_address)] = LINES[USER_LINE]["data_b64"]
    d = DriftDeployment(**{
        **view.deployment.model_dump(), "dlob_url": http.url, "dlob_ws_url": ws.url, "data_api_url": http.url,
        "watchlist": ["SOL-PERP"], "discover_markets": False, "slot_poll_s": 0,
        "watch": pk(user_bytes, 8), "sub_account_id": struct.unpack_from("<H", user_bytes, 4346)[0],
        "account_poll_s": 0.2,
    })
    venue = DriftVenue(d)
    bus = Bus()
    cache = MarketCache()
    cache.attach(bus)
    cache.add_markets(await venue.connect())
    task = asyncio.create_task(venue.run(bus))
    try:
        await wait_until(
            lambda: cache.book("drift", "SOL-PERP") is not None and cache.accounts.get("drift") and len(cache.positions) == 2,
            20,
        )
        assert cache.book("drift", "SOL-PERP").best_bid() is not None
        assert {p.market for p in cache.positions.values()} == {"SOL-PERP", "1MBONK-PERP"}
        assert 0 <= cache.accounts["drift"].health <= 100
        # open interest comes from chain; the oracle stays the live DLOB one, not the account's last record
        assert cache.open_interest[("drift", "SOL-PERP")].long == abs(i128(markets[0], 304))
        assert cache.oracle[("drift", "SOL-PERP")].price == int(http.books.base["oracleData"]["price"])
        assert venue.can_trade is False  # watching a wallet needs no key and gives no trading
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await venue.close()
        await ws.stop()


async def test_velocity_with_an_idl_reads_accounts_at_its_own_addresses(chain, tmp_path):
    import shutil

    from driftpy.addresses import get_perp_market_public_key, get_spot_market_public_key
    from solders.pubkey import Pubkey

    from quantdesk.venues.drift.idl import bundled_idl_path

    http, markets = chain
    idl = tmp_path / "velocity.json"
    shutil.copy(bundled_idl_path(), idl)  # stands in for Velocity's IDL: same layouts
    user_bytes = raw(USER_LINE)
    d = DriftDeployment(**{
        **default_deployment("velocity").model_dump(), "rpc_urls": [http.url], "idl_path": str(idl),
        "watchlist": ["SOL-PERP"],
    })
    health = FeedHealth()
    rpc = rpc_for(d, health)
    view = DriftAccountView(d, rpc, pk(user_bytes, 8), sub_account_id=struct.unpack_from("<H", user_bytes, 4346)[0])
    vel = Pubkey.from_string(d.program_id)
    # serve the accounts only at Velocity's PDAs: reading Drift's addresses would fail
    http.accounts.clear()
    for index, data in markets.items():
        http.accounts[str(get_perp_market_public_key(vel, index))] = base64.b64encode(data).decode()
    for n, x in enumerate(LINES):
        if x["account"] == "SpotMarket":
            index = struct.unpack_from("<H", raw(n), 684)[0]
            http.accounts[str(get_spot_market_public_key(vel, index))] = x["data_b64"]
    assert str(view.chain.user_address) != str(view_for(http, user_bytes)[0].chain.user_address)
    http.accounts[str(view.chain.user_address)] = LINES[USER_LINE]["data_b64"]
    bus = Bus()
    cache = MarketCache()
    cache.attach(bus)
    assert await view.poll_once(bus) is True, view.last_error
    await rpc.close()
    assert {p.market for p in cache.positions.values()} == {"SOL-PERP", "1MBONK-PERP"}
    assert all(p.venue == "velocity" for p in cache.positions.values())
    assert cache.oracle[("velocity", "SOL-PERP")].price == i64(markets[0], 72)
