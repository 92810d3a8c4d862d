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

Orders are matched by user order id; a pending order not seen yet counts as
landed once the account's ``next_order_id`` passes the value it had when
the order was sent. Own fills are matched by the User account address and
the taker or maker order id. Nothing here does I/O: the caller feeds
decoded accounts and fill records and publishes what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import msgspec

from quantdesk.core.model import Fill, Order
from quantdesk.venues.drift import wire

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
        self._chain_filled: dict[str, int] = {}  # order id -> filled per the account, last seen
        self._fill_filled: dict[str, int] = {}  # order id -> sum of own fills seen
        self._max_ts: dict[str, int] = {}
        self._inferred: set[str] = set()  # closed as cancelled without a cancel from here

    def sent(self, order_id: str, drift_order_id: int | None) -> None:
        """Note that ``order_id`` was sent and the Drift order id it should get:
        the account's ``next_order_id`` when sent, plus its place in the
        transaction. The order counts as landed once ``next_order_id`` passes it."""
        if drift_order_id is not None:
            self._sent_at[order_id] = drift_order_id

    def drift_order_id(self, order_id: str) -> int | None:
        return self._drift_id.get(order_id)

    def _filled(self, order_id: str) -> int:
        return max(self._chain_filled.get(order_id, 0), self._fill_filled.get(order_id, 0))

    def _closed(self, order: Order, order_id: str, now_s: int) -> Order:
        filled = min(order.size, self._filled(order_id))
        if filled >= order.size:
            return msgspec.structs.replace(order, status="filled", filled=filled, reason="")
        self._inferred.add(order_id)
        part = f"; {filled} of {order.size} filled" if filled else ""
        max_ts = self._max_ts.get(order_id, 0)
        if max_ts and now_s >= max_ts:
            return msgspec.structs.replace(order, status="cancelled", filled=filled, reason=f"expired{part}")
        return msgspec.structs.replace(order, status="cancelled", filled=filled, reason=f"cancelled on chain{part}")

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
            order_id = self._by_drift_id.get(oid, f"{self.venue}:{oid}")
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
        """Own fills of one record and the tracked orders they change (more
        filled, or filled after the account cleared the order)."""
        fills, changed = [], []
        for order_id, fill in self.own_fills(rec):
            fills.append(fill)
            self._fill_filled[order_id] = self._fill_filled.get(order_id, 0) + fill.size
            entry = tracked.get(order_id)
            if entry is None:
                continue
            uid, order = entry
            filled = min(order.size, self._filled(order_id))
            if order.status in LIVE and filled > order.filled:
                new = msgspec.structs.replace(order, filled=filled)
            elif order_id in self._inferred and filled >= order.size:
                self._inferred.discard(order_id)
                new = msgspec.structs.replace(order, status="filled", filled=filled, reason="")
            else:
                continue
            tracked[order_id] = (uid, new)
            changed.append(new)
        return fills, changed
