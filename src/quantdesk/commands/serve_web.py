"""``quantdesk serve web``: the console in a browser tab.

Listens on 127.0.0.1 unless told otherwise and prints the URL to open, with
its token; a request without the token (in the URL or the cookie the first
page sets) gets 403. Each tab runs its own console process on the same
config and --source (a ``quantdesk feed`` in Redis shares one feed between
tabs); --max-tabs caps how many run at once.
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
    from quantdesk.serve.web.server import WebOptions, new_token

    if not 1 <= args.max_tabs <= MAX_TABS_CAP:
        return refuse(PROG, UsageError(f"--max-tabs must be between 1 and {MAX_TABS_CAP}"))
    try:
        host, port = parse_listen(args.listen)
    except ValueError as exc:
        return refuse(PROG, exc)
    if console_settings(PROG, args.config) is None:  # every tab would fail the same way: say so once, now
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
    options = WebOptions(tab_command(args.source, args.config), token, max_tabs=args.max_tabs)
    return _serve(options, host, port)


def _serve(options: Any, host: str, port: int) -> int:
    import asyncio
    import signal

    from quantdesk.serve.web.server import WebDesk

    async def run() -> int:
        desk = WebDesk(options)
        try:
            try:
                await desk.start(host, port)
            except OSError as exc:
                print(f"{PROG}: cannot listen on {host}:{port}: {exc.strerror or exc}; pick another with --listen", file=sys.stderr)
                return 2
            print(f"{PROG}: open {desk.url()}", file=sys.stderr)
            print(f"{PROG}: up to {options.max_tabs} tabs; the token is the key: share it as you would a password",
                  file=sys.stderr)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
            return 0
        finally:
            await desk.close()

    return asyncio.run(run())
