"""The order path: intent -> journal -> risk engine -> venue, and back.

Every intent is journaled before anything else happens, then checked by the
risk engine (the decision is journaled too, with the limit and the excess),
and only an accepted intent reaches the venue's trading capability
(``core.venue.TradingVenue``): the paper engine of a simulated venue or a
live venue's signer path. The router never knows which venue it talks to;
``wiring`` gives it the capabilities the registered venues offer. A modify is
a new intent (the order it would leave) with its own decision; a scale
ticket's children are decided together before any is sent; a market order
leaves with a protective limit at the price band. Orders, fills, funding
payments and liquidations coming back on the bus are journaled as they are
published, before the screen's next frame can show them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import msgspec

from quantdesk.core.bus import Bus, Subscription
from quantdesk.core.cache import MarketCache
from quantdesk.trading.journal import Journal
from quantdesk.core.model import Fill, Order, OrderIntent, Side
from quantdesk.core.venue import ApprovalHook, ApprovesTransactions, ChangesCollateral, RiskContext, TradingVenue, VenueError
from quantdesk.trading.risk import RiskDecision, RiskEngine

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Ack:
    """The outcome of one submission, for the screen."""

    intent_id: str
    decision: RiskDecision
    order: Order | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.decision.accepted and self.order is not None and self.order.status != "rejected" and not self.error

    @property
    def message(self) -> str:
        if not self.decision.accepted:
            return f"Rejected by risk ({self.decision.check}): {self.decision.message}"
        if self.error:
            return self.error
        if self.order is None:
            return "No order was placed"
        if self.order.status == "rejected":
            return f"Rejected by the venue: {self.order.reason}"
        return f"Order {self.order.order_id} {self.order.status}"


PROBLEMS_KEPT = 20
JOURNAL_PROBLEM_TOPIC = "journal.problem"  # a str saying what the journal failed to record


class RiskRejected(Exception):
    """A modify the risk engine refused; the order is left as it was."""

    def __init__(self, decision: RiskDecision) -> None:
        super().__init__(f"Rejected by risk ({decision.check}): {decision.message}; the order is unchanged")
        self.decision = decision


async def _call(result: T | Awaitable[T]) -> T:
    """A venue method's result, awaited when the venue is asynchronous."""
    if isinstance(result, Awaitable):
        return await result
    return result


def new_order_id() -> str:
    return uuid.uuid4().hex[:12]


class JournalRecorder:
    """Journals the account events venues publish: orders, fills, payments,
    liquidations. Subscribed to the bus, so a row is committed during the
    publish, before any frame can paint it."""

    def __init__(self, journal: Journal, bus: Bus) -> None:
        self.journal = journal
        self.errors = 0
        self.problems: list[str] = []  # what went wrong, for the screen (the log has the tracebacks)
        self._bus = bus
        self._subs: list[Subscription] = [
            bus.subscribe(pattern, self._on_event) for pattern in ("order.>", "fill.>", "payment.>", "liquidation.>")
        ]

    def _on_event(self, topic: str, ev: Any) -> None:
        try:
            if isinstance(ev, Order):
                self.journal.record_order(ev)
            elif isinstance(ev, Fill):
                self.journal.record_fill(ev)
            elif topic.startswith("payment."):
                self.journal.record_funding(ev.venue, ev.market, ev.amount, ev.rate, ev.ts, kind=ev.kind)
            elif topic.startswith("liquidation."):
                self.journal.record_liquidation(ev.venue, ev.market, ev.base, ev.price, ev.fee, ev.ts, ev.reason)
        except Exception as exc:
            self.errors += 1
            log.exception("journal write failed for %s", topic)
            problem = f"The journal did not record a {topic.split('.')[0]} event: {exc}"
            self.problems.append(problem)
            del self.problems[:-PROBLEMS_KEPT]
            self._bus.publish(JOURNAL_PROBLEM_TOPIC, problem)  # the console shows it at once
            raise

    def close(self) -> None:
        for s in self._subs:
            s.close()


class OrderRouter:
    def __init__(
        self,
        cache: MarketCache,
        risk: RiskEngine,
        journal: Journal,
        executors: dict[str, TradingVenue],
        clock: Callable[[], int],
    ) -> None:
        self.cache = cache
        self.risk = risk
        self.journal = journal
        self.executors = executors  # venue id -> its trading capability
        self.clock = clock
        # Told (venue, operation, seconds) after each place/cancel/modify the
        # venue answered: the order round trip that /metrics shows.
        self.on_round_trip: Callable[[str, str, float], None] | None = None

    async def _timed(self, venue: str, op: str, call: T | Awaitable[T]) -> T:
        t0 = self.clock()
        result = await _call(call)
        if self.on_round_trip is not None:
            self.on_round_trip(venue, op, (self.clock() - t0) / 1e9)
        return result

    def can_trade(self, venue: str) -> bool:
        return venue in self.executors

    def set_approval(self, approve: ApprovalHook | None) -> None:
        """Who is asked before a transaction is signed, on every venue that signs
        transactions (paper venues have nothing to sign)."""
        for ex in self.executors.values():
            if isinstance(ex, ApprovesTransactions):
                ex.approve = approve

    def _executor(self, venue: str) -> TradingVenue:
        ex = self.executors.get(venue)
        if ex is None:
            raise VenueError(f"{venue} has no trading connection: it is read-only here")
        return ex

    def risk_context(self, intent: OrderIntent, *, replacing: str = "") -> RiskContext:
        """The venue's view of the account, plus what the router knows: the
        market's book and data age (from the cache, on the injected clock),
        its tick, and the resting orders per side (``replacing``: an order a
        modify replaces, left out)."""
        book = self.cache.book(intent.venue, intent.market)
        bid = book.best_bid() if book else None
        ask = book.best_ask() if book else None
        now = self.clock()
        ex = self._executor(intent.venue)
        ctx = ex.risk_context(intent.market, now, bid[0] if bid else None, ask[0] if ask else None)
        bids = asks = 0
        for o in ex.open_orders(intent.market):
            if o.order_id == replacing or o.reduce_only:
                continue
            if o.side == "buy":
                bids += o.remaining
            else:
                asks += o.remaining
        market = self.cache.markets.get((intent.venue, intent.market))
        return replace(
            ctx,
            open_bids=bids,
            open_asks=asks,
            open_orders=max(0, ctx.open_orders - (1 if replacing else 0)),
            book=book if book is not None and not book.needs_resync else None,
            data_age_ns=self.cache.market_data_age_ns(intent.venue, intent.market, now),
            tick_size=market.tick_size if market is not None else ctx.tick_size,
        )

    def _journal_decision(self, intent_id: str, decision: RiskDecision) -> None:
        self.journal.record_risk(
            intent_id, decision.accepted, decision.message, decision.check, decision.excess or None,
            limit_value=decision.limit_value or None,
        )

    def _context_or_refusal(self, intent: OrderIntent, intent_id: str, replacing: str = "") -> RiskContext | RiskDecision:
        try:
            return self.risk_context(intent, replacing=replacing)
        except VenueError as exc:
            decision = RiskDecision(False, "venue", str(exc), intent.client_id, self.clock())
            self.journal.record_risk(intent_id, False, str(exc), "venue")
            return decision

    def _protected(self, intent: OrderIntent, ctx: RiskContext) -> OrderIntent:
        """A market order goes out with a limit at the band, so the venue fills
        it no further than the risk engine allowed."""
        price = self.risk.protective_price(intent, ctx)
        return msgspec.structs.replace(intent, price=price) if intent.type == "market" and price != intent.price else intent

    async def submit(self, intent: OrderIntent, *, take_profit: int = 0, stop_loss: int = 0) -> Ack:
        intent_id = self.journal.record_intent(intent)
        ctx = self._context_or_refusal(intent, intent_id)
        if isinstance(ctx, RiskDecision):
            return Ack(intent_id, ctx)
        decision = self.risk.check(intent, ctx, bracket_legs=(take_profit > 0) + (stop_loss > 0))
        self._journal_decision(intent_id, decision)
        if not decision.accepted:
            return Ack(intent_id, decision)
        return await self._place(intent_id, self._protected(intent, ctx), decision, take_profit, stop_loss)

    async def submit_batch(self, intents: Sequence[OrderIntent]) -> list[Ack]:
        """The children of one ticket (a scale): every intent is journaled and
        decided together first; if any breaks a limit none is sent. Then they
        are placed in order, stopping at the first the venue refuses."""
        if not intents:
            return []
        ids = [self.journal.record_intent(i) for i in intents]
        ctx = self._context_or_refusal(intents[0], ids[0])
        if isinstance(ctx, RiskDecision):
            for iid in ids[1:]:
                self.journal.record_risk(iid, False, ctx.message, "venue")
            return [Ack(iid, ctx) for iid in ids]
        if any((i.venue, i.market) != (intents[0].venue, intents[0].market) for i in intents):
            raise ValueError("a batch is one ticket: every order on one venue and market")
        decisions = self.risk.check_batch(intents, ctx)
        for iid, d in zip(ids, decisions):
            self._journal_decision(iid, d)
        if not decisions[0].accepted:
            return [Ack(iid, d) for iid, d in zip(ids, decisions)]
        acks = []
        for iid, intent, d in zip(ids, intents, decisions):
            ack = await self._place(iid, self._protected(intent, ctx), d)
            acks.append(ack)
            if not ack.ok:
                break
        return acks

    async def _place(
        self, intent_id: str, intent: OrderIntent, decision: RiskDecision, take_profit: int = 0, stop_loss: int = 0
    ) -> Ack:
        order_id = intent.client_id or new_order_id()
        if self.journal.order(intent.venue, order_id) is not None:
            # Fill ids are made from the order id: a reused one would clash with the old order's fills.
            return Ack(intent_id, decision, error=f"Order id {order_id} was used before on {intent.venue}; "
                                                  "choose a new client id. Nothing was sent.")
        try:
            order = await self._timed(
                intent.venue, "place",
                self._executor(intent.venue).place(intent, order_id, take_profit=take_profit, stop_loss=stop_loss),
            )
        except VenueError as exc:
            return Ack(intent_id, decision, error=str(exc))
        self.journal.record_order(order)
        return Ack(intent_id, decision, order)

    async def cancel(self, venue: str, order_id: str) -> Order:
        self.journal.record_cancel(order_id, "cancelled by the trader", venue=venue)
        return await self._timed(venue, "cancel", self._executor(venue).cancel(order_id))

    async def modify(self, venue: str, order_id: str, *, price: int | None = None, size: int | None = None) -> Order:
        """Change an open order after a new risk decision on the order it would
        leave (its remaining size at the new price), journaled as an intent
        with its decision. Raises ``RiskRejected`` (order unchanged) or
        ``VenueError``."""
        ex = self._executor(venue)
        current = next((o for o in ex.open_orders() if o.order_id == order_id), None)
        if current is None:
            raise VenueError(f"no open order {order_id}; it may have filled or been cancelled already")
        new_size = current.size if size is None else size
        if new_size <= current.filled:
            raise VenueError(f"new size must be above the {current.filled} already filled; cancel the order instead")
        intent = OrderIntent(
            venue, current.market, current.side, current.type, max(0, new_size - current.filled),
            price=current.price if price is None else price, trigger_price=current.trigger_price,
            post_only=current.post_only, reduce_only=current.reduce_only, ioc=current.ioc,
            client_id=current.client_id or current.order_id,
        )
        intent_id = self.journal.record_intent(intent)
        ctx = self._context_or_refusal(intent, intent_id, replacing=order_id)
        if isinstance(ctx, RiskDecision):
            raise RiskRejected(ctx)
        decision = self.risk.check(intent, ctx)
        self._journal_decision(intent_id, decision)
        if not decision.accepted:
            raise RiskRejected(decision)
        return await self._timed(venue, "modify", ex.modify(order_id, price=price, size=size))

    async def cancel_all(self, venue: str | None = None, *, keep_protective: bool = False) -> int:
        n = 0
        for vid, ex in self.executors.items():
            if venue is not None and vid != venue:
                continue
            for o in ex.open_orders():
                if keep_protective and o.reduce_only and o.type not in ("market", "limit"):
                    continue
                self.journal.record_cancel(o.order_id, "cancel all", venue=vid)
            done = await _call(ex.cancel_all(keep_protective=keep_protective))
            n += len(done or ())
        return n

    async def kill(self, reason: str = "kill switch engaged by the trader") -> int:
        """Halt new orders (journaled first, so the halt outlives a crash or a
        restart), then cancel every open one on every venue."""
        self.journal.record_kill_switch(True, reason)
        self.risk.engage_kill_switch(reason)
        return await self.cancel_all()

    def release(self, reason: str = "released by the trader") -> None:
        """Lift the kill switch: an explicit, journaled action."""
        self.journal.record_kill_switch(False, reason)
        self.risk.release_kill_switch()

    async def dead_man(self) -> int:
        """The session is ending: cancel resting orders, keep protective stops."""
        return await self.cancel_all(keep_protective=True)

    async def change_collateral(self, venue: str, market: str, change: int, side: str | None = None) -> Ack:
        """Add (``change`` > 0) or take out collateral of the open position on
        ``market`` (``side`` long/short, or the market's one position), after the
        risk engine's decision, journaled under ``collateral:<order id>``."""
        ex = self._executor(venue)
        if not isinstance(ex, ChangesCollateral):
            raise VenueError(f"{venue} keeps collateral per account, not per position: there is none to change here")
        if side is None:
            pos = self.cache.positions.get((venue, market))
            if pos is None or pos.base == 0:
                raise VenueError(f"no open {market} position on {venue} to change the collateral of")
            side = "long" if pos.base > 0 else "short"
        if side not in ("long", "short"):
            raise VenueError(f"side must be long or short, not {side!r}")
        order_id = new_order_id()
        intent_id = f"collateral:{order_id}"
        now = self.clock()
        try:
            ctx = ex.risk_context(market, now)
        except VenueError as exc:
            refused = RiskDecision(False, "venue", str(exc), "", now)
            self._journal_decision(intent_id, refused)
            return Ack(intent_id, refused)
        ctx = replace(ctx, data_age_ns=self.cache.market_data_age_ns(venue, market, now))
        decision = self.risk.check_collateral(market, change, ctx)
        self._journal_decision(intent_id, decision)
        if not decision.accepted:
            return Ack(intent_id, decision)
        try:
            order = await _call(ex.change_collateral(market, "long" if side == "long" else "short", change, order_id))
        except VenueError as exc:
            return Ack(intent_id, decision, error=str(exc))
        self.journal.record_order(order)
        return Ack(intent_id, decision, order)

    async def close_position(self, venue: str, market: str) -> Ack | None:
        pos = self.cache.positions.get((venue, market))
        if pos is None or pos.base == 0:
            return None
        side: Side = "sell" if pos.base > 0 else "buy"
        intent = OrderIntent(venue, market, side, "market", abs(pos.base), reduce_only=True)
        return await self.submit(intent)

    async def close_all(self) -> list[Ack]:
        acks = []
        for venue, market in list(self.cache.positions):
            ack = await self.close_position(venue, market)
            if ack is not None:
                acks.append(ack)
        return acks
