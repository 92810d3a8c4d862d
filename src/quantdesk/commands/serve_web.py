"""``quantdesk serve web``: the console in a browser tab.

Listens on 127.0.0.1 unless told otherwise and prints the URL to open, with
its token; a request without the token (in the URL or the cookie the first
page sets) gets 403. Each tab runs its own console process on the same
config; --max-tabs caps how many run at once, and a closed tab's console is
ended at once.

By default each tab runs --source itself, exactly as `quantdesk run` does,
and trades on it (paper on the simulated venues): a set of venue connections
per tab. --shared-feed has the server run --source once instead and publish
it to the configured Redis ([redis] url, or $QUANTDESK_REDIS_URL), as
`quantdesk feed` does, for every tab to read (a feed already publishing in
the team's namespace is read instead). A feed carries market data only:
tabs on it are watch-only and place no orders, and so are tabs given a feed
with --source feed or redis://...
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

PROG = "quantdesk serve web"
MAX_TABS_CAP = 200


def add_parser(sub: Any) -> None:
    from quantdesk.commands.api_settings import add_config_argument
    from quantdesk.wiring.sources import SOURCES_HELP

    p = sub.add_parser("web", help="the console in a browser tab (token required)", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listen", metavar="HOST:PORT", default="127.0.0.1:8720", help="address to listen on (default 127.0.0.1:8720)")
    p.add_argument("--source", default="auto", help=SOURCES_HELP)
    add_config_argument(p)
    p.add_argument("--shared-feed", action="store_true", help="one feed for every tab, published to the configured "
                   "Redis; tabs are then watch-only (no orders, not even paper)")
    p.add_argument("--max-tabs", type=int, default=8, help="consoles (browser tabs) at once (default 8)")
    p.add_argument("--token-file", metavar="PATH", help="read the token from this file instead of making a new one")
    p.set_defaults(_serve=main)


def tab_command(source: str, config: str | None) -> str:
    """The shell command each tab runs: this Python, this QuantDesk."""
    parts = [sys.executable, "-m", "quantdesk.cli", "run", "--source", source]
    if config:
        parts += ["--config", config]
    return " ".join(shlex.quote(p) for p in parts)


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from quantdesk.commands.api_settings import UsageError, refuse
    from quantdesk.commands.serve_ssh import console_settings
    from quantdesk.serve.listen import parse_listen
    from quantdesk.serve.web.feed import plan_tab_feed
    from quantdesk.serve.web.server import WebOptions, new_token
    from quantdesk.wiring.sources import SourceError

    if not 1 <= args.max_tabs <= MAX_TABS_CAP:
        return refuse(PROG, UsageError(f"--max-tabs must be between 1 and {MAX_TABS_CAP}"))
    try:
        host, port = parse_listen(args.listen)
    except ValueError as exc:
        return refuse(PROG, exc)
    settings = console_settings(PROG, args.config)
    if settings is None:  # every tab would fail the same way: say so once, now
        return 2
    if args.token_file:
        try:
            token = Path(args.token_file).expanduser().read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            return refuse(PROG, UsageError(f"cannot read --token-file {args.token_file}: {getattr(exc, 'strerror', None) or exc}"))
        if len(token) < 16:
            return refuse(PROG, UsageError("the token in --token-file is shorter than 16 characters; use a longer one"))
    else:
        token = new_token()
    try:
        feed = plan_tab_feed(settings, args.source, shared_feed=args.shared_feed)
    except SourceError as exc:
        return refuse(PROG, exc)
    import logging
    from urllib.parse import urlsplit

    from quantdesk.wiring.logs import configure_logging

    # the feed's Redis may come from $QUANTDESK_REDIS_URL, which the settings do not hold
    configure_logging("console", secrets=[*settings.secret_values(), urlsplit(feed.url).password or ""], level=logging.WARNING)
    options = WebOptions(tab_command(feed.tab_source, args.config), token, max_tabs=args.max_tabs)
    return _serve(options, feed, host, port)


def _serve(options: Any, feed: Any, host: str, port: int) -> int:
    import asyncio
    import signal

    from quantdesk.serve.web.server import WebDesk
    from quantdesk.venues.base import VenueError

    async def run() -> int:
        desk = WebDesk(options)
        # from the start: a stop while the feed comes up still ends it and its venues cleanly
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            try:
                print(f"{PROG}: {await feed.start()}", file=sys.stderr)
            except VenueError as exc:
                print(f"{PROG}: the tabs' shared feed cannot start: {exc}", file=sys.stderr)
                return 2
            try:
                await desk.start(host, port)
            except OSError as exc:
                print(f"{PROG}: cannot listen on {host}:{port}: {exc.strerror or exc}; pick another with --listen", file=sys.stderr)
                return 2
            print(f"{PROG}: open {desk.url()}", file=sys.stderr)
            print(f"{PROG}: up to {options.max_tabs} tabs; the token is the key: share it as you would a password",
                  file=sys.stderr)
            await stop.wait()
            return 0
        finally:
            await desk.close()
            await feed.stop()

    return asyncio.run(run())
