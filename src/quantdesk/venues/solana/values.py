"""Values every Solana JSON-RPC client reads or shows: account data in an RPC
account object, and a host name fit for a screen or a log."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlsplit


def safe_host(url: str) -> str:
    """``https://rpc.example.com/?api-key=...`` -> ``https://rpc.example.com`` (never the key)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def account_data(value: Any) -> bytes | None:
    """The bytes of an RPC account object with base64 data; None for a missing or unreadable one."""
    if not isinstance(value, dict):
        return None
    data = value.get("data")
    if not (isinstance(data, list) and len(data) == 2 and data[1] == "base64" and isinstance(data[0], str)):
        return None
    try:
        return base64.b64decode(data[0], validate=True)
    except ValueError:
        return None
