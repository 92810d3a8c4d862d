"""``quantdesk serve api``: the read-only data API (REST + WebSocket) over a
session, for bots, notebooks and dashboards.

The session comes from ``quantdesk.wiring.sources`` like ``show`` and ``feed``:
the configured live venues, the simulated ones, or a ``quantdesk feed`` read
back from Redis (``--source redis://...``). Clients need a bearer token signed
with ``[api] jwt_secret`` (``quantdesk api token`` mints one).
"""

from __future__ import annotations

import argparse
import sys

from quantdesk.wiring.sources import SOURCES_HELP


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="server", metavar="SERVER", required=True)
    api = sub.add_parser("api", help="the read-only data API", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    api.add_argument("--listen", metavar="HOST:PORT", help="address to listen on (default: [api] listen, 127.0.0.1:8710)")
    api.add_argument("--source", default="auto", help=SOURCES_HELP)
    api.add_argument("--config", metavar="PATH", help="config file (default: the user config dir's config.toml)")
    api.add_argument("--seed", type=int, default=None, help="simulated venues: random seed")
    api.add_argument("--ssl-certfile", metavar="PEM", help="serve HTTPS/WSS with this certificate (Uvicorn's TLS)")
    api.add_argument("--ssl-keyfile", metavar="PEM", help="the certificate's private key")


def main(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from quantdesk.config.settings import load_config
    from quantdesk.core.problems import ProblemsError
    from quantdesk.wiring.sources import SourceError, build_session

    try:
        settings = load_config(args.config)
    except ProblemsError as exc:
        print(f"quantdesk serve api: {exc}", file=sys.stderr)
        return 2
    secret = settings.api.jwt_secret.get_secret_value() if settings.api.jwt_secret is not None else ""
    if not secret:
        print("quantdesk serve api: no JWT secret: set [api] jwt_secret in the config or QUANTDESK_API__JWT_SECRET", file=sys.stderr)
        return 2
    from quantdesk.serve.api.app import ApiOptions
    from quantdesk.serve.api.server import parse_listen, serve

    try:
        host, port = parse_listen(args.listen or settings.api.listen)
    except ValueError as exc:
        print(f"quantdesk serve api: {exc}", file=sys.stderr)
        return 2
    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        print("quantdesk serve api: TLS needs both --ssl-certfile and --ssl-keyfile", file=sys.stderr)
        return 2
    tls = {"ssl_certfile": args.ssl_certfile, "ssl_keyfile": args.ssl_keyfile} if args.ssl_certfile else {}
    try:
        session = build_session(settings, source=args.source, seed=args.seed)
    except SourceError as exc:
        print(f"quantdesk serve api: {exc}", file=sys.stderr)
        return 2
    options = ApiOptions(rate_per_s=settings.api.rate_limit_per_s, burst=settings.api.rate_limit_burst)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)

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
