"""Trading fees. Rates are integers in parts per million of notional (ppm):
1 bp = 100 ppm, so Drift-style fractional tiers such as 3.5 bps (350 ppm) and
maker rebates such as -0.25 bp (-25 ppm) are exact. A negative rate is a rebate.

Like Drift, fees round against the trader: a charged fee rounds up, a rebate
rounds down (toward zero).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from quantdesk.core.math.fixed import FEE_PRECISION, div_ceil

PPM_PER_BPS = 100


def bps_to_ppm(bps: int | str | Decimal) -> int:
    """Convert a rate in basis points ("3.5") to ppm (350); rejects finer rates."""
    value = Decimal(str(bps)) * PPM_PER_BPS
    if value != value.to_integral_value():
        raise ValueError(f"fee rate {bps} bps is finer than 0.01 bp; use at most two decimals")
    return int(value)


def fee(notional: int, rate_ppm: int) -> int:
    """Fee on ``notional`` quote at ``rate_ppm``; negative when a rebate."""
    if rate_ppm >= 0:
        return div_ceil(abs(notional) * rate_ppm, FEE_PRECISION)
    return -(abs(notional) * -rate_ppm // FEE_PRECISION)


def fill_fee(
    notional: int, liquidity: Literal["maker", "taker"], taker_ppm: int, maker_ppm: int
) -> int:
    return fee(notional, taker_ppm if liquidity == "taker" else maker_ppm)
