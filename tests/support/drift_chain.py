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


# -- User account bytes with chosen order slots ----------------------------------
# Offsets in the Drift User account layout (driftpy's IDL): 32 order slots of
# 96 bytes from byte 1192, ``next_order_id`` (u32) at byte 4336. Within a slot:
# base_asset_amount u64 @16, base_asset_amount_filled u64 @24, max_ts i64 @64,
# order_id u32 @76, market_index u16 @80, status u8 @82 (0 Init, 1 Open),
# order_type u8 @83 (1 Limit), market_type u8 @84 (1 Perp), user_order_id u8 @85,
# direction u8 @87 (0 Long, 1 Short), trigger_condition u8 @91 (2 TriggeredAbove).
ORDERS_AT, ORDER_SIZE, NEXT_ORDER_ID_AT = 1192, 96, 4336


def user_bytes(orders: dict[int, dict], next_order_id: int, base: bytes | None = None) -> bytes:
    """The fixture User account with slots ``orders`` (slot -> fields: order_id,
    user_order_id, size, filled, max_ts, market_index, status, triggered)
    written over it and ``next_order_id`` set. A slot given as ``{}`` is cleared
    as the program clears a finished order."""
    import struct

    b = bytearray(base if base is not None else raw(USER_LINE))
    for slot, f in orders.items():
        at = ORDERS_AT + slot * ORDER_SIZE
        if not f:
            b[at : at + ORDER_SIZE] = bytes(ORDER_SIZE)
            continue
        struct.pack_into("<QQQQ", b, at + 8, f.get("price", 176_000_000), f["size"], f.get("filled", 0), 0)
        struct.pack_into("<q", b, at + 64, f.get("max_ts", 0))
        struct.pack_into("<IHBBBB", b, at + 76, f["order_id"], f.get("market_index", 0), f.get("status", 1), 1, 1,
                         f["user_order_id"])
        b[at + 87] = f.get("direction", 0)
        b[at + 91] = 2 if f.get("triggered") else 0
    struct.pack_into("<I", b, NEXT_ORDER_ID_AT, next_order_id)
    return bytes(b)
