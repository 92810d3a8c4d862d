"""Prometheus figures of a running session, read when scraped.

The bus's per-topic message counts and each market's data age are read at
scrape time, so the hot path pays nothing for them. A scrape may run on the
metrics server's own thread while the event loop publishes: the snapshots
below copy the live dicts and retry if one grew while being copied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from quantdesk.core.bus import Bus
from quantdesk.core.cache import MarketCache

__all__ = ["SessionCollector", "CountersCollector"]

T = TypeVar("T")


def _snapshot(read: Callable[[], T], default: T) -> T:
    for _ in range(5):
        try:
            return read()
        except RuntimeError:  # "dictionary changed size during iteration": the loop added a topic
            continue
    return default


class SessionCollector:
    """Messages per topic (kind, venue, market) and book staleness per market."""

    def __init__(self, cache: MarketCache, bus: Bus, now_ns: Callable[[], int]) -> None:
        self.cache, self.bus, self.now_ns = cache, bus, now_ns

    def collect(self) -> Iterator[Metric]:
        msgs = CounterMetricFamily("quantdesk_bus_messages", "events published on the bus", labels=["kind", "venue", "market"])
        counts: dict[str, int] = _snapshot(self.bus.topic_counts, {})
        for topic, n in sorted(counts.items()):
            kind, _, rest = topic.partition(".")
            venue, _, market = rest.partition(".")
            msgs.add_metric([kind, venue, market], n)
        yield msgs
        stale = GaugeMetricFamily("quantdesk_book_staleness_seconds", "seconds since a market's data last changed", labels=["venue", "market"])
        now = self.now_ns()
        keys: list[tuple[str, str]] = _snapshot(lambda: list(self.cache.markets), [])
        for venue, market in keys:
            age = self.cache.market_data_age_ns(venue, market, now)
            if age is not None:
                stale.add_metric([venue, market], age / 1e9)
        yield stale


class CountersCollector:
    """Plain counters read from an object when scraped, e.g. the Redis feed
    publisher's events, drops and rejects: ``{"name": (help, read)}``."""

    def __init__(self, counters: dict[str, tuple[str, Callable[[], float]]]) -> None:
        self.counters = counters

    def collect(self) -> Iterator[Metric]:
        for name, (help_text, read) in self.counters.items():
            yield CounterMetricFamily(name, help_text, value=read())
