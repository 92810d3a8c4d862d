"""Computed figures shown beside the decoded fields (``derived`` in ``quantdesk inspect jupiter``).

Plain numbers for people and scripts: utilization as a fraction, rates in
percent, USD amounts and prices in dollars (Decimals, never floats).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from quantdesk.venues.jupiter import borrow, position_math
from quantdesk.venues.jupiter.views import CustodyView, PositionView

_USD = Decimal(1_000_000)
_PLACES = Decimal("1e-9")


def _q(x: Decimal) -> Decimal:
    return x.quantize(_PLACES).normalize()


def usd(value: int) -> Decimal:
    return Decimal(value) / _USD


def custody_derived(c: CustodyView) -> dict[str, Any]:
    hourly = borrow.hourly_borrow_rate(c)
    return {
        "utilization": _q(borrow.custody_utilization(c)),
        "borrow_curve": "jump_rate" if borrow.uses_jump_rate(c) else "linear",
        "borrow_rate_hourly": _q(hourly * 100),
        "borrow_apr": _q(borrow.apr_percent(hourly)),
        "max_leverage": _q(Decimal(c.max_leverage_bps) / position_math.BPS_POWER),
    }


def position_derived(p: PositionView, custodies: dict[str, CustodyView]) -> dict[str, Any]:
    """Side and leverage always; fees and the liquidation price when both custodies are known."""
    out: dict[str, Any] = {"side": p.side, "open": p.is_open}
    lev = position_math.leverage(p.size_usd, p.collateral_usd)
    out["leverage"] = None if lev is None else _q(lev)
    custody, collateral = custodies.get(p.custody), custodies.get(p.collateral_custody)
    if custody is None or collateral is None or p.side is None:
        missing = [k for k, v in ((p.custody, custody), (p.collateral_custody, collateral)) if v is None]
        if missing and p.is_open:
            out["needs"] = sorted(set(missing))  # custodies to add to the input for fees and liquidation price
        return out
    owed = borrow.borrow_fee_owed(collateral.cumulative_interest_rate, p.cumulative_interest_snapshot, p.size_usd)
    # the impact window as of the custody's own last update: inspect reads a snapshot, not the present
    close = position_math.close_fee_usd(
        p.size_usd, custody.decrease_position_bps, custody.trade_impact_fee_scalar, custody.price_impact,
        custody.price_impact.last_updated, position_math.impact_delta(p.side, False, p.size_usd),
    )
    liq = position_math.liquidation_price(
        p.side, p.price, p.size_usd, p.collateral_usd, custody.max_leverage_bps, close, owed
    )
    out["borrow_fee_owed_usd"] = usd(owed)
    out["close_fee_usd"] = usd(close)
    out["liquidation_price"] = None if liq is None else usd(liq)
    return out
