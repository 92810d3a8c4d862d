"""``quantdesk inspect VENUE [ACCOUNT] (--b64 DATA | --file PATH) [--json]``: decode a raw account.

VENUE is any registered venue with account decoders (``VenueSpec.inspect``;
built in: drift and velocity, the Drift-v2 engine, and jupiter). For Drift,
ACCOUNT is an account type of the engine's IDL (``PerpMarket``, ``User``,
``SpotMarket``, ``UserStats`` ...) or ``auto`` to detect it from the 8-byte
discriminator; for Jupiter it is optional (detected), and ``quantdesk inspect
jupiter idl`` refreshes the IDL from the program's on-chain IDL account.
``--file`` holds base64 text, the raw account bytes, or JSON lines (a fixture
line with ``data_b64``, or a ``getAccountInfo`` response); several lines
print one result per line.

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

from quantdesk.core.venue import VenueError

EXIT_BAD_INPUT = 2


class InputError(VenueError, ValueError):
    pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("venue", metavar="VENUE", help="a venue with account decoders, e.g. drift, velocity or jupiter")
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


def _configured(spec: Any, venue: str, config: str | None) -> Any:
    """The venue's section of the config file (for idl_path), else its defaults."""
    from quantdesk.config.settings import check_config

    settings, _problems = check_config(config)
    if settings is None:
        print(
            "quantdesk inspect: the config has problems (see `quantdesk config validate`); "
            "using the documented defaults",
            file=sys.stderr,
        )
    return spec.section_or_default(settings, venue)


def _fail(msg: str) -> int:
    print(f"quantdesk inspect: {msg}", file=sys.stderr)
    return EXIT_BAD_INPUT


def main(args: argparse.Namespace) -> int:
    import msgspec

    from quantdesk.config.paths import user_data_dir
    from quantdesk.venues import registry

    try:
        spec = registry.spec_for(args.venue)
    except registry.RegistryError as exc:
        return _fail(str(exc))
    if spec.inspect is None:
        return _fail(f"{args.venue} has no account decoders; choose one of {', '.join(registry.inspect_names())}")

    def read() -> list[bytes]:
        if args.b64 is None and args.file is None:
            raise InputError("pass the account data: --b64 DATA or --file PATH")
        return read_accounts(args.b64, args.file)

    try:
        request = registry.InspectRequest(
            config=_configured(spec, args.venue, getattr(args, "config", None)), name=args.venue,
            account=args.account, read=read, b64=args.b64, file=args.file, schema=args.idl,
            rpc_urls=tuple(getattr(args, "rpc", None) or ()), data_dir=user_data_dir(),
        )
        out = spec.inspect(request)
    except (VenueError, registry.RegistryError) as exc:
        return _fail(str(exc))

    if out.message:
        print(out.message)
    elif args.json:
        enc = msgspec.json.Encoder(decimal_format="number")
        if out.one_document:
            sys.stdout.write(enc.encode(out.records).decode() + "\n")
        else:
            for r in out.records:
                sys.stdout.write(enc.encode(r).decode() + "\n")
    else:
        for n, r in enumerate(out.records):
            if n:
                print()
            print("\n".join(_human(r)))
    return 0
