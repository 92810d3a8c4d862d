"""The signer agent's wire protocol (version 1), shared by the agent and its client.

One request, one reply, over a Unix socket (forwarded with ``ssh -R``). Each
message is a frame: a 4-byte big-endian length, then that many bytes of a
UTF-8 JSON object. A frame over ``MAX_FRAME`` bytes is refused and the
connection closed (a Solana transaction is at most 1,232 bytes).

Requests: ``{"v": 1, "op": "pubkey"}`` and
``{"v": 1, "op": "sign", "message": "<base64 of the serialized transaction message>"}``.
Replies: ``{"v": 1, "ok": true, "pubkey": "<base58>", "kind": "keypair"}``,
``{"v": 1, "ok": true, "signature": "<base64 of 64 bytes>"}``, or
``{"v": 1, "ok": false, "error": "<code>", "message": "<a sentence for the trader>"}``
with the codes in ``ERRORS``. No request returns secret key material: the
protocol has no way to ask for it.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

VERSION = 1
MAX_FRAME = 64 * 1024
HEADER = 4
OPS = ("pubkey", "sign")
ERRORS = {
    "bad_request": "the request is not a JSON object of this protocol",
    "version": "the request's protocol version is not one this agent speaks",
    "too_large": "the frame is larger than the agent accepts",
    "refused": "the trader (or the auto-approve policy) declined to sign",
    "policy": "the transaction breaks the transaction policy",
    "signer": "the agent's signer failed",
}


class WireError(Exception):
    """A frame or request that breaks the protocol; ``code`` is one of ``ERRORS``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Request:
    op: str
    message: bytes = b""  # for "sign": the serialized transaction message


def frame(obj: dict[str, Any]) -> bytes:
    body = json.dumps(obj, separators=(",", ":")).encode()
    if len(body) > MAX_FRAME:
        raise WireError("too_large", f"a {len(body):,}-byte frame is over the {MAX_FRAME:,}-byte limit")
    return len(body).to_bytes(HEADER, "big") + body


def frame_length(header: bytes) -> int:
    """The body length a header announces; WireError ``too_large`` past the limit."""
    n = int.from_bytes(header, "big")
    if n > MAX_FRAME:
        raise WireError("too_large", f"frame of {n:,} bytes refused: the agent accepts at most {MAX_FRAME:,}")
    return n


def parse_request(body: bytes) -> Request:
    try:
        obj = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WireError("bad_request", "the request is not UTF-8 JSON; send a JSON object such as "
                        '{"v": 1, "op": "pubkey"}') from None
    if not isinstance(obj, dict):
        raise WireError("bad_request", "the request must be a JSON object")
    v = obj.get("v")
    if v != VERSION or isinstance(v, bool):
        raise WireError("version", f"protocol version {v!r} is not supported; this agent speaks version {VERSION}: "
                        "update QuantDesk on the console or on the agent so both match")
    op = obj.get("op")
    if op not in OPS:
        raise WireError("bad_request", f"unknown op {op!r}; use one of {', '.join(OPS)}")
    if op == "pubkey":
        return Request("pubkey")
    raw = obj.get("message")
    if not isinstance(raw, str):
        raise WireError("bad_request", 'a sign request needs "message": the base64 serialized transaction message')
    try:
        message = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise WireError("bad_request", '"message" is not valid base64') from None
    return Request("sign", message)


def error_reply(code: str, message: str) -> dict[str, Any]:
    return {"v": VERSION, "ok": False, "error": code, "message": message}


def sign_request(message: bytes) -> dict[str, Any]:
    return {"v": VERSION, "op": "sign", "message": base64.b64encode(message).decode()}


def pubkey_request() -> dict[str, Any]:
    return {"v": VERSION, "op": "pubkey"}
