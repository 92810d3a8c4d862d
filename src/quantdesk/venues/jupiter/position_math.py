"""Position figures on Jupiter Perps: fees, PnL, leverage and the liquidation price.

Pure integer math on USD with 6 decimals (prices too). A position fills at the
oracle price against the pool; it pays a base fee on open and close
(``increase/decreasePositionBps`` of the custody), a price-impact fee that
grows with size (``size_usd * size_usd / tradeImpactFeeScalar``, i.e. a fee
of ``size * 1e4 / scalar`` bps), and the borrow fee (``borrow.py``). It is
liquidated when collateral minus losses and fees falls below
``size / maxLeverage``.
"""

from __future__ import annotations

from decimal import Decimal

from quantdesk.venues.jupiter.views import PositionSide

BPS_POWER = 10_000


def price_impact_fee_usd(size_usd: int, trade_impact_fee_scalar: int) -> int:
    if trade_impact_fee_scalar <= 0:
        return 0
    return size_usd * size_usd // trade_impact_fee_scalar


def base_fee_usd(size_usd: int, fee_bps: int) -> int:
    return size_usd * fee_bps // BPS_POWER


def open_fee_usd(size_usd: int, increase_position_bps: int, trade_impact_fee_scalar: int) -> int:
    """Base open fee plus price-impact fee for opening ``size_usd``."""
    return base_fee_usd(size_usd, increase_position_bps) + price_impact_fee_usd(size_usd, trade_impact_fee_scalar)


def close_fee_usd(size_usd: int, decrease_position_bps: int, trade_impact_fee_scalar: int) -> int:
    return base_fee_usd(size_usd, decrease_position_bps) + price_impact_fee_usd(size_usd, trade_impact_fee_scalar)


def leverage(size_usd: int, collateral_usd: int) -> Decimal | None:
    """Size over collateral; None for a position without collateral."""
    if collateral_usd <= 0:
        return None
    return Decimal(size_usd) / collateral_usd


def pnl_usd(side: PositionSide, entry_price: int, mark_price: int, size_usd: int) -> int:
    """Unrealized PnL before fees: the size's value change from entry to mark (truncated toward zero)."""
    if entry_price <= 0 or size_usd <= 0:
        return 0
    move = abs(mark_price - entry_price) * size_usd // entry_price
    gained = mark_price > entry_price if side == "long" else mark_price < entry_price
    return move if gained else -move


def pnl_after_fees_usd(pnl: int, close_fee: int, borrow_fee: int) -> int:
    """What closing now would realize: PnL less the close fee and the borrow fee owed."""
    return pnl - close_fee - borrow_fee


def liquidation_price(
    side: PositionSide,
    entry_price: int,
    size_usd: int,
    collateral_usd: int,
    max_leverage_bps: int,
    close_fee: int,
    borrow_fee: int,
) -> int | None:
    """The price at which the position's margin is used up (USD 1e6); None when it has no size."""
    if size_usd <= 0 or entry_price <= 0 or max_leverage_bps <= 0:
        return None
    max_loss = size_usd * BPS_POWER // max_leverage_bps + close_fee + borrow_fee
    diff = abs(max_loss - collateral_usd) * entry_price // size_usd
    underwater = max_loss > collateral_usd  # fees alone already exceed the margin
    if side == "long":
        price = entry_price + diff if underwater else entry_price - diff
    else:
        price = entry_price - diff if underwater else entry_price + diff
    return max(0, price)
