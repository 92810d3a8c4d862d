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
from quantdesk.serve.session_metrics import BusCollector, SessionCollector

__all__ = ["ApiMetrics", "CONTENT_TYPE_LATEST"]


class _StreamCollector:
    def __init__(self, hub: StreamHub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[Metric]:
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
        self.registry.register(SessionCollector(cache, bus, now_ns))
        self.registry.register(_StreamCollector(hub))
        self.registry.register(BusCollector(bus))

    def count(self, route: str, status: int) -> None:
        self.requests.labels(route, str(status)).inc()

    def render(self) -> Any:
        return generate_latest(self.registry)
