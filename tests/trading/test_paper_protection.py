"""The paper venues protect the trader as real venues do: a market order's
protective limit bounds its fills, self-trade prevention (reject, cancel the
resting order, or both), and liquidation the venue's way: partial on sim-drift
(Drift), the whole position on sim-jup (Jupiter)."""

from __future__ import annotations

import copy

import pytest

from quantdesk.core.math.liquidation import liquidation_fee
from quantdesk.core.model import Fill, Market, OrderIntent
from quantdesk.trading.paper_account import (
    JUPITER_MARGIN_PARAMS,
    LIQUIDATION_ORDER_ID,
    SIM_JUP_FEES,
    FeeSchedule,
    PaperAccount,
)
from quantdesk.trading.risk import RiskLimits
from quantdesk.venues.session import simulated_session
from quantdesk.venues.sim.clock import ManualClock
from quantdesk.venues.sim.matching import MatchingEngine
from quantdesk.venues.sim.paper import PaperClob, PaperPool

SOL = 10**9
USD = 10**6
MKT = "SOL-PERP"
LOT = 10_000_000


class EngineHost:
    """One real matching engine lent to the paper layer, as SimClobVenue does."""

    def __init__(self):
        self.engines = {MKT: MatchingEngine()}
        self.paper = None

    def engine(self, market):
        return self.engines[market]

    def apply(self, market, result):
        for m in result.matches:
            self.paper.on_match(market, m)

    def oracle_price(self, market):
        return 100 * USD


def clob(self_trade="reject", partial=False, collateral=10_000 * USD):
    host = EngineHost()
    events = []
    account = PaperAccount("sim-drift", collateral, fees=FeeSchedule(350, -25), partial_liquidation=partial)
    account.add_markets([Market("sim-drift", MKT, "SOL", "USDC", "clob", 10_000, LOT)])
    t = [0]

    def clock():
        t[0] += 1
        return t[0]

    paper = PaperClob(account, host, clock, events.append, self_trade)
    host.paper = paper
    eng = host.engines[MKT]  # the simulated makers: asks 100.10 x1, 100.20 x2; bids 99.90 x1, 99.80 x2
    eng.submit("a1", "mm", "sell", SOL, 100_100_000)
    eng.submit("a2", "mm", "sell", 2 * SOL, 100_200_000)
    eng.submit("b1", "mm", "buy", SOL, 99_900_000)
    eng.submit("b2", "mm", "buy", 2 * SOL, 99_800_000)
    return paper, events


def intent(side="buy", type="market", size=SOL, **kw):
    return OrderIntent("sim-drift", MKT, side, type, size, **kw)


def fills(events):
    return [e for e in events if isinstance(e, Fill)]


# ------------------------------------------------------- protective limits


def test_a_market_order_fills_no_further_than_its_protective_limit():
    paper, events = clob()
    o = paper.place(intent(size=3 * SOL, price=100_100_000), "m1")
    assert [(f.price, f.size) for f in fills(events)] == [(100_100_000, SOL)]
    assert o.status == "cancelled" and o.filled == SOL
    assert o.reason == "market: remainder cancelled at its protective limit"
    # without one it walks the book, as before
    paper2, events2 = clob()
    paper2.place(intent(size=3 * SOL), "m2")
    assert [f.price for f in fills(events2)] == [100_100_000, 100_200_000]


class PoolHost:
    def __init__(self, price):
        self.price = price

    def oracle_price(self, market):
        return 100 * USD

    def fill_price(self, market, side, notional_usd):
        return self.price


def test_a_pool_market_order_is_not_filled_beyond_its_protective_limit():
    account = PaperAccount("sim-jup", 10_000 * USD, SIM_JUP_FEES, params={}, default_params=JUPITER_MARGIN_PARAMS)
    events = []
    pool = PaperPool(account, PoolHost(106 * USD), lambda: 1, events.append)
    o = pool.place(OrderIntent("sim-jup", MKT, "buy", "market", SOL, price=105 * USD), "j1")
    assert o.status == "cancelled" and fills(events) == []
    o = pool.place(OrderIntent("sim-jup", MKT, "buy", "market", SOL, price=107 * USD), "j2")
    assert o.status == "filled" and fills(events)[0].price == 106 * USD


# ------------------------------------------------------ self-trade prevention


def own_ask(paper):
    o = paper.place(intent(side="sell", type="limit", price=100_050_000), "own")  # the best ask now
    assert o.status == "open"


def test_self_trade_reject_refuses_the_incoming_order():
    paper, events = clob("reject")
    own_ask(paper)
    o = paper.place(intent(), "in")
    assert o.status == "rejected"
    assert o.reason.startswith("self-trade prevention: it would trade with your own resting order own")
    assert 'self_trade = "cancel_resting"' in o.reason
    assert paper.order("own").status == "open" and fills(events) == []


def test_self_trade_cancel_resting_cancels_the_resting_order_and_trades():
    paper, events = clob("cancel_resting")
    own_ask(paper)
    o = paper.place(intent(), "in")
    assert paper.order("own").status == "cancelled" and "self-trade prevention" in paper.order("own").reason
    assert o.status == "filled" and [(f.order_id, f.price) for f in fills(events)] == [("in", 100_100_000)]
    assert "own" not in paper.host.engine(MKT).orders


def test_self_trade_cancel_both_cancels_both():
    paper, events = clob("cancel_both")
    own_ask(paper)
    o = paper.place(intent(type="limit", price=100_100_000), "in")
    assert o.status == "rejected" and "that order was cancelled too" in o.reason
    assert paper.order("own").status == "cancelled" and fills(events) == []


def test_an_own_order_the_incoming_order_cannot_reach_is_no_self_trade():
    paper, events = clob("reject")
    paper.place(intent(side="sell", type="limit", price=100_300_000), "far")  # behind 3 SOL of makers
    assert paper.place(intent(size=2 * SOL), "in").status == "filled"
    assert paper.place(intent(type="limit", price=100_000_000), "bid").status == "open"  # does not cross
    assert paper.order("far").status == "open"


# ----------------------------------------------------------------- liquidation


def breached(partial):
    """$20 of collateral, a 3 SOL long bought at ~$100.17, oracle down to $95."""
    paper, events = clob(partial=partial, collateral=20 * USD)
    assert paper.place(intent(size=3 * SOL), "o1").status == "filled"
    before = copy.deepcopy(paper.account)
    before.set_oracle(MKT, 95 * USD)
    paper.on_oracle(MKT, 95 * USD, ts=50)
    return paper, events, before


def test_drift_liquidates_only_what_restores_maintenance_plus_the_buffer():
    paper, events, before = breached(partial=True)
    pos = paper.account.positions[MKT]
    [liq] = [f for f in fills(events) if f.order_id == LIQUIDATION_ORDER_ID]
    assert 0 < pos.base < 3 * SOL and liq.size + pos.base == 3 * SOL
    assert liq.price == 95 * USD and liq.size % LOT == 0
    assert paper.account.meets_liquidation_buffer() and not paper.account.is_liquidatable()
    # one lot less would not have been enough: nothing more than needed was closed
    short = copy.deepcopy(before)
    fee = liquidation_fee(liq.size - LOT, 95 * USD, short._market(MKT).params.liquidation_fee)
    short.apply_fill(Fill("sim-drift", MKT, "x", "x", "sell", 95 * USD, liq.size - LOT, fee, "taker", 50))
    assert not short.meets_liquidation_buffer()
    [record] = [e for e in events if type(e).__name__ == "Liquidation"]
    assert record.base == -liq.size and "partial" in record.reason


def test_jupiter_liquidates_the_whole_position():
    paper, events, _ = breached(partial=False)
    assert paper.account.positions[MKT].base == 0
    [liq] = [f for f in fills(events) if f.order_id == LIQUIDATION_ORDER_ID]
    assert liq.size == 3 * SOL


async def test_the_simulated_venues_liquidate_their_way_and_take_the_configured_self_trade_mode(tmp_path):
    from quantdesk.wiring.trading import open_paper_trading

    session = simulated_session(seed=7, clock=ManualClock(1_795_000_000_000_000_000), paused=True)
    await session.start()
    trading = open_paper_trading(session, tmp_path / "j.sqlite3", RiskLimits(self_trade="cancel_both"))
    try:
        drift, jup = trading.router.executors["sim-drift"], trading.router.executors["sim-jup"]
        assert drift.account.partial_liquidation and not jup.account.partial_liquidation
        assert drift.self_trade == "cancel_both"
    finally:
        trading.close()
        await session.stop()
