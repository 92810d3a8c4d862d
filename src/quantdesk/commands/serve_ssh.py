"""``quantdesk serve ssh``: the console for every trader who connects with
``ssh -p 2222 desk``, no shell account and no tmux needed.

Each SSH session gets its own console on its own PTY: its window size, its
terminal's colours, its own panes and layout. All of them read one feed, the
server's (``--source``: the configured venues, the simulated ones, or a
``quantdesk feed`` in Redis), so twenty traders cost one set of venue
connections. Only the public keys in --authorized-keys get in; each key names
its trader (``environment="QUANTDESK_USER=alice"`` before it, or its comment),
which picks their workspace user, command history, remembered theme and
journal. Each trader trades from their console as `quantdesk run` allows, with
their own journal, risk limits from [risk], kill switch and paper account in
each shared simulated venue. A trader's signer agent may be forwarded to
<agent dir>/<trader>/agent.sock (``ssh -R``) and nowhere else; with
signer = "agent:..." in the config their live orders sign through it, never
with the server's key. With [db] or [sync.supabase], each trader's journal
syncs as the user id QUANTDESK_DB__USER_ID on their key's line gives (through
Supabase on tokens signed with [sync.supabase] jwt_secret; without a [redis]
url their team workspace is on Supabase too, as that same user).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

PROG = "quantdesk serve ssh"
MAX_SESSIONS_CAP = 500


def add_parser(sub: Any) -> None:
    from quantdesk.commands.api_settings import add_config_argument
    from quantdesk.wiring.sources import SOURCES_HELP

    p = sub.add_parser("ssh", help="the console over SSH, one PTY per trader", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listen", metavar="HOST:PORT", default="127.0.0.1:2222", help="address to listen on (default 127.0.0.1:2222)")
    p.add_argument("--host-key", metavar="PATH", help="the server's SSH host key; generated (0600) on first start "
                   "(default: <user config dir>/ssh_host_ed25519_key)")
    p.add_argument("--authorized-keys", metavar="PATH", help="traders' public keys, OpenSSH authorized_keys format "
                   "(default: <user config dir>/authorized_keys)")
    p.add_argument("--source", default="auto", help=SOURCES_HELP)
    add_config_argument(p)
    p.add_argument("--seed", type=int, default=None, help="simulated venues: random seed")
    p.add_argument("--max-sessions", type=int, default=20, help="consoles at once (default 20)")
    p.add_argument("--idle-timeout", type=float, default=480.0, metavar="MINUTES",
                   help="close a console after this long without a key (default 480; 0: never)")
    p.add_argument("--agent-dir", metavar="DIR", help="where traders' signer agents may be forwarded, one folder per "
                   "trader (default: <user data dir>/ssh-agents)")
    p.add_argument("--log-format", choices=("console", "json"), default="console",
                   help="log lines on stderr: console text or one JSON event per line")
    p.set_defaults(_serve=main)


def main(args: argparse.Namespace) -> int:
    from quantdesk.commands.api_settings import UsageError, refuse
    from quantdesk.config.paths import user_config_dir, user_data_dir
    from quantdesk.serve.listen import parse_listen
    from quantdesk.serve.ssh.keys import KeyFileError, load_authorized_keys, load_or_create_host_key

    if not 1 <= args.max_sessions <= MAX_SESSIONS_CAP:
        return refuse(PROG, UsageError(f"--max-sessions must be between 1 and {MAX_SESSIONS_CAP}"))
    if not args.idle_timeout >= 0:
        return refuse(PROG, UsageError("--idle-timeout is minutes without a key, 0 or more (0: never)"))
    try:
        host, port = parse_listen(args.listen)
    except ValueError as exc:
        return refuse(PROG, exc)
    settings = console_settings(PROG, args.config, seed=args.seed)
    if settings is None:
        return 2
    keys_path = Path(args.authorized_keys or user_config_dir() / "authorized_keys").expanduser()
    try:
        authorized = load_authorized_keys(keys_path)
        host_key = load_or_create_host_key(Path(args.host_key or user_config_dir() / "ssh_host_ed25519_key"))
    except KeyFileError as exc:
        return refuse(PROG, exc)
    from quantdesk.wiring.sources import SourceError, build_session

    try:
        session = build_session(settings, source=args.source, seed=args.seed)
    except SourceError as exc:
        return refuse(PROG, exc)
    import logging

    from quantdesk.serve.ssh.console import ConsoleOptions
    from quantdesk.serve.ssh.server import SshOptions
    from quantdesk.wiring.logs import configure_logging

    configure_logging(args.log_format, secrets=settings.secret_values(), level=logging.INFO)
    logging.getLogger("asyncssh").setLevel(logging.WARNING)  # one line per packet type otherwise
    options = SshOptions(
        host_key, authorized, ConsoleOptions(settings, user_data_dir() / "ssh"),
        max_sessions=args.max_sessions, idle_timeout_s=args.idle_timeout * 60,
        agent_dir=Path(args.agent_dir or user_data_dir() / "ssh-agents").expanduser(),
        fps=settings.ui.fps,
    )
    say = sys.stderr.write
    say(f"{PROG}: host key {host_key.path}{' (new)' if host_key.created else ''}  {host_key.fingerprint}\n")
    say(f"{PROG}: traders {', '.join(sorted({k.user for k in authorized}))} (from {keys_path})\n")
    sync = journal_sync_line(settings)
    if sync:
        say(f"{PROG}: {sync}\n")
    return _serve(session, options, host, port, say)


def journal_sync_line(settings: Any) -> str:
    """How served traders' journals sync, for the start-up lines ("": not at all)."""
    sb = settings.sync.supabase
    if sb is not None:
        if sb.jwt_secret is None:
            return ("journal sync off: [sync.supabase] needs jwt_secret (the project's JWT secret) "
                    "to sync each trader as themselves")
        what = "journals sync" if settings.redis.url is not None else "journals and the team workspace sync"
        return f"{what} to {sb.url} as each trader's Supabase user (QUANTDESK_DB__USER_ID on their key's line)"
    if settings.db.dsn is not None and settings.db.dsn.get_secret_value():
        return "journals sync to [db] as each trader's database user (QUANTDESK_DB__USER_ID on their key's line)"
    return ""


def _serve(session: Any, options: Any, host: str, port: int, say: Any) -> int:
    import asyncio
    import signal

    from quantdesk.serve.ssh.server import DeskServer

    async def run() -> int:
        await session.start()
        server = DeskServer(session, options)
        try:
            try:
                bound = await server.start(host, port)
            except OSError as exc:
                say(f"{PROG}: cannot listen on {host}:{port}: {exc.strerror or exc}; pick another with --listen\n")
                return 2
            say(f"{PROG}: listening on {host}:{bound}; connect with `ssh -p {bound} {host}` "
                f"(signer agents: ssh -R {options.agent_dir}/<trader>/agent.sock:<your agent socket>)\n")
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
            say(f"{PROG}: stopping; closing {len(server.channels)} console(s)\n")
            return 0
        finally:
            await server.close()
            await session.stop()

    return asyncio.run(run())


def console_settings(prog: str, config: str | None, *, seed: int | None = None) -> Any:
    """The configuration for served consoles, or None (the problems on stderr)."""
    from quantdesk.config.settings import load_config
    from quantdesk.console.layouts import layout_names
    from quantdesk.core.problems import ProblemsError, did_you_mean

    try:
        settings = load_config(config, flags={"sim.seed": seed})
    except ProblemsError as exc:
        print(f"{prog}: {exc.render()}", file=sys.stderr)
        print("Fix these (check with `quantdesk config validate`) and start again.", file=sys.stderr)
        return None
    names = layout_names()
    if settings.ui.layout not in names:
        print(f"{prog}: no layout named {settings.ui.layout!r}; {did_you_mean(settings.ui.layout, names)}", file=sys.stderr)
        return None
    return settings
