"""A deployment's Solana JSON-RPC: the shared client (``venues.solana.rpc``)
over its ``rpc_urls``, reporting every round trip to the feed's health
counters so the health pane shows RPC errors, 429s, failovers and latency
beside the DLOB server's."""

from __future__ import annotations

from urllib.parse import urlsplit

from quantdesk.venues.drift.config import DriftDeployment
from quantdesk.venues.drift.health import FeedHealth
from quantdesk.venues.solana.rpc import SolanaRpc


class RpcHealth:
    """``RpcListener`` onto a ``FeedHealth``."""

    def __init__(self, health: FeedHealth) -> None:
        self.health = health

    def answered(self, host: str, latency_ms: float) -> None:
        self.health.rpc_latency_ms = latency_ms
        name = urlsplit(host).hostname or host  # counted by host name, as the DLOB and data API hosts are
        self.health.hosts[name] = self.health.hosts.get(name, 0) + 1

    def failed(self, host: str, problem: str, rate_limited: bool) -> None:
        if rate_limited:
            self.health.http_429 += 1
        self.health.error(f"RPC {host}: {problem}")

    def failed_over(self, host: str) -> None:
        self.health.failovers += 1


def rpc_for(deployment: DriftDeployment, health: FeedHealth) -> SolanaRpc:
    d = deployment
    rpc = SolanaRpc(d.rpc_urls, timeout_s=d.http_timeout_s, cooldown_s=d.rpc_cooldown_s, listener=RpcHealth(health))
    health.rpc_latency = rpc.latency  # shared, so /metrics reads the client's histograms through the health
    return rpc
