"""Position figures on Jupiter Perps: fees, PnL, leverage and the liquidation price.

Pure integer math on USD with 6 decimals (prices too). A position fills at the
oracle price against the pool; it pays a base fee on open and close
(``increase/decreasePositionBps`` of the custody), a price-impact fee, and the
borrow fee (``borrow.py``). It is liquidated when collateral minus losses and
fees falls below ``size / maxLeverage``.

The price-impact fee has two parts, capped together at the custody's
``priceImpactBuffer.maxFeeBps`` of the size:

- linear: ``size * size / tradeImpactFeeScalar`` (a fee of ``size * 1e4 / scalar`` bps);
- additive: when the last minute's open-interest imbalance with this trade
  (``PriceImpactBuffer``) passes ``deltaImbalanceThresholdDecimal``,
  ``feeFactor * (imbalance / threshold) ** exponent`` bps more.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from quantdesk.venues.jupiter.views import PositionSide, PriceImpactBuffer

BPS_POWER = 10_000
WINDOW_S = 60


def linear_impact_fee_usd(size_usd: int, trade_impact_fee_scalar: int) -> int:
    if trade_impact_fee_scalar <= 0:
        return 0
    return size_usd * size_usd // trade_impact_fee_scalar


def minute_imbalance(buf: PriceImpactBuffer, now_s: int) -> int:
    """The signed open-interest change of the minute up to ``now_s`` (USD 1e6):
    seconds older than a minute no longer count."""
    if buf.last_updated <= 0 or not buf.open_interest:
        return 0
    now_s = max(now_s, buf.last_updated)  # a clock behind the chain's reads the buffer as of its update
    n = len(buf.open_interest)
    last = buf.last_updated % n
    total = 0
    for i, value in enumerate(buf.open_interest):
        second = buf.last_updated - (last - i) % n  # the latest second this slot can hold
        if now_s - second < WINDOW_S:
            total += value
    return total


def additive_impact_bps(buf: PriceImpactBuffer, imbalance: int) -> Decimal:
    """The extra fee (bps) for leaving the minute's imbalance at ``imbalance``; 0 under the threshold."""
    if buf.fee_factor <= 0 or buf.threshold_usd <= 0 or abs(imbalance) <= buf.threshold_usd:
        return Decimal(0)
    return buf.fee_factor * (Decimal(abs(imbalance)) / buf.threshold_usd) ** buf.exponent


def impact_delta(side: PositionSide, opening: bool, size_usd: int) -> int:
    """The trade's signed change of open interest: longs opening (shorts closing) add, the others take away."""
    return size_usd if (side == "long") == opening else -size_usd


def price_impact_fee_usd(
    size_usd: int,
    trade_impact_fee_scalar: int,
    buf: PriceImpactBuffer | None = None,
    now_s: int = 0,
    delta: int | None = None,
    minute: int | None = None,
) -> int:
    """Linear plus additive impact fee of a trade of ``size_usd`` whose signed
    open-interest change is ``delta`` (default: ``size_usd``), capped at the
    buffer's max fee; with no buffer, the linear part alone. ``minute``: the
    buffer's ``minute_imbalance`` at ``now_s`` when the caller has it already."""
    linear = linear_impact_fee_usd(size_usd, trade_impact_fee_scalar)
    if buf is None:
        return linear
    if minute is None:
        minute = minute_imbalance(buf, now_s)
    imbalance = minute + (size_usd if delta is None else delta)
    extra = Decimal(size_usd) * additive_impact_bps(buf, imbalance) / BPS_POWER
    fee = linear + int(extra.to_integral_value(rounding=ROUND_CEILING))  # a quote never promises less than is charged
    if buf.max_fee_bps > 0:
        fee = min(fee, size_usd * buf.max_fee_bps // BPS_POWER)
    return fee


def base_fee_usd(size_usd: int, fee_bps: int) -> int:
    return size_usd * fee_bps // BPS_POWER


def open_fee_usd(
    size_usd: int,
    increase_position_bps: int,
    trade_impact_fee_scalar: int,
    buf: PriceImpactBuffer | None = None,
    now_s: int = 0,
    delta: int | None = None,
) -> int:
    """Base open fee plus price-impact fee for opening ``size_usd``."""
    impact = price_impact_fee_usd(size_usd, trade_impact_fee_scalar, buf, now_s, delta)
    return base_fee_usd(size_usd, increase_position_bps) + impact


def close_fee_usd(
    size_usd: int,
    decrease_position_bps: int,
    trade_impact_fee_scalar: int,
    buf: PriceImpactBuffer | None = None,
    now_s: int = 0,
    delta: int | None = None,
) -> int:
    """Base close fee plus price-impact fee for closing ``size_usd``."""
    impact = price_impact_fee_usd(size_usd, trade_impact_fee_scalar, buf, now_s, delta)
    return base_fee_usd(size_usd, decrease_position_bps) + impact


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
