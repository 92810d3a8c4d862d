"""The real mainnet Jupiter Perps accounts of tests/fixtures/jupiter (one getMultipleAccounts)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "jupiter"
ACCOUNTS_FILE = FIXTURES / "mainnet_accounts.jsonl"

SOL_CUSTODY = "7xS2gz2bTp3fwCC7knJvUWTEU9Tycczu6VhJYKgi1wdz"
POOL = "5BUwFW4nRbftYTDMbgxykoFWqWHPzahFSNAaaaJtVKsq"
LONG_POSITION = "2DNqvKcgnx5Huk6VkjeoZbjhna6hZd7GRuG8RCH2dPEV"


def lines() -> list[dict[str, Any]]:
    return [json.loads(line) for line in ACCOUNTS_FILE.read_text().splitlines() if line.strip()]


def data(pubkey: str) -> bytes:
    return next(base64.b64decode(x["data_b64"]) for x in lines() if x["pubkey"] == pubkey)


def lookup(obj: dict[str, Any], dotted: str) -> Any:
    """``assets.owned`` -> obj["assets"]["owned"]."""
    for part in dotted.split("."):
        obj = obj[part]
    return obj
