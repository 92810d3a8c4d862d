"""Price-time priority limit order book with matching: the simulated CLOB.

Simulated makers, simulated takers and the trader's paper orders all rest in
and trade against this one engine, so a paper order waits in the queue behind
liquidity that was there first and fills only when takers reach it.

Every operation returns the L2 level totals it changed, which the venue turns
into a ``BookDelta``; the engine itself knows nothing of events or time.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from dataclasses import dataclass, field

from quantdesk.core.model import Side

BUY: Side = "buy"
SELL: Side = "sell"


class RestingOrder:
    __slots__ = ("order_id", "owner", "side", "price", "remaining")

    def __init__(self, order_id: str, owner: str, side: Side, price: int, remaining: int) -> None:
        self.order_id = order_id
        self.owner = owner
        self.side = side
        self.price = price
        self.remaining = remaining


@dataclass(slots=True)
class Match:
    maker_order_id: str
    maker_owner: str
    taker_order_id: str
    taker_owner: str
    taker_side: Side
    price: int
    size: int


@dataclass(slots=True)
class Result:
    """What one engine call did: fills, the order's own rest/reject state and
    the changed level totals per side (price -> new total, 0 = level gone)."""

    matches: list[Match] = field(default_factory=list)
    rested: int = 0  # size left resting on the book
    rejected: str = ""  # non-empty: why the order was refused
    bid_changes: dict[int, int] = field(default_factory=dict)
    ask_changes: dict[int, int] = field(default_factory=dict)

    @property
    def filled(self) -> int:
        return sum(m.size for m in self.matches)


class _Side:
    """One side of the book: price -> FIFO queue, a sorted price list, totals."""

    __slots__ = ("is_bid", "queues", "prices", "totals")

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.queues: dict[int, deque[RestingOrder]] = {}
        self.prices: list[int] = []  # ascending
        self.totals: dict[int, int] = {}

    def best(self) -> int | None:
        if not self.prices:
            return None
        return self.prices[-1] if self.is_bid else self.prices[0]

    def add(self, order: RestingOrder, changes: dict[int, int]) -> None:
        q = self.queues.get(order.price)
        if q is None:
            q = self.queues[order.price] = deque()
            insort(self.prices, order.price)
            self.totals[order.price] = 0
        q.append(order)
        self.totals[order.price] += order.remaining
        changes[order.price] = self.totals[order.price]

    def take(self, price: int, qty: int, changes: dict[int, int]) -> None:
        """Reduce the level total after a fill or cancel of ``qty``; drop it when empty."""
        total = self.totals[price] - qty
        if total <= 0 and not self.queues[price]:
            del self.totals[price]
            del self.queues[price]
            self.prices.pop(bisect_left(self.prices, price))
            changes[price] = 0
        else:
            self.totals[price] = total
            changes[price] = total

    def levels(self) -> list[tuple[int, int]]:
        ps = reversed(self.prices) if self.is_bid else iter(self.prices)
        return [(p, self.totals[p]) for p in ps]


class MatchingEngine:
    def __init__(self) -> None:
        self.bids = _Side(is_bid=True)
        self.asks = _Side(is_bid=False)
        self.orders: dict[str, RestingOrder] = {}

    # -- reads ---------------------------------------------------------
    # Read the price lists directly: the simulation asks for the touch on most steps.
    def best_bid(self) -> int | None:
        prices = self.bids.prices
        return prices[-1] if prices else None

    def best_ask(self) -> int | None:
        prices = self.asks.prices
        return prices[0] if prices else None

    def levels(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        return self.bids.levels(), self.asks.levels()

    def queue(self, side: Side, price: int) -> list[RestingOrder]:
        book = self.bids if side == BUY else self.asks
        return list(book.queues.get(price, ()))

    # -- orders --------------------------------------------------------
    def submit(
        self,
        order_id: str,
        owner: str,
        side: Side,
        size: int,
        price: int | None = None,
        *,
        post_only: bool = False,
        ioc: bool = False,
    ) -> Result:
        """A limit order (``price``) or a market order (``price`` None, never rests).

        Post-only is refused when it would take liquidity; IOC and market orders
        cancel whatever did not fill at once."""
        res = Result()
        if size <= 0:
            res.rejected = "size must be positive"
            return res
        if order_id in self.orders:
            res.rejected = f"duplicate order id {order_id}"
            return res
        opp = self.asks if side == BUY else self.bids
        best = opp.best()
        crosses = best is not None and (price is None or (price >= best if side == BUY else price <= best))
        if post_only and (crosses or price is None):
            res.rejected = "post-only order would cross the book"
            return res
        remaining = size
        if crosses:
            remaining = self._match(order_id, owner, side, remaining, price, res)
        if remaining and price is not None and not ioc:
            own = self.bids if side == BUY else self.asks
            order = RestingOrder(order_id, owner, side, price, remaining)
            self.orders[order_id] = order
            own.add(order, res.bid_changes if side == BUY else res.ask_changes)
            res.rested = remaining
        return res

    def _match(self, taker_id: str, owner: str, side: Side, qty: int, limit: int | None, res: Result) -> int:
        opp = self.asks if side == BUY else self.bids
        changes = res.ask_changes if side == BUY else res.bid_changes
        while qty:
            best = opp.best()
            if best is None or (limit is not None and (best > limit if side == BUY else best < limit)):
                break
            queue = opp.queues[best]
            while qty and queue:
                maker = queue[0]
                take = maker.remaining if maker.remaining < qty else qty
                maker.remaining -= take
                qty -= take
                res.matches.append(Match(maker.order_id, maker.owner, taker_id, owner, side, best, take))
                if not maker.remaining:
                    queue.popleft()
                    del self.orders[maker.order_id]
                opp.take(best, take, changes)
        return qty

    def cancel(self, order_id: str) -> Result:
        res = Result()
        order = self.orders.pop(order_id, None)
        if order is None:
            res.rejected = f"no open order {order_id}"
            return res
        book = self.bids if order.side == BUY else self.asks
        book.queues[order.price].remove(order)
        book.take(order.price, order.remaining, res.bid_changes if order.side == BUY else res.ask_changes)
        return res

    def amend(self, order_id: str, *, price: int | None = None, size: int | None = None) -> Result:
        """Change an order. A smaller size keeps queue priority; a new price or a
        larger size loses it (cancel and re-submit), as on real venues."""
        order = self.orders.get(order_id)
        if order is None:
            res = Result()
            res.rejected = f"no open order {order_id}"
            return res
        new_price = order.price if price is None else price
        new_size = order.remaining if size is None else size
        if new_price == order.price and new_size <= order.remaining:
            res = Result()
            book = self.bids if order.side == BUY else self.asks
            cut = order.remaining - new_size
            if new_size <= 0:
                return self.cancel(order_id)
            order.remaining = new_size
            book.take(order.price, cut, res.bid_changes if order.side == BUY else res.ask_changes)
            return res
        cancelled = self.cancel(order_id)
        res = self.submit(order_id, order.owner, order.side, new_size, new_price)
        for p, t in cancelled.bid_changes.items():
            res.bid_changes.setdefault(p, t)
        for p, t in cancelled.ask_changes.items():
            res.ask_changes.setdefault(p, t)
        return res

    def pull(self, owner: str, side: Side, price: int, qty: int) -> Result:
        """Remove up to ``qty`` of ``owner``'s liquidity at a level, newest first
        (how a market maker shrinks a quote without losing its older queue spots)."""
        res = Result()
        book = self.bids if side == BUY else self.asks
        queue = book.queues.get(price)
        if not queue:
            return res
        changes = res.bid_changes if side == BUY else res.ask_changes
        for order in reversed(list(queue)):
            if not qty:
                break
            if order.owner != owner:
                continue
            cut = order.remaining if order.remaining < qty else qty
            order.remaining -= cut
            qty -= cut
            if not order.remaining:
                queue.remove(order)
                del self.orders[order.order_id]
            book.take(price, cut, changes)
        return res
