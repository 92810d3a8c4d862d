"""``quantdesk inspect drift ACCOUNT (--b64 DATA | --file PATH) [--json]``: decode a raw account.

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
    parser.add_argument("venue", choices=("drift", "velocity"), help="the Drift-v2 engine deployment")
    parser.add_argument("account", metavar="ACCOUNT", help="account type (PerpMarket, User, SpotMarket, UserStats ...) or 'auto'")
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--b64", metavar="DATA", help="the account data, base64")
    src.add_argument("--file", metavar="PATH", type=Path, help="file with base64, raw bytes or JSON lines")
    parser.add_argument("--json", action="store_true", help="print JSON (one object per account)")
    parser.add_argument(
        "--idl", metavar="PATH", type=Path,
        help="Anchor IDL file (needed for velocity; default: venues.<deployment>.idl_path from the config)",
    )
    parser.add_argument("--config", metavar="PATH", help="config file (default: the usual config location)")


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


def main(args: argparse.Namespace) -> int:
    import msgspec

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
