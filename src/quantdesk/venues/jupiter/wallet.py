"""What the trader's wallet holds to post as collateral: SOL and the custodies' tokens.

A long posts the traded token (SOL, paid from native SOL and wrapped on the
way in), a short a stablecoin; both are read from the wallet's associated
token accounts (an SPL token account keeps its amount as a u64 at offset 64)
and the native balance. Reads are batched in one ``getMultipleAccounts``
beside one ``getBalance``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from quantdesk.signing.policy import NATIVE_MINT
from quantdesk.venues.solana.rpc import SolanaRpc

TOKEN_ACCOUNT_SIZE = 165
_AMOUNT = slice(64, 72)
# Kept back from native SOL when sizing collateral: rent of the request, its token
# account, a first position account and the wrapped-SOL account, and the fee.
SOL_RESERVE_LAMPORTS = 20_000_000


def token_amount(data: bytes | None) -> int:
    """The amount of an SPL token account (0 when it does not exist or is not one)."""
    if data is None or len(data) < TOKEN_ACCOUNT_SIZE:
        return 0
    return int.from_bytes(data[_AMOUNT], "little")


@dataclass(frozen=True)
class WalletBalances:
    owner: str
    lamports: int  # native SOL
    tokens: dict[str, int] = field(default_factory=dict)  # mint -> amount in its token account

    def spendable(self, mint: str) -> int:
        """What can go into a request of ``mint``: a token account's amount; for
        SOL, native SOL beyond the reserve (it is wrapped on the way in)."""
        if mint == NATIVE_MINT:
            return max(0, self.lamports - SOL_RESERVE_LAMPORTS)
        return self.tokens.get(mint, 0)


def associated_token_account(owner: str, mint: str) -> str:
    from solders.pubkey import Pubkey

    from quantdesk.venues.jupiter.requests import associated_token_account as ata

    return str(ata(Pubkey.from_string(owner), Pubkey.from_string(mint)))


async def fetch_wallet(rpc: SolanaRpc, owner: str, mints: Iterable[str]) -> WalletBalances:
    wanted = [m for m in dict.fromkeys(mints) if m != NATIVE_MINT]
    accounts = [associated_token_account(owner, m) for m in wanted]
    lamports = await rpc.get_balance(owner)
    _slot, datas = await rpc.get_multiple_accounts(accounts) if accounts else (0, [])
    return WalletBalances(owner, lamports, {m: token_amount(d) for m, d in zip(wanted, datas)})
