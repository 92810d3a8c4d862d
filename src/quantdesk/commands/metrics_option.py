"""``--metrics-port PORT`` of ``quantdesk`` and ``quantdesk feed``: the
option, its check and starting the ``/metrics`` server over a session."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # loaded only when the command runs
    from prometheus_client.registry import Collector

    from quantdesk.console.app import QuantDeskApp
    from quantdesk.serve.metrics_port import MetricsServer
    from quantdesk.trading.router import OrderRouter
    from quantdesk.sync.redis_feed import FeedPublisher
    from quantdesk.venues.session import Session


def add_metrics_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        default=None,
        help="serve Prometheus /metrics on 127.0.0.1:PORT (messages per venue and market, book staleness)",
    )
    parser.add_argument(
        "--metrics-host", default="127.0.0.1", metavar="ADDR", help="address for --metrics-port (0.0.0.0: every interface)"
    )


def check_metrics_port(prog: str, args: argparse.Namespace) -> bool:
    from quantdesk.serve.metrics_port import check_port

    if args.metrics_port is None:
        return True
    try:
        check_port(args.metrics_port)
    except ValueError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return False
    return True


def feed_collectors(publisher: FeedPublisher) -> tuple[Collector, ...]:
    from quantdesk.serve.session_metrics import CountersCollector

    return (
        CountersCollector(
            {
                "quantdesk_feed_events": ("market-data events the feed saw on its bus", lambda: publisher.events),
                "quantdesk_feed_dropped": ("events not streamed to Redis (Redis down or buffer full)", lambda: publisher.dropped),
                "quantdesk_feed_rejected": ("events the feed format cannot carry", lambda: publisher.rejected),
                "quantdesk_feed_restores": ("full-state rewrites to Redis (first connect, reconnects)", lambda: publisher.restores),
            }
        ),
    )


def terminal_timing(app: QuantDeskApp, router: OrderRouter) -> tuple[Collector, ...]:
    """Frame render time and order round trips, fed by the App and the router."""
    from quantdesk.serve.session_metrics import TimingMetrics

    timing = TimingMetrics()
    app.on_frame_time = timing.observe_frame
    router.on_round_trip = timing.observe_round_trip
    return (timing,)


def start_metrics(
    prog: str,
    args: argparse.Namespace,
    session: Session,
    extra: tuple[Collector, ...] = (),
    *,
    queue_depth: Callable[[], int] | None = None,
) -> MetricsServer | None:
    """Start the server when ``--metrics-port`` was given; MetricsPortError (printed) when the port is taken.

    Besides the bus and books, it shows every live venue's feed counters and
    the bus totals (with ``queue_depth``: events waiting to go out)."""
    if args.metrics_port is None:
        return None
    from quantdesk.serve.metrics_port import MetricsPortError, start_metrics_server
    from quantdesk.serve.session_metrics import BusCollector, VenueHealthCollector

    collectors: tuple[Collector, ...] = (VenueHealthCollector(lambda: session.venues), BusCollector(session.bus, queue_depth), *extra)
    try:
        server = start_metrics_server(
            args.metrics_port, session.cache, session.bus, time.time_ns, addr=args.metrics_host, extra=collectors
        )
    except MetricsPortError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        raise
    if args.metrics_port == 0:
        print(f"{prog}: metrics on http://{args.metrics_host}:{server.port}/metrics", file=sys.stderr)
    return server
