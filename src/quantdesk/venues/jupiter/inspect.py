"""Raw Jupiter Perps accounts to printable objects, for ``quantdesk inspect jupiter``.

Input is base64 of one account, or a JSON-RPC ``getAccountInfo`` /
``getMultipleAccounts`` response (pubkeys come from the request's params when
the file holds the request too, as ``{"request": ..., "response": ...}``, or
from a list of ``{"pubkey", "account"}`` such as ``getProgramAccounts``
returns). Each account prints as ``pubkey``, ``account``, its IDL fields,
``layout`` (how many bytes the IDL covers and how many are past it) and
``derived``; a position's fees and liquidation price appear when its custody
and collateral custody are in the same input.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from quantdesk.venues.jupiter.accounts import AccountDecodeError, AccountDecoder, DecodedAccount
from quantdesk.venues.jupiter.derived import custody_derived, position_derived
from quantdesk.venues.jupiter.views import CustodyView, PositionView


class InputError(ValueError):
    """Input that holds no account data; the message says what was expected."""


@dataclass(frozen=True)
class RawAccount:
    data: bytes
    pubkey: str | None = None


def _b64(text: str, where: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{where} is not valid base64 account data") from None


def _account_value(v: Any, where: str) -> bytes | None:
    """An RPC account object (``{"data": [b64, "base64"], ...}``) or null."""
    if v is None:
        return None
    if isinstance(v, dict):
        data = v.get("data")
        if isinstance(data, list) and len(data) == 2 and isinstance(data[0], str):
            if data[1] != "base64":
                raise InputError(f"{where}: account data is {data[1]!r}; ask the RPC for encoding \"base64\"")
            return _b64(data[0], where)
    raise InputError(f"{where}: not an account object with base64 data")


def _from_json(obj: Any, where: str) -> list[RawAccount]:
    if isinstance(obj, dict) and "response" in obj:  # request and response saved together
        keys = _request_keys(obj.get("request"))
        accounts = _from_json(obj["response"], where)
        if keys and len(keys) == len(accounts):
            return [RawAccount(a.data, k) for a, k in zip(accounts, keys)]
        return accounts
    if isinstance(obj, dict) and isinstance(obj.get("data_b64"), str):  # a fixture line
        return [RawAccount(_b64(obj["data_b64"], where), obj.get("pubkey"))]
    if isinstance(obj, dict) and "error" in obj and "result" not in obj:
        err = obj["error"] if isinstance(obj["error"], dict) else {"message": obj["error"]}
        raise InputError(f"{where}: the RPC answered with an error: {err.get('message', err)}")
    if isinstance(obj, dict) and "result" in obj:
        return _from_json(obj["result"], where)
    if isinstance(obj, dict) and "value" in obj:
        value = obj["value"]
        items = value if isinstance(value, list) else [value]
        out = []
        for n, v in enumerate(items):
            data = _account_value(v, f"{where} account {n + 1}")
            if data is not None:
                out.append(RawAccount(data))
            else:
                out.append(RawAccount(b"", None))  # a missing account keeps its place for the pubkeys
        return out
    if isinstance(obj, list):  # getProgramAccounts: [{"pubkey", "account"}]
        out = []
        for n, item in enumerate(obj):
            if not (isinstance(item, dict) and "account" in item):
                raise InputError(f"{where} item {n + 1}: expected {{\"pubkey\": ..., \"account\": ...}}")
            data = _account_value(item["account"], f"{where} item {n + 1}")
            out.append(RawAccount(data or b"", item.get("pubkey")))
        return out
    if isinstance(obj, dict) and "data" in obj:
        return [RawAccount(_account_value(obj, where) or b"")]
    raise InputError(
        f"{where}: JSON without account data; expected a getAccountInfo or getMultipleAccounts response"
    )


def _request_keys(req: Any) -> list[str]:
    if isinstance(req, dict) and isinstance(req.get("params"), list) and req["params"]:
        first = req["params"][0]
        if isinstance(first, str):
            return [first]
        if isinstance(first, list) and all(isinstance(k, str) for k in first):
            return list(first)
    return []


def parse_input(text: str, where: str) -> list[RawAccount]:
    """The accounts in a file's text: base64 of one account, or JSON (a response, or one object a line)."""
    text = text.strip()
    if not text:
        raise InputError(f"{where} is empty")
    if text[0] not in "{[":
        return [RawAccount(_b64(text, where))]
    try:
        return _from_json(json.loads(text), where)
    except json.JSONDecodeError:
        pass
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                raise InputError(f"{where} line {n} is not valid JSON") from None
            out.extend(_from_json(obj, f"{where} line {n}"))
    return out


def inspect_accounts(decoder: AccountDecoder, raws: list[RawAccount]) -> list[dict[str, Any]]:
    """One object per account, in input order. Accounts that do not decode raise AccountDecodeError
    naming which one; missing accounts (null in the response) print as ``account: null``."""
    decoded: list[DecodedAccount | None] = []
    for n, raw in enumerate(raws, 1):
        if not raw.data:
            decoded.append(None)
            continue
        try:
            decoded.append(decoder.decode(raw.data))
        except AccountDecodeError as exc:
            where = raw.pubkey or f"account {n} of {len(raws)}"
            raise AccountDecodeError(f"{where}: {exc}" if len(raws) > 1 or raw.pubkey else str(exc)) from None
    custodies = {
        raw.pubkey: CustodyView.from_fields(acc.fields, raw.pubkey)
        for raw, acc in zip(raws, decoded)
        if acc is not None and acc.name == "Custody" and raw.pubkey
    }
    out = []
    for raw, acc in zip(raws, decoded):
        if acc is None:
            out.append({"pubkey": raw.pubkey, "account": None})
            continue
        obj: dict[str, Any] = {"pubkey": raw.pubkey, "account": acc.name}
        obj.update(acc.fields)
        obj["layout"] = {
            "data_bytes": acc.data_length,
            "idl_bytes": acc.idl_length,
            "bytes_past_idl": acc.bytes_past_idl,  # newer fields the IDL does not describe; not decoded
        }
        if acc.name == "Custody":
            obj["derived"] = custody_derived(CustodyView.from_fields(acc.fields, raw.pubkey or ""))
        elif acc.name == "Position":
            obj["derived"] = position_derived(PositionView.from_fields(acc.fields, raw.pubkey or ""), custodies)
        out.append(obj)
    return out
