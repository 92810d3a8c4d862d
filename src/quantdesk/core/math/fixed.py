"""Fixed-point precisions and integer division with an explicit rounding rule.

The precisions are Drift v2's (programs/drift/src/math/constants.rs); Jupiter
Perps uses the same 1e6 for USD values and 1e9 for its interest rates.

Python's ``//`` floors toward minus infinity while the on-chain programs use
Rust integer division, which truncates toward zero. The functions below name
the rule so every formula says which one it means.
"""

from __future__ import annotations

PRICE_PRECISION = 10**6  # prices: 1.0 USD = 1_000_000
QUOTE_PRECISION = 10**6  # quote (USDC/USDT) amounts
BASE_PRECISION = 10**9  # perp base amounts: 1 SOL = 1_000_000_000
MARGIN_PRECISION = 10**4  # margin ratios and leverage: 10_000 = 100 % = 1x
FUNDING_RATE_BUFFER = 10**3
FUNDING_RATE_PRECISION = PRICE_PRECISION * FUNDING_RATE_BUFFER  # quote per base, 1e9
AMM_TO_QUOTE_PRECISION_RATIO = BASE_PRECISION // QUOTE_PRECISION  # 1e3
LIQUIDATION_FEE_PRECISION = 10**6  # Drift liquidator_fee: 7_500 = 0.75 %
FEE_PRECISION = 10**6  # QuantDesk fee rates in ppm: 350 = 3.5 bps
RATE_PRECISION = 10**9  # funding/borrow rates in parts per billion of notional
BPS = 10**4  # basis points per 1.0


def div_trunc(a: int, b: int) -> int:
    """a / b rounded toward zero (Rust's integer division)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def div_ceil(a: int, b: int) -> int:
    """a / b rounded toward plus infinity."""
    return -((-a) // b)


def div_round(a: int, b: int) -> int:
    """a / b rounded to nearest, halves away from zero (Python's round() on a
    float would round halves to even; this one is predictable for money)."""
    q, r = divmod(abs(a), abs(b))
    if 2 * r >= abs(b):
        q += 1
    return q if (a >= 0) == (b > 0) else -q
