"""Counters of a venue's feeds and RPC, read by the health pane.

Plain attributes updated in place by the feed tasks; nothing here does I/O.
Latencies are floats because they are only ever displayed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from quantdesk.core.latency import LatencyHistogram


@dataclass
class FeedHealth:
    messages: int = 0  # every WebSocket message received
    heartbeats: int = 0
    books: int = 0  # snapshots published
    trades: int = 0
    subscription_errors: int = 0  # subscriptions the DLOB server refused (retried with backoff)
    unknown_market: int = 0  # pushes for a market this venue does not list, dropped
    duplicate_fills: int = 0  # fill records seen before (same fillRecordId), dropped
    malformed: int = 0  # undecodable messages, counted and dropped
    out_of_order: int = 0  # snapshots older (slot/ts) than one already published
    stale: int = 0  # snapshots older than max_snapshot_age_s when they arrived
    implausible_slot: int = 0  # snapshots with a slot beyond max_slot_lead of the RPC/last slot
    crossed: int = 0  # snapshots published with best bid at or above best ask (shown as crossed)
    errors: int = 0  # failed requests, server errors, lost connections
    http_429: int = 0  # rate-limited responses
    reconnects: int = 0
    resubscribes: int = 0
    silences: int = 0  # times nothing arrived for silence_s
    failovers: int = 0  # switches to another RPC/HTTP host
    rest_snapshots: int = 0
    rest_cache_misses: int = 0  # /l2 replies without a book (the server had none cached)
    last_message_ns: int = 0
    last_error: str = ""
    rest_latency_ms: float | None = None  # last HTTP round trip
    feed_lag_ms: float | None = None  # receipt time minus the server's timestamp of the last book
    rpc_latency_ms: float | None = None
    rpc_slot: int | None = None
    dlob_slot: int | None = None
    hosts: dict[str, int] = field(default_factory=dict)  # requests per host
    # RPC host -> round-trip histogram; the venue's RPC client's own table
    rpc_latency: dict[str, LatencyHistogram] = field(default_factory=dict)

    @property
    def slot_lag(self) -> int | None:
        """How many slots the DLOB server's book trails the RPC node."""
        if self.rpc_slot is None or self.dlob_slot is None:
            return None
        return self.rpc_slot - self.dlob_slot

    def error(self, message: str) -> None:
        self.errors += 1
        self.last_error = message
