"""A bounded memory of keys seen lately, for dropping repeats.

The DLOB server replays nothing on its own, but a reconnect, a second
subscription or a failover to another host can deliver one fill record again;
the fill's key (``wire.trade_key``) is remembered for the last ``capacity``
fills so each is published once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable


class RecentKeys:
    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._order: deque[Hashable] = deque()
        self._seen: set[Hashable] = set()

    def add(self, key: Hashable) -> bool:
        """Remember ``key``; False if it was already among the recent keys."""
        if key in self._seen:
            return False
        self._seen.add(key)
        self._order.append(key)
        if len(self._order) > self.capacity:
            self._seen.discard(self._order.popleft())
        return True

    def __len__(self) -> int:
        return len(self._order)
