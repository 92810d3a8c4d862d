"""Compose, check and sign a Solana v0 transaction, for every venue that trades on Solana.

Every transaction is checked by the transaction policy (``signing.policy``)
before it reaches the signer: each instruction's program must be on the
allowlist, a durable nonce (an AdvanceNonceAccount first instruction, which
makes a signed transaction valid indefinitely) is refused unless explicitly
allowed, and the fee payer must be the signer. The signature the signer
returns is verified before the transaction leaves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from quantdesk.signing import policy
from quantdesk.signing.base import Signer, SignerError
from quantdesk.venues.base import VenueError

COMPUTE_BUDGET_PROGRAM_ID = policy.COMPUTE_BUDGET_PROGRAM_ID


class TransactionRefused(VenueError):
    """The transaction policy refused the transaction; the message lists every reason."""


def compute_budget_ixs(units: int, micro_lamports: int) -> list[Any]:
    """The compute unit limit and price instructions (none for a zero)."""
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


def check(
    message: Any,
    allowed_programs: set[str],
    *,
    allow_durable_nonce: bool = False,
    signer: Any = None,
    decoders: Iterable[policy.InstructionDecoder] = (),
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
