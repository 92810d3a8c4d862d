"""Live order state from the trader's User account and the fills stream.

The User account holds 32 order slots. An order placed from QuantDesk carries
its user order id (1-255) and appears in a slot with status ``Open`` once the
transaction lands; ``base_asset_amount_filled`` grows with each fill; the
trigger condition turns ``TriggeredAbove``/``TriggeredBelow`` when a trigger
order fires. A filled, cancelled or expired order is cleared from its slot
(status ``Init``), so the account alone cannot say which of the three it
was: the fills seen for the order (from the DLOB trades channel) and the
order's ``max_ts`` decide. A fill that arrives after its order left the
account turns an inferred cancel into ``filled``.

The fill record usually comes first: a fill that brings the order's filled
amount (the sum of its fills, or the record's own cumulative figure for the
order) to its size marks it ``filled`` at once, a smaller one updates its
filled amount. The account update that follows describes the same fill and
changes nothing more: the filled amount is the larger of the account's and
the fills', never their sum, and a fill record seen again is dropped.

Orders are matched by user order id; a pending order not seen yet counts as
landed once the account's ``next_order_id`` passes the value it had when
the order was sent. Own fills are matched by the User account address and
the taker or maker order id (for an order not seen on chain yet, the id it
should get). Nothing here does I/O: the caller feeds decoded accounts and
fill records and publishes what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import msgspec

from quantdesk.core.model import Fill, Order
from quantdesk.venues.drift import wire
from quantdesk.venues.drift.recent_keys import RecentKeys

LIVE = ("pending", "open", "triggered")
QUOTE_SCALE = 10**6


@dataclass(frozen=True)
class ChainOrder:
    """One open perp order slot of a User account."""

    order_id: int  # Drift's order id (per User, sequential)
    user_order_id: int  # 0 when placed without one
    market_index: int
    size: int  # base, 1e9
    filled: int  # base, 1e9
    max_ts: int  # unix seconds after which the order expires; 0: never
    triggered: bool


def _variant(value: Any) -> str:
    return type(value).__name__


def chain_orders(user: Any) -> list[ChainOrder]:
    """The open perp orders of a decoded User account."""
    out = []
    for o in user.orders:
        if _variant(o.status) != "Open" or _variant(o.market_type) != "Perp":
            continue
        out.append(
            ChainOrder(
                order_id=int(o.order_id),
                user_order_id=int(o.user_order_id),
                market_index=int(o.market_index),
                size=int(o.base_asset_amount),
                filled=int(o.base_asset_amount_filled),
                max_ts=int(o.max_ts),
                triggered=_variant(o.trigger_condition).startswith("Triggered"),
            )
        )
    return out


Tracked = dict[str, tuple[int, Order]]  # order id -> (user order id, order), as the executor keeps them


class OrderStates:
    def __init__(self, venue: str, user_address: str, symbols: dict[int, str]) -> None:
        self.venue = venue
        self.user_address = user_address
        self.symbols = symbols  # market index -> symbol
        self._drift_id: dict[str, int] = {}  # order id -> Drift order id, once seen on chain
        self._by_drift_id: dict[int, str] = {}
        self._sent_at: dict[str, int] = {}  # order id -> the Drift order id it should get
        self._predicted: dict[int, str] = {}  # that Drift order id -> order id, until seen on chain
        self._chain_filled: dict[str, int] = {}  # order id -> filled per the account, last seen
        self._fill_filled: dict[str, int] = {}  # order id -> sum of own fills seen
        self._record_filled: dict[str, int] = {}  # order id -> the order's filled amount per its last fill record
        self._seen_fills = RecentKeys()  # own fill ids, so one delivered twice counts once
        self._max_ts: dict[str, int] = {}
        # closed without a cancel from here: order id -> "expired" or "cancelled on chain"
        self._inferred: dict[str, str] = {}

    def sent(self, order_id: str, drift_order_id: int | None) -> None:
        """Note that ``order_id`` was sent and the Drift order id it should get:
        the account's ``next_order_id`` when sent, plus its place in the
        transaction. The order counts as landed once ``next_order_id`` passes it."""
        if drift_order_id is not None:
            self._sent_at[order_id] = drift_order_id
            self._predicted[drift_order_id] = order_id

    def drift_order_id(self, order_id: str) -> int | None:
        return self._drift_id.get(order_id)

    def _filled(self, order_id: str) -> int:
        # Each source counts the same fills: the most any of them has seen, never a sum.
        return max(self._chain_filled.get(order_id, 0), self._fill_filled.get(order_id, 0),
                   self._record_filled.get(order_id, 0))

    def _closed(self, order: Order, order_id: str, now_s: int) -> Order:
        filled = min(order.size, self._filled(order_id))
        if filled >= order.size:
            return msgspec.structs.replace(order, status="filled", filled=filled, reason="")
        max_ts = self._max_ts.get(order_id, 0)
        self._inferred[order_id] = "expired" if max_ts and now_s >= max_ts else "cancelled on chain"
        return self._ended(order, order_id, filled)

    def _ended(self, order: Order, order_id: str, filled: int) -> Order:
        """``order`` cancelled or expired on chain with ``filled`` of it filled."""
        part = f"; {filled} of {order.size} filled" if filled else ""
        reason = f"{self._inferred[order_id]}{part}"
        return msgspec.structs.replace(order, status="cancelled", filled=filled, reason=reason)

    def on_user(self, tracked: Tracked, orders: list[ChainOrder], next_order_id: int, now_s: int) -> list[Order]:
        """The tracked orders whose state this account snapshot changes, updated
        in ``tracked`` and returned in the order to publish them."""
        by_uid = {c.user_order_id: c for c in orders if c.user_order_id}
        changed: list[Order] = []
        for order_id, (uid, order) in list(tracked.items()):
            if order.status not in LIVE:
                continue
            c = by_uid.get(uid)
            if c is not None:
                self._drift_id[order_id] = c.order_id
                self._by_drift_id[c.order_id] = order_id
                self._forget_prediction(order_id)
                self._chain_filled[order_id] = c.filled
                self._max_ts[order_id] = c.max_ts
                status: Literal["open", "triggered"] = "triggered" if c.triggered else "open"
                new = msgspec.structs.replace(order, status=status, filled=min(order.size, self._filled(order_id)))
            elif order_id in self._drift_id or next_order_id > self._sent_at.get(order_id, next_order_id):
                predicted = self._sent_at.get(order_id)
                if order_id not in self._drift_id and predicted is not None:
                    # Landed and gone within one notification (a market order filled at
                    # once): its fills name the id it was given, the one predicted.
                    self._by_drift_id.setdefault(predicted, order_id)
                new = self._closed(order, order_id, now_s)
            else:
                continue  # not landed yet
            if new != order:
                tracked[order_id] = (uid, new)
                changed.append(new)
        return changed

    def _forget_prediction(self, order_id: str) -> None:
        predicted = self._sent_at.get(order_id)
        if predicted is not None and self._predicted.get(predicted) == order_id:
            del self._predicted[predicted]

    def _order_of(self, drift_order_id: int) -> str:
        """The order id a fill of Drift order ``drift_order_id`` belongs to: one
        seen on chain, else one sent to get that id, else the Drift id itself."""
        order_id = self._by_drift_id.get(drift_order_id) or self._predicted.get(drift_order_id)
        return order_id if order_id is not None else f"{self.venue}:{drift_order_id}"

    def own_fills(self, rec: wire.TradeRecord) -> list[tuple[str, Fill]]:
        """The trader's side(s) of a fill record, as (order id, Fill): the
        taker's, the maker's, or both for a self-trade. Empty if neither is ours."""
        out = []
        market = self.symbols.get(rec.marketIndex, f"perp-{rec.marketIndex}")
        trade = wire.to_trade(rec, self.venue, market)
        for role, who, oid, direction, fee in (
            ("taker", rec.taker, rec.takerOrderId, rec.takerOrderDirection, rec.takerFee),
            ("maker", rec.maker, rec.makerOrderId, rec.makerOrderDirection, rec.makerFee),
        ):
            if who != self.user_address or oid is None or direction not in ("long", "short"):
                continue
            order_id = self._order_of(oid)
            record = rec.fillRecordId if rec.fillRecordId is not None else rec.txSig
            fee_int = int(((fee or Decimal(0)) * QUOTE_SCALE).to_integral_value())  # half-even
            fill = Fill(
                venue=self.venue,
                market=market,
                order_id=order_id,
                fill_id=f"{rec.marketIndex}:{record}:{role}",
                side="buy" if direction == "long" else "sell",
                price=trade.price,
                size=trade.size,
                fee=fee_int,
                liquidity="taker" if role == "taker" else "maker",
                ts=trade.ts,
            )
            out.append((order_id, fill))
        return out

    def on_fill(self, tracked: Tracked, rec: wire.TradeRecord) -> tuple[list[Fill], list[Order]]:
        """Own fills of one record and the tracked orders they change: filled
        once the order's filled amount reaches its size (even before the
        account clears it, or after it did), else more of it filled. A fill
        already seen is neither returned nor counted again."""
        fills, changed = [], []
        for order_id, fill in self.own_fills(rec):
            if not self._seen_fills.add(fill.fill_id):
                continue
            fills.append(fill)
            self._fill_filled[order_id] = self._fill_filled.get(order_id, 0) + fill.size
            cumulative = wire.order_filled(rec, fill.liquidity)
            if cumulative is not None:
                self._record_filled[order_id] = max(self._record_filled.get(order_id, 0), cumulative)
            entry = tracked.get(order_id)
            if entry is None:
                continue
            uid, order = entry
            new = self._after_fill(order, order_id)
            if new != order:
                tracked[order_id] = (uid, new)
                changed.append(new)
        return fills, changed

    def _after_fill(self, order: Order, order_id: str) -> Order:
        filled = min(order.size, self._filled(order_id))
        if order.status in LIVE:
            if filled >= order.size:
                return msgspec.structs.replace(order, status="filled", filled=filled, reason="")
            if filled > order.filled:
                # a fill proves a pending order landed
                return msgspec.structs.replace(order, status="open" if order.status == "pending" else order.status,
                                               filled=filled)
        elif order_id in self._inferred and filled > order.filled:
            if filled >= order.size:
                del self._inferred[order_id]
                return msgspec.structs.replace(order, status="filled", filled=filled, reason="")
            return self._ended(order, order_id, filled)  # it did fill in part before it went
        return order
