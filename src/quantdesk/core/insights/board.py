"""The ranked board: every insight of the cache, warnings first, each with the
numbers behind it. The Insights pane draws it; ``quantdesk show insights``
prints it.

Ranking: warnings (a position near liquidation) come first, nearest first;
then opportunities, by what they earn per ``notional`` (a cross-venue cross
once, after both legs' costs; a carry pair per day, after its opening cost
spread over the horizon), so the two compare in dollars; then signals (book
imbalance, basis, a funding rate about to turn), strongest first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from quantdesk.core.insights.basis import MarketBasis
from quantdesk.core.insights.book import BandDepth
from quantdesk.core.insights.carry import Carry, CarryPair
from quantdesk.core.insights.impact import ImpactQuote
from quantdesk.core.insights.position import PositionRisk

Severity = Literal["warning", "opportunity", "signal"]
SEVERITY_ORDER: Mapping[Severity, int] = {"warning": 0, "opportunity": 1, "signal": 2}
Figure = Decimal | int | str | None


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a figure becomes an insight."""

    liquidation_distance: Decimal = Decimal("0.10")  # warn within 10 % of the price
    liquidation_sigma: Decimal = Decimal(3)  # or within 3 daily standard deviations
    imbalance: Decimal = Decimal("0.6")  # |imbalance| of the top levels
    basis_bps: Decimal = Decimal(10)  # |premium| or |oracle - index|
    carry_pairs: int = 5  # the best pairs shown


@dataclass(frozen=True, slots=True)
class Insight:
    severity: Severity
    kind: str  # liquidation | cross | carry | imbalance | basis | funding-turn
    market: str
    venues: tuple[str, ...]
    headline: str  # what it is, in a few words
    detail: str  # the numbers behind it
    score: Decimal  # ranks insights of one severity: higher first
    # The numbers behind it in human units: prices and money in quote units
    # (USD), rates and distances as fractions, spreads in bps.
    figures: Mapping[str, Figure] = field(default_factory=dict)

    @property
    def rank_key(self) -> tuple[int, Decimal, str, tuple[str, ...], str]:
        return (SEVERITY_ORDER[self.severity], -self.score, self.market, self.venues, self.kind)


@dataclass(frozen=True, slots=True)
class BookFigures:
    venue: str
    market: str
    imbalance: Decimal | None
    depth: BandDepth | None


@dataclass(frozen=True, slots=True)
class InsightsReport:
    """Everything the insights know at one moment; ``insights`` is the ranked board."""

    ts: int
    notional: int  # the pairs' and crosses' notional, quote at price precision
    insights: list[Insight]
    books: list[BookFigures]
    impact: list[ImpactQuote]
    carry: list[Carry]
    pairs: list[CarryPair]
    basis: list[MarketBasis]
    positions: list[PositionRisk]


def rank(insights: list[Insight]) -> list[Insight]:
    return sorted(insights, key=lambda i: i.rank_key)
