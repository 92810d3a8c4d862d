"""``/metrics`` of the API server in Prometheus text format.

Figures are read when scraped (the bus's per-topic counts, the cache's last
update per market, the stream hub's clients and drops), so the hot path pays
nothing for them. Each DataApi has its own registry: two servers in one
process never share or clash on counters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from quantdesk.core.bus import Bus
from quantdesk.core.cache import MarketCache
from quantdesk.serve.api.stream import StreamHub

__all__ = ["ApiMetrics", "CONTENT_TYPE_LATEST"]


class _SessionCollector:
    def __init__(self, cache: MarketCache, bus: Bus, hub: StreamHub, now_ns: Callable[[], int]) -> None:
        self.cache, self.bus, self.hub, self.now_ns = cache, bus, hub, now_ns

    def collect(self) -> Iterator[Metric]:
        msgs = CounterMetricFamily("quantdesk_bus_messages", "events published on the bus", labels=["kind", "venue", "market"])
        for topic, n in sorted(self.bus.topic_counts().items()):
            kind, _, rest = topic.partition(".")
            venue, _, market = rest.partition(".")
            msgs.add_metric([kind, venue, market], n)
        yield msgs
        stale = GaugeMetricFamily("quantdesk_book_staleness_seconds", "seconds since a market's data last changed", labels=["venue", "market"])
        now = self.now_ns()
        for (venue, market) in self.cache.markets:
            age = self.cache.market_data_age_ns(venue, market, now)
            if age is not None:
                stale.add_metric([venue, market], age / 1e9)
        yield stale
        yield GaugeMetricFamily("quantdesk_api_stream_clients", "WebSocket stream clients connected", value=len(self.hub.clients))
        yield CounterMetricFamily(
            "quantdesk_api_stream_dropped_deltas", "deltas not sent to clients that fell behind (they got gap + snapshot)", value=self.hub.dropped
        )
        yield CounterMetricFamily("quantdesk_api_stream_gaps", "gap messages sent to clients that fell behind", value=self.hub.gaps)


class ApiMetrics:
    def __init__(self, cache: MarketCache, bus: Bus, hub: StreamHub, now_ns: Callable[[], int]) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            "quantdesk_api_requests", "API requests answered", ["route", "status"], registry=self.registry
        )
        self.registry.register(_SessionCollector(cache, bus, hub, now_ns))

    def count(self, route: str, status: int) -> None:
        self.requests.labels(route, str(status)).inc()

    def render(self) -> Any:
        return generate_latest(self.registry)
