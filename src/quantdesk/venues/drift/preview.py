"""A Drift transaction as a trader reads it before signing: programs, named
accounts and instruction arguments in human units.

``transaction.decode`` gives the raw decoded transaction (integers at the
engine's precisions). Here prices become dollars (1e6), base amounts the
base asset (1e9), market indexes their symbols, and each account gets a
name: the instruction's own accounts from the IDL (state, user, authority),
the remaining ones recognised from the loaded markets (a market account, its
oracle, a spot market).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

PRICE_ARGS = {"price", "trigger_price", "oracle_price_offset", "auction_start_price", "auction_end_price"}
BASE_ARGS = {"base_asset_amount"}
PRICE_DECIMALS = 6
BASE_DECIMALS = 9


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def instruction_account_names(idl: Any) -> dict[str, list[str]]:
    """Instruction name (snake case, as decoded) -> the names of its IDL accounts, in order."""
    out: dict[str, list[str]] = {}
    for ix in getattr(idl, "instructions", None) or []:
        out[_snake(ix.name)] = [_snake(a.name) for a in ix.accounts]
    return out


def known_accounts(store: Any, symbols: dict[int, str]) -> dict[str, str]:
    """Pubkey -> label for the markets and oracles held in an ``AccountStore``."""
    from quantdesk.venues.drift.accounts import fixed_name

    labels: dict[str, str] = {}
    for index, m in store.perp_markets.items():
        name = symbols.get(index) or fixed_name(m.name)
        labels[str(m.pubkey)] = f"{name} market"
        labels.setdefault(str(m.amm.oracle), f"{name} oracle")
    for index, m in store.spot_markets.items():
        name = fixed_name(m.name)
        labels[str(m.pubkey)] = f"{name} spot market"
        labels.setdefault(str(m.oracle), f"{name} oracle")
    return labels


def _human_args(args: Any, symbols: dict[int, str]) -> Any:
    if isinstance(args, dict):
        out: dict[str, Any] = {}
        for key, value in args.items():
            if isinstance(value, int) and not isinstance(value, bool) and key in PRICE_ARGS:
                out[key] = "$" + _plain(Decimal(value).scaleb(-PRICE_DECIMALS))
            elif isinstance(value, int) and not isinstance(value, bool) and key in BASE_ARGS:
                out[key] = _plain(Decimal(value).scaleb(-BASE_DECIMALS))
            else:
                out[key] = _human_args(value, symbols)
            if key == "market_index" and isinstance(value, int) and value in symbols:
                out["market"] = symbols[value]
        return out
    if isinstance(args, list):
        return [_human_args(v, symbols) for v in args]
    return args


def humanize(
    decoded: dict[str, Any],
    *,
    program_id: str,
    account_names: dict[str, list[str]],
    labels: dict[str, str],
    symbols: dict[int, str],
) -> dict[str, Any]:
    """A copy of ``transaction.decode`` output with named accounts and human-unit arguments."""
    out = dict(decoded)
    ixs = []
    for ix in decoded["instructions"]:
        entry = dict(ix)
        names = account_names.get(ix.get("instruction", ""), []) if ix["program_id"] == program_id else []
        accounts = []
        for n, acc in enumerate(ix["accounts"]):
            name = names[n] if n < len(names) else labels.get(acc["pubkey"], "remaining account")
            accounts.append({"name": name, **acc})
        entry["accounts"] = accounts
        if ix["program_id"] == program_id and "args" in ix:
            entry["args"] = _human_args(ix["args"], symbols)
        ixs.append(entry)
    out["instructions"] = ixs
    return out


def _arg_text(args: Any, prefix: str = "") -> list[str]:
    if isinstance(args, dict):
        lines = []
        for key, value in args.items():
            if value is None:
                continue
            if isinstance(value, dict):
                lines.extend(_arg_text(value, f"{prefix}{key}."))
            else:
                lines.append(f"{prefix}{key} = {value}")
        return lines
    return [f"{prefix.rstrip('.')} = {args}"]


def render(human: dict[str, Any], title: str) -> list[str]:
    """The preview as plain lines (the command prints them; the UI shows them)."""
    sigs = human.get("signatures") or []
    lines = [
        title,
        f"  fee payer      {human['fee_payer']}",
        f"  blockhash      {human['recent_blockhash']}",
        f"  durable nonce  {'YES' if human.get('uses_durable_nonce') else 'no'}",
        f"  signatures     {', '.join(sigs) if sigs else 'none (not signed yet)'}",
    ]
    for n, ix in enumerate(human["instructions"], start=1):
        lines.append(f"  {n}. {ix['program']} ({ix['program_id']}): {ix.get('instruction', 'unknown')}")
        for arg in _arg_text(ix.get("args") or {}):
            lines.append(f"       {arg}")
        if "data_hex" in ix:
            lines.append(f"       data = {ix['data_hex']}")
        for acc in ix["accounts"]:
            flags = ",".join(f for f, on in (("signer", acc["signer"]), ("writable", acc["writable"])) if on)
            lines.append(f"       · {acc['name']:<22} {acc['pubkey']}{f'  [{flags}]' if flags else ''}")
    return lines
