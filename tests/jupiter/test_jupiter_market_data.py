"""The Jupiter Perps feed end to end against a local Solana node (JSON-RPC + pubsub)
serving the real mainnet pool and SOL custody: what a trader sees in the Funding,
Depth and status panes, and that every fault gives a clear status without a crash."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from support.jupiter_chain import (
    JLP_SUPPLY, POOL, PYTH_RECEIVER, SOL_CUSTODY, SOL_DOVES_ORACLE, SOL_MINT, SOL_PYTH_ORACLE, JupiterNode, patch_u64,
    price_feed, pyth_price_update,
)
from support.jupiter_fixtures import data
from support.wait import until

from quantdesk.core.bus import Bus
from quantdesk.core.model import SECONDS_PER_YEAR, BookSnapshot, Funding, OpenInterest, OraclePrice, VenueStatus
from quantdesk.venues.jupiter import borrow
from quantdesk.venues.jupiter.accounts import decoder
from quantdesk.venues.jupiter.config import JupiterConfig, JupiterMarket
from quantdesk.venues.jupiter.market_data import JupiterFeed
from quantdesk.venues.jupiter.views import CustodyView

NOW_S = 1_790_272_210  # the fixture's slot time (pool aum_usd_updated_at)
SOL_PRICE = 11_800_000_000  # $118.00 at expo -8
LOCKED = 444578802491130  # the fixture custody's assets.locked


class Clock:
    def __init__(self, s: int) -> None:
        self.ns = s * 1_000_000_000

    def __call__(self) -> int:
        return self.ns

    def advance(self, s: float) -> None:
        self.ns += int(s * 1_000_000_000)


class Recorder:
    def __init__(self, bus: Bus) -> None:
        self.events: list = []
        bus.subscribe("#", lambda topic, ev: self.events.append(ev))

    def last(self, kind: type):
        return next((e for e in reversed(self.events) if isinstance(e, kind)), None)

    def all(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
async def node():
    n = JupiterNode()
    n.chain.set_quietly(SOL_DOVES_ORACLE, price_feed(SOL_PRICE, -8, NOW_S), owner="DoVEsk76QybCEHQGzkvYPWLQu9gzNoZZZt3TPiL597e")
    n.chain.set_quietly(SOL_PYTH_ORACLE, pyth_price_update(11_801_000_000, 5_900_000, -8, NOW_S), owner=PYTH_RECEIVER)
    n.http.api_prices[SOL_MINT] = 118.059
    await n.start()
    yield n
    await n.stop()


def config(node: JupiterNode, **over) -> JupiterConfig:
    base = dict(
        rpc_urls=(node.http.url,),
        ws_urls=(node.pubsub.url,),
        markets=(JupiterMarket("SOL-PERP", "SOL", SOL_CUSTODY),),
        collateral={},
        poll_interval_s=0.05,
        refresh_interval_s=3600,
        price_api_url=node.http.url + "/price/v3",
        price_api_interval_s=0.05,
        backoff_initial_s=0.01,
        backoff_max_s=0.05,
        ladder_usd=(1_000, 100_000),
    )
    base.update(over)
    return JupiterConfig(**base)


async def running(cfg: JupiterConfig, clock: Clock):
    bus = Bus()
    rec = Recorder(bus)
    feed = JupiterFeed(cfg, clock=clock)
    task = asyncio.create_task(feed.run(bus))
    return feed, rec, task


async def stop(feed: JupiterFeed, task: asyncio.Task) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await feed.close()


async def test_pool_custody_and_oracle_reach_the_panes_and_changes_are_pushed(node):
    clock = Clock(NOW_S)
    feed, rec, task = await running(config(node), clock)
    try:
        await until(lambda: rec.last(BookSnapshot) is not None, what="first ladder")
        await until(lambda: feed.pubsub and feed.pubsub.connected, what="pool, custody and oracle subscribed")
        assert node.pubsub.active == 5  # pool, custody, its Doves and Pyth oracles, JLP mint
        oracle = rec.last(OraclePrice)
        assert oracle.price == 118_000_000  # Doves: what trades fill at
        assert oracle.confidence == 59_000  # Pyth: ±$0.059, 5 bps
        assert feed.markets["SOL-PERP"].confidence_bps == pytest.approx(Decimal(5), abs=Decimal("0.01"))
        assert "confidence" not in feed.message
        funding = rec.last(Funding)
        custody = CustodyView.from_fields(decoder().decode(data(SOL_CUSTODY)).fields)
        assert funding.kind == "borrow" and funding.interval_s == 3600
        assert funding.rate == borrow.rate_ppb(borrow.hourly_borrow_rate(custody))
        # annualized like Drift's funding: ~13.49% a year for the fixture custody
        assert Decimal(funding.annualized) / 10**7 == pytest.approx(Decimal("13.49"), abs=Decimal("0.02"))
        oi = rec.last(OpenInterest)
        assert oi.long == LOCKED and oi.short == 10409974721026 * 10**9 // 118_000_000
        book = rec.last(BookSnapshot)
        # each level adds to the one before: the sizes summed are each rung's whole size
        small, large = 1_000 * 10**15 // 118_000_000, 100_000 * 10**15 // 118_000_000
        assert [size for _, size in book.asks] == [small, large - small]
        assert book.asks[0][0] > 118_000_000 > book.bids[0][0] and book.asks[1][0] > book.asks[0][0]
        assert feed.pool is not None and feed.pool.aum_usd == 931403341015904
        summary = feed.summary("SOL-PERP")
        assert summary.jlp_virtual_price == 931403341015904 * 10**6 // JLP_SUPPLY == 4_399_991  # $4.399991 a JLP
        assert summary.pool_aum_usd == 931403341015904 and summary.max_leverage == 500
        # the pool can still lock (owned - locked) SOL for longs: 3.53M SOL at $118
        assert summary.long_liquidity_usd == (3975600834194526 - LOCKED) * 118_000_000 // 10**9
        assert summary.borrow_apr_pct == pytest.approx(Decimal("13.4946"), abs=Decimal("0.0001"))
        await until(lambda: feed.markets["SOL-PERP"].api_price is not None, what="price API read")
        assert feed.markets["SOL-PERP"].oracle_gap_bps == pytest.approx(Decimal(5), abs=Decimal("0.01"))
        assert "differ" not in feed.message  # 5 bps is within the 50 bps warning
        node.http.api_prices[SOL_MINT] = 119.0  # the second source moves 85 bps away
        await until(lambda: "SOL-PERP oracle and price API differ by +85 bps" in feed.message, what="price gap shown")
        node.http.api_prices[SOL_MINT] = 118.059
        await until(lambda: "differ" not in feed.message, what="price gap cleared")
        await until(lambda: feed.state == "connected" and feed.pubsub and feed.pubsub.connected, what="connected")

        # a pushed change: utilization doubles, the borrow rate follows without any poll
        await until(lambda: feed.counters.polls >= 2, what="the re-read once subscribed")
        polls = feed.counters.polls
        await node.chain.set(SOL_CUSTODY, patch_u64(data(SOL_CUSTODY), LOCKED, 2 * LOCKED))
        await until(lambda: rec.last(OpenInterest).long == 2 * LOCKED, what="pushed custody change")
        assert rec.last(Funding).rate > funding.rate
        assert feed.counters.polls == polls  # it came over the websocket
    finally:
        await stop(feed, task)


async def test_websocket_dropped_mid_notification_falls_back_to_polling_and_resubscribes(node):
    clock = Clock(NOW_S)
    feed, rec, task = await running(config(node), clock)
    try:
        await until(lambda: feed.pubsub and feed.pubsub.connected, what="subscribed")
        node.pubsub.refuse = True  # the node stays away for a while
        await node.pubsub.drop_mid_notification(SOL_CUSTODY)
        await until(lambda: "websocket lost" in feed.message, what="websocket loss shown")
        assert "polling every 0.05s" in feed.message and feed.state == "connected"
        # while the websocket is away, a change still arrives by getMultipleAccounts
        node.chain.set_quietly(SOL_CUSTODY, patch_u64(data(SOL_CUSTODY), LOCKED, LOCKED + 1))
        await until(lambda: rec.last(OpenInterest).long == LOCKED + 1, what="polled change")
        node.pubsub.refuse = False
        await until(lambda: node.pubsub.active == 5 and feed.pubsub.connected, what="resubscribed")
        assert node.pubsub.subscribes >= 10 and feed.pubsub.reconnects >= 1
        await until(lambda: "websocket" not in feed.message, what="websocket recovery shown")
    finally:
        await stop(feed, task)


async def test_rpc_down_at_start_is_shown_and_retried(node):
    node.http.down = True
    clock = Clock(NOW_S)
    feed, rec, task = await running(config(node), clock)
    try:
        await until(lambda: feed.state == "down" and "no URL answered" in feed.message, what="RPC down shown")
        assert "HTTP 503" in feed.message and "retrying" in feed.message
        assert rec.last(VenueStatus).state == "down"
        node.http.down = False
        await until(lambda: rec.last(BookSnapshot) is not None, what="data after the RPC returns")
        assert not task.done()
    finally:
        await stop(feed, task)


async def test_rpc_and_websocket_both_down_later_marks_the_venue_down(node):
    clock = Clock(NOW_S)
    feed, rec, task = await running(config(node), clock)
    try:
        await until(lambda: feed.state == "connected" and feed.pubsub and feed.pubsub.connected, what="connected")
        node.http.down = True
        node.pubsub.refuse = True
        await node.pubsub.drop_all()
        await until(lambda: feed.state == "down", what="down shown")
        assert "no URL answered" in feed.message and "venues.jupiter.rpc_urls" in feed.message
        node.http.down = False
        node.pubsub.refuse = False
        await until(lambda: feed.state == "connected", what="recovered")
    finally:
        await stop(feed, task)


async def test_stale_oracle_is_shown_with_its_age(node):
    clock = Clock(NOW_S)
    feed, rec, task = await running(config(node), clock)
    try:
        await until(lambda: feed.state == "connected" and feed.pubsub and feed.pubsub.connected, what="connected")
        clock.advance(42)  # the custody allows 5 s
        await until(lambda: feed.state == "stale", what="stale shown")
        assert "SOL-PERP oracle 42s old (limit 5s)" in feed.message
        await node.chain.set(SOL_DOVES_ORACLE, price_feed(SOL_PRICE + 10**8, -8, NOW_S + 42))
        await until(lambda: feed.state == "connected", what="fresh oracle")
        assert rec.last(OraclePrice).price == 119_000_000
    finally:
        await stop(feed, task)


async def test_wide_missing_or_foreign_pyth_confidence_is_a_note_and_the_price_stays_live(node):
    clock = Clock(NOW_S)
    feed, rec, task = await running(config(node), clock)
    try:
        await until(lambda: feed.state == "connected" and feed.pubsub and feed.pubsub.connected, what="connected")
        # ±$1.77 on $118: 150 bps, over the 100 bps warning
        await node.chain.set(SOL_PYTH_ORACLE, pyth_price_update(11_800_000_000, 177_000_000, -8, NOW_S, full=False),
                             owner=PYTH_RECEIVER)  # fmt: skip
        await until(lambda: "SOL-PERP oracle confidence is wide: ±150 bps" in feed.message, what="wide confidence")
        assert rec.last(OraclePrice).confidence == 1_770_000 and feed.state == "connected"
        await node.chain.set(SOL_PYTH_ORACLE, data(POOL))  # not a Pyth account
        await until(lambda: "Pyth account" in feed.message, what="foreign Pyth account named")
        assert f"SOL-PERP Pyth account {SOL_PYTH_ORACLE}: unknown discriminator" in feed.message
        assert "confidence not shown" in feed.message and feed.state == "connected"  # the price itself is fine
        assert rec.last(OraclePrice).price == 118_000_000
    finally:
        await stop(feed, task)


async def test_truncated_and_foreign_accounts_are_refused_and_the_last_good_data_stays(node):
    clock = Clock(NOW_S)
    feed, rec, task = await running(config(node), clock)
    try:
        await until(lambda: feed.state == "connected" and feed.pubsub and feed.pubsub.connected, what="connected")
        good = rec.last(BookSnapshot)
        await node.chain.set(SOL_CUSTODY, data(SOL_CUSTODY)[:500])
        await until(lambda: feed.state == "stale", what="truncated custody shown")
        assert "SOL-PERP custody: 500 bytes is too short for a Custody account" in feed.message
        assert "last good data" in feed.message
        assert feed.markets["SOL-PERP"].custody.locked == LOCKED
        await node.chain.set(SOL_CUSTODY, data(POOL))  # a foreign type at the custody's address
        await until(lambda: "a Pool account, not a Custody" in feed.message, what="foreign account shown")
        assert (rec.last(BookSnapshot).bids, rec.last(BookSnapshot).asks) == (good.bids, good.asks)  # nothing from bad data
        await node.chain.set(SOL_CUSTODY, data(SOL_CUSTODY))
        # Recovered: the custody's problem is gone from the counters and the status line.
        await until(lambda: SOL_CUSTODY not in feed.counters.problems and "custody" not in feed.message,
                    timeout=30.0, what=f"recovered (status: {feed.state} {feed.message!r})")
        assert feed.counters.bad_accounts >= 2 and not task.done()  # each bad read counted
    finally:
        await stop(feed, task)


async def test_missing_collateral_custody_and_price_api_outage_are_named(node):
    node.http.price_api_down = True
    clock = Clock(NOW_S)
    cfg = config(node, collateral={"USDC": "G18jKKXQwBbrHeiK3C9MRXhkHsLHf7XgCSisykV46EZa"})
    feed, rec, task = await running(cfg, clock)
    try:
        await until(lambda: "price API" in feed.message, what="price API outage shown")
        assert "USDC custody G18jKKXQwBbrHeiK3C9MRXhkHsLHf7XgCSisykV46EZa not found" in feed.message
        assert rec.last(BookSnapshot) is not None  # the market itself still shows
    finally:
        await stop(feed, task)


def test_annualized_borrow_matches_the_custody_apr():
    """The Funding event's annualized rate is the custody's APR, to the event's ppb-per-hour precision."""
    custody = CustodyView.from_fields(decoder().decode(data(SOL_CUSTODY)).fields)
    hourly = borrow.hourly_borrow_rate(custody)
    ev = Funding("jupiter", "SOL-PERP", 0, borrow.rate_ppb(hourly), 0, 3600, 0, kind="borrow")
    apr = borrow.apr_percent(hourly) * SECONDS_PER_YEAR / (365 * 24 * 3600)
    assert abs(Decimal(ev.annualized) / 10**7 - apr) < Decimal("0.001")
