"""Prometheus figures of a running session, read when scraped.

The bus's per-topic message counts and each market's data age are read at
scrape time, so the hot path pays nothing for them. A scrape may run on the
metrics server's own thread while the event loop publishes: the snapshots
below copy the live dicts and retry if one grew while being copied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import TypeVar

from prometheus_client import Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from quantdesk.core.bus import Bus
from quantdesk.core.cache import MarketCache
from quantdesk.core.latency import LatencyHistogram

__all__ = ["BusCollector", "CountersCollector", "SessionCollector", "TimingMetrics", "VenueHealthCollector"]

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


# FeedHealth counters that count messages a venue received but could not use,
# by the kind of fault (read with getattr: each venue counts what it can).
DECODE_ERROR_KINDS: tuple[str, ...] = (
    "malformed", "unknown_market", "subscription_errors", "out_of_order", "stale",
    "implausible_slot", "duplicate_fills",
)
VENUE_COUNTERS: tuple[tuple[str, str, str], ...] = (
    ("quantdesk_venue_reconnects", "reconnects", "times a venue's live connection was re-established"),
    ("quantdesk_venue_resubscribes", "resubscribes", "subscriptions sent again after a stall or reconnect"),
    ("quantdesk_venue_failovers", "failovers", "switches to another RPC/HTTP endpoint"),
    ("quantdesk_venue_errors", "errors", "failed requests, server errors and lost connections"),
    ("quantdesk_venue_http_429", "http_429", "rate-limited responses"),
)


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(bound)


class VenueHealthCollector:
    """Each live venue's feed counters (decode errors by kind, reconnects,
    failovers) and its last RPC latency, read from ``venue.health`` when scraped."""

    def __init__(self, venues: Callable[[], Mapping[str, object]]) -> None:
        self.venues = venues

    def collect(self) -> Iterator[Metric]:
        live = [(vid, h) for vid, v in sorted(self.venues().items()) if (h := getattr(v, "health", None)) is not None]
        decode = CounterMetricFamily(
            "quantdesk_venue_decode_errors", "venue messages received and dropped, by kind", labels=["venue", "kind"]
        )
        for vid, h in live:
            for kind in DECODE_ERROR_KINDS:
                n = getattr(h, kind, None)
                if isinstance(n, int):
                    decode.add_metric([vid, kind], n)
        yield decode
        for name, attr, help_text in VENUE_COUNTERS:
            fam = CounterMetricFamily(name, help_text, labels=["venue"])
            for vid, h in live:
                n = getattr(h, attr, None)
                if isinstance(n, int):
                    fam.add_metric([vid], n)
            yield fam
        hist = HistogramMetricFamily(
            "quantdesk_rpc_latency_seconds", "JSON-RPC round trips answered, per venue and endpoint host", labels=["venue", "endpoint"]
        )
        for vid, h in live:
            table: Mapping[str, LatencyHistogram] = getattr(h, "rpc_latency", None) or {}
            rows: list[tuple[str, LatencyHistogram]] = _snapshot(partial(sorted, table.items()), [])
            for host, lat in rows:
                buckets = [(_le(bound), n) for bound, n in lat.cumulative()]
                hist.add_metric([vid, host], buckets, sum_value=lat.total)  # scheme://host:port, never a path or key
        yield hist
        latency = GaugeMetricFamily("quantdesk_venue_rpc_latency_seconds", "a venue's last RPC round trip", labels=["venue"])
        for vid, h in live:
            ms = getattr(h, "rpc_latency_ms", None)
            if ms is not None:
                latency.add_metric([vid], ms / 1000)
        yield latency


class BusCollector:
    """The bus's totals, published and dropped, and the depth of a consumer's
    pending queue when it has one (the feed publisher's buffer)."""

    def __init__(self, bus: Bus, queue_depth: Callable[[], int] | None = None) -> None:
        self.bus, self.queue_depth = bus, queue_depth

    def collect(self) -> Iterator[Metric]:
        published = _snapshot(lambda: self.bus.published, 0)
        dropped = _snapshot(lambda: self.bus.dropped, 0)
        yield CounterMetricFamily("quantdesk_bus_published", "events published on the bus", value=published)
        yield CounterMetricFamily(
            "quantdesk_bus_dropped", "events nobody was subscribed to, plus deliveries whose subscriber raised", value=dropped
        )
        if self.queue_depth is not None:
            yield GaugeMetricFamily("quantdesk_bus_queue_depth", "events waiting for the next frame", value=self.queue_depth())


# Frames repaint in a few ms; an order round trip is a network call (paper
# venues answer in microseconds, a chain in hundreds of ms).
FRAME_BUCKETS = (0.001, 0.002, 0.005, 0.010, 0.020, 0.050, 0.100, 0.250)
ROUND_TRIP_BUCKETS = (0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class TimingMetrics:
    """Histograms the terminal feeds as it works: each frame's repaint time and
    each order operation's round trip to its venue. One registry per process
    (never the global default), registered as a collector."""

    def __init__(self) -> None:
        self.frame = Histogram(
            "quantdesk_frame_render_seconds", "time to repaint one frame", buckets=FRAME_BUCKETS, registry=None
        )
        self.round_trip = Histogram(
            "quantdesk_order_round_trip_seconds", "order place/cancel/modify until the venue answered",
            ["venue", "op"], buckets=ROUND_TRIP_BUCKETS, registry=None,
        )

    def observe_frame(self, seconds: float) -> None:
        self.frame.observe(seconds)

    def observe_round_trip(self, venue: str, op: str, seconds: float) -> None:
        self.round_trip.labels(venue, op).observe(seconds)

    def collect(self) -> Iterator[Metric]:
        yield from self.frame.collect()
        yield from self.round_trip.collect()
