"""Liveness of each market's book, apart from the socket's.

Heartbeats prove the connection, not the book: a market whose book has not
advanced (a higher slot or server time) for ``stall_s`` while the connection
stays up is stalled. The first stall asks for a resubscription of that
market; a market still stalled ``stall_s`` after it asks for a new
connection. Only markets whose book subscription the server acknowledged
are watched. No I/O: the feed acts on what ``check`` returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Action = Literal["resubscribe", "reconnect"]


@dataclass
class BookWatch:
    stall_s: float
    advanced_ns: dict[str, int] = field(default_factory=dict)  # market -> when its book last advanced
    resubscribed: set[str] = field(default_factory=set)  # markets resubscribed for a stall
    stalls: int = 0

    def start(self) -> None:
        """A new connection: nothing watched until its book subscription is acknowledged."""
        self.advanced_ns = {}
        self.resubscribed.clear()

    def watch(self, market: str, now_ns: int) -> None:
        """The market's book subscription was acknowledged: it has ``stall_s`` from
        now to advance (a market the server refuses is never watched)."""
        self.advanced_ns.setdefault(market, now_ns)

    def advanced(self, market: str, now_ns: int) -> bool:
        """The market's book moved on; True if it was stalled."""
        self.advanced_ns[market] = now_ns
        if market in self.resubscribed:
            self.resubscribed.discard(market)
            return True
        return False

    def stalled(self) -> list[str]:
        return sorted(self.resubscribed)

    def check(self, now_ns: int) -> list[tuple[str, Action]]:
        """What to do about the markets stalled at ``now_ns``."""
        out: list[tuple[str, Action]] = []
        limit = int(self.stall_s * 1e9)
        for market, last in self.advanced_ns.items():
            if now_ns - last < limit:
                continue
            if market in self.resubscribed:
                out.append((market, "reconnect"))
            else:
                self.resubscribed.add(market)
                self.advanced_ns[market] = now_ns  # another stall_s before giving up on the connection
                self.stalls += 1
                out.append((market, "resubscribe"))
        return out
