"""Paper execution on a real matching engine: order types, flags, triggers,
brackets, reduce-only, liquidation and restore."""

import pytest

from quantdesk.core.model import Fill, Market, Order, OrderIntent, Position
from quantdesk.core.venue import OrderHistory
from quantdesk.venues.base import VenueError
from quantdesk.trading.paper_account import FeeSchedule, PaperAccount, Payment
from quantdesk.venues.sim.matching import MatchingEngine
from quantdesk.venues.sim.paper import PaperClob, is_triggered, trigger_condition

SOL = 10**9
USD = 10**6
MKT = "SOL-PERP"


class EngineHost:
    """Lends the paper layer one real matching engine, as SimClobVenue does:
    results are 'published' by routing their matches back to the paper layer."""

    def __init__(self):
        self.engines = {MKT: MatchingEngine()}
        self.oracles = {MKT: 100 * USD}
        self.paper = None
        self.results = []

    def engine(self, market):
        return self.engines[market]

    def apply(self, market, result):
        self.results.append(result)
        for m in result.matches:
            self.paper.on_match(market, m)

    def oracle_price(self, market):
        return self.oracles[market]


@pytest.fixture
def env():
    host = EngineHost()
    events = []
    account = PaperAccount("sim-drift", 10_000 * USD, fees=FeeSchedule(350, -25))
    account.add_markets([Market("sim-drift", MKT, "SOL", "USDC", "clob", 1_000, 10_000_000)])
    t = [0]

    def clock():
        t[0] += 1
        return t[0]

    paper = PaperClob(account, host, clock, events.append)
    host.paper = paper
    # the simulated makers: asks 100.10 x1, 100.20 x2; bids 99.90 x1, 99.80 x2
    eng = host.engines[MKT]
    eng.submit("a1", "mm", "sell", SOL, 100_100_000)
    eng.submit("a2", "mm", "sell", 2 * SOL, 100_200_000)
    eng.submit("b1", "mm", "buy", SOL, 99_900_000)
    eng.submit("b2", "mm", "buy", 2 * SOL, 99_800_000)
    return paper, host, events


def intent(side="buy", type="market", size=SOL, price=0, **kw):
    return OrderIntent("sim-drift", MKT, side, type, size, price=price, **kw)


def fills(events):
    return [e for e in events if isinstance(e, Fill)]


def sim_taker(host, side, size, price=None):
    res = host.engines[MKT].submit(f"t{len(host.results)}", "flow", side, size, price, ioc=True)
    host.apply(MKT, res)
    host.paper.flush()  # the venue's next safe moment
    return res


def test_trigger_rule_is_drifts():
    assert trigger_condition("stop_market", "buy") == "above"
    assert trigger_condition("stop_limit", "sell") == "below"
    assert trigger_condition("take_profit_market", "sell") == "above"
    assert trigger_condition("take_profit_limit", "buy") == "below"
    assert not is_triggered("above", 101 * USD, 101 * USD)  # strictly through, as on chain
    assert is_triggered("above", 101 * USD, 101 * USD + 1)
    assert is_triggered("below", 95 * USD, 95 * USD - 1)
    assert not is_triggered("below", 95 * USD, 0)  # no oracle, no trigger


def test_market_order_walks_levels(env):
    paper, host, events = env
    o = paper.place(intent(size=2 * SOL + SOL // 2), "o1")
    assert (o.status, o.filled) == ("filled", 2_500_000_000)
    assert [(f.price, f.size, f.liquidity) for f in fills(events)] == [
        (100_100_000, SOL, "taker"), (100_200_000, 1_500_000_000, "taker")
    ]
    # 100.10 + 1.5 * 100.20 = 250.40 for 2.5 SOL: entry 100.16; taker fee 3.5 bps each
    assert [f.fee for f in fills(events)] == [35_035, 52_605]
    pos = [e for e in events if isinstance(e, Position)][-1]
    assert (pos.base, pos.entry_price) == (2_500_000_000, 100_160_000)


def test_ioc_limit_cancels_the_remainder(env):
    paper, host, events = env
    o = paper.place(intent(type="limit", size=5 * SOL, price=100_150_000, ioc=True), "o1")
    assert (o.status, o.filled) == ("cancelled", SOL)
    assert o.reason == "IOC: remainder cancelled"
    assert host.engines[MKT].best_bid() == 99_900_000  # nothing of it rests


def test_post_only_rejected_when_it_would_cross(env):
    paper, host, events = env
    o = paper.place(intent(type="limit", price=100_100_000, post_only=True), "o1")
    assert o.status == "rejected" and "cross" in o.reason
    assert fills(events) == []
    assert paper.place(intent(type="market", post_only=True), "o2").status == "rejected"


def test_resting_order_waits_behind_earlier_liquidity_and_earns_the_rebate(env):
    paper, host, events = env
    o = paper.place(intent(type="limit", price=99_900_000, post_only=True), "o1")
    assert o.status == "open" and o.filled == 0
    sim_taker(host, "sell", SOL + SOL // 2, 99_900_000)  # b1 (first in the queue) gets 1, we get 0.5
    [f] = fills(events)
    assert (f.size, f.liquidity, f.price) == (SOL // 2, "maker", 99_900_000)
    assert f.fee == -1_248  # rebate 0.25 bp of $49.95 = 0.0012487 -> rounded toward zero
    assert paper.order("o1").status == "open" and paper.order("o1").filled == SOL // 2


def test_stop_market_fires_on_the_oracle(env):
    paper, host, events = env
    o = paper.place(intent(type="stop_market", trigger_price=101 * USD), "s1")
    assert o.status == "open" and fills(events) == []
    paper.on_oracle(MKT, 101 * USD, ts=10)  # at the trigger: not through it
    assert paper.order("s1").status == "open"
    paper.on_oracle(MKT, 101 * USD + 1, ts=11)
    assert paper.order("s1").status == "filled"
    statuses = [e.status for e in events if isinstance(e, Order) and e.order_id == "s1"]
    assert statuses == ["open", "triggered", "filled"]


def test_stop_limit_rests_at_its_limit_once_triggered(env):
    paper, host, events = env
    paper.place(intent(side="sell", type="stop_limit", trigger_price=99 * USD, price=99_850_000), "s1")
    paper.on_oracle(MKT, 98_900_000, ts=10)
    o = paper.order("s1")
    assert (o.status, o.filled) == ("filled", SOL)  # sold into the 99.90 bid
    paper.place(intent(side="sell", type="stop_limit", trigger_price=99 * USD, price=99_950_000), "s2")
    assert paper.order("s2").status == "triggered"  # already through: fires at once, rests at 99.95
    assert host.engines[MKT].best_ask() == 99_950_000


def test_reduce_only_is_capped_and_cancelled_with_the_position(env):
    paper, host, events = env
    paper.place(intent(size=SOL), "o1")  # long 1 @ 100.10
    ro = paper.place(intent(side="sell", type="limit", size=3 * SOL, price=101 * USD, reduce_only=True), "r1")
    assert (ro.status, ro.size) == ("open", SOL)  # trimmed to the position
    assert host.engines[MKT].asks.totals[101 * USD] == SOL
    paper.place(intent(side="sell", size=SOL), "o2")  # closes the long at the bid
    assert paper.order("r1").status == "cancelled"
    assert 101 * USD not in host.engines[MKT].asks.totals
    r = paper.place(intent(side="sell", size=SOL, reduce_only=True), "r2")
    assert r.status == "rejected" and "no position" in r.reason


def test_bracket_take_profit_and_stop_loss_one_cancels_other(env):
    paper, host, events = env
    o = paper.place(intent(size=SOL), "e1", take_profit=110 * USD, stop_loss=95 * USD)
    assert o.status == "filled"
    tp, sl = paper.order("e1-tp"), paper.order("e1-sl")
    assert (tp.type, tp.side, tp.size, tp.trigger_price, tp.reduce_only) == (
        "take_profit_market", "sell", SOL, 110 * USD, True
    )
    assert (sl.type, sl.trigger_price) == ("stop_market", 95 * USD)
    paper.on_oracle(MKT, 94 * USD, ts=10)  # the stop fires and sells into the bids
    assert paper.order("e1-sl").status == "filled"
    assert paper.order("e1-tp").status == "cancelled"
    assert paper.account.positions[MKT].base == 0
    bad = paper.place(intent(size=SOL), "e2", take_profit=90 * USD)
    assert bad.status == "rejected" and "wrong side" in bad.reason


def test_bracket_legs_follow_a_resting_entry(env):
    paper, host, events = env
    paper.place(intent(type="limit", price=99_900_000), "e1", stop_loss=90 * USD)
    assert paper.order("e1-sl") is None  # nothing filled, nothing to protect
    sim_taker(host, "sell", 2 * SOL, 99_900_000)  # b1 first, then our 1
    assert paper.order("e1-sl").size == SOL


def test_cancel_all_can_keep_protective_stops(env):
    paper, host, events = env
    paper.place(intent(size=SOL), "o1")
    paper.place(intent(type="limit", price=99 * USD), "l1")
    paper.place(intent(side="sell", type="stop_market", trigger_price=90 * USD, reduce_only=True), "s1")
    done = paper.cancel_all(keep_protective=True)
    assert [o.order_id for o in done] == ["l1"]
    assert [o.order_id for o in paper.open_orders()] == ["s1"]
    assert len(paper.cancel_all()) == 1 and paper.open_orders() == []
    with pytest.raises(VenueError, match="no open order"):
        paper.cancel("l1")


def test_modify_loses_priority_and_refuses_a_crossing_post_only(env):
    paper, host, events = env
    paper.place(intent(type="limit", price=99_800_000, post_only=True), "l1")
    with pytest.raises(VenueError, match="cross"):
        paper.modify("l1", price=100_100_000)
    assert paper.order("l1").price == 99_800_000
    m = paper.modify("l1", price=99_900_000, size=2 * SOL)
    assert (m.price, m.size) == (99_900_000, 2 * SOL)
    assert [r.order_id for r in host.engines[MKT].queue("buy", 99_900_000)] == ["b1", "l1"]
    with pytest.raises(VenueError, match="already filled"):
        paper.modify("l1", size=0)


def test_insufficient_collateral_is_refused(env):
    paper, host, events = env
    paper.account.collateral = 10 * USD  # 5 % initial margin: $200 of notional at most
    o = paper.place(intent(type="limit", size=3 * SOL, price=99 * USD), "o1")
    assert o.status == "rejected" and o.reason.startswith("insufficient collateral")


def test_liquidation_closes_and_cancels(env):
    paper, host, events = env
    paper.account.collateral = 20 * USD
    paper.place(intent(size=3 * SOL), "o1")  # ~$300 long on $20: 15x
    assert paper.place(intent(side="sell", type="limit", price=110 * USD), "l1").status == "open"
    paper.on_oracle(MKT, 95 * USD, ts=50)  # -$15.5: below maintenance
    assert paper.account.positions[MKT].base == 0
    assert paper.order("l1").status == "cancelled" and "liquidated" in paper.order("l1").reason
    liq = [f for f in fills(events) if f.order_id == "liquidation"]
    assert len(liq) == 1 and liq[0].price == 95 * USD


def test_restore_replays_the_journal(env):
    paper, host, events = env
    paper.place(intent(size=SOL), "o1")
    paper.place(intent(type="limit", price=99 * USD), "l1")
    paper.place(intent(side="sell", type="stop_market", trigger_price=90 * USD, reduce_only=True), "s1")
    payments = paper.account.settle_funding(MKT, 100_000, ts=20)
    open_orders = paper.open_orders()

    host2 = EngineHost()
    account2 = PaperAccount("sim-drift", 10_000 * USD, fees=FeeSchedule(350, -25))
    paper2 = PaperClob(account2, host2, lambda: 100, lambda e: None)
    host2.paper = paper2
    paper2.restore(OrderHistory(tuple(fills(events)), tuple(payments), tuple(open_orders)))
    assert account2.collateral == paper.account.collateral
    assert account2.positions[MKT].base == SOL
    assert {o.order_id for o in paper2.open_orders()} == {"l1", "s1"}
    assert host2.engines[MKT].best_bid() == 99 * USD
    assert isinstance(payments[0], Payment)


def test_resting_reduce_only_orders_can_never_flip_the_position(env):
    paper, host, events = env
    paper.place(intent(size=2 * SOL), "o1")  # long 2
    paper.place(intent(side="sell", type="limit", size=SOL, price=101 * USD, reduce_only=True), "r1")
    r2 = paper.place(intent(side="sell", type="limit", size=2 * SOL, price=102 * USD, reduce_only=True), "r2")
    assert (r2.status, r2.size) == ("open", SOL)  # only what r1 leaves uncovered
    r3 = paper.place(intent(side="sell", type="limit", size=SOL, price=103 * USD, reduce_only=True), "r3")
    assert r3.status == "rejected" and "already cover" in r3.reason
    sim_taker(host, "buy", 10 * SOL, 105 * USD)  # a sweep through every level
    assert paper.account.positions[MKT].base == 0  # flat, not short
    assert paper.order("r1").status == paper.order("r2").status == "filled"


def test_risk_context_reflects_the_account_and_book(env):
    paper, host, events = env
    paper.place(intent(size=SOL), "o1")
    paper.place(intent(type="limit", price=99 * USD), "l1")
    ctx = paper.risk_context(MKT, ts=7)
    assert (ctx.best_bid, ctx.best_ask) == (99_900_000, 100_200_000)
    assert (ctx.position_base, ctx.open_orders, ctx.oracle_price) == (SOL, 1, 100 * USD)
    assert ctx.account_notional == 100 * USD and ctx.equity == paper.account.equity()


def test_restored_bracket_legs_stay_one_cancels_other(env):
    paper, host, events = env
    paper.place(intent(size=SOL), "e1", take_profit=110 * USD, stop_loss=95 * USD)
    legs = [o for o in paper.open_orders()]
    host2 = EngineHost()
    host2.engines[MKT] = host.engines[MKT]  # the same market
    paper2 = PaperClob(PaperAccount("sim-drift", 10_000 * USD, fees=FeeSchedule(350, -25)), host2, lambda: 100,
                       lambda e: None)
    host2.paper = paper2
    paper2.restore(OrderHistory(tuple(fills(events)), (), tuple(legs)))
    paper2.on_oracle(MKT, 111 * USD, ts=200)  # take-profit fires into the 99.90 bid
    assert paper2.order("e1-tp").status == "filled"
    assert paper2.order("e1-sl").status == "cancelled"


def test_mark_to_market_is_published_at_most_every_100ms_but_changes_at_once(env):
    paper, host, events = env
    paper.place(intent(size=SOL), "o1")
    events.clear()
    for i in range(10):  # ten oracle ticks 10 ms apart: one mark-to-market publication
        paper.on_oracle(MKT, 100 * USD + i, ts=1_000_000_000 + i * 10_000_000)
    assert sum(isinstance(e, Position) for e in events) == 1
    paper.on_oracle(MKT, 100 * USD, ts=1_100_000_000)
    assert sum(isinstance(e, Position) for e in events) == 2
    paper.place(intent(size=SOL), "o2")  # a fill is published at once
    assert sum(isinstance(e, Position) for e in events) == 3


def test_cancelling_a_partly_filled_bracket_entry_keeps_its_protection(env):
    paper, host, events = env
    paper.place(intent(type="limit", size=2 * SOL, price=99_900_000), "e1", stop_loss=90 * USD)
    sim_taker(host, "sell", 2 * SOL, 99_900_000)  # b1 gets 1, our entry 1 of 2
    paper.cancel("e1")
    assert paper.order("e1-sl").status == "open" and paper.order("e1-sl").size == SOL
    paper.place(intent(type="limit", price=99 * USD), "e2", stop_loss=90 * USD)
    paper.cancel("e2")  # nothing filled: nothing to protect, no leg was ever armed
    assert paper.order("e2-sl") is None
