"""Any wallet's Jupiter Perps positions, read-only: found by getProgramAccounts filters on a
local Solana node, with PnL, fees, borrow accrued to now and the liquidation price."""

from __future__ import annotations

import asyncio

import pytest
from support.jupiter_chain import SOL_DOVES_ORACLE, JupiterNode, patch_u64, price_feed
from support.jupiter_fixtures import LONG_POSITION, POOL, SOL_CUSTODY, data
from support.wait import until

from quantdesk.core.bus import Bus
from quantdesk.core.model import Position
from quantdesk.venues.jupiter import borrow
from quantdesk.venues.jupiter.accounts import decoder
from quantdesk.venues.jupiter.config import PROGRAM_ID, JupiterConfig, JupiterMarket
from quantdesk.venues.jupiter.market_data import JupiterFeed
from quantdesk.venues.jupiter.positions import fetch_positions, position_filters, position_pda, report, to_event
from quantdesk.venues.solana.rpc import SolanaRpc
from quantdesk.venues.jupiter.views import CustodyView, PositionView

OWNER = "2xxyBSRyi1KVxwuZcFkU74c8HvhjBdV8YJ6F4gkdKk3i"  # the fixture long's wallet
CLOSED_OWNER = "F3YvPiLdniRPGpeKrbeGWR2zg2wPpzVuvqBA5BBJBQ5S"  # its only position is flat
NOW_S = 1_790_272_210
SIZE = 1183738004


def custody() -> CustodyView:
    return CustodyView.from_fields(decoder().decode(data(SOL_CUSTODY)).fields, SOL_CUSTODY)


def test_position_address_is_the_documented_pda():
    assert position_pda(PROGRAM_ID, OWNER, POOL, SOL_CUSTODY, SOL_CUSTODY, "long") == LONG_POSITION
    assert position_pda(PROGRAM_ID, OWNER, POOL, SOL_CUSTODY, SOL_CUSTODY, "short") != LONG_POSITION


def test_filters_are_the_position_discriminator_and_the_owner():
    import base58

    disc, owner = position_filters(OWNER)
    assert disc["memcmp"]["offset"] == 0
    assert base58.b58decode(disc["memcmp"]["bytes"]).hex() == "aabc8fe47a40f7d0"
    assert owner["memcmp"] == {"offset": 8, "bytes": OWNER}


def test_report_by_hand_at_a_mark_price():
    pos = PositionView.from_fields(decoder().decode(data(LONG_POSITION)).fields, LONG_POSITION)
    c = custody()
    r = report(pos, c, c, 118_000_000, c.funding_last_update)
    pnl = (118_000_000 - 117_515_445) * SIZE // 117_515_445
    assert r.pnl_usd == pnl == 4_880_942  # $4.880942: 0.4123% of $1,183.74
    assert r.borrow_fee_usd == 18_884  # $0.018884, nothing accrued yet
    assert r.close_fee_usd == SIZE * 6 // 10_000 + SIZE * SIZE // c.trade_impact_fee_scalar
    assert r.pnl_after_fees_usd == pnl - r.close_fee_usd - 18_884
    # an hour later the custody's current rate has accrued on the size
    later = report(pos, c, c, 118_000_000, c.funding_last_update + 3600)
    hourly = borrow.rate_ppb(borrow.hourly_borrow_rate(c))
    assert later.borrow_fee_usd == (c.cumulative_interest_rate + hourly - pos.cumulative_interest_snapshot) * SIZE // 10**9
    assert later.liquidation_price > r.liquidation_price  # fees eat margin: a long's liquidation price rises
    # the normalized position says what borrow it has paid so far: what it owes
    assert to_event(later, "jupiter", "SOL-PERP", 0).funding == -later.borrow_fee_usd


@pytest.fixture
async def node():
    n = JupiterNode()
    n.chain.set_quietly(SOL_DOVES_ORACLE, price_feed(11_800_000_000, -8, NOW_S))
    await n.start()
    yield n
    await n.stop()


async def test_fetch_positions_filters_on_the_node(node):
    rpc = SolanaRpc([node.http.url])
    try:
        found = await fetch_positions(rpc, decoder(), PROGRAM_ID, OWNER)
        assert [p.pubkey for p in found] == [LONG_POSITION]
        assert await fetch_positions(rpc, decoder(), PROGRAM_ID, CLOSED_OWNER) == []  # flat positions are left out
    finally:
        await rpc.close()


async def test_watched_wallet_positions_reach_the_bus_and_clear_when_closed(node):
    class Clock:
        ns = NOW_S * 10**9

    cfg = JupiterConfig(
        rpc_urls=(node.http.url,), ws_urls=(node.pubsub.url,), collateral={},
        markets=(JupiterMarket("SOL-PERP", "SOL", SOL_CUSTODY),), poll_interval_s=0.05,
        positions_poll_s=0.05, price_api_url="", watch=OWNER, backoff_initial_s=0.01,
    )
    bus = Bus()
    got: list[Position] = []
    bus.subscribe("position.jupiter", lambda t, ev: got.append(ev))
    feed = JupiterFeed(cfg, clock=lambda: Clock.ns)
    task = asyncio.create_task(feed.run(bus))
    try:
        await until(lambda: got, what="position published")
        p = got[-1]
        assert p.market == "SOL-PERP" and p.base == SIZE * 10**9 // 117_515_445 and p.entry_price == 117_515_445
        assert p.mark_price == 118_000_000 and p.margin == 43_133_504 and p.leverage_bps == 274_435
        assert p.liquidation_price == pytest.approx(113_552_539, rel=1e-3)
        node.chain.set_quietly(LONG_POSITION, patch_u64(data(LONG_POSITION), SIZE, 0))
        await until(lambda: got[-1].base == 0, what="closed position cleared")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await feed.close()
