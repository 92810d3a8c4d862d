"""Entry point: ``quantdesk [run|show|replay|feed|serve|api|inspect|journal|config|db|login|logout|order|signer|doctor] ...``.

Each subcommand lives in its own module under ``quantdesk.commands`` and is
imported only when chosen, so ``quantdesk --help`` and a cold start stay fast
and the venue SDKs load only for the commands that need them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from quantdesk import __version__

# subcommand -> (module under quantdesk.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "open the terminal (the default)"),
    "show": ("show", "print depth, funding or spreads once and exit (for scripts)"),
    "replay": ("replay", "play a recording (quantdesk --record FILE) back on the terminal"),
    "feed": ("feed", "publish venue data to Redis for many terminals (--redis URL)"),
    "inspect": ("inspect", "decode a raw on-chain account (Drift-v2 engine) and print it"),
    "config": ("config_cmd", "check the configuration (validate) or show where files are looked for (path)"),
    "journal": ("journal", "export the local trading journal (fills, orders) to CSV"),
    "db": ("db", "migrate and sync the shared PostgreSQL (Supabase) journal"),
    "login": ("login", "sign in to the team's Supabase project (email + password, or a code it emails you)"),
    "logout": ("logout", "sign out of Supabase and remove the saved session"),
    "serve": ("serve", "serve the session: `serve api` (read-only data API), `serve ssh` and `serve web` (the console for traders who connect)"),
    "api": ("api", "data API helpers: `api token` mints a bearer token for scripts"),
    "order": ("order", "place one live order: risk check, transaction preview, sign, send (--dry-run: sign only)"),
    "doctor": ("doctor", "check config, venues' endpoints, Redis, PostgreSQL, Supabase, the signer and the terminal, and say what to fix"),
    "signer": ("signer", "the signer as a service: `signer serve` runs the signer agent on the machine with the key"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quantdesk",
        description="Keyboard-driven trading console for Solana perpetual futures. "
        "With no configuration it runs on embedded simulated venues.",
    )
    parser.add_argument("--version", action="version", version=f"quantdesk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        mod = importlib.import_module(f"quantdesk.commands.{module}")
        p = sub.add_parser(name, help=help_text, description=help_text)
        mod.add_arguments(p)
        p.set_defaults(_module=mod)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # ``quantdesk`` and ``quantdesk --layout x`` mean ``quantdesk run ...``.
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "run")
    args = parser.parse_args(argv)
    if args.command is None:
        argv.insert(0, "run")
        args = parser.parse_args(argv)
    return int(args._module.main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
