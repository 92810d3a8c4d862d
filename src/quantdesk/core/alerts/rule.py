"""An alert rule as data: what to watch, the comparison, and how it re-arms.

A ``Rule`` is what ``ALERT SOL-PERP PRICE > 180`` parses to. Its ``kind``
names an entry of the kinds table (``quantdesk.core.alerts.kinds``), which
knows how to read the watched figure from the cache; the rule itself holds
only the subject (market, venues), the comparison and its options.

Thresholds are ``Decimal`` in the unit the kind shows: quote units for a
price or PnL, percent for funding and liquidation distance, basis points for
a spread, seconds for staleness, a plain ratio for book imbalance.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

Op = Literal[">", "<", ">=", "<="]
OPS: tuple[Op, ...] = (">", "<", ">=", "<=")


class Rule(msgspec.Struct, frozen=True):
    kind: str  # a key of the kinds table: "price", "funding", "spread" ...
    op: Op
    threshold: Decimal
    market: str = ""  # the watched market, for kinds that watch one
    venues: tuple[str, ...] = ()  # ON venue; SPREAD's two venues; FEED's venue
    cooldown_s: int | None = None  # None: the configured default
    band: Decimal | None = None  # hysteresis in the threshold's unit; None: the kind's default

    def holds(self, value: Decimal) -> bool:
        """The condition is true for ``value``."""
        t = self.threshold
        op = self.op
        if op == ">":
            return value > t
        if op == "<":
            return value < t
        if op == ">=":
            return value >= t
        return value <= t

    def clears(self, value: Decimal, band: Decimal) -> bool:
        """``value`` is back past the threshold by ``band``: a fired rule re-arms."""
        if self.op in (">", ">="):
            return value <= self.threshold - band
        return value >= self.threshold + band


def plain(value: Decimal) -> str:
    """A Decimal as typed: no exponent, no trailing zeros (``180``, ``0.7``, ``-500``)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text
