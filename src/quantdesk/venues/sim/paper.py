"""Paper execution on the simulated venues.

``PaperClob`` (sim-drift) sends the trader's orders into the venue's matching
engine, where they queue and trade with the simulated makers and takers;
``PaperPool`` (sim-jup) fills them against the pool at the oracle plus price
impact. Both share the order lifecycle in ``PaperExecution``:

- market, limit, stop-market, stop-limit, take-profit market and limit;
- post-only (refused when it would take liquidity), IOC (the remainder is
  cancelled), reduce-only (capped to the position at every fill; cancelled
  when there is nothing left to reduce);
- trigger orders fire on the oracle price with Drift's rule: condition
  "above" fires when oracle > trigger, "below" when oracle < trigger; stops
  buy above and sell below, take-profits the other way round;
- brackets: take-profit and stop-loss legs (reduce-only triggers, one
  cancels the other) armed for whatever the entry has filled;
- a market order with a price fills no further than it (the router sends
  market orders with a protective limit at the risk engine's price band);
- self-trade prevention on the CLOB (``self_trade``): an order that would
  trade with the trader's own resting order is rejected (``reject``), or the
  resting one is cancelled first (``cancel_resting``), or both
  (``cancel_both``);
- every change is published as ``Order``, ``Fill``, ``Position``,
  ``AccountState``, ``Payment`` and ``Liquidation`` events.

Each paper account trades in the venue's engine under an owner name
(``PAPER_OWNER`` unless given): the consoles ``quantdesk serve ssh`` serves
share one simulated venue, each trader's orders rest and match under their
own name, so one trader's resting order fills against another's, and each
account hears only its own fills. ``detach`` takes an account's resting
orders off a venue that goes on without it.

Everything here is synchronous and deterministic. ``PaperExecution`` is the
simulated venues' trading capability (``core.venue.TradingVenue``): the order
router calls ``place``/``cancel``/``modify`` straight into it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, Protocol, cast

import msgspec

from quantdesk.core.math.pnl import notional
from quantdesk.core.bus import Bus, Subscription
from quantdesk.core.model import (
    TOPIC_PREFIX, AccountState, Event, Fill, Funding, OraclePrice, Order, OrderIntent, OrderType, Position, Side,
    topic_for,
)
from quantdesk.core.venue import BookedPayment
from quantdesk.trading.paper_account import Liquidation, PaperAccount, Payment
from quantdesk.venues.base import OrderHistory, RiskContext, VenueError
from quantdesk.venues.sim.matching import Match, MatchingEngine, Result

if TYPE_CHECKING:
    from quantdesk.venues.sim.clob import ClobMarket, SimClobVenue
    from quantdesk.venues.sim.pool import SimPoolVenue
    from quantdesk.venues.session import Session

PAPER_OWNER = "paper"  # the owner of a terminal's own paper account
TRIGGER_TYPES = {"stop_market", "stop_limit", "take_profit_market", "take_profit_limit"}
OPEN_STATUSES = {"pending", "open", "triggered"}
MARK_EVERY_NS = 100_000_000  # mark-to-market Position/AccountState events at most every 100 ms a market
Condition = Literal["above", "below"]
SelfTrade = Literal["reject", "cancel_resting", "cancel_both"]


def trigger_condition(type_: str, side: Side) -> Condition:
    """Stops fire as the price moves against the trader: a stop buy above,
    a stop sell below; take-profits fire the other way."""
    stop = type_.startswith("stop")
    return "above" if (side == "buy") == stop else "below"


def is_triggered(condition: Condition, trigger_price: int, oracle_price: int) -> bool:
    """Drift's rule (order_satisfies_trigger_condition): strictly through."""
    if oracle_price <= 0:
        return False
    return oracle_price > trigger_price if condition == "above" else oracle_price < trigger_price


def event_topic(event: object) -> str:
    if type(event) in TOPIC_PREFIX:
        return topic_for(cast(Event, event))  # the keys of TOPIC_PREFIX are the Event types
    if isinstance(event, Payment):
        return f"payment.{event.venue}"
    if isinstance(event, Liquidation):
        return f"liquidation.{event.venue}"
    raise TypeError(f"no topic for {type(event).__name__}")


@dataclass(slots=True)
class _Live:
    """An order the paper layer is responsible for."""

    order: Order
    condition: Condition | None = None  # trigger orders until they fire
    parent: str = ""  # bracket legs: the entry order id
    oco: str = ""  # legs of one bracket share it


class PaperExecution(ABC):
    def __init__(
        self,
        account: PaperAccount,
        clock: Callable[[], int],
        publish: Callable[[object], None],
        oracle_price: Callable[[str], int],
        self_trade: SelfTrade = "reject",
    ) -> None:
        self.account = account
        self.venue = account.venue
        self.self_trade: SelfTrade = self_trade
        self.id = account.venue
        self.clock = clock
        self._publish = publish
        self._oracle_price = oracle_price
        self.orders: dict[str, _Live] = {}
        self._brackets: dict[str, tuple[int, int]] = {}  # entry id -> (tp price, sl price)
        # While a venue is publishing a match result, its book must not change
        # (the result's level totals are about to go out as a BookDelta), so the
        # follow-ups of a fill (reduce-only trims, liquidation, OCO cancels) wait
        # in these until ``flush``.
        self._in_match = 0
        self._dirty: set[str] = set()
        self._changed: set[str] = set()  # markets whose account state changed since last published
        self._last_mark: dict[str, int] = {}  # market -> ts of the last mark-to-market publication
        self._subs: list[Subscription] = []  # the market data it follows, until detached

    # -- reads -----------------------------------------------------------------

    def open_orders(self, market: str | None = None) -> list[Order]:
        return [
            lv.order
            for lv in self.orders.values()
            if lv.order.status in OPEN_STATUSES and (market is None or lv.order.market == market)
        ]

    def order(self, order_id: str) -> Order | None:
        lv = self.orders.get(order_id)
        return lv.order if lv else None

    def risk_context(
        self, market: str, ts: int, best_bid: int | None = None, best_ask: int | None = None
    ) -> RiskContext:
        """What the risk engine needs to know about this account and market."""
        pos = self.account.positions.get(market)
        return RiskContext(
            ts=ts,
            oracle_price=self.oracle(market),
            best_bid=best_bid,
            best_ask=best_ask,
            position_base=pos.base if pos else 0,
            open_orders=len(self.open_orders()),
            equity=self.account.equity(),
            account_notional=self.account.total_notional(),
        )

    def oracle(self, market: str) -> int:
        price = self.account.oracle_price(market)
        if not price:
            price = self._oracle_price(market)
            self.account.set_oracle(market, price)
        return price

    # -- order entry -------------------------------------------------------------

    def place(self, intent: OrderIntent, order_id: str, *, take_profit: int = 0, stop_loss: int = 0) -> Order:
        """Place an order (and its bracket legs, if prices are given). Returns
        the order as it stands after any immediate fills; a refusal comes back
        as status "rejected" with the reason."""
        if order_id in self.orders:
            raise VenueError(f"order id {order_id} is already in use; use a new id")
        self.flush()
        now = self.clock()
        order = Order(
            intent.venue or self.venue, intent.market, order_id, intent.side, intent.type, intent.size,
            intent.price, intent.trigger_price, 0, "pending", intent.post_only, intent.reduce_only,
            intent.ioc or intent.type == "market", intent.client_id, now,
        )
        lv = _Live(order)
        self.orders[order_id] = lv
        reason = self._refusal(order, take_profit, stop_loss)
        if reason:
            return self._set(lv, status="rejected", reason=reason)
        if take_profit or stop_loss:
            self._brackets[order_id] = (take_profit, stop_loss)
        if order.type in TRIGGER_TYPES:
            lv.condition = trigger_condition(order.type, order.side)
            self._set(lv, status="open")
            self._check_trigger(lv, self.oracle(order.market), now)
        else:
            self._execute(lv, now)
        if not lv.order.filled:  # a resting order changes free collateral; fills were published already
            self._changed.add(order.market)
        self._after_trading(order.market, now)
        return self.orders[order_id].order

    def _refusal(self, order: Order, take_profit: int, stop_loss: int) -> str:
        kind = order.type.replace("_", "-")
        if order.size <= 0:
            return "size must be greater than zero"
        if order.post_only and (order.type == "market" or order.type in TRIGGER_TYPES):
            return f"a {kind} order cannot be post-only; post-only is for limit orders"
        if order.post_only and order.ioc:
            return "an order cannot be both post-only and immediate-or-cancel"
        if order.type in ("limit", "stop_limit", "take_profit_limit") and order.price <= 0:
            return f"a {kind} order needs a limit price"
        if order.type in TRIGGER_TYPES and order.trigger_price <= 0:
            return f"a {kind} order needs a trigger price"
        if (take_profit or stop_loss) and (order.reduce_only or order.type in TRIGGER_TYPES):
            return "a bracket needs a plain market or limit entry that opens or adds to a position"
        oracle = self.oracle(order.market)
        if take_profit and not (take_profit > oracle if order.side == "buy" else take_profit < oracle):
            return f"take-profit {take_profit} is on the wrong side of the oracle {oracle} for a {order.side}"
        if stop_loss and not (stop_loss < oracle if order.side == "buy" else stop_loss > oracle):
            return f"stop-loss {stop_loss} is on the wrong side of the oracle {oracle} for a {order.side}"
        if not order.reduce_only and order.type not in TRIGGER_TYPES:
            short = self.account.order_margin_shortfall(order.market, order.side, order.size)
            if short:
                return (
                    f"insufficient collateral: the order needs {Decimal(short).scaleb(-6):,.2f} "
                    "more free collateral; reduce the size or close positions"
                )
        return ""

    def cancel(self, order_id: str, reason: str = "cancelled by the trader") -> Order:
        self.flush()
        lv = self.orders.get(order_id)
        if lv is None or lv.order.status not in OPEN_STATUSES:
            raise VenueError(f"no open order {order_id}; it may have filled or been cancelled already")
        self._withdraw(lv)
        order = self._set(lv, status="cancelled", reason=reason)
        if order.filled == 0:  # legs protecting a partial fill stay
            self._cancel_children(order_id, "the bracket's entry was cancelled before it filled")
        self._sync_open_orders(order.market)
        self._publish_account(order.market, self.clock(), force=True)
        return order

    def cancel_all(self, market: str | None = None, *, keep_protective: bool = False) -> list[Order]:
        """Cancel every open order (of ``market``). ``keep_protective`` leaves
        reduce-only trigger orders (stops, take-profits, bracket legs) in place,
        as the dead-man's switch wants."""
        done = []
        for lv in list(self.orders.values()):
            o = lv.order
            if o.status not in OPEN_STATUSES or (market is not None and o.market != market):
                continue
            if keep_protective and o.reduce_only and o.type in TRIGGER_TYPES:
                continue
            done.append(self.cancel(o.order_id, "cancelled: cancel all"))
        return done

    def modify(
        self, order_id: str, *, price: int | None = None, size: int | None = None, trigger_price: int | None = None
    ) -> Order:
        """Change an open order's limit price, total size or trigger price. A
        new price or a bigger size loses queue priority; a post-only order
        that would cross at the new price is refused and left as it was."""
        self.flush()
        lv = self.orders.get(order_id)
        if lv is None or lv.order.status not in OPEN_STATUSES:
            raise VenueError(f"no open order {order_id}; it may have filled or been cancelled already")
        o = lv.order
        if size is not None and size <= o.filled:
            raise VenueError(f"new size must be above the {o.filled} already filled; cancel the order instead")
        if price is not None and price <= 0:
            raise VenueError("price must be above zero")
        if trigger_price is not None and (lv.condition is None):
            raise VenueError("only an untriggered stop or take-profit has a trigger price to change")
        now = self.clock()
        if lv.condition is not None:  # not in the book yet: just edit it
            self._set(
                lv,
                price=o.price if price is None else price,
                size=o.size if size is None else size,
                trigger_price=o.trigger_price if trigger_price is None else trigger_price,
            )
            self._check_trigger(lv, self.oracle(o.market), now)
        else:
            reason = self._refuse_modify(lv, price)
            if reason:
                raise VenueError(reason)
            new_size = o.size if size is None else size
            self._set(lv, price=o.price if price is None else price, size=new_size)
            self._amend_resting(lv, price, new_size - o.filled, now)
        self._after_trading(o.market, now)
        return self.orders[order_id].order

    # -- market data -------------------------------------------------------------

    def on_oracle(self, market: str, price: int, ts: int) -> None:
        """Mark to market, fire triggers, liquidate if maintenance is breached."""
        self.flush()
        self.account.set_oracle(market, price)
        for lv in list(self.orders.values()):
            if lv.condition is not None and lv.order.market == market and lv.order.status == "open":
                self._check_trigger(lv, price, ts)
        self._after_trading(market, ts)

    def on_funding(self, event: Funding) -> None:
        self.flush()
        for payment in self.account.on_funding(event):
            self._publish(payment)
            self._publish_account(payment.market, event.ts, force=True)

    # -- restore -----------------------------------------------------------------

    def account_events(self, now: int) -> list[Position | AccountState]:
        """Positions and account state valued now (a position restored before
        any oracle arrived is valued at the venue's current oracle)."""
        for market in list(self.account.positions):
            if self.account.oracle_price(market) <= 0:
                self.account.set_oracle(market, self.oracle(market))
        return list(self.account.events(now))

    def restore(self, history: OrderHistory) -> None:
        """Rebuild from the journal: replay fills and payments into the account,
        then put open orders back (resting orders rejoin the back of their
        price level's queue, oldest first).

        All three are oldest first (``reversed(journal.fills(...))``: the
        journal lists fills newest first); fills sharing a timestamp are
        replayed in the order given. Payments may be any objects with
        ``market``, ``amount`` and ``ts`` (the journal's FundingPayment)."""
        open_orders = history.open_orders
        events: list[tuple[int, int, Fill | BookedPayment]] = [(f.ts, 0, f) for f in history.fills]
        events += [(p.ts, 1, p) for p in history.payments]
        for _, _, ev in sorted(events, key=lambda e: (e[0], e[1])):
            if isinstance(ev, Fill):
                self.account.apply_fill(ev)
            else:
                self.account.apply_payment(ev)
        now = self.clock()
        for o in open_orders:
            if o.venue != self.venue or o.order_id in self.orders:
                continue
            lv = _Live(o)
            self.orders[o.order_id] = lv
            entry, _, leg = o.order_id.rpartition("-")
            if leg in ("tp", "sl") and o.reduce_only:  # a bracket leg: keep one-cancels-other
                lv.parent = lv.oco = entry
            if o.type in TRIGGER_TYPES and o.status != "triggered":
                lv.condition = trigger_condition(o.type, o.side)
            else:
                self._rest_again(lv, now)
            self._sync_open_orders(o.market)

    # -- internals ---------------------------------------------------------------

    def _set(self, lv: _Live, **changes: object) -> Order:
        """Change an order and publish it. ``ts`` stays the time it was placed
        (queue order on restore); the journal keeps when each change happened."""
        lv.order = msgspec.structs.replace(lv.order, **changes)
        self._publish(lv.order)
        return lv.order

    def _check_trigger(self, lv: _Live, oracle: int, ts: int) -> None:
        o = lv.order
        if lv.condition is None or not is_triggered(lv.condition, o.trigger_price, oracle):
            return
        lv.condition = None
        self._set(lv, status="triggered")
        if o.reduce_only and self._reducible(o) == 0:
            self._set(lv, status="cancelled", reason="reduce-only: no position left to reduce")
            return
        if not o.reduce_only:
            short = self.account.order_margin_shortfall(o.market, o.side, o.size - o.filled)
            if short:
                self._set(
                    lv, status="cancelled",
                    reason=f"triggered but cancelled: insufficient collateral by {Decimal(short).scaleb(-6):,.2f}",
                )
                return
        if o.type.endswith("market"):
            lv.order = msgspec.structs.replace(lv.order, ioc=True)
        self._execute(lv, ts)

    def _reducible(self, o: Order) -> int:
        base = self.account.positions.get(o.market)
        pos = base.base if base else 0
        if (o.side == "sell" and pos > 0) or (o.side == "buy" and pos < 0):
            return abs(pos)
        return 0

    def _record_fill(self, lv: _Live, price: int, size: int, liquidity: Literal["maker", "taker"], ts: int) -> None:
        o = lv.order
        # "order:filled-before" never repeats: filled only grows, and the journal
        # commits each fill with its order's new filled amount, so a restored
        # order carries on from exactly where its journaled fills left it.
        fill = self.account.make_fill(
            o.market, o.order_id, o.side, price, size, liquidity, ts, fill_id=f"{o.order_id}:{o.filled}"
        )
        self.account.apply_fill(fill)
        self._publish(fill)
        self._changed.add(o.market)
        filled = o.filled + size
        self._set(lv, filled=filled, status="filled" if filled >= o.size else o.status)
        self._on_filled(lv, size, ts)

    def _on_filled(self, lv: _Live, size: int, ts: int) -> None:
        o = lv.order
        if o.order_id in self._brackets:
            self._arm_bracket(lv, ts)
        if lv.oco and o.status == "filled":
            for other in self.orders.values():
                if other is not lv and other.oco == lv.oco and other.order.status in OPEN_STATUSES:
                    self._withdraw(other)
                    self._set(other, status="cancelled", reason="one-cancels-other: the sibling leg filled")

    def _arm_bracket(self, entry: _Live, ts: int) -> None:
        """Legs cover what the entry has filled so far."""
        tp, sl = self._brackets[entry.order.order_id]
        exit_side: Side = "sell" if entry.order.side == "buy" else "buy"
        legs: tuple[tuple[str, OrderType, int], ...] = (("tp", "take_profit_market", tp), ("sl", "stop_market", sl))
        for suffix, kind, trigger in legs:
            if not trigger:
                continue
            leg_id = f"{entry.order.order_id}-{suffix}"
            leg = self.orders.get(leg_id)
            if leg is None:
                o = entry.order
                leg = _Live(
                    Order(
                        o.venue, o.market, leg_id, exit_side, kind, o.filled, 0, trigger, 0, "pending",
                        reduce_only=True, ioc=True, client_id=o.client_id, ts=ts,
                    ),
                    condition=trigger_condition(kind, exit_side),
                    parent=o.order_id,
                    oco=o.order_id,
                )
                self.orders[leg_id] = leg
                self._set(leg, status="open")
            elif leg.order.status == "open" and leg.condition is not None:
                self._set(leg, size=entry.order.filled)

    def _cancel_children(self, parent: str, reason: str) -> None:
        for lv in self.orders.values():
            if lv.parent == parent and lv.order.status in OPEN_STATUSES:
                self._withdraw(lv)
                self._set(lv, status="cancelled", reason=reason)

    def _enforce_reduce_only(self, market: str) -> None:
        """Keep every reduce-only order no bigger than what it can reduce.

        Orders resting in a book share the position between them, oldest
        first, so that no sweep of the book can fill them past flat (the
        engine matches without asking us). Untriggered stops and take-profits
        each cover the whole position: only one of them will ever fire."""
        shared: dict[str, int] = {}  # side -> room left for resting reduce-only orders
        for lv in list(self.orders.values()):
            o = lv.order
            if not o.reduce_only or o.market != market or o.status not in OPEN_STATUSES:
                continue
            room = self._reducible(o)
            if room and self._is_resting(lv):
                left = shared.setdefault(o.side, room)
                room = min(room, left)
                shared[o.side] = left - min(left, o.size - o.filled)
            if room == 0:
                reason = (
                    "reduce-only: no position left to reduce"
                    if self._reducible(o) == 0
                    else "reduce-only: earlier reduce-only orders already cover the position"
                )
                self._withdraw(lv)
                self._set(lv, status="cancelled", reason=reason)
            elif o.size - o.filled > room:
                if self._is_resting(lv):
                    self._amend_resting(lv, None, room, self.clock())
                self._set(lv, size=o.filled + room)

    def _is_resting(self, lv: _Live) -> bool:
        """Whether the order sits in a book where others can fill it."""
        return False

    def _ro_room(self, lv: _Live) -> int:
        """What a reduce-only order may still fill: the position less what
        older resting reduce-only orders on the same side already cover."""
        o = lv.order
        room = self._reducible(o)
        for other in self.orders.values():
            if other is lv:
                break
            p = other.order
            if (p.reduce_only and p.market == o.market and p.side == o.side and p.status in OPEN_STATUSES
                    and self._is_resting(other)):
                room -= p.size - p.filled
        return max(0, room)

    def flush(self) -> None:
        """Run the follow-ups that fills during a venue's publishing deferred."""
        if self._in_match:
            return
        while self._dirty:
            self._after_trading(self._dirty.pop(), self.clock())

    def _after_trading(self, market: str, ts: int) -> None:
        if self._in_match:
            self._dirty.add(market)
            self._publish_account(market, ts)
            return
        self._dirty.discard(market)
        self._enforce_reduce_only(market)
        for fill, record in self.account.liquidate_if_needed(ts):
            self._publish(fill)
            self._publish(record)
            self._changed.add(fill.market)
            for lv in list(self.orders.values()):
                if lv.order.market == fill.market and lv.order.status in OPEN_STATUSES:
                    self._withdraw(lv)
                    self._set(lv, status="cancelled", reason="cancelled: the position was liquidated")
        self._sync_open_orders(market)
        self._publish_account(market, ts)
        self.flush()

    def _sync_open_orders(self, market: str) -> None:
        if market not in self.account.positions and not any(
            lv.order.market == market for lv in self.orders.values()
        ):
            return
        bids = asks = 0
        for lv in self.orders.values():
            o = lv.order
            if o.market == market and o.status in OPEN_STATUSES and lv.condition is None and not o.reduce_only:
                if o.side == "buy":
                    bids += o.size - o.filled
                else:
                    asks += o.size - o.filled
        self.account.set_open_orders(market, bids, asks)

    def _publish_account(self, market: str, ts: int, force: bool = False) -> None:
        """Position and account events: always after the account changed in
        ``market`` (a fill, a payment, an order), else only while a position
        is open there (mark to market)."""
        changed = force or market in self._changed
        self._changed.discard(market)
        if not changed and ts - self._last_mark.get(market, -MARK_EVERY_NS) < MARK_EVERY_NS:
            return  # mark to market: a few times a second is all a screen can show
        self._last_mark[market] = ts
        pos = self.account.positions.get(market)
        if pos is not None and (pos.base or changed):
            self._publish(self.account.position_event(market, ts))
        if changed or any(p.base for p in self.account.positions.values()):
            self._publish(self.account.account_event(ts))

    # -- venue specifics -------------------------------------------------------------

    @abstractmethod
    def _execute(self, lv: _Live, ts: int) -> None:
        """Send a live (non-trigger) order to the market."""

    def _withdraw(self, lv: _Live) -> None:
        """Take an order off the market, if it is resting there."""

    def _amend_resting(self, lv: _Live, price: int | None, remaining: int, ts: int) -> None:
        """Apply a price or remaining-size change to a resting order."""

    def _refuse_modify(self, lv: _Live, price: int | None) -> str:
        return ""

    def _rest_again(self, lv: _Live, ts: int) -> None:
        """Put a restored open order back on the market."""
        self._execute(lv, ts)

    def detach(self) -> None:
        """Stop trading in the venue, which goes on without this account: its
        open orders stay open in the journal and rest again when it is restored."""
        for sub in self._subs:
            sub.close()
        self._subs.clear()


# ---------------------------------------------------------------------- sim-drift


class ClobHost(Protocol):
    """What the CLOB venue lends the paper layer."""

    def engine(self, market: str) -> MatchingEngine: ...

    def apply(self, market: str, result: Result) -> None:
        """Publish a result's trades and book changes and call the venue's
        match listeners (which route paper fills back to ``on_match``)."""

    def oracle_price(self, market: str) -> int: ...


class PaperClob(PaperExecution):
    def __init__(
        self,
        account: PaperAccount,
        host: ClobHost,
        clock: Callable[[], int],
        publish: Callable[[object], None],
        self_trade: SelfTrade = "reject",
        owner: str = PAPER_OWNER,
    ) -> None:
        super().__init__(account, clock, publish, host.oracle_price, self_trade)
        self.host = host
        self.owner = owner  # this account's name in the engine
        self._pending_withdrawals: set[str] = set()
        self.on_detach: Callable[[], None] | None = None  # stops the venue's match listener

    def on_match(self, market: str, match: Match) -> None:
        """Every match in the venue's engine passes here; this account's become fills."""
        owner = self.owner
        if owner != match.maker_owner and owner != match.taker_owner:
            return
        ts = self.clock()
        self._in_match += 1
        try:
            sides: tuple[tuple[str, str, Literal["maker", "taker"]], ...] = (
                (match.maker_order_id, match.maker_owner, "maker"),
                (match.taker_order_id, match.taker_owner, "taker"),
            )
            for oid, owner, liquidity in sides:
                lv = self.orders.get(oid) if owner == self.owner else None
                if lv is not None:  # a fill in the engine is a fill, even of an order being cancelled
                    self._record_fill(lv, match.price, match.size, liquidity, ts)
            self._after_trading(market, ts)
        finally:
            self._in_match -= 1

    def _execute(self, lv: _Live, ts: int) -> None:
        o = lv.order
        size = o.size - o.filled
        if o.reduce_only:
            size = min(size, self._ro_room(lv))
            if size == 0:
                why = "no position to reduce" if self._reducible(o) == 0 else (
                    "earlier reduce-only orders already cover the position")
                self._set(lv, status="rejected" if o.filled == 0 else "cancelled", reason=f"reduce-only: {why}")
                return
        engine = self.host.engine(o.market)
        # a market order's price is its protective limit: it fills no further
        price = (o.price or None) if o.type.endswith("market") else o.price
        if not o.post_only and not self._prevent_self_trade(lv, engine, size, price):
            return
        if o.status == "pending":
            self._set(lv, status="open")
        result = engine.submit(o.order_id, self.owner, o.side, size, price, post_only=o.post_only, ioc=o.ioc)
        if result.rejected:
            self._set(lv, status="rejected", reason=result.rejected)
            return
        self.host.apply(o.market, result)  # fills arrive through on_match
        o = lv.order
        if o.status in OPEN_STATUSES and not result.rested and o.filled < o.size:
            why = "no liquidity left within the order's price" if o.filled == 0 else "remainder cancelled"
            if o.type == "market" and o.price:
                why += " at its protective limit"
            self._set(lv, status="cancelled", reason=f"{'IOC' if o.type == 'limit' else 'market'}: {why}")
        elif result.rested and o.reduce_only and o.filled + result.rested < o.size:
            self._set(lv, size=o.filled + result.rested)

    def _is_resting(self, lv: _Live) -> bool:
        return lv.order.order_id in self.host.engine(lv.order.market).orders

    def _own_orders_hit(self, engine: MatchingEngine, side: Side, size: int, price: int | None) -> list[_Live]:
        """The trader's resting orders an order of ``size`` at ``price`` (None:
        market) would trade with, walking the opposite side in price-time order."""
        levels = engine.asks.levels() if side == "buy" else engine.bids.levels()
        hit: list[_Live] = []
        left = size
        for level, _ in levels:
            if left <= 0 or (price is not None and (level > price if side == "buy" else level < price)):
                break
            for resting in engine.queue("sell" if side == "buy" else "buy", level):
                if left <= 0:
                    break
                if resting.owner == self.owner and resting.order_id in self.orders:
                    hit.append(self.orders[resting.order_id])
                left -= resting.remaining
        return hit

    def _prevent_self_trade(self, lv: _Live, engine: MatchingEngine, size: int, price: int | None) -> bool:
        """Apply the self-trade mode before an order reaches the book; False
        when the incoming order was rejected."""
        own = self._own_orders_hit(engine, lv.order.side, size, price)
        if not own:
            return True
        ids = ", ".join(other.order.order_id for other in own)
        if self.self_trade in ("cancel_resting", "cancel_both") and not self._in_match:
            for other in own:
                self._withdraw(other)
                self._set(other, status="cancelled", reason=f"self-trade prevention: cancelled for order {lv.order.order_id}")
                if other.order.filled == 0:
                    self._cancel_children(other.order.order_id, "the bracket's entry was cancelled before it filled")
            self._sync_open_orders(lv.order.market)
            if self.self_trade == "cancel_resting":
                return True
        self._set(
            lv, status="rejected" if lv.order.filled == 0 else "cancelled",
            reason=(
                f"self-trade prevention: it would trade with your own resting order {ids}; "
                + ("that order was cancelled too" if self.self_trade == "cancel_both"
                   else "cancel it first, or set [risk] self_trade = \"cancel_resting\"")
            ),
        )
        return False

    def risk_context(
        self, market: str, ts: int, best_bid: int | None = None, best_ask: int | None = None
    ) -> RiskContext:
        engine = self.host.engine(market)
        return super().risk_context(
            market, ts, engine.best_bid() if best_bid is None else best_bid,
            engine.best_ask() if best_ask is None else best_ask,
        )

    def _withdraw(self, lv: _Live) -> None:
        if self._in_match:
            self._dirty.add(lv.order.market)
            self._pending_withdrawals.add(lv.order.order_id)
            return
        engine = self.host.engine(lv.order.market)
        if lv.order.order_id in engine.orders:
            self.host.apply(lv.order.market, engine.cancel(lv.order.order_id))

    def flush(self) -> None:
        if not self._in_match:
            for oid in sorted(self._pending_withdrawals):
                lv = self.orders[oid]
                self._pending_withdrawals.discard(oid)
                self._withdraw(lv)
        super().flush()

    def _refuse_modify(self, lv: _Live, price: int | None) -> str:
        o = lv.order
        if price is None or not o.post_only:
            return ""
        engine = self.host.engine(o.market)
        best = engine.best_ask() if o.side == "buy" else engine.best_bid()
        if best is not None and (price >= best if o.side == "buy" else price <= best):
            return "post-only order would cross the book at the new price; the order is unchanged"
        return ""

    def _amend_resting(self, lv: _Live, price: int | None, remaining: int, ts: int) -> None:
        o = lv.order
        engine = self.host.engine(o.market)
        if o.order_id not in engine.orders:
            return
        self.host.apply(o.market, engine.amend(o.order_id, price=price, size=remaining))

    def detach(self) -> None:
        if self.on_detach is not None:  # first: fills of the orders taken off no longer concern it
            self.on_detach()
            self.on_detach = None
        self._pending_withdrawals.clear()
        for lv in self.orders.values():
            if lv.order.status in OPEN_STATUSES:
                self._withdraw(lv)
        super().detach()


def clob_host(venue: SimClobVenue) -> ClobHost:
    """Adapter over ``SimClobVenue``'s state (books, result publishing)."""

    class _Host:
        def engine(self, market: str) -> MatchingEngine:
            return venue.books[market].engine

        def apply(self, market: str, result: Result) -> None:
            venue.apply_result(market, result)

        def oracle_price(self, market: str) -> int:
            return venue.books[market].oracle

    return _Host()


def attach_clob(
    venue: SimClobVenue, account: PaperAccount, self_trade: SelfTrade = "reject", *,
    bus: Bus | None = None, owner: str = PAPER_OWNER,
) -> PaperClob:
    """Wire paper trading into a bound ``SimClobVenue`` under ``owner``: paper
    fills come from its match listeners, oracle and funding from ``bus`` (the
    venue's own unless given), where the account's events are published too."""
    bus = bus or venue.bus
    paper = PaperClob(
        account, clob_host(venue), venue.clock, lambda ev: bus.publish(event_topic(ev), ev), self_trade, owner
    )
    account.add_markets(venue.markets)

    def listener(m: ClobMarket, match: Match) -> None:
        paper.on_match(m.symbol, match)

    venue.match_listeners.append(listener)
    paper.on_detach = lambda: venue.match_listeners.remove(listener)
    _subscribe_market_data(paper, bus, account.venue)
    return paper


# ---------------------------------------------------------------------- sim-jup


class PoolHost(Protocol):
    def oracle_price(self, market: str) -> int: ...

    def fill_price(self, market: str, side: Side, notional_usd: int) -> int:
        """Oracle plus price impact for a trade of that size (no fee: the
        account charges the open/close fee)."""


class PaperPool(PaperExecution):
    """Jupiter-style execution: no book. Market orders fill at once at the
    oracle plus impact; limit orders wait for the oracle to reach their price
    and then fill the same way (never better than the limit)."""

    def __init__(
        self, account: PaperAccount, host: PoolHost, clock: Callable[[], int], publish: Callable[[object], None]
    ) -> None:
        super().__init__(account, clock, publish, host.oracle_price)
        self.host = host
        self._resting: set[str] = set()

    def _refusal(self, order: Order, take_profit: int, stop_loss: int) -> str:
        if order.post_only:
            return "post-only is not available on a pool venue: every trade takes liquidity from the pool"
        return super()._refusal(order, take_profit, stop_loss)

    def _execute(self, lv: _Live, ts: int) -> None:
        o = lv.order
        if o.status == "pending":
            self._set(lv, status="open")
        if not self._try_fill(lv, ts):
            if o.ioc or o.type.endswith("market"):
                self._set(lv, status="cancelled", reason="IOC: the pool price is beyond the limit")
            else:
                self._resting.add(o.order_id)

    def _try_fill(self, lv: _Live, ts: int) -> bool:
        o = lv.order
        size = o.size - o.filled
        if o.reduce_only:
            size = min(size, self._reducible(o))
            if size == 0:
                self._set(lv, status="cancelled", reason="reduce-only: no position to reduce")
                return True
        oracle = self.oracle(o.market)
        usd = notional(size, oracle) // 1_000_000
        price = self.host.fill_price(o.market, o.side, usd)
        # a limit, or a market order's protective limit: never filled beyond it
        if o.price > 0 and (price > o.price if o.side == "buy" else price < o.price):
            return False
        self._resting.discard(o.order_id)
        self._record_fill(lv, price, size, "taker", ts)
        return True

    def on_oracle(self, market: str, price: int, ts: int) -> None:
        self.account.set_oracle(market, price)
        for oid in sorted(self._resting):
            lv = self.orders[oid]
            if lv.order.market == market and lv.order.status == "open":
                self._try_fill(lv, ts)
        super().on_oracle(market, price, ts)

    def _withdraw(self, lv: _Live) -> None:
        self._resting.discard(lv.order.order_id)

    def _amend_resting(self, lv: _Live, price: int | None, remaining: int, ts: int) -> None:
        if lv.order.order_id in self._resting:
            self._try_fill(lv, ts)


def pool_host(venue: SimPoolVenue) -> PoolHost:
    """Adapter over ``SimPoolVenue``: its pools' oracle and impact curve."""
    from quantdesk.venues.sim.pool import IMPACT_SCALAR_USD

    class _Host:
        def oracle_price(self, market: str) -> int:
            return venue.pools[market].oracle

        def fill_price(self, market: str, side: Side, notional_usd: int) -> int:
            oracle = venue.pools[market].oracle
            move = oracle * notional_usd * 10 // IMPACT_SCALAR_USD // 10_000  # $1M = 10 bps
            return oracle + move if side == "buy" else oracle - move

    return _Host()


def attach_pool(venue: SimPoolVenue, account: PaperAccount, *, bus: Bus | None = None) -> PaperPool:
    """Paper trading against a ``SimPoolVenue``'s pools, its events on ``bus``
    (the venue's own unless given)."""
    bus = bus or venue.bus
    paper = PaperPool(account, pool_host(venue), venue.clock, lambda ev: bus.publish(event_topic(ev), ev))
    account.add_markets(venue.markets)
    _subscribe_market_data(paper, bus, account.venue)
    return paper


def _subscribe_market_data(paper: PaperExecution, bus: Bus, venue_id: str) -> None:
    def on_oracle(topic: str, ev: OraclePrice) -> None:
        paper.on_oracle(ev.market, ev.price, ev.ts)

    def on_funding(topic: str, ev: Funding) -> None:
        paper.on_funding(ev)

    def on_status(topic: str, ev: object) -> None:
        paper.flush()  # published between simulation steps: a safe moment to touch the book

    paper._subs += [
        bus.subscribe(f"oracle.{venue_id}.*", on_oracle),
        bus.subscribe(f"funding.{venue_id}.*", on_funding),
        bus.subscribe(f"status.{venue_id}", on_status),
    ]


def paper_for(
    venue: object, bus: Bus, collateral: int | None = None, self_trade: SelfTrade = "reject", *,
    owner: str = PAPER_OWNER,
) -> PaperExecution | None:
    """Attach a paper account to one simulated venue: a Drift-like account on a
    CLOB venue (partial liquidation, self-trade prevention by ``self_trade``),
    a Jupiter-like one on a pool venue (whole positions liquidated; a pool
    cannot trade with itself); None for anything else. The account's events
    go to ``bus``. A venue on no bus yet is bound to ``bus`` first, so it works
    before or after ``Session.start``; one already publishing elsewhere (a
    shared session's, under a served console's ``bus``) stays where it is."""
    from quantdesk.trading.paper_account import (
        DEFAULT_COLLATERAL,
        JUPITER_MARGIN_PARAMS,
        SIM_DRIFT_FEES,
        SIM_JUP_FEES,
    )

    from quantdesk.venues.sim.clob import SimClobVenue
    from quantdesk.venues.sim.pool import SimPoolVenue

    start = DEFAULT_COLLATERAL if collateral is None else collateral
    if isinstance(venue, SimClobVenue):
        if not venue.bound_elsewhere(bus):
            venue.bind(bus)
        account = PaperAccount(venue.id, start, SIM_DRIFT_FEES, partial_liquidation=True)
        return attach_clob(venue, account, self_trade, bus=bus, owner=owner)
    if isinstance(venue, SimPoolVenue):
        if not venue.bound_elsewhere(bus):
            venue.bind(bus)
        account = PaperAccount(venue.id, start, SIM_JUP_FEES, params={}, default_params=JUPITER_MARGIN_PARAMS)
        return attach_pool(venue, account, bus=bus)
    return None


def enable_paper_trading(
    session: Session, collateral: int | None = None, self_trade: SelfTrade = "reject"
) -> dict[str, PaperExecution]:
    """A paper account on every simulated venue of a session (see ``paper_for``)."""
    out: dict[str, PaperExecution] = {}
    for venue in session.venues.values():
        paper = paper_for(venue, session.bus, collateral, self_trade)
        if paper is not None:
            out[venue.id] = paper
    return out
