"""L2 order book: snapshot and delta application, gap detection, depth queries.

Levels live in two plain dicts (price -> size) so applying a delta is a dict
store; sorting happens lazily, once per read after a change, because a feed
applies thousands of deltas between two frames that read the book.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from quantdesk.core.model import BookDelta, BookSnapshot, Level


@dataclass(frozen=True, slots=True)
class DepthLevel:
    price: int
    size: int
    cumulative: int


@dataclass(frozen=True, slots=True)
class Impact:
    """What a market order of ``requested`` size would get from the book now."""

    side: str
    requested: int
    filled: int
    notional: int  # sum(price * size) in price units x size units
    worst_price: int
    avg_price: Decimal  # price units
    slippage_bps: Decimal  # versus the touch (best price on the side hit)

    @property
    def complete(self) -> bool:
        return self.filled >= self.requested


class OrderBook:
    __slots__ = (
        "venue",
        "market",
        "seq",
        "ts",
        "bids",
        "asks",
        "needs_resync",
        "gaps",
        "_bids_sorted",
        "_asks_sorted",
    )

    def __init__(self, venue: str, market: str) -> None:
        self.venue = venue
        self.market = market
        self.seq = 0
        self.ts = 0
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.needs_resync = True  # until the first snapshot
        self.gaps = 0
        self._bids_sorted: list[Level] | None = None
        self._asks_sorted: list[Level] | None = None

    # -- updates -------------------------------------------------------
    def apply_snapshot(self, snap: BookSnapshot) -> None:
        self.bids = {p: s for p, s in snap.bids if s > 0}
        self.asks = {p: s for p, s in snap.asks if s > 0}
        self.seq = snap.seq
        self.ts = snap.ts
        self.needs_resync = False
        self._bids_sorted = self._asks_sorted = None

    def apply_delta(self, delta: BookDelta) -> bool:
        """Apply a delta; False (and ``needs_resync``) when it does not follow
        the previous sequence number. Deltas at or below the current sequence
        are stale duplicates and ignored."""
        if self.needs_resync:
            return False
        seq = delta.seq
        if seq <= self.seq:
            return True
        if seq != self.seq + 1:
            self.needs_resync = True
            self.gaps += 1
            return False
        self.seq = seq
        self.ts = delta.ts
        if delta.bids:
            book = self.bids
            for price, size in delta.bids:
                if size:
                    book[price] = size
                else:
                    book.pop(price, None)
            self._bids_sorted = None
        if delta.asks:
            book = self.asks
            for price, size in delta.asks:
                if size:
                    book[price] = size
                else:
                    book.pop(price, None)
            self._asks_sorted = None
        return True

    def apply(self, event: BookSnapshot | BookDelta) -> bool:
        if isinstance(event, BookDelta):
            return self.apply_delta(event)
        self.apply_snapshot(event)
        return True

    # -- reads ---------------------------------------------------------
    def sorted_bids(self) -> list[Level]:
        if self._bids_sorted is None:
            self._bids_sorted = sorted(self.bids.items(), reverse=True)
        return self._bids_sorted

    def sorted_asks(self) -> list[Level]:
        if self._asks_sorted is None:
            self._asks_sorted = sorted(self.asks.items())
        return self._asks_sorted

    def best_bid(self) -> Level | None:
        levels = self.sorted_bids()
        return levels[0] if levels else None

    def best_ask(self) -> Level | None:
        levels = self.sorted_asks()
        return levels[0] if levels else None

    def mid(self) -> Decimal | None:
        bid, ask = self.best_bid(), self.best_ask()
        if bid is None or ask is None:
            return None
        return (Decimal(bid[0]) + Decimal(ask[0])) / 2

    def spread(self) -> int | None:
        bid, ask = self.best_bid(), self.best_ask()
        if bid is None or ask is None:
            return None
        return ask[0] - bid[0]

    def spread_bps(self) -> Decimal | None:
        mid, spread = self.mid(), self.spread()
        if mid is None or spread is None or mid <= 0:
            return None
        return Decimal(spread) / mid * 10_000

    @property
    def crossed(self) -> bool:
        """Best bid at or above best ask: the book is inconsistent (a missed
        delete or a stale snapshot) and should not be traded on."""
        bid, ask = self.best_bid(), self.best_ask()
        return bid is not None and ask is not None and bid[0] >= ask[0]

    def crossing_size(self) -> int:
        """Base size that overlaps when the book is crossed: what would trade if
        the bids at or above the asks met them (0 when not crossed)."""
        bids, asks = self.sorted_bids(), self.sorted_asks()
        i = j = 0
        bid_left = bids[0][1] if bids else 0
        ask_left = asks[0][1] if asks else 0
        total = 0
        while i < len(bids) and j < len(asks) and bids[i][0] >= asks[j][0]:
            take = min(bid_left, ask_left)
            total += take
            bid_left -= take
            ask_left -= take
            if bid_left == 0:
                i += 1
                bid_left = bids[i][1] if i < len(bids) else 0
            if ask_left == 0:
                j += 1
                ask_left = asks[j][1] if j < len(asks) else 0
        return total

    def depth(self, side: str, n: int) -> list[DepthLevel]:
        """The best ``n`` levels of ``side`` ("bid" or "ask") with cumulative size."""
        levels = self.sorted_bids() if side == "bid" else self.sorted_asks()
        out: list[DepthLevel] = []
        cum = 0
        for price, size in levels[:n]:
            cum += size
            out.append(DepthLevel(price, size, cum))
        return out

    def impact(self, side: str, size: int) -> Impact | None:
        """Walk the book for a market order: ``side`` is the taker's side
        ("buy" lifts asks, "sell" hits bids). None on an empty side."""
        levels = self.sorted_asks() if side == "buy" else self.sorted_bids()
        if not levels or size <= 0:
            return None
        touch = levels[0][0]
        remaining = size
        notional = 0
        worst = touch
        for price, avail in levels:
            take = avail if avail < remaining else remaining
            notional += price * take
            remaining -= take
            worst = price
            if not remaining:
                break
        filled = size - remaining
        avg = Decimal(notional) / filled
        slip = (avg - touch) / touch * 10_000
        if side == "sell":
            slip = -slip
        return Impact(side, size, filled, notional, worst, avg, slip)

    def snapshot(self, seq: int | None = None, ts: int | None = None) -> BookSnapshot:
        return BookSnapshot(
            self.venue,
            self.market,
            self.seq if seq is None else seq,
            self.ts if ts is None else ts,
            list(self.sorted_bids()),
            list(self.sorted_asks()),
        )
