"""Real mainnet Drift account bytes (tests/fixtures/drift/mainnet_accounts.jsonl)
and reading the transactions built on them."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import base58

from quantdesk.venues.drift.config import DRIFT_PROGRAM_ID

ACCOUNTS = Path(__file__).parent.parent / "fixtures" / "drift" / "mainnet_accounts.jsonl"
LINES = [json.loads(x) for x in ACCOUNTS.read_text().splitlines() if x.strip()]
USER_LINE = 21  # a mainnet User with SOL-PERP and 1MBONK-PERP positions and open orders


def raw(n: int) -> bytes:
    return base64.b64decode(LINES[n]["data_b64"])


def pk(b: bytes, off: int) -> str:
    """The base58 public key at byte ``off``."""
    return base58.b58encode(b[off : off + 32]).decode()


def drift_ix(preview: dict) -> dict:
    """The one Drift-program instruction of a transaction preview."""
    ixs = [i for i in preview["instructions"] if i["program_id"] == DRIFT_PROGRAM_ID]
    assert len(ixs) == 1
    return ixs[0]
