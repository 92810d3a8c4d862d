"""Every market a Drift-v2 deployment lists, read from its on-chain
``PerpMarket`` and ``SpotMarket`` accounts (``getProgramAccounts`` filtered
by each account type's 8-byte discriminator), instead of a static list.

For each market: kind, index, symbol, tick and lot size, status, tier
(perp contract tier, spot asset tier) and whether it is a prediction market.
Perp ticks are at price precision (1e6) and lots at base precision (1e9);
spot lots are in the token's own decimals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import base58

from quantdesk.venues.drift.accounts import fixed_name, variant
from quantdesk.venues.drift.idl import AccountDecodeError, AccountDecoder
from quantdesk.venues.solana.rpc import SolanaRpc


@dataclass(frozen=True)
class ListedMarket:
    kind: Literal["perp", "spot"]
    index: int
    symbol: str
    tick_size: int  # price, 1e6
    lot_size: int  # perp: base 1e9; spot: token units at ``decimals``
    status: str  # "Active", "ReduceOnly", "FundingPaused", ...
    tier: str  # perp: contract tier (A, B, C, Speculative, ...); spot: asset tier
    prediction: bool  # a prediction market (contract type Prediction)
    decimals: int  # base decimals: 9 for perps, the token's for spot
    pubkey: str = ""


def listed_market(name: str, acc: Any, pubkey: str = "") -> ListedMarket:
    if name == "PerpMarket":
        amm = acc.amm
        return ListedMarket(
            kind="perp", index=int(acc.market_index), symbol=fixed_name(acc.name),
            tick_size=int(amm.order_tick_size), lot_size=int(amm.order_step_size),
            status=variant(acc.status), tier=variant(acc.contract_tier),
            prediction=variant(acc.contract_type) == "Prediction", decimals=9, pubkey=pubkey,
        )
    if name == "SpotMarket":
        return ListedMarket(
            kind="spot", index=int(acc.market_index), symbol=fixed_name(acc.name),
            tick_size=int(acc.order_tick_size), lot_size=int(acc.order_step_size),
            status=variant(acc.status), tier=variant(acc.asset_tier), prediction=False,
            decimals=int(acc.decimals), pubkey=pubkey,
        )
    raise AccountDecodeError(f"a {name} account is not a market")


def listed_markets(decoder: AccountDecoder, accounts: list[tuple[str, bytes]]) -> tuple[list[ListedMarket], list[str]]:
    """The markets among ``accounts`` (perps first, by index), and a problem
    line for each account that does not decode (counted, not fatal)."""
    found: dict[tuple[str, int], ListedMarket] = {}
    problems = []
    for pubkey, data in accounts:
        try:
            name, acc = decoder.decode(data)
            m = listed_market(name, acc, pubkey)
        except AccountDecodeError as exc:
            problems.append(f"{pubkey}: {exc}")
            continue
        found[(m.kind, m.index)] = m
    return sorted(found.values(), key=lambda m: (m.kind != "perp", m.index)), problems


def discriminator_filter(decoder: AccountDecoder, name: str) -> dict:
    disc = next(d for d, n in decoder.discriminators.items() if n == name)
    return {"memcmp": {"offset": 0, "bytes": base58.b58encode(disc).decode()}}


async def discover(rpc: SolanaRpc, program_id: str, decoder: AccountDecoder) -> tuple[list[ListedMarket], list[str]]:
    """Every PerpMarket and SpotMarket account of ``program_id``, as markets
    (both queries in one batch)."""
    queries = [(program_id, [discriminator_filter(decoder, name)]) for name in ("PerpMarket", "SpotMarket")]
    found = await rpc.get_program_accounts_many(queries)
    return listed_markets(decoder, [acc for accounts in found for acc in accounts])
