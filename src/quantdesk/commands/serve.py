"""``quantdesk serve api``: the read-only data API (REST + WebSocket) over a
session, for bots, notebooks and dashboards. (``serve ssh`` and ``serve web``,
the console for traders who connect, live in ``serve_ssh`` and ``serve_web``.)

The session comes from ``quantdesk.wiring.sources`` like ``show`` and ``feed``:
the configured live venues, the simulated ones, or a ``quantdesk feed`` read
back from Redis (``--source redis://...``). Clients need a bearer token signed
with ``[api] jwt_secret`` (``quantdesk api token`` mints one).
"""

from __future__ import annotations

import argparse
import sys

from quantdesk.commands.api_settings import UsageError, add_config_argument, load_api_settings, refuse
from quantdesk.wiring.sources import SOURCES_HELP

PROG = "quantdesk serve api"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="server", metavar="SERVER", required=True)
    api = sub.add_parser("api", help="the read-only data API", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    api.add_argument("--listen", metavar="HOST:PORT", help="address to listen on (default: [api] listen, 127.0.0.1:8710)")
    api.add_argument("--source", default="auto", help=SOURCES_HELP)
    add_config_argument(api)
    api.set_defaults(_serve=main_api)
    api.add_argument("--seed", type=int, default=None, help="simulated venues: random seed")
    api.add_argument("--ssl-certfile", metavar="PEM", help="serve HTTPS/WSS with this certificate (Uvicorn's TLS)")
    api.add_argument("--ssl-keyfile", metavar="PEM", help="the certificate's private key")
    api.add_argument(
        "--log-format", choices=("console", "json"), default="console", help="log lines on stderr: console text or one JSON event per line"
    )
    from quantdesk.commands import serve_ssh, serve_web

    serve_ssh.add_parser(sub)
    serve_web.add_parser(sub)


def main(args: argparse.Namespace) -> int:
    return int(args._serve(args) or 0)


def main_api(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from quantdesk.serve.api.app import ApiOptions
    from quantdesk.serve.api.server import serve
    from quantdesk.serve.listen import parse_listen
    from quantdesk.wiring.sources import SourceError, build_session

    try:
        api = load_api_settings(args.config)
        host, port = parse_listen(args.listen or api.settings.api.listen)
    except (UsageError, ValueError) as exc:
        return refuse(PROG, exc)
    settings, secret = api.settings, api.secret
    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        return refuse(PROG, UsageError("TLS needs both --ssl-certfile and --ssl-keyfile"))
    tls = {"ssl_certfile": args.ssl_certfile, "ssl_keyfile": args.ssl_keyfile} if args.ssl_certfile else {}
    try:
        session = build_session(settings, source=args.source, seed=args.seed)
    except SourceError as exc:
        return refuse(PROG, exc)
    options = ApiOptions(rate_per_s=settings.api.rate_limit_per_s, burst=settings.api.rate_limit_burst)
    from quantdesk.wiring.logs import configure_logging

    configure_logging(args.log_format, secrets=[secret], level=logging.WARNING)

    async def run() -> None:
        await session.start()
        try:
            scheme = "https" if tls else "http"
            print(f"quantdesk serve api: {scheme}://{host}:{port}/v1/openapi.json", file=sys.stderr)
            await serve(session, secret, host, port, options, **tls)
        finally:
            await session.stop()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    return 0
