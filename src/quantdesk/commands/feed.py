"""``quantdesk feed --redis URL``: ingest the venues once, serve every terminal.

Runs a Session and publishes its market data to Redis Streams (see
``quantdesk.sync.redis_feed``); terminals started with
``quantdesk --source redis://...`` consume it. Venues come from the config (``quantdesk.wiring.sources``): the live ones it turns
on, else the embedded simulated venues (``--seed``, ``--rate``).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from quantdesk.commands.metrics_option import add_metrics_argument, check_metrics_port

if TYPE_CHECKING:
    from quantdesk.serve.metrics_port import MetricsServer
    from quantdesk.sync.session_feed import SessionFeed

ENV_URL = "QUANTDESK_REDIS_URL"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--redis",
        metavar="URL",
        default=os.environ.get(ENV_URL),
        help=f"Redis URL, e.g. redis://user:pass@host:6379/0 or rediss://...?ssl_ca_certs=ca.pem "
        f"(default: ${ENV_URL})",
    )
    parser.add_argument("--namespace", default="default", help="key namespace shared with the terminals")
    parser.add_argument("--config", metavar="PATH", help="config file: its [venues.*] sections choose the live venues")
    parser.add_argument("--source", default="auto", choices=("auto", "sim"), help="auto: configured live venues, else simulated; sim: simulated")
    parser.add_argument("--seed", type=int, default=7, help="simulated venues: random seed")
    parser.add_argument("--rate", type=float, default=2000.0, help="simulated venues: events per second")
    parser.add_argument("--maxlen", type=int, default=100_000, help="entries kept per stream (approximate)")
    parser.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds (0: run until Ctrl-C)")
    parser.add_argument("--quiet", action="store_true", help="no periodic status line")
    add_metrics_argument(parser)
    from quantdesk.commands.record_option import add_record_arguments

    add_record_arguments(parser)
    parser.add_argument(
        "--log-format", choices=("console", "json"), default="console", help="log lines on stderr: console text or one JSON event per line"
    )


def main(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from quantdesk.venues.feed_wire import check_namespace
    from quantdesk.sync.redis_url import RedisURLError, validate

    if not args.redis:
        print(f"quantdesk feed: no Redis URL: pass --redis redis://host:6379/0 or set {ENV_URL}", file=sys.stderr)
        return 2
    try:
        validate(args.redis)
        check_namespace(args.namespace)
    except (RedisURLError, ValueError) as exc:
        print(f"quantdesk feed: {exc}", file=sys.stderr)
        return 2
    if not check_metrics_port("quantdesk feed", args):
        return 2
    if args.rate < 0 or args.maxlen < 1000:
        print("quantdesk feed: --rate must be >= 0 and --maxlen >= 1000", file=sys.stderr)
        return 2
    from quantdesk.config.settings import load_config
    from quantdesk.core.problems import ProblemsError

    try:
        load_config(args.config)
    except ProblemsError as exc:
        print(f"quantdesk feed: {exc}", file=sys.stderr)
        return 2
    from quantdesk.wiring.logs import configure_logging

    from urllib.parse import urlsplit

    configure_logging(args.log_format, secrets=[urlsplit(args.redis).password or ""], level=logging.INFO if args.log_format == "json" else logging.WARNING)
    from quantdesk.serve.metrics_port import MetricsPortError
    from quantdesk.venues.recording.format import RecordingError

    try:
        asyncio.run(_run(args))
    except KeyboardInterrupt:
        pass
    except MetricsPortError:  # printed by start_metrics
        return 2
    except RecordingError as exc:
        print(f"quantdesk feed: {exc}", file=sys.stderr)
        return 2
    return 0


async def _run(args: argparse.Namespace) -> None:
    import asyncio

    from quantdesk.config.settings import load_config
    from quantdesk.wiring.sources import build_session
    from quantdesk.commands.metrics_option import feed_collectors, start_metrics
    from quantdesk.wiring.logs import get_logger

    log = get_logger("quantdesk.feed")
    from quantdesk.sync.redis_feed import FeedPublisher
    from quantdesk.sync.session_feed import SessionFeed
    from urllib.parse import urlsplit

    session = build_session(load_config(args.config), source=args.source, seed=args.seed, rate=args.rate)
    publisher = FeedPublisher(args.redis, args.namespace, maxlen=args.maxlen)
    feed = SessionFeed(session, publisher)  # before start: the venues' opening snapshots must be seen
    metrics = start_metrics("quantdesk feed", args, session, feed_collectors(publisher), queue_depth=lambda: publisher.queued)
    from quantdesk.commands.record_option import open_recorder, report

    try:
        recorder = open_recorder("quantdesk feed", args, session, [urlsplit(args.redis).password or ""])
    except BaseException:
        if metrics is not None:
            metrics.stop()
        raise
    if recorder is not None:
        recorder.start()
    try:
        await _publish(args, feed, metrics, log)
    finally:
        report("quantdesk feed", recorder)


async def _publish(args: argparse.Namespace, feed: SessionFeed, metrics: MetricsServer | None, log: Any) -> None:
    """Run the feed until ``--duration`` or Ctrl-C, printing the status every 5 s."""
    import asyncio

    publisher = feed.publisher
    await feed.start()
    loop = asyncio.get_running_loop()
    started = loop.time()
    last_t, last_n = started, 0
    try:
        while not args.duration or loop.time() - started < args.duration:
            await asyncio.sleep(min(5.0, args.duration or 5.0))
            now = loop.time()
            if not args.quiet:
                rate = (publisher.events - last_n) / max(now - last_t, 1e-9)
                if args.log_format == "json":
                    log.info(
                        "feed.status", state=publisher.state, events=publisher.events, published=publisher.published,
                        dropped=publisher.dropped, rejected=publisher.rejected, events_per_s=round(rate, 1),
                        namespace=args.namespace, error=publisher.last_error or None,
                    )
                else:
                    print(f"{publisher.status_line()}; {rate:,.0f} events/s", file=sys.stderr)
            last_t, last_n = now, publisher.events
    finally:
        await feed.stop()
        if metrics is not None:
            metrics.stop()
