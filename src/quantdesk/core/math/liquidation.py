"""Liquidation price and liquidation fee, following Drift v2.

Drift's estimate (driftpy DriftUser.get_perp_liq_price): every $1 the oracle
moves against a position changes free collateral by the PnL on the position
minus the change in its maintenance requirement:

    long:  d_free = (1 - mmr) * |base|      per +$1
    short: d_free = (-1 - mmr) * |base|     per +$1

so the price at which the account's maintenance free collateral reaches zero
is ``oracle - free_collateral / d_free``. The rest of the account (other
positions at their current oracle prices, collateral) is held fixed.
"""

from __future__ import annotations

from typing import Sequence

from quantdesk.core.math.fixed import (
    BASE_PRECISION,
    LIQUIDATION_FEE_PRECISION,
    MARGIN_PRECISION,
    QUOTE_PRECISION,
    div_ceil,
    div_trunc,
)
from quantdesk.core.math.margin import (
    MarginCategory,
    PerpExposure,
    free_collateral,
    margin_ratio,
)
from quantdesk.core.math.pnl import notional


def free_collateral_delta(base: int, maintenance_ratio: int, base_precision: int = BASE_PRECISION) -> int:
    """Change in maintenance free collateral (quote) when the price rises $1."""
    ratio_quote = maintenance_ratio * QUOTE_PRECISION // MARGIN_PRECISION
    if base > 0:
        return (QUOTE_PRECISION - ratio_quote) * base // base_precision
    return div_trunc((-QUOTE_PRECISION - ratio_quote) * abs(base), base_precision)


def liquidation_price(
    base: int,
    oracle_price: int,
    maintenance_free_collateral: int,
    maintenance_ratio: int,
    base_precision: int = BASE_PRECISION,
) -> int | None:
    """Oracle price at which the account becomes liquidatable, or None when no
    positive price does (flat position, or a long backed by enough collateral
    to survive the price going to zero). Rounded toward the current price, so
    the warning comes early rather than late."""
    if base == 0:
        return None
    delta = free_collateral_delta(base, maintenance_ratio, base_precision)
    if delta == 0:
        return None
    price = oracle_price - div_trunc(max(0, maintenance_free_collateral) * QUOTE_PRECISION, delta)
    if price <= 0:
        return None
    return price


def position_liquidation_price(
    collateral: int, exposures: Sequence[PerpExposure], index: int, base_change: int = 0
) -> int | None:
    """Liquidation price of ``exposures[index]`` given the whole account.

    ``base_change`` previews a trade the way Drift does: the free collateral is
    today's, the sensitivity is that of the resized position.
    """
    exp = exposures[index]
    base = exp.base + base_change
    fc = free_collateral(collateral, exposures, MarginCategory.MAINTENANCE)
    mmr = margin_ratio(abs(base), exp.params, MarginCategory.MAINTENANCE)
    return liquidation_price(base, exp.oracle_price, fc, mmr, exp.base_precision)


def liquidation_fee(base: int, price: int, fee_rate: int, base_precision: int = BASE_PRECISION) -> int:
    """Fee charged on a liquidated position's notional (fee_rate at 1e6,
    Drift's liquidator_fee), rounded up."""
    return div_ceil(notional(base, price, base_precision) * fee_rate, LIQUIDATION_FEE_PRECISION)
