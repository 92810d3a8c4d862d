"""Insights: pure functions of the market cache that point at what matters.

Stable entry points (alerts and the Insights pane call these by name):

- ``imbalance(book, levels)``: signed bid share of the top levels, -1..1;
- ``depth_within(book, bps)``: size and notional within ``bps`` of the mid;
- ``liquidation_distance(position, price)``: fraction of the price to
  liquidation (0.05 = 5 %), negative once past it;
- ``realized_volatility``, ``liquidation_sigma``, ``break_even_price``,
  ``position_risk``: the rest of a position's risk figures.

Nothing here does I/O or imports anything above the core.
"""

from __future__ import annotations

from quantdesk.core.insights.book import BandDepth, depth_within, imbalance
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

__all__ = [
    "BandDepth",
    "PositionRisk",
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
