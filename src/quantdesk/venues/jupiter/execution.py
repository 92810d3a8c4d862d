"""Jupiter Perps transactions: instructions in, a checked v0 message, the signer, then ``sendTransaction``.

Every message carries the compute budget and is checked by the transaction
policy before the signer sees it: only the Perps program, ComputeBudget,
System (wrapping SOL), the token and associated-token programs and the
config's ``allowed_programs`` may be called, no durable nonce unless allowed,
and the fee payer is the signer. Signing runs in a thread (a Ledger or a
signer agent waits for the trader; the console stays live). In ``dry_run``
the transaction is signed and kept, never sent.
"""

from __future__ import annotations

import asyncio
from typing import Any

from quantdesk.signing.base import Signer
from quantdesk.signing.policy import SYSTEM_PROGRAM_ID, TransactionView
from quantdesk.venues.base import TradingUnavailable
from quantdesk.venues.jupiter.config import JupiterConfig
from quantdesk.venues.jupiter.instructions import JupiterInstructionDecoder
from quantdesk.venues.jupiter.requests import ASSOCIATED_TOKEN_PROGRAM, TOKEN_PROGRAM
from quantdesk.venues.solana import transaction as txn
from quantdesk.venues.solana.rpc import SolanaRpc


class JupiterExecutor:
    def __init__(self, cfg: JupiterConfig, signer: Signer, rpc: SolanaRpc | None) -> None:
        self.cfg = cfg
        self.signer = signer
        self.rpc = rpc
        self.allowed_programs = {
            cfg.program_id, txn.COMPUTE_BUDGET_PROGRAM_ID, SYSTEM_PROGRAM_ID, str(TOKEN_PROGRAM),
            str(ASSOCIATED_TOKEN_PROGRAM), *cfg.allowed_programs,
        }
        self.decoders = [JupiterInstructionDecoder(cfg)]
        self.last_signed_tx: Any = None  # the latest signed solders VersionedTransaction
        self.sent: list[str] = []  # signatures, oldest first

    @property
    def dry_run(self) -> bool:
        return self.cfg.dry_run

    async def blockhash(self) -> str:
        if self.rpc is None:
            raise TradingUnavailable(f"{self.cfg.id}: no RPC for a recent blockhash")
        return await self.rpc.get_latest_blockhash()

    def message(self, instructions: list[Any], blockhash: Any) -> tuple[Any, TransactionView]:
        """The unsigned v0 message with the compute budget, and the policy's view of it (TransactionRefused)."""
        ixs = txn.compute_budget_ixs(self.cfg.compute_units, self.cfg.priority_fee_micro_lamports) + list(instructions)
        message = txn.compose(self.signer.pubkey, ixs, blockhash)
        view = txn.check(message, self.allowed_programs, allow_durable_nonce=self.cfg.allow_durable_nonce,
                         signer=self.signer.pubkey, decoders=self.decoders)  # fmt: skip
        return message, view

    async def prepare(self, instructions: list[Any]) -> tuple[Any, TransactionView]:
        return self.message(instructions, await self.blockhash())

    async def submit(self, message: Any) -> str | None:
        """Sign ``message`` and send it; None in dry-run mode (signed, not sent)."""
        tx = await asyncio.to_thread(txn.sign, message, self.signer)
        self.last_signed_tx = tx
        if self.dry_run:
            return None
        if self.rpc is None:
            raise TradingUnavailable(f"{self.cfg.id}: no RPC to send the transaction")
        sig = await self.rpc.send_transaction(bytes(tx))
        self.sent.append(sig)
        return sig
