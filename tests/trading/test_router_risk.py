"""No way around a limit through the order router, on the real simulated
venues with paper accounts and a real SQLite journal: modifies are risk
decisions, market orders are valued down the book and sent with a protective
limit, a scale ticket is decided as a whole, bracket legs count, and stale
market data stops trading on that market."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quantdesk.core.model import OrderIntent
from quantdesk.trading.risk import RiskLimits
from quantdesk.trading.router import RiskRejected
from quantdesk.venues.session import simulated_session
from quantdesk.venues.sim.clock import ManualClock
from quantdesk.wiring.trading import open_paper_trading

SOL = 10**9
USD = 10**6
S = 10**9
START_NS = 1_795_000_000_000_000_000
VENUE, MKT = "sim-drift", "SOL-PERP"


@pytest.fixture
async def desk(tmp_path):
    """A paused simulated session on a manual clock, warmed up, with paper trading."""
    opened = []

    async def make(**limits):
        session = simulated_session(seed=7, clock=ManualClock(START_NS), paused=True)
        await session.start()
        trading = open_paper_trading(session, tmp_path / f"journal{len(opened)}.sqlite3", RiskLimits(**limits))
        opened.append((session, trading))
        session.advance(3_000)
        return session, trading

    yield make
    for session, trading in opened:
        trading.close()
        await session.stop()


def oracle(session) -> int:
    return session.cache.oracle[(VENUE, MKT)].price


def decisions(trading, intent_id):
    return [(r.accepted, r.limit_name) for r in trading.journal.risk_events(intent_id)]


def last_intent_id(trading) -> str:
    rows = trading.journal._conn.execute("SELECT id FROM intents ORDER BY rowid DESC LIMIT 1").fetchall()
    return rows[0][0]


# ------------------------------------------------------------------ modify


async def test_a_resize_past_the_order_limit_is_rejected_and_journaled(desk):
    session, trading = await desk(max_order_notional=Decimal(50_000), max_position_notional=Decimal(10**6))
    router = trading.router
    price = oracle(session) * 97 // 100 // 10_000 * 10_000  # rests below the market
    ack = await router.submit(OrderIntent(VENUE, MKT, "buy", "limit", SOL, price=price, client_id="r1"))
    assert ack.ok and ack.order.status == "open"
    size_100k = 100_000 * USD * SOL // price // 10**7 * 10**7  # $100k at the limit price, on the lot
    with pytest.raises(RiskRejected) as info:
        await router.modify(VENUE, "r1", size=size_100k)
    assert "max_order_notional" in str(info.value) and "the order is unchanged" in str(info.value)
    assert "exceeds the max order notional $50,000.00" in str(info.value)
    assert router.executors[VENUE].order("r1").size == SOL
    iid = last_intent_id(trading)
    assert trading.journal.intent(iid).size == size_100k
    assert decisions(trading, iid) == [(False, "max_order_notional")]


async def test_a_modify_through_the_price_band_is_rejected(desk):
    session, trading = await desk(price_band_bps=500, max_position_notional=Decimal(10**6))
    router = trading.router
    price = oracle(session) * 97 // 100 // 10_000 * 10_000
    await router.submit(OrderIntent(VENUE, MKT, "sell", "limit", SOL, price=oracle(session) * 103 // 100 // 10_000 * 10_000, client_id="b1"))
    through = oracle(session) * 92 // 100 // 10_000 * 10_000  # a sell 8 % under the oracle
    with pytest.raises(RiskRejected) as info:
        await router.modify(VENUE, "b1", price=through)
    assert "price_band" in str(info.value) and "below the oracle" in str(info.value)
    assert router.executors[VENUE].order("b1").status == "open"
    # inside the band the modify goes through, with an accepted decision journaled
    await router.submit(OrderIntent(VENUE, MKT, "buy", "limit", SOL, price=price, client_id="b2"))
    order = await router.modify(VENUE, "b2", price=price - 10_000)
    assert order.price == price - 10_000
    assert decisions(trading, last_intent_id(trading)) == [(True, "")]


async def test_the_kill_switch_stops_modifies_too(desk):
    session, trading = await desk()
    router = trading.router
    price = oracle(session) * 97 // 100 // 10_000 * 10_000
    await router.submit(OrderIntent(VENUE, MKT, "buy", "limit", SOL, price=price, client_id="k1"))
    router.risk.engage_kill_switch("drawdown")  # halts new orders; this one stays resting
    with pytest.raises(RiskRejected, match="kill switch is on"):
        await router.modify(VENUE, "k1", price=price - 10_000)
    assert router.executors[VENUE].order("k1").price == price


# ------------------------------------------------------------ market orders


def size_through(session, band_bps: int) -> tuple[int, int]:
    """A buy size whose walk down the sim's asks ends beyond the band, and the
    size that stays on the levels inside it."""
    edge = oracle(session) * (10_000 + band_bps) // 10_000
    inside = total = 0
    for price, size in session.cache.book(VENUE, MKT).sorted_asks():
        total += size
        if price > edge:
            return inside, total
        inside = total
    raise AssertionError("the simulated book does not reach past the band")


async def test_a_market_order_that_would_fill_through_the_band_is_rejected(desk):
    session, trading = await desk(price_band_bps=10, max_order_notional=Decimal(10**9), max_position_notional=Decimal(10**9), max_leverage=Decimal(1000))
    inside, through = size_through(session, 10)
    ack = await trading.router.submit(OrderIntent(VENUE, MKT, "buy", "market", through))
    assert not ack.decision.accepted and ack.decision.check == "price_band"
    assert "would fill up to $" in ack.message and "above the oracle" in ack.message
    assert trading.router.executors[VENUE].open_orders() == [] and not session.cache.fills


async def test_a_market_order_is_sent_with_a_protective_limit_and_fills_inside_it(desk):
    session, trading = await desk(price_band_bps=10, max_order_notional=Decimal(10**9), max_position_notional=Decimal(10**9), max_leverage=Decimal(1000))
    inside, _ = size_through(session, 10)
    assert inside >= SOL
    edge = oracle(session) * 10_010 // 10_000
    ack = await trading.router.submit(OrderIntent(VENUE, MKT, "buy", "market", 10 * SOL, client_id="m1"))
    assert ack.ok, ack.message
    tick = session.cache.markets[(VENUE, MKT)].tick_size
    assert ack.order.price == edge // tick * tick  # the band edge, on the tick
    assert trading.journal.order(VENUE, "m1").price == ack.order.price
    assert all(f.price <= edge for f in session.cache.fills)


async def test_a_market_order_is_valued_down_the_book_not_at_the_touch(desk):
    session, trading = await desk(price_band_bps=10_000, max_position_notional=Decimal(10**9), max_leverage=Decimal(1000))
    (p1, s1), (p2, s2) = session.cache.book(VENUE, MKT).sorted_asks()[:2]
    size = (s1 + min(s2, 100 * SOL)) // 10**7 * 10**7  # the touch level and part of the next
    at_touch = size * p1 // SOL
    # a limit the order fits at the touch: only walking the book shows it does not
    limit = Decimal(-(-at_touch // 10_000)) / 100
    trading.router.risk.limits = RiskLimits(max_order_notional=limit, price_band_bps=10_000,
                                            max_position_notional=Decimal(10**9), max_leverage=Decimal(1000))
    ack = await trading.router.submit(OrderIntent(VENUE, MKT, "buy", "market", size))
    assert ack.decision.check == "max_order_notional" and "walking the book" in ack.message
    assert not session.cache.fills


# ---------------------------------------------------------- scale, bracket


async def test_a_scale_over_the_position_cap_is_rejected_before_any_child_is_sent(desk):
    session, trading = await desk(max_position_notional=Decimal(20_000), max_orders_per_second=100)
    o = oracle(session)
    price = o * 99 // 100 // 10_000 * 10_000
    each = 15_000 * USD * SOL // price // 10**7 * 10**7  # five $15k children
    children = [
        OrderIntent(VENUE, MKT, "buy", "limit", each, price=price - i * 10_000, client_id=f"sc-{i}") for i in range(5)
    ]
    acks = await trading.router.submit_batch(children)
    assert [a.decision.accepted for a in acks] == [False] * 5
    assert all(a.order is None for a in acks)
    assert acks[1].decision.message.startswith("order 2 of 5 of the ticket")
    assert trading.router.executors[VENUE].open_orders() == []
    assert trading.journal.open_orders(VENUE) == []


async def test_resting_orders_count_toward_the_position_cap(desk):
    session, trading = await desk(max_position_notional=Decimal(20_000), max_orders_per_second=100)
    price = oracle(session) * 99 // 100 // 10_000 * 10_000
    each = 15_000 * USD * SOL // price // 10**7 * 10**7
    first = await trading.router.submit(OrderIntent(VENUE, MKT, "buy", "limit", each, price=price))
    assert first.ok
    second = await trading.router.submit(OrderIntent(VENUE, MKT, "buy", "limit", each, price=price - 10_000))
    assert second.decision.check == "max_position_notional"
    assert "with the resting orders on that side" in second.message


async def test_a_bracket_counts_its_legs_against_max_open_orders(desk):
    session, trading = await desk(max_open_orders=2)
    o = oracle(session)
    price = o * 99 // 100 // 10_000 * 10_000
    intent = OrderIntent(VENUE, MKT, "buy", "limit", SOL, price=price)
    ack = await trading.router.submit(intent, take_profit=o * 110 // 100 // 10_000 * 10_000, stop_loss=o * 90 // 100 // 10_000 * 10_000)
    assert ack.decision.check == "max_open_orders"
    assert "the order and its 2 bracket legs" in ack.message
    assert trading.router.executors[VENUE].open_orders() == []


# ---------------------------------------------------------------- stale data


async def test_orders_on_a_market_whose_data_is_900_s_old_are_rejected(desk):
    session, trading = await desk(max_data_age_s=Decimal(10))
    price = oracle(session) * 99 // 100 // 10_000 * 10_000
    assert (await trading.router.submit(OrderIntent(VENUE, MKT, "buy", "limit", SOL, price=price))).ok
    session.clock.advance(900 * S)  # the venue went quiet: nothing arrives, the clock moves on
    ack = await trading.router.submit(OrderIntent(VENUE, MKT, "buy", "limit", SOL, price=price))
    assert ack.decision.check == "max_data_age_s"
    assert "market data for SOL-PERP is 900." in ack.message and "s old" in ack.message
    assert decisions(trading, ack.intent_id) == [(False, "max_data_age_s")]
    session.advance(200)  # data resumes
    assert (await trading.router.submit(OrderIntent(VENUE, MKT, "buy", "limit", SOL, price=price))).ok
