"""``quantdesk inspect drift ACCOUNT (--b64 DATA | --file PATH) [--json]``: decode a raw account.

``quantdesk inspect jupiter (--b64 DATA | --file PATH) [--json]`` decodes Jupiter
Perps accounts (``venues/jupiter/inspect.py``); ``quantdesk inspect jupiter idl``
refreshes its IDL from the program's on-chain IDL account.

ACCOUNT is an account type of the engine's IDL (``PerpMarket``, ``User``,
``SpotMarket``, ``UserStats`` ...) or ``auto`` to detect it from the 8-byte
discriminator. ``--file`` holds base64 text, the raw account bytes, or JSON
lines (a fixture line with ``data_b64``, or a ``getAccountInfo`` response);
several lines print one result per line.

Amounts are in human units: prices and quote in USD, base amounts (open
interest, positions) in the base asset, funding in percent per hour.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
from pathlib import Path
from typing import Any

EXIT_BAD_INPUT = 2


class InputError(ValueError):
    pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("venue", choices=("drift", "velocity", "jupiter"), help="the venue (Drift-v2 engine deployment or jupiter)")
    parser.add_argument(
        "account", metavar="ACCOUNT", nargs="?",
        help="account type (PerpMarket, User, SpotMarket, UserStats ...) or 'auto'; "
        "for jupiter optional (detected), or 'idl' to refresh the IDL from chain",
    )
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--b64", metavar="DATA", help="the account data, base64")
    src.add_argument("--file", metavar="PATH", type=Path, help="file with base64, raw bytes or JSON lines")
    parser.add_argument("--json", action="store_true", help="print JSON (one object per account)")
    parser.add_argument(
        "--idl", metavar="PATH", type=Path,
        help="Anchor IDL file (needed for velocity; default: venues.<deployment>.idl_path from the config)",
    )
    parser.add_argument("--config", metavar="PATH", help="config file (default: the usual config location)")
    parser.add_argument(
        "--rpc", metavar="URL", action="append",
        help="Solana JSON-RPC URL for `inspect jupiter idl` (repeat for fallbacks; default: the public mainnet RPC)",
    )


def _b64(text: str, where: str) -> bytes:
    compact = "".join(text.split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{where} is not valid base64; pass the account data as base64 (or --file with raw bytes)") from None


def _from_json(obj: Any, where: str) -> bytes:
    """A fixture line (``data_b64``) or a Solana ``getAccountInfo`` result."""
    if isinstance(obj, dict):
        if isinstance(obj.get("data_b64"), str):
            return _b64(obj["data_b64"], where)
        for key in ("result", "value", "account"):
            if isinstance(obj.get(key), dict):
                return _from_json(obj[key], where)
        data = obj.get("data")
        if isinstance(data, list) and len(data) == 2 and data[1] == "base64" and isinstance(data[0], str):
            return _b64(data[0], where)
    raise InputError(f"{where}: JSON without account data; expected {{\"data_b64\": ...}} or a getAccountInfo result")


def read_accounts(b64: str | None, file: Path | None) -> list[bytes]:
    """The account byte strings the user passed."""
    if b64 is not None:
        return [_b64(b64, "--b64")]
    assert file is not None
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return [raw]  # raw account bytes
    if not text:
        raise InputError(f"{file} is empty")
    if text[0] in "{[":
        out = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                raise InputError(f"{file} line {n} is not valid JSON") from None
            out.append(_from_json(obj, f"{file} line {n}"))
        return out
    try:
        return [_b64(text, str(file))]
    except InputError:
        return [raw]  # text-looking raw bytes: let the decoder judge the discriminator and length


def _human(d: dict[str, Any], indent: str = "") -> list[str]:
    lines = []
    for k, v in d.items():
        if isinstance(v, list):
            lines.append(f"{indent}{k}: {len(v)}" if not v else f"{indent}{k}:")
            for item in v:
                sub = _human(item, indent + "    ") if isinstance(item, dict) else [f"{indent}    {item}"]
                sub[0] = indent + "  - " + sub[0].lstrip()
                lines.extend(sub)
        elif isinstance(v, dict):  # a nested struct
            lines.append(f"{indent}{k}:")
            lines.extend(_human(v, indent + "    "))
        else:
            lines.append(f"{indent}{k}: {'-' if v is None else v}")
    return lines


def _configured(venue: str, config: str | None) -> Any:
    """The deployment's section of the config file, if it has one (for idl_path)."""
    from quantdesk.config.settings import check_config

    settings, _problems = check_config(config)
    if settings is None:
        print(
            "quantdesk inspect: the config has problems (see `quantdesk config validate`); "
            "using the documented defaults",
            file=sys.stderr,
        )
        return None
    return getattr(settings.venues, venue, None)


def _fail(msg: str) -> int:
    print(f"quantdesk inspect: {msg}", file=sys.stderr)
    return EXIT_BAD_INPUT


def jupiter_idl_cache() -> Path:
    """Where ``inspect jupiter idl`` keeps the IDL read from chain (used instead of the bundled one)."""
    from quantdesk.config.paths import user_data_dir

    return user_data_dir() / "idl" / "jupiter-perpetuals.json"


def _jupiter_idl_path(args: argparse.Namespace) -> Path | None:
    if args.idl is not None:
        return args.idl
    cache = jupiter_idl_cache()
    return cache if cache.is_file() else None


def _jupiter_refresh_idl(args: argparse.Namespace) -> int:
    import asyncio

    from quantdesk.venues.jupiter.accounts import IdlError
    from quantdesk.venues.jupiter.config import PROGRAM_ID, JupiterConfig
    from quantdesk.venues.jupiter.idl_account import fetch_idl
    from quantdesk.venues.jupiter.rpc import RpcError, SolanaRpc

    async def run() -> tuple[str, object]:
        rpc = SolanaRpc(args.rpc or list(JupiterConfig().rpc_urls))
        try:
            return await fetch_idl(rpc, PROGRAM_ID, jupiter_idl_cache())
        finally:
            await rpc.close()

    try:
        address, decoder = asyncio.run(run())
    except (IdlError, RpcError) as exc:
        return _fail(str(exc))
    print(f"saved the Jupiter Perps IDL from {address} to {jupiter_idl_cache()} "
          f"({len(decoder.names)} account types); inspect and the venue use it from now on")
    return 0


def _jupiter(args: argparse.Namespace) -> int:
    import msgspec

    from quantdesk.venues.jupiter.accounts import ACCOUNT_TYPES, AccountDecodeError, IdlError, decoder
    from quantdesk.venues.jupiter.inspect import InputError as JupiterInputError
    from quantdesk.venues.jupiter.inspect import RawAccount, inspect_accounts, parse_input

    if (args.account or "").lower() == "idl":
        return _jupiter_refresh_idl(args)
    if args.b64 is None and args.file is None:
        return _fail("pass the account data: --b64 DATA or --file PATH (or `inspect jupiter idl`)")
    wanted = None
    if args.account and args.account.lower() != "auto":
        wanted = next((n for n in ACCOUNT_TYPES if n.lower() == args.account.replace("_", "").lower()), None)
        if wanted is None:
            return _fail(f"unknown Jupiter account type {args.account!r}; known: {', '.join(ACCOUNT_TYPES)}, idl")
    try:
        if args.b64 is not None:
            raws = parse_input(args.b64, "--b64")
        else:
            try:
                raws = parse_input(args.file.read_text(), str(args.file))
            except UnicodeDecodeError:
                raws = [RawAccount(args.file.read_bytes())]  # raw account bytes
            except OSError as exc:
                return _fail(f"cannot read {args.file}: {exc.strerror or exc}")
        dec = decoder(_jupiter_idl_path(args))
        results = inspect_accounts(dec, raws)
    except (JupiterInputError, IdlError, AccountDecodeError) as exc:
        return _fail(str(exc))
    if wanted is not None:
        other = [r["account"] for r in results if r["account"] not in (wanted, None)]
        if other:
            return _fail(f"the input holds a {other[0]} account, not a {wanted}")
    if args.json:
        sys.stdout.write(msgspec.json.Encoder(decimal_format="number").encode(results).decode() + "\n")
    else:
        for n, r in enumerate(results):
            if n:
                print()
            print("\n".join(_human(r)))
    return 0


def main(args: argparse.Namespace) -> int:
    import msgspec

    if args.venue == "jupiter":
        return _jupiter(args)
    if args.account is None:
        return _fail("name the account type (PerpMarket, User, SpotMarket, UserStats ...) or 'auto'")
    if args.b64 is None and args.file is None:
        return _fail("pass the account data: --b64 DATA or --file PATH")

    from quantdesk.venues.drift.accounts import normalize
    from quantdesk.venues.drift.config import default_deployment
    from quantdesk.venues.drift.idl import AccountDecodeError, IdlError, decoder_for

    def fail(msg: str) -> int:
        print(f"quantdesk inspect: {msg}", file=sys.stderr)
        return EXIT_BAD_INPUT

    deployment = _configured(args.venue, getattr(args, "config", None)) or default_deployment(args.venue)
    if args.idl is not None:
        deployment = deployment.model_copy(update={"idl_path": args.idl})
    try:
        decoder = decoder_for(deployment)
        datas = read_accounts(args.b64, args.file)
        if args.account.lower() != "auto":
            decoder.resolve_name(args.account)
        results = []
        for i, data in enumerate(datas, 1):
            try:
                name, acc = decoder.decode(data, args.account)
            except AccountDecodeError as exc:
                raise AccountDecodeError(f"account {i} of {len(datas)}: {exc}" if len(datas) > 1 else str(exc)) from None
            results.append(normalize(name, acc))
    except (InputError, IdlError, AccountDecodeError) as exc:
        return fail(str(exc))

    if args.json:
        enc = msgspec.json.Encoder(decimal_format="number")
        for r in results:
            sys.stdout.write(enc.encode(r).decode() + "\n")
    else:
        for n, r in enumerate(results):
            if n:
                print()
            print("\n".join(_human(r)))
    return 0
