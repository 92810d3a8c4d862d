"""Paper trading wired into the real simulated venues of a session: orders
trade with the simulated flow, events reach the bus, the cache's books stay
identical to the matching engine's."""

import pytest

from quantdesk.core.model import AccountState, Fill, OrderIntent, Position
from quantdesk.venues.session import simulated_session
from quantdesk.trading.paper_account import JUPITER_MARGIN_PARAMS, SIM_JUP_FEES, PaperAccount
from quantdesk.venues.sim.clock import ManualClock
from quantdesk.venues.sim.paper import attach_clob, attach_pool, enable_paper_trading

SOL = 10**9


@pytest.fixture
async def wired():
    s = simulated_session(seed=7, clock=ManualClock(1_700_000_000 * 10**9), paused=True)
    for v in s.venues.values():
        s.cache.add_markets(await v.connect())
        v.bind(s.bus)
    drift = attach_clob(s.venues["sim-drift"], PaperAccount("sim-drift"))
    jup = attach_pool(
        s.venues["sim-jup"],
        PaperAccount("sim-jup", fees=SIM_JUP_FEES, params={}, default_params=JUPITER_MARGIN_PARAMS),
    )
    seen = []
    s.bus.subscribe("fill.>", lambda t, e: seen.append((t, e)))
    s.bus.subscribe("position.>", lambda t, e: seen.append((t, e)))
    s.bus.subscribe("account.>", lambda t, e: seen.append((t, e)))
    gaps = []
    s.cache.on_gap = lambda venue, market: gaps.append((venue, market))
    return s, drift, jup, seen, gaps


async def test_market_order_fills_against_the_simulated_book(wired):
    s, drift, jup, seen, gaps = wired
    ask = s.venues["sim-drift"].books["SOL-PERP"].engine.best_ask()
    o = drift.place(OrderIntent("sim-drift", "SOL-PERP", "buy", "market", SOL), "m1")
    assert o.status == "filled"
    fills = [e for t, e in seen if isinstance(e, Fill)]
    assert fills and fills[0].price == ask and fills[0].liquidity == "taker"
    assert ("fill.sim-drift", fills[0]) in seen
    pos = [e for t, e in seen if isinstance(e, Position)][-1]
    assert pos.base == SOL and pos.market == "SOL-PERP"
    assert any(isinstance(e, AccountState) and e.venue == "sim-drift" for _, e in seen)


async def test_resting_order_is_filled_by_simulated_takers_and_books_stay_in_sync(wired):
    s, drift, jup, seen, gaps = wired
    venue = s.venues["sim-drift"]
    bid = venue.books["SOL-PERP"].engine.best_bid()
    o = drift.place(OrderIntent("sim-drift", "SOL-PERP", "buy", "limit", 5 * SOL, price=bid, post_only=True), "l1")
    assert o.status == "open"
    drift.place(OrderIntent("sim-drift", "SOL-PERP", "sell", "stop_market", SOL, trigger_price=bid // 2,
                            reduce_only=True), "s1")
    s.advance(20_000)
    assert drift.order("l1").filled > 0  # the simulated flow reached it in the queue
    assert any(isinstance(e, Fill) and e.liquidity == "maker" for _, e in seen)
    assert gaps == []
    for market, m in venue.books.items():
        bids, asks = m.engine.levels()
        book = s.cache.book("sim-drift", market)
        assert book.sorted_bids() == bids and book.sorted_asks() == asks


async def test_pool_fills_at_the_oracle_plus_impact_and_pays_borrow(wired):
    s, drift, jup, seen, gaps = wired
    pool = s.venues["sim-jup"].pools["SOL-PERP"]
    o = jup.place(OrderIntent("sim-jup", "SOL-PERP", "sell", "market", 2 * SOL), "j1")
    assert o.status == "filled"
    f = [e for _, e in seen if isinstance(e, Fill) and e.venue == "sim-jup"][0]
    assert pool.oracle - f.price < pool.oracle // 10_000  # impact of a $300 trade: well under 1 bp
    assert f.fee > 0  # the 6 bps open fee
    post_only = OrderIntent("sim-jup", "SOL-PERP", "buy", "limit", SOL, price=1, post_only=True)
    assert jup.place(post_only, "j2").status == "rejected"
    collateral = jup.account.collateral
    s.advance(3_000)  # the manual clock moves 5 ms an event: far from an hour
    assert jup.account.collateral == collateral
    jup.account.settle_borrow("SOL-PERP", 100_000, ts=0)
    assert jup.account.collateral < collateral


async def test_enable_paper_trading_on_a_started_session():
    s = simulated_session(seed=3, clock=ManualClock(1_700_000_000 * 10**9), paused=True)
    await s.start()
    try:
        papers = enable_paper_trading(s, collateral=1_000 * 10**6)
        assert set(papers) == {"sim-drift", "sim-jup"}
        assert papers["sim-drift"].account.collateral == 1_000 * 10**6
        fills = []
        s.bus.subscribe("fill.>", lambda t, e: fills.append(e))
        papers["sim-jup"].place(OrderIntent("sim-jup", "BTC-PERP", "buy", "market", 1_000_000), "b1")
        papers["sim-drift"].place(OrderIntent("sim-drift", "ETH-PERP", "sell", "market", 10_000_000), "e1")
        assert [f.venue for f in fills] == ["sim-jup", "sim-drift"]
        s.advance(2_000)
        assert s.errors == []
    finally:
        await s.stop()
