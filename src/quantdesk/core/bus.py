"""Topic pub/sub: synchronous fan-out, wildcard subscriptions, counters.

Topics are dot-separated (``book.sim-drift.SOL-PERP``). A pattern matches a
topic segment by segment; ``*`` matches one segment, a trailing ``>`` matches
one or more (``book.>``), and ``#`` alone matches everything.

Publishing resolves the subscribers of a topic once and caches them, so the
hot path is one dict lookup and a loop over callbacks. A subscriber that
raises is counted and logged; it never stops delivery to the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable
from typing import Any

log = logging.getLogger(__name__)

Callback = Callable[[str, Any], None]


def topic_matches(pattern: str, topic: str) -> bool:
    if pattern == "#":
        return True
    pp = pattern.split(".")
    tp = topic.split(".")
    for i, seg in enumerate(pp):
        if seg == ">":
            return len(tp) > i
        if i >= len(tp):
            return False
        if seg != "*" and seg != tp[i]:
            return False
    return len(pp) == len(tp)


class _Route:
    """The resolved subscribers of one topic and how often it was published.

    ``settled`` holds the deliveries made under earlier subscriber sets, so a
    subscription change never rewrites past counts."""

    __slots__ = ("callbacks", "published", "since", "settled", "unheard")

    def __init__(self, callbacks: tuple[Callback, ...]) -> None:
        self.callbacks = callbacks
        self.published = 0
        self.since = 0  # ``published`` when ``callbacks`` last changed
        self.settled = 0
        self.unheard = 0  # published while nobody subscribed, before ``since``

    def reroute(self, callbacks: tuple[Callback, ...]) -> None:
        period = self.published - self.since
        self.settled += period * len(self.callbacks)
        if not self.callbacks:
            self.unheard += period
        self.since = self.published
        self.callbacks = callbacks

    def delivered(self) -> int:
        return self.settled + (self.published - self.since) * len(self.callbacks)

    def dropped(self) -> int:
        return self.unheard + (0 if self.callbacks else self.published - self.since)


class Subscription:
    __slots__ = ("pattern", "callback", "_bus")

    def __init__(self, bus: Bus, pattern: str, callback: Callback) -> None:
        self._bus = bus
        self.pattern = pattern
        self.callback = callback

    def close(self) -> None:
        self._bus.unsubscribe(self)


class Bus:
    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._routes: dict[str, _Route] = {}
        self.errors = 0
        self._rate_mark: tuple[float, dict[str, int]] = (time.monotonic(), {})

    # -- subscriptions -------------------------------------------------
    def subscribe(self, pattern: str, callback: Callback) -> Subscription:
        sub = Subscription(self, pattern, callback)
        self._subs.append(sub)
        self._reroute()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)
            self._reroute()

    def _reroute(self) -> None:
        for topic, route in self._routes.items():
            route.reroute(self._resolve(topic))

    def _resolve(self, topic: str) -> tuple[Callback, ...]:
        return tuple(s.callback for s in self._subs if topic_matches(s.pattern, topic))

    # -- publishing ----------------------------------------------------
    def publish(self, topic: str, message: Any) -> None:
        route = self._routes.get(topic)
        if route is None:
            route = self._routes[topic] = _Route(self._resolve(topic))
        route.published += 1
        for cb in route.callbacks:
            try:
                cb(topic, message)
            except Exception:
                self.errors += 1
                log.exception("subscriber %r failed on %s", cb, topic)

    # -- counters ------------------------------------------------------
    @property
    def published(self) -> int:
        return sum(r.published for r in self._routes.values())

    @property
    def delivered(self) -> int:
        """Deliveries attempted, over every subscriber set each topic has had."""
        return sum(r.delivered() for r in self._routes.values())

    @property
    def dropped(self) -> int:
        """Messages nobody was subscribed to, plus deliveries whose subscriber raised."""
        return sum(r.dropped() for r in self._routes.values()) + self.errors

    def topic_counts(self) -> dict[str, int]:
        return {t: r.published for t, r in self._routes.items()}

    def rates(self) -> dict[str, float]:
        """Messages per second per topic since the previous call."""
        now = time.monotonic()
        then, before = self._rate_mark
        counts = self.topic_counts()
        dt = max(now - then, 1e-9)
        self._rate_mark = (now, counts)
        return {t: (n - before.get(t, 0)) / dt for t, n in counts.items()}


class ConflatingSubscriber:
    """Keeps only the newest message per key until drained.

    Fit for consumers slower than the feed (a screen at 20 fps): a burst of
    funding updates for one market costs one repaint, not one per message.
    Messages replaced before a drain are counted as ``conflated``.
    """

    def __init__(self, key: Callable[[str, Any], Hashable] | None = None) -> None:
        self._key = key
        self._pending: dict[Hashable, tuple[str, Any]] = {}
        self.received = 0
        self.conflated = 0

    def __call__(self, topic: str, message: Any) -> None:
        k = topic if self._key is None else self._key(topic, message)
        self.received += 1
        if k in self._pending:
            self.conflated += 1
        self._pending[k] = (topic, message)

    def __len__(self) -> int:
        return len(self._pending)

    def drain(self) -> list[tuple[str, Any]]:
        out = list(self._pending.values())
        self._pending.clear()
        return out
