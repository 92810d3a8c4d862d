"""The trading desk without a screen: a paused simulated session with paper
trading, driven through the Desk, checking what reaches the venues and the
journal and what the trader is told."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from quantdesk.core.model import Market
from quantdesk.trading.desk import READ_ONLY, Desk, Outcome
from quantdesk.trading.risk import RiskLimits
from quantdesk.trading.ticket import TicketInput, build_plan
from quantdesk.venues.session import Session, simulated_session
from quantdesk.venues.sim.clock import ManualClock
from quantdesk.wiring.trading import PaperTrading, open_paper_trading

START_NS = 1_795_000_000_000_000_000
SOL = 10**9


@dataclass
class Rig:
    session: Session
    trading: PaperTrading
    desk: Desk

    @property
    def sol(self) -> Market:
        return self.session.cache.markets[("sim-drift", "SOL-PERP")]

    def open_ids(self) -> set[str]:
        return {o.order_id for o in self.trading.router.executors["sim-drift"].open_orders()}


async def open_rig(tmp_path: Path, limits: RiskLimits | None = None, *, dead_man: bool = False) -> Rig:
    session = simulated_session(seed=7, clock=ManualClock(START_NS), paused=True)
    trading = open_paper_trading(session, tmp_path / "journal.sqlite3", limits)
    await session.start()
    session.advance(3_000)  # books, oracles and funding on every market
    return Rig(session, trading, Desk(session.cache, trading.router, dead_man=dead_man))


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    r = await open_rig(tmp_path)
    yield r
    await r.session.stop()
    r.trading.close()


def texts(outcome: Outcome) -> list[str]:
    return [n.text for n in outcome.notices]


async def test_a_limit_order_rests_on_the_venue_and_the_trader_is_told_what_was_sent(rig: Rig) -> None:
    out = await rig.desk.place(TicketInput("buy", "limit", size="1", price="140", post_only=True), rig.sol, "BUY 1 @ 140")
    assert out.ok
    (order,) = rig.session.cache.orders.values()
    assert (order.market, order.side, order.size, order.price, order.post_only) == ("SOL-PERP", "buy", SOL, 140_000_000, True)
    assert rig.open_ids() == {order.order_id}
    assert rig.trading.journal.order("sim-drift", order.order_id) is not None  # journaled before the ack
    (notice,) = out.notices
    assert notice.title == "Order" and notice.severity == "information"
    assert notice.text.startswith("BUY 1 SOL-PERP limit 140 on sim-drift: Order ") and order.order_id in notice.text


async def test_a_field_the_ticket_cannot_send_says_what_to_fix_and_sends_nothing(rig: Rig) -> None:
    out = await rig.desk.place(TicketInput("buy", "limit", size="1.005", price="140"), rig.sol, "BUY 1.005 @ 140")
    assert not out.ok and rig.session.cache.orders == {} and rig.open_ids() == set()
    (notice,) = out.notices
    assert notice.severity == "error"
    assert notice.text.startswith("BUY 1.005 @ 140: ") and "not a multiple of the lot" in notice.text
    assert notice.text.endswith("Nothing was sent.")


async def test_a_risk_rejection_names_the_check_and_nothing_reaches_the_venue(tmp_path: Path) -> None:
    r = await open_rig(tmp_path, RiskLimits(max_order_notional=Decimal(100)))
    try:
        out = await r.desk.place(TicketInput("buy", "limit", size="1", price="140"), r.sol, "BUY 1 @ 140")
        assert not out.ok and r.open_ids() == set()
        (notice,) = out.notices
        assert (notice.title, notice.severity) == ("Order rejected", "error")
        assert "Rejected by risk" in notice.text and "BUY 1 SOL-PERP limit 140 on sim-drift" in notice.text

        book = r.session.cache.book("sim-drift", "SOL-PERP")
        scale = build_plan(TicketInput("buy", "limit", size="3", price="140", scale_count="3", scale_to="138"), r.sol, book)
        out = await r.desk.submit_plan(scale)  # decided as a whole: no child goes out
        assert not out.ok and r.open_ids() == set()
        assert out.notices[0].text.startswith("Scale of 3 orders (BUY 1 SOL-PERP limit 140 on sim-drift first); none placed")
    finally:
        await r.session.stop()
        r.trading.close()


async def test_a_scale_order_places_every_order_and_says_how_many(rig: Rig) -> None:
    book = rig.session.cache.book("sim-drift", "SOL-PERP")
    plan = build_plan(TicketInput("buy", "limit", size="3", price="140", scale_count="3", scale_to="138"), rig.sol, book)
    out = await rig.desk.submit_plan(plan)
    assert out.ok and len(rig.open_ids()) == 3
    assert texts(out) == ["Scale: 3 buy limit orders placed on SOL-PERP (sim-drift)"]


async def test_cancel_by_id_all_and_per_market(rig: Rig) -> None:
    desk = rig.desk
    await desk.place(TicketInput("buy", "limit", size="1", price="140"), rig.sol, "")
    await desk.place(TicketInput("buy", "limit", size="1", price="141"), rig.sol, "")
    eth = rig.session.cache.markets[("sim-drift", "ETH-PERP")]
    await desk.place(TicketInput("buy", "limit", size="0.1", price="1000"), eth, "")
    assert len(rig.open_ids()) == 3

    missing = await desk.cancel_by_id("nope")
    assert not missing.ok and texts(missing) == ["No open order nope; it may have filled or been cancelled."]

    one = next(o for o in rig.session.cache.orders.values() if o.price == 141_000_000)
    out = await desk.cancel_by_id(one.order_id)
    assert out.ok and texts(out) == [f"Order {one.order_id} cancelled."] and one.order_id not in rig.open_ids()
    assert rig.trading.journal.order("sim-drift", one.order_id).status == "cancelled"

    out = await desk.cancel_all("SOL-PERP")
    assert texts(out) == ["Cancel all SOL-PERP: 1 order cancelled."]
    assert [o.market for o in rig.session.cache.orders.values()] == ["ETH-PERP"]
    out = await desk.cancel_all()
    assert texts(out) == ["Cancel all: 1 order cancelled."] and rig.open_ids() == set()


async def test_modify_moves_a_resting_order(rig: Rig) -> None:
    await rig.desk.place(TicketInput("buy", "limit", size="1", price="140"), rig.sol, "")
    (order,) = rig.session.cache.orders.values()
    out = await rig.desk.modify("sim-drift", order.order_id, price=139_500_000, size=None)
    assert out.ok and rig.session.cache.orders[order.order_id].price == 139_500_000
    assert texts(out)[0].startswith(f"Order {order.order_id} modified: ")
    bad = await rig.desk.modify("sim-drift", "nope", price=139_000_000, size=None)
    assert not bad.ok and bad.notices[0].severity == "error" and bad.notices[0].text.startswith("Modify nope: ")


async def test_close_one_and_close_all_flatten_with_reduce_only_market_orders(rig: Rig) -> None:
    desk = rig.desk
    assert (await desk.place(TicketInput("buy", "market", size="1"), rig.sol, "")).ok
    eth = rig.session.cache.markets[("sim-drift", "ETH-PERP")]
    assert (await desk.place(TicketInput("sell", "market", size="0.5"), eth, "")).ok
    assert {(p.market, p.base > 0) for p in desk.open_positions()} == {("SOL-PERP", True), ("ETH-PERP", False)}

    out = await desk.close_positions([("sim-drift", "SOL-PERP")])
    assert out.ok and [p.market for p in desk.open_positions()] == ["ETH-PERP"]
    assert texts(out)[0].startswith("Close SOL-PERP on sim-drift: Order ")
    sells = [f for f in rig.session.cache.fills if f.side == "sell" and f.market == "SOL-PERP"]
    assert sells and sells[0].size == SOL

    out = await desk.close_all()
    assert out.ok and desk.open_positions() == []
    assert (await desk.close_all()) == Outcome(True, ())  # already flat: nothing sent, nothing said


async def test_the_kill_switch_cancels_everything_blocks_orders_and_releases(rig: Rig) -> None:
    desk = rig.desk
    await desk.place(TicketInput("buy", "limit", size="1", price="140"), rig.sol, "")
    out = await desk.set_kill_switch(True)
    assert desk.kill_switch_on and rig.open_ids() == set()
    (notice,) = out.notices
    assert notice.severity == "error" and notice.text.startswith("KILL SWITCH ON: 1 open order cancelled")

    halt = desk.halt_notice("ctrl+k")
    assert halt is not None and "Trading is HALTED" in halt.text and "ctrl+k" in halt.text and "KILL OFF" in halt.text

    blocked = await desk.place(TicketInput("buy", "limit", size="1", price="140"), rig.sol, "")
    assert not blocked.ok and rig.open_ids() == set() and "Rejected by risk" in texts(blocked)[0]

    released = await desk.set_kill_switch(False)
    assert not desk.kill_switch_on and texts(released) == ["Kill switch released: new orders are accepted again."]
    assert texts(await desk.set_kill_switch(False)) == ["The kill switch is already off."]
    assert (await desk.place(TicketInput("buy", "limit", size="1", price="140"), rig.sol, "")).ok
    assert desk.halt_notice("ctrl+k") is None  # released: nothing to announce


async def test_the_dead_mans_switch_cancels_resting_orders_and_keeps_protective_stops(tmp_path: Path) -> None:
    r = await open_rig(tmp_path, dead_man=True)
    try:
        await r.desk.place(TicketInput("buy", "limit", size="1", price="140"), r.sol, "")
        ask = r.session.cache.book("sim-drift", "SOL-PERP").best_ask()[0]
        bracket = TicketInput(
            "buy", "market", size="1", stop_loss=str(r.sol.price(ask - 5_000_000)), take_profit=str(r.sol.price(ask + 5_000_000))
        )
        assert (await r.desk.place(bracket, r.sol, "")).ok
        assert len(r.open_ids()) == 3
        assert await Desk(r.session.cache, r.trading.router).run_dead_man() == 0  # off unless configured
        assert len(r.open_ids()) == 3
        assert await r.desk.run_dead_man() == 1
        assert {i.rsplit("-", 1)[1] for i in r.open_ids()} == {"sl", "tp"}
    finally:
        await r.session.stop()
        r.trading.close()


async def test_a_read_only_desk_refuses_everything_and_says_why(rig: Rig) -> None:
    desk = Desk(rig.session.cache)  # market data only: no router
    assert not desk.trading_enabled and not desk.kill_switch_on and desk.account("sim-drift") is None
    outcomes = [
        await desk.place(TicketInput("buy", "market", size="1"), rig.sol, ""),
        await desk.cancel_all(),
        await desk.cancel_by_id("x"),
        await desk.close_positions([("sim-drift", "SOL-PERP")]),
        await desk.set_kill_switch(True),
    ]
    for out in outcomes:
        assert not out.ok and [(n.text, n.title, n.severity) for n in out.notices] == [(READ_ONLY, "Read-only", "warning")]
    assert rig.open_ids() == set() and rig.session.cache.orders == {}


async def test_a_venue_without_trading_is_refused_by_name(rig: Rig) -> None:
    executors = rig.trading.router.executors
    jup = executors.pop("sim-jup")
    try:
        market = next(m for m in rig.session.cache.markets.values() if m.venue == "sim-jup")
        out = await rig.desk.place(TicketInput("buy", "market", size="1"), market, "")
        assert not out.ok and texts(out) == [
            "sim-jup has no trading connection here: it is read-only market data. Nothing was sent."
        ]
        assert rig.desk.market_for(market.symbol, None) is None or rig.desk.market_for(market.symbol, None).venue != "sim-jup"
    finally:
        executors["sim-jup"] = jup


async def test_the_market_an_action_applies_to(rig: Rig) -> None:
    desk = rig.desk
    eth = ("sim-drift", "ETH-PERP")
    assert desk.pick_market([None, eth]).symbol == "ETH-PERP"  # the first candidate the session lists
    assert desk.pick_market([("nowhere", "X")]).kind == "clob"  # else the first order book
    assert desk.market_for("ETH-PERP", rig.sol) == rig.session.cache.markets[eth]  # the same venue first
    assert desk.market_for("DOGE-PERP", rig.sol) is None
    assert desk.account("sim-drift") is not None  # the ticket's preview reads the paper account
