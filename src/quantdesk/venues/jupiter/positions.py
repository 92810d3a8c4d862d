"""A wallet's Jupiter Perps positions, read-only: no key needed, any wallet.

Positions are found with ``getProgramAccounts`` filtered on the Position
discriminator (offset 0) and the owner (offset 8), or addressed directly as
PDAs of ``["position", wallet, pool, custody, collateral custody, side]``
(side 1 long, 2 short). Each open one is reported with its mark, PnL before
and after fees, the borrow fee accrued to now, the liquidation price and
leverage.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from quantdesk.core.model import Position
from quantdesk.venues.jupiter import borrow, position_math
from quantdesk.venues.jupiter.accounts import AccountDecodeError, AccountDecoder, discriminator
from quantdesk.venues.solana.rpc import SolanaRpc
from quantdesk.venues.jupiter.views import CustodyView, PositionSide, PositionView

SIDE_SEED = {"long": 1, "short": 2}


def position_filters(owner: str) -> list[dict]:
    import base58

    return [
        {"memcmp": {"offset": 0, "bytes": base58.b58encode(discriminator("Position")).decode()}},
        {"memcmp": {"offset": 8, "bytes": owner}},
    ]


def position_pda(program_id: str, wallet: str, pool: str, custody: str, collateral: str, side: PositionSide) -> str:
    from solders.pubkey import Pubkey

    seeds = [b"position", *(bytes(Pubkey.from_string(k)) for k in (wallet, pool, custody, collateral)), bytes([SIDE_SEED[side]])]
    return str(Pubkey.find_program_address(seeds, Pubkey.from_string(program_id))[0])


async def fetch_positions(rpc: SolanaRpc, decoder: AccountDecoder, program_id: str, owner: str) -> list[PositionView]:
    """The owner's open positions; accounts that do not decode are skipped (counted by the caller's status)."""
    found = await rpc.get_program_accounts(program_id, position_filters(owner))
    out = []
    for pubkey, data in found:
        try:
            acc = decoder.decode(data, expect="Position")
        except AccountDecodeError:
            continue
        view = PositionView.from_fields(acc.fields, pubkey)
        if view.is_open and view.side is not None:
            out.append(view)
    return sorted(out, key=lambda p: p.pubkey)


@dataclass(frozen=True)
class PositionReport:
    position: PositionView
    mark_price: int
    pnl_usd: int  # before fees
    pnl_after_fees_usd: int
    borrow_fee_usd: int  # accrued to now
    close_fee_usd: int
    liquidation_price: int | None
    leverage: Decimal | None


def report(p: PositionView, custody: CustodyView, collateral: CustodyView, mark_price: int, now_s: int) -> PositionReport:
    """Figures of one open position at ``mark_price``; the borrow fee accrues on the collateral custody's rate."""
    assert p.side is not None
    owed = borrow.borrow_fee_owed(borrow.cumulative_rate_at(collateral, now_s), p.cumulative_interest_snapshot, p.size_usd)
    close = position_math.close_fee_usd(
        p.size_usd, custody.decrease_position_bps, custody.trade_impact_fee_scalar, custody.price_impact, now_s,
        position_math.impact_delta(p.side, False, p.size_usd),
    )
    pnl = position_math.pnl_usd(p.side, p.price, mark_price, p.size_usd)
    return PositionReport(
        position=p,
        mark_price=mark_price,
        pnl_usd=pnl,
        pnl_after_fees_usd=position_math.pnl_after_fees_usd(pnl, close, owed),
        borrow_fee_usd=owed,
        close_fee_usd=close,
        liquidation_price=position_math.liquidation_price(
            p.side, p.price, p.size_usd, p.collateral_usd, custody.max_leverage_bps, close, owed
        ),
        leverage=position_math.leverage(p.size_usd, p.collateral_usd),
    )


def to_event(r: PositionReport, venue: str, market: str, ts: int, size_decimals: int = 9) -> Position:
    """The normalized position: base from the USD size at entry, PnL after fees as the unrealized figure."""
    p = r.position
    base = p.size_usd * 10**size_decimals // p.price if p.price > 0 else 0
    sign = 1 if p.side == "long" else -1
    return Position(
        venue=venue,
        market=market,
        base=sign * base,
        quote_entry=-sign * p.size_usd,
        entry_price=p.price,
        mark_price=r.mark_price,
        unrealized_pnl=r.pnl_after_fees_usd,
        realized_pnl=p.realised_pnl_usd,
        liquidation_price=r.liquidation_price,
        margin=p.collateral_usd,
        leverage_bps=int(r.leverage * 10_000) if r.leverage is not None else 0,
        ts=ts,
        funding=-r.borrow_fee_usd,  # accrued since the position last changed size
    )
