"""Cross-margin for perp accounts, following Drift v2.

- Each market has an initial and a maintenance margin ratio (MARGIN_PRECISION
  1e4: 500 = 5 % = 20x), raised for large positions by the IMF factor.
- Margin requirement of a position = notional at the oracle * ratio.
- Total collateral = deposited collateral + unrealized PnL, where a profit
  counts only at the market's unrealized-PnL asset weight (losses count fully).
- Free collateral = total collateral - margin requirement (initial), floored at 0.
- Health = 100 * (1 - maintenance requirement / maintenance total collateral),
  clamped to 0-100; 0 means liquidatable.
- Leverage = total notional / net assets (collateral + unweighted PnL), 1e4 = 1x.

Sources: drift-labs/protocol-v2 programs/drift/src/math/margin.rs and driftpy
drift_user.py (get_health, get_leverage, get_free_collateral).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from math import isqrt
from typing import Iterable, NamedTuple

from quantdesk.core.math.fixed import BASE_PRECISION, MARGIN_PRECISION, div_round
from quantdesk.core.math.pnl import notional, unrealized_pnl

SPOT_IMF_PRECISION = 10**6


class MarginCategory(Enum):
    INITIAL = "initial"
    MAINTENANCE = "maintenance"


@dataclass(frozen=True, slots=True)
class MarginParams:
    """A perp market's risk parameters, at Drift's precisions."""

    initial_ratio: int  # 1e4: 500 = 5 %, i.e. 20x maximum leverage
    maintenance_ratio: int  # 1e4
    imf_factor: int = 0  # 1e6; 0 disables the size premium
    unrealized_pnl_initial_weight: int = MARGIN_PRECISION  # 1e4 weight of a profit in initial collateral
    unrealized_pnl_maintenance_weight: int = MARGIN_PRECISION
    liquidation_fee: int = 7_500  # LIQUIDATION_FEE_PRECISION 1e6: 7_500 = 0.75 %

    def __post_init__(self) -> None:
        if not 0 < self.maintenance_ratio <= self.initial_ratio <= MARGIN_PRECISION:
            raise ValueError(
                f"margin ratios must satisfy 0 < maintenance ({self.maintenance_ratio}) <= "
                f"initial ({self.initial_ratio}) <= {MARGIN_PRECISION}"
            )

    @property
    def max_leverage_bps(self) -> int:
        return MARGIN_PRECISION * MARGIN_PRECISION // self.initial_ratio


# Drift mainnet values, read from the PerpMarket accounts in the project's
# fixtures (margin_ratio_initial/maintenance, imf_factor, liquidator_fee).
# Drift's unrealized_pnl_initial_asset_weight is 0 (profits must be settled
# before they back new positions); the paper account settles continuously, so
# it counts profits in full.
DRIFT_MARKET_PARAMS: dict[str, MarginParams] = {
    "SOL-PERP": MarginParams(initial_ratio=500, maintenance_ratio=300, imf_factor=50, liquidation_fee=7_500),
    "BTC-PERP": MarginParams(initial_ratio=500, maintenance_ratio=300, imf_factor=1_900, liquidation_fee=5_000),
    "ETH-PERP": MarginParams(initial_ratio=500, maintenance_ratio=200, imf_factor=250, liquidation_fee=5_000),
}
DEFAULT_MARGIN_PARAMS = MarginParams(initial_ratio=1_000, maintenance_ratio=500)


def size_premium_ratio(size: int, imf_factor: int, ratio: int) -> int:
    """Drift's size premium: large positions need more margin.

    ``size`` is |base| at 1e9. The premium ratio is 0.8 * ratio +
    sqrt(size * 10 + 1) * imf / 1e7 (integer sqrt, as on chain); the result
    never goes below ``ratio``.
    """
    if imf_factor == 0:
        return ratio
    size_sqrt = isqrt(abs(size) * 10 + 1)
    premium = ratio - ratio // 5 + size_sqrt * imf_factor // (100_000 * SPOT_IMF_PRECISION // MARGIN_PRECISION)
    return max(ratio, premium)


def margin_ratio(size: int, params: MarginParams, category: MarginCategory) -> int:
    base_ratio = params.initial_ratio if category is MarginCategory.INITIAL else params.maintenance_ratio
    return size_premium_ratio(size, params.imf_factor, base_ratio)


def worst_case_base(base: int, open_bids: int = 0, open_asks: int = 0) -> int:
    """The larger |position| the open orders could leave (Drift's
    worst-case base amount): ``open_bids`` >= 0 and ``open_asks`` >= 0 in base."""
    with_bids = base + open_bids
    with_asks = base - open_asks
    return with_bids if abs(with_bids) >= abs(with_asks) else with_asks


class PerpExposure(NamedTuple):
    """One market's position, as the margin functions see it."""

    base: int  # signed
    quote_entry: int  # signed, see quantdesk.core.math.pnl
    oracle_price: int
    params: MarginParams
    open_bids: int = 0  # base of resting buy orders
    open_asks: int = 0  # base of resting sell orders
    base_precision: int = BASE_PRECISION

    @property
    def notional(self) -> int:
        return notional(self.base, self.oracle_price, self.base_precision)

    @property
    def unrealized_pnl(self) -> int:
        return unrealized_pnl(self.base, self.quote_entry, self.oracle_price, self.base_precision)


def position_margin_requirement(
    exp: PerpExposure, category: MarginCategory, include_open_orders: bool = False
) -> int:
    base = worst_case_base(exp.base, exp.open_bids, exp.open_asks) if include_open_orders else exp.base
    if base == 0:
        return 0
    value = notional(base, exp.oracle_price, exp.base_precision)
    return value * margin_ratio(abs(base), exp.params, category) // MARGIN_PRECISION


def weighted_unrealized_pnl(exp: PerpExposure, category: MarginCategory) -> int:
    pnl = exp.unrealized_pnl
    if pnl <= 0:
        return pnl
    weight = (
        exp.params.unrealized_pnl_initial_weight
        if category is MarginCategory.INITIAL
        else exp.params.unrealized_pnl_maintenance_weight
    )
    return pnl * weight // MARGIN_PRECISION


def margin_requirement(
    exposures: Iterable[PerpExposure], category: MarginCategory, include_open_orders: bool = False
) -> int:
    return sum(position_margin_requirement(e, category, include_open_orders) for e in exposures)


def total_collateral(collateral: int, exposures: Iterable[PerpExposure], category: MarginCategory) -> int:
    return collateral + sum(weighted_unrealized_pnl(e, category) for e in exposures)


def equity(collateral: int, exposures: Iterable[PerpExposure]) -> int:
    """Collateral plus unweighted unrealized PnL: what the account is worth."""
    return collateral + sum(e.unrealized_pnl for e in exposures)


def free_collateral(
    collateral: int,
    exposures: Iterable[PerpExposure],
    category: MarginCategory = MarginCategory.INITIAL,
    include_open_orders: bool = False,
) -> int:
    exps = list(exposures)
    return max(
        0,
        total_collateral(collateral, exps, category) - margin_requirement(exps, category, include_open_orders),
    )


def health(maintenance_total_collateral: int, maintenance_requirement: int) -> int:
    """Drift's account health 0-100 (100 = no margin used, 0 = liquidatable)."""
    if maintenance_requirement == 0 and maintenance_total_collateral >= 0:
        return 100
    if maintenance_total_collateral <= 0:
        return 0
    raw = div_round(100 * (maintenance_total_collateral - maintenance_requirement), maintenance_total_collateral)
    return min(100, max(0, raw))


def account_health(collateral: int, exposures: Iterable[PerpExposure]) -> int:
    exps = list(exposures)
    return health(
        total_collateral(collateral, exps, MarginCategory.MAINTENANCE),
        margin_requirement(exps, MarginCategory.MAINTENANCE),
    )


def leverage_bps(total_notional: int, net_assets: int) -> int | None:
    """Leverage at 1e4 = 1x; None when the account has exposure but no
    positive net assets (leverage is then unbounded)."""
    if total_notional == 0:
        return 0
    if net_assets <= 0:
        return None
    return total_notional * MARGIN_PRECISION // net_assets


def account_leverage_bps(
    collateral: int, exposures: Iterable[PerpExposure], include_open_orders: bool = False
) -> int | None:
    exps = list(exposures)
    if include_open_orders:
        liab = sum(
            notional(worst_case_base(e.base, e.open_bids, e.open_asks), e.oracle_price, e.base_precision)
            for e in exps
        )
    else:
        liab = sum(e.notional for e in exps)
    return leverage_bps(liab, equity(collateral, exps))


def is_liquidatable(collateral: int, exposures: Iterable[PerpExposure]) -> bool:
    """Maintenance margin breached: total collateral below the requirement."""
    exps = list(exposures)
    return total_collateral(collateral, exps, MarginCategory.MAINTENANCE) < margin_requirement(
        exps, MarginCategory.MAINTENANCE
    )
