"""``quantdesk signer ...``: the trader's signer.

``quantdesk signer pubkey`` prints the public key and kind of the configured
signer (the top-level ``signer`` setting or ``--signer``).

``quantdesk signer serve --signer keypair:PATH --socket PATH [--policy FILE]``
runs the signer agent on the machine that holds the key (the trader's
laptop): consoles elsewhere reach it through an SSH-forwarded Unix socket and
``signer = "agent:/remote/agent.sock"``. Each transaction is decoded, checked
against the transaction policy, shown, and signed when the trader answers
``y`` at this terminal or the ``--policy`` file auto-approves it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

EXIT_BAD_INPUT = 2
from quantdesk.signing.spec import SOLANA_CLI_DEFAULT


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="signer_command", metavar="ACTION", required=True)
    pubkey = sub.add_parser("pubkey", help="print the configured signer's public key and kind")
    pubkey.add_argument("--signer", metavar="SIGNER", help="instead of the config's signer setting: keypair:PATH, ledger:PATH, ledger-tcp:HOST:PORT:PATH, agent:SOCKET")
    pubkey.add_argument("--config", metavar="PATH", help="config file (default: the user config)")
    serve = sub.add_parser(
        "serve",
        help="run the signer agent on a Unix socket (forward it to a console with ssh -R)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--signer", metavar="SIGNER", default=os.environ.get("QUANTDESK_SIGNER"),
                       help=f"keypair:PATH (default path {SOLANA_CLI_DEFAULT}), ledger:PATH or ledger-tcp:HOST:PORT:PATH; "
                       "default: $QUANTDESK_SIGNER")
    serve.add_argument("--socket", metavar="PATH", required=True, help="the Unix socket to create (mode 0600)")
    serve.add_argument("--policy", metavar="FILE", help="auto-approve policy (TOML): markets, max notional "
                       "per order and per hour, allowed programs; see the README")
    serve.add_argument("--allow-program", metavar="PROGRAM_ID", action="append", default=[],
                       help="also sign transactions calling this program (repeatable); the venues' own are allowed")
    serve.add_argument("--allow-durable-nonce", action="store_true",
                       help="sign transactions that use a durable nonce (refused by default: they never expire)")
    serve.add_argument("--config", metavar="PATH", help="config file, for the venues' settings (default: the user config)")


def main(args: argparse.Namespace) -> int:
    try:
        return _pubkey(args) if args.signer_command == "pubkey" else _serve(args)
    except _BadInput as exc:
        print(f"quantdesk signer {args.signer_command}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


class _BadInput(Exception):
    pass


def open_signer(text: str | None) -> tuple[Any, str]:
    """(signer, kind) for a ``--signer`` value the agent serves; _BadInput saying what to write."""
    from quantdesk.signing import spec as signer_spec
    from quantdesk.signing.base import SignerError

    if not text:
        raise _BadInput(f"name the signer: --signer keypair:PATH (e.g. keypair:{SOLANA_CLI_DEFAULT})")
    try:
        parsed = signer_spec.parse_signer(text)
    except signer_spec.SignerSpecError as exc:
        raise _BadInput(str(exc)) from None
    if parsed.kind == "agent":
        raise _BadInput("the agent serves a key it holds: give it --signer keypair:PATH, not another agent")
    if parsed.kind == "none":
        raise _BadInput(f"the agent needs a key to serve: --signer keypair:PATH (e.g. keypair:{SOLANA_CLI_DEFAULT})")
    try:
        return signer_spec.open_signer(parsed), parsed.kind
    except SignerError as exc:
        raise _BadInput(str(exc)) from None


def _pubkey(args: argparse.Namespace) -> int:
    from quantdesk.signing import spec as signer_spec
    from quantdesk.signing.base import SignerError

    text = args.signer
    if text is None:
        from quantdesk.config.settings import load_config
        from quantdesk.core.problems import ProblemsError

        try:
            text = load_config(args.config).signer
        except ProblemsError as exc:
            raise _BadInput(f"{exc.render()}\nFix these (check with `quantdesk config validate`) and try again.") from None
    try:
        parsed = signer_spec.parse_signer(text)
        signer = signer_spec.open_signer(parsed)
        if signer is None:
            print('no signer configured (read-only): set signer = "keypair:PATH" or "agent:SOCKET" in the config, '
                  "or QUANTDESK_SIGNER")
            return 1
        print(f"{signer.pubkey}  {parsed.kind}  ({parsed.describe()})")
    except (signer_spec.SignerSpecError, SignerError) as exc:
        raise _BadInput(str(exc)) from None
    return 0


def _serve(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from quantdesk.signing.agent_server import AgentServer, terminal_approver
    from quantdesk.signing.auto_approve import AutoApprove
    from quantdesk.signing.base import SignerError
    from quantdesk.signing.policy import TransactionPolicy

    signer, kind = open_signer(args.signer)
    auto = None
    if args.policy:
        path = Path(args.policy).expanduser()
        try:
            auto = AutoApprove.parse(path.read_text(), str(path))
        except OSError as exc:
            raise _BadInput(f"cannot read the policy file {path}: {exc.strerror or exc}") from None
        except SignerError as exc:
            raise _BadInput(str(exc)) from None
    decoders = _decoders(args.config)
    programs = {d.program_id for d in decoders} | set(args.allow_program)
    if auto is not None:
        programs |= auto.allowed_programs
    rules = TransactionPolicy.of(programs, allow_durable_nonce=args.allow_durable_nonce)
    approver = terminal_approver() if sys.stdin.isatty() else None
    server = AgentServer(signer, decoders=decoders, rules=rules, approver=approver, auto=auto, kind=kind,
                         say=lambda text: print(text, flush=True))
    sock = Path(args.socket).expanduser()

    async def run() -> None:
        srv = await server.start(sock)
        print(f"Signer agent for {signer.pubkey} ({kind}) listening on {sock} (mode 0600).", flush=True)
        print(f"Forward it: ssh -R /remote/agent.sock:{sock} SERVER, then set signer = \"agent:/remote/agent.sock\" "
              "in the console's config.", flush=True)
        if approver is None:
            print("No terminal on stdin: only what the --policy file auto-approves is signed.", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with srv:
            await stop.wait()
        print("Signer agent stopped.", flush=True)

    try:
        asyncio.run(run())
    except SignerError as exc:
        raise _BadInput(str(exc)) from None
    finally:
        if sock.is_socket():
            sock.unlink()
    return 0


def _decoders(config: str | None) -> list[Any]:
    from quantdesk.config.settings import load_config
    from quantdesk.core.problems import ProblemsError
    from quantdesk.venues import registry

    try:
        settings = load_config(config)
    except ProblemsError as exc:
        raise _BadInput(f"{exc.render()}\nFix these (check with `quantdesk config validate`) and try again.") from None
    return registry.instruction_decoders(settings)
