"""Funding (Drift) and borrow fees (Jupiter Perps).

Drift keeps a cumulative funding rate per market side, in quote per base unit
at FUNDING_RATE_PRECISION (1e9 = $1 per 1 base). A position remembers the
cumulative rate when it last settled; the payment owed since is

    base * (cumulative_now - last_cumulative) / 1e9    (quote, 1e6)

paid by longs when the rate rose (positive funding: longs pay shorts).
Source: protocol-v2 programs/drift/src/math/funding.rs (calculate_funding_payment):
the magnitude is truncated, then signed, so rounding favours neither side.

Jupiter Perps charges an hourly borrow fee instead: the custody keeps a
cumulative interest rate (1e9) and a position its snapshot;
owed = (cumulative - snapshot) * size_usd / 1e9.

QuantDesk's normalized ``Funding.rate`` is parts per billion of notional per
interval; ``rate_to_funding_delta`` converts it to Drift's quote-per-base form.
"""

from __future__ import annotations

from quantdesk.core.math.fixed import (
    AMM_TO_QUOTE_PRECISION_RATIO,
    FUNDING_RATE_BUFFER,
    PRICE_PRECISION,
    RATE_PRECISION,
    div_ceil,
    div_trunc,
)


def funding_payment(base: int, cumulative_rate: int, last_cumulative_rate: int) -> int:
    """Signed quote credited to the position (negative = the position pays)."""
    delta = cumulative_rate - last_cumulative_rate
    if delta == 0 or base == 0:
        return 0
    magnitude = abs(delta) * abs(base) // PRICE_PRECISION // FUNDING_RATE_BUFFER
    magnitude //= AMM_TO_QUOTE_PRECISION_RATIO
    pays = (base > 0) == (delta > 0)
    return -magnitude if pays else magnitude


def rate_to_funding_delta(rate_ppb: int, price: int) -> int:
    """Drift funding rate (quote per base, 1e9) of a rate in ppb of notional
    at ``price``: 0.01 % (100_000 ppb) at $100 is $0.01 per unit = 10_000_000."""
    return div_trunc(rate_ppb * price, PRICE_PRECISION)


def funding_delta_to_rate(funding_rate: int, oracle_twap: int) -> int:
    """Inverse of ``rate_to_funding_delta``: ppb of notional per interval, as a
    venue's hourly rate in percent is (funding_rate / 1e9) / (twap / 1e6) * 100."""
    if oracle_twap <= 0:
        return 0
    return div_trunc(funding_rate * PRICE_PRECISION, oracle_twap)


def borrow_fee(cumulative_rate: int, snapshot: int, size_usd: int) -> int:
    """Jupiter borrow fee owed (quote, 1e6) since ``snapshot``, rounded up."""
    delta = cumulative_rate - snapshot
    if delta <= 0 or size_usd == 0:
        return 0
    return div_ceil(delta * abs(size_usd), RATE_PRECISION)
