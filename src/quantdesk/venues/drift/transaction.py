"""Decode Drift transactions (solders v0 messages) for the preview.

Composing, checking against the transaction policy and signing are shared by
every Solana venue (``venues/solana/transaction.py``); they are re-exported
here under the names the Drift executor uses.
"""

from __future__ import annotations

from typing import Any

from quantdesk.signing import policy
from quantdesk.venues.drift.accounts import plain
from quantdesk.venues.drift.config import COMPUTE_BUDGET_PROGRAM_ID
from quantdesk.venues.solana.transaction import TransactionRefused, check, compose, compute_budget_ixs, sign

__all__ = ["TransactionRefused", "check", "compose", "compute_budget_ixs", "decode", "sign", "uses_durable_nonce"]


def uses_durable_nonce(message: Any) -> bool:
    return policy.decode(message).durable_nonce


def decode(tx: Any, instruction_coders: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """A readable account of a transaction (or an unsigned message): programs,
    accounts and decoded arguments."""
    msg = getattr(tx, "message", tx)
    signatures = [str(s) for s in tx.signatures] if hasattr(tx, "signatures") else []
    keys = msg.account_keys
    out_ixs = []
    for ix in msg.instructions:
        program = str(keys[ix.program_id_index])
        entry: dict[str, Any] = {
            "program": names.get(program, "unknown"),
            "program_id": program,
            "accounts": [
                {"pubkey": str(keys[i]), "signer": msg.is_signer(i), "writable": msg.is_maybe_writable(i)}
                for i in bytes(ix.accounts)
            ],
        }
        data = bytes(ix.data)
        if program == COMPUTE_BUDGET_PROGRAM_ID:
            entry.update(_compute_budget(data))
        elif program in instruction_coders:
            try:
                named = instruction_coders[program].parse(data)
                entry["instruction"] = named.name
                entry["args"] = plain(named.data)
            except Exception:
                entry["instruction"] = "undecodable"
                entry["data_hex"] = data.hex()
        else:
            entry["data_hex"] = data.hex()
        out_ixs.append(entry)
    return {
        "signatures": signatures,
        "fee_payer": str(keys[0]),
        "recent_blockhash": str(msg.recent_blockhash),
        "uses_durable_nonce": policy.decode(msg).durable_nonce,
        "instructions": out_ixs,
    }


def _compute_budget(data: bytes) -> dict[str, Any]:
    if data[:1] == b"\x02" and len(data) == 5:
        return {"instruction": "set_compute_unit_limit", "args": {"units": int.from_bytes(data[1:5], "little")}}
    if data[:1] == b"\x03" and len(data) == 9:
        return {"instruction": "set_compute_unit_price", "args": {"micro_lamports": int.from_bytes(data[1:9], "little")}}
    return {"instruction": "unknown", "data_hex": data.hex()}
