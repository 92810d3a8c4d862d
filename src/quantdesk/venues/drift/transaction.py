"""Compose, check, sign and decode Drift transactions (solders v0 messages).

Every transaction is checked by the transaction policy (``signing.policy``)
before it reaches the signer: each instruction's program must be on the
allowlist (the deployment's program and ComputeBudget), a durable nonce (an
AdvanceNonceAccount first instruction, which makes a signed transaction valid
indefinitely) is refused unless explicitly allowed, and the fee payer must be
the signer.
"""

from __future__ import annotations

from typing import Any

from quantdesk.signing import policy
from quantdesk.signing.base import Signer, SignerError
from quantdesk.venues.base import VenueError
from quantdesk.venues.drift.accounts import plain
from quantdesk.venues.drift.config import COMPUTE_BUDGET_PROGRAM_ID



class TransactionRefused(VenueError):
    pass


def compute_budget_ixs(units: int, micro_lamports: int) -> list[Any]:
    from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price

    ixs = [set_compute_unit_limit(units)] if units else []
    if micro_lamports:
        ixs.append(set_compute_unit_price(micro_lamports))
    return ixs


def compose(payer: Any, instructions: list[Any], blockhash: Any) -> Any:
    """A v0 message paying from ``payer`` with ``blockhash`` (solders Hash or base58 str)."""
    from solders.hash import Hash
    from solders.message import MessageV0

    bh = Hash.from_string(blockhash) if isinstance(blockhash, str) else blockhash
    return MessageV0.try_compile(payer, instructions, [], bh)


def uses_durable_nonce(message: Any) -> bool:
    return policy.decode(message).durable_nonce


def check(
    message: Any,
    allowed_programs: set[str],
    *,
    allow_durable_nonce: bool = False,
    signer: Any = None,
    decoders: Any = (),
) -> policy.TransactionView:
    """The policy's view of ``message``; TransactionRefused (every reason) unless
    every program is allowed, no durable nonce is used (unless allowed) and the
    fee payer is ``signer`` (default: whoever pays)."""
    view = policy.decode(message, decoders)
    rules = policy.TransactionPolicy.of(allowed_programs, allow_durable_nonce=allow_durable_nonce)
    reasons = policy.refusals(view, rules, str(signer) if signer is not None else view.fee_payer)
    if reasons:
        raise TransactionRefused("refused: " + "; ".join(reasons))
    return view


def sign(message: Any, signer: Signer) -> Any:
    """A VersionedTransaction signed by ``signer`` (the fee payer); the signature is verified."""
    from solders.message import to_bytes_versioned
    from solders.signature import Signature
    from solders.transaction import VersionedTransaction

    if message.account_keys[0] != signer.pubkey:
        raise SignerError(f"the fee payer {message.account_keys[0]} is not the signer {signer.pubkey}")
    payload = to_bytes_versioned(message)
    raw = signer.sign_message(payload)
    try:
        sig = Signature.from_bytes(bytes(raw))
    except Exception:
        raise SignerError("the signer returned a malformed signature") from None
    if not sig.verify(signer.pubkey, payload):
        raise SignerError(f"the signature does not verify for {signer.pubkey}; is this the right key?")
    return VersionedTransaction.populate(message, [sig])


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
