"""``--metrics-port``: ``/metrics`` of a terminal or a feed on its own port.

prometheus-client's HTTP server runs on a daemon thread with a registry of
this process's session only (never the global default registry), so the
terminal's frame loop and the feed's publishing never wait on a scrape.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.registry import Collector

from quantdesk.core.bus import Bus
from quantdesk.core.cache import MarketCache
from quantdesk.serve.session_metrics import SessionCollector

__all__ = ["MetricsPortError", "MetricsServer", "check_port", "start_metrics_server"]


class MetricsPortError(OSError):
    """The metrics port cannot be listened on; the message names it and what to do."""


def check_port(port: int) -> None:
    if not 0 <= port <= 65535:
        raise ValueError(f"--metrics-port {port}: give a TCP port between 1 and 65535 (0: any free port)")


@dataclass
class MetricsServer:
    server: WSGIServer
    thread: threading.Thread
    registry: CollectorRegistry

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_metrics_server(
    port: int,
    cache: MarketCache,
    bus: Bus,
    now_ns: Callable[[], int],
    *,
    addr: str = "127.0.0.1",
    extra: tuple[Collector, ...] = (),
) -> MetricsServer:
    """Serve the session's figures at ``http://addr:port/metrics``.

    Raises MetricsPortError with a message naming the port when it is taken."""
    check_port(port)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SessionCollector(cache, bus, now_ns))
    for collector in extra:
        registry.register(collector)
    try:
        server, thread = start_http_server(port, addr=addr, registry=registry)
    except OSError as exc:
        raise MetricsPortError(f"--metrics-port {port}: cannot listen on {addr}:{port} ({exc.strerror}); choose a free port") from None
    return MetricsServer(server, thread, registry)
