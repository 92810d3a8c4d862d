"""Borrow rates of a Jupiter Perps custody: utilization, hourly rate, APR, fee owed.

Pure functions on ints and Decimals (no I/O). A long pays borrow on its
custody, a short on its collateral custody (USDC/USDT). The program keeps a
cumulative interest rate per custody (1e9 = 100%); a position owes
``(cumulative - snapshot) * size_usd / 1e9``.

Two curves exist: the older linear one (``hourlyFundingDbps`` * utilization,
dbps = 1e-5) and the jump-rate curve (``jumpRateState``: an annual rate in
bps rising linearly from ``min`` to ``target`` up to the target utilization,
then from ``target`` to ``max``). A custody with a jump-rate curve configured
(``max_rate_bps`` > 0) uses it.
"""

from __future__ import annotations

from decimal import Decimal

from quantdesk.venues.jupiter.views import CustodyView, JumpRate

RATE_POWER = 1_000_000_000
BPS_POWER = 10_000
DBPS_POWER = 100_000
HOURS_PER_YEAR = 365 * 24
SECONDS_PER_HOUR = 3600
_ZERO = Decimal(0)
_ONE = Decimal(1)


def debt_in_tokens(debt: int, interests_accrued: int) -> Decimal:
    """Borrow-lend debt in token units (the account keeps it scaled by 1e9, interest included)."""
    return Decimal(max(0, debt - interests_accrued)) / RATE_POWER


def utilization(owned: int, locked: int, debt_tokens: Decimal = _ZERO) -> Decimal:
    """Share of the custody's tokens in use; borrow-lend debt counts as both used and owned."""
    total = owned + debt_tokens
    if total <= 0:
        return _ZERO
    return (locked + debt_tokens) / total


def custody_utilization(c: CustodyView) -> Decimal:
    return utilization(c.owned, c.locked, debt_in_tokens(c.debt, c.borrow_lend_interests_accrued))


def jump_rate_apr_bps(util: Decimal, curve: JumpRate) -> Decimal:
    """Annual borrow rate in bps on the jump-rate curve at ``util`` (0..1)."""
    target = Decimal(curve.target_utilization) / RATE_POWER
    lo, mid, hi = curve.min_rate_bps, curve.target_rate_bps, curve.max_rate_bps
    if target > 0 and util <= target:
        return lo + (mid - lo) * util / target
    if target >= 1:
        return Decimal(mid)
    return mid + (hi - mid) * (min(util, _ONE) - target) / (1 - target)


def linear_hourly_rate(hourly_funding_dbps: int, util: Decimal) -> Decimal:
    """Hourly borrow rate (fraction) on the linear curve: ``hourlyFundingDbps`` at 100% utilization."""
    return Decimal(hourly_funding_dbps) / DBPS_POWER * util


def uses_jump_rate(c: CustodyView) -> bool:
    return c.jump_rate.max_rate_bps > 0


def hourly_borrow_rate(c: CustodyView) -> Decimal:
    """The custody's current hourly borrow rate as a fraction (0.0001 = 0.01% an hour)."""
    util = custody_utilization(c)
    if uses_jump_rate(c):
        return jump_rate_apr_bps(util, c.jump_rate) / BPS_POWER / HOURS_PER_YEAR
    return linear_hourly_rate(c.hourly_funding_dbps, util)


def apr_percent(hourly_rate: Decimal) -> Decimal:
    """A simple (not compounded) annual rate in percent, as the venue shows it."""
    return hourly_rate * HOURS_PER_YEAR * 100


def rate_ppb(rate: Decimal) -> int:
    """A fractional rate in parts per billion (the unit of ``core.model.Funding``), floored."""
    return int(rate * RATE_POWER)


def cumulative_rate_at(c: CustodyView, now_s: int) -> int:
    """The custody's cumulative interest rate at ``now_s``, accruing the current rate since its last update."""
    elapsed = max(0, now_s - c.funding_last_update)
    return c.cumulative_interest_rate + rate_ppb(hourly_borrow_rate(c)) * elapsed // SECONDS_PER_HOUR


def borrow_fee_owed(cumulative_rate: int, snapshot: int, size_usd: int) -> int:
    """Borrow fee a position owes, USD with 6 decimals (floored, as the program's integer math)."""
    return max(0, cumulative_rate - snapshot) * size_usd // RATE_POWER
