"""Insights: pure functions of the market cache that point at what matters.

Stable entry points (alerts and the Insights pane call these by name):

- ``imbalance(book, levels)``: signed bid share of the top levels, -1..1;
- ``depth_within(book, bps)``: size and notional within ``bps`` of the mid;
- ``liquidation_distance(position, price)``: fraction of the price to
  liquidation (0.05 = 5 %), negative once past it;
- ``realized_volatility``, ``liquidation_sigma``, ``break_even_price``,
  ``position_risk``: the rest of a position's risk figures;
- ``impact_quote`` / ``impact_table``: fills of a notional on every venue;
- ``carry`` / ``carry_pairs``: funding and borrow per year, cross-venue pairs;
- ``market_basis``: mark vs oracle vs the cross-venue index;
- ``InsightsEngine.report``: all of it, ranked, recomputing only what changed.

Nothing here does I/O or imports anything above the core.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from quantdesk.core.insights.basis import MarketBasis, VenueBasis, basis_table, market_basis
from quantdesk.core.insights.book import BandDepth, depth_within, imbalance
from quantdesk.core.insights.carry import Carry, CarryPair, carries, carry, carry_pairs, holding_cost
from quantdesk.core.insights.impact import (
    ImpactQuote,
    cached_ladder,
    impact_ladder,
    impact_quote,
    impact_quotes,
    impact_table,
    market_impact,
)
from quantdesk.core.insights.position import (
    PositionRisk,
    break_even_price,
    liquidation_distance,
    liquidation_sigma,
    minute_samples,
    position_risk,
    realized_volatility,
    vwap_samples,
)

if TYPE_CHECKING:
    from quantdesk.core.insights.board import Insight, InsightsReport, Thresholds
    from quantdesk.core.insights.engine import InsightsEngine

# The ranked report and its engine load at their first use: the panes and alert
# kinds a console starts with read single figures only.
_LATER = {"Insight": "board", "InsightsReport": "board", "Thresholds": "board", "InsightsEngine": "engine"}


def __getattr__(name: str) -> object:
    module = _LATER.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "BandDepth",
    "Carry",
    "CarryPair",
    "ImpactQuote",
    "Insight",
    "InsightsEngine",
    "InsightsReport",
    "MarketBasis",
    "PositionRisk",
    "Thresholds",
    "VenueBasis",
    "basis_table",
    "carries",
    "carry",
    "carry_pairs",
    "holding_cost",
    "cached_ladder",
    "impact_ladder",
    "impact_quotes",
    "impact_quote",
    "impact_table",
    "market_basis",
    "market_impact",
    "break_even_price",
    "depth_within",
    "imbalance",
    "liquidation_distance",
    "liquidation_sigma",
    "minute_samples",
    "position_risk",
    "realized_volatility",
    "vwap_samples",
]
