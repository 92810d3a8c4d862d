"""The table of alert kinds: one entry per thing an alert can watch.

Each ``RuleKind`` says how its rule is written (its keyword, whether the
keyword leads or follows a market, how the rest parses), how its figure is
read from the cache, which bus topics can move that figure, its default
hysteresis and how a value of it is shown. The grammar, the engine and the
lists all go through this table, so a new kind (``ALERT NEWS SOL``) is one
``register`` call and nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from quantdesk.core.alerts.rule import Rule, plain
from quantdesk.core.cache import MarketCache

if TYPE_CHECKING:
    from quantdesk.core.alerts.grammar import RuleParser

Reading = tuple[Decimal, str]  # (the figure, the venue it was read on; "" for a desk-wide figure)


@dataclass(frozen=True, slots=True)
class Unit:
    """How a threshold is typed and a value shown: ``50%``, ``20BPS``, ``10S``."""

    name: str  # for messages: "a price", "an annualized rate in %"
    suffixes: tuple[str, ...]  # accepted after the number; the first is written back; () plain numbers
    scale: dict[str, Decimal]  # suffix -> multiplier into the unit (BPS: "%" -> 100)
    places: int  # decimals shown
    small_places: int | None = None  # decimals shown below 1 (a sub-dollar price needs more)

    def write(self, value: Decimal) -> str:
        return plain(value) + (self.suffixes[0] if self.suffixes else "")

    def show(self, value: Decimal) -> str:
        places = self.small_places if self.small_places is not None and 0 < abs(value) < 1 else self.places
        return f"{value:,.{places}f}{self.suffixes[0] if self.suffixes else ''}"


QUOTE = Unit("a number in quote units (USD)", (), {}, 2, 6)
RATIO = Unit("a ratio", (), {}, 3)
PERCENT = Unit("a percentage", ("%",), {"%": Decimal(1)}, 2)
BPS = Unit("basis points", ("BPS", "%"), {"BPS": Decimal(1), "%": Decimal(100)}, 1)
SECONDS = Unit(
    "a duration", ("S", "MS", "M", "H"),
    {"S": Decimal(1), "MS": Decimal("0.001"), "M": Decimal(60), "H": Decimal(3600)}, 1,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RuleKind:
    name: str  # the rule's ``kind``
    word: str  # the keyword naming it: PRICE after a market, SPREAD leading the rule
    lead: bool  # True: ALERT WORD ...; False: ALERT MARKET WORD ...
    example: str  # a complete rule, shown with every mistake in it
    unit: Unit
    # Parses what follows the keyword (the market already read for market kinds;
    # the keyword itself is passed so synonyms such as ABOVE can imply the comparison).
    parse: Callable[[RuleParser, str, str], Rule]
    # (cache, rule, now ns) -> the figure; it may read only the rule's subject
    # (kind, market, venues), never its threshold: rules on one subject share a read.
    observe: Callable[[MarketCache, Rule, int], Reading | None]
    topics: Callable[[Rule], tuple[str, ...]]  # bus patterns that may move the figure; () ticks only
    band: Callable[[Rule], Decimal]  # the default hysteresis, in the unit
    text: Callable[[Rule], str]  # canonical form without ALERT and options
    on_venue: bool = False  # takes ``ON <venue>`` to read one venue only
    words: tuple[str, ...] = ()  # further keywords for the same kind (ABOVE, BELOW)
    help: str = ""


_KINDS: dict[str, RuleKind] = {}


def register(kind: RuleKind) -> None:
    """Add a kind; its keywords must not clash with another kind's."""
    if kind.name in _KINDS:
        raise ValueError(f"an alert kind {kind.name!r} is already registered")
    for other in _KINDS.values():
        taken = {other.word, *other.words} & {kind.word, *kind.words}
        if taken and other.lead == kind.lead:
            raise ValueError(f"alert keyword {sorted(taken)[0]} is already used by {other.name!r}")
    _KINDS[kind.name] = kind


def unregister(name: str) -> None:
    _KINDS.pop(name, None)


def kind(name: str) -> RuleKind:
    """The kind of a rule (KeyError for one this QuantDesk does not know)."""
    return _KINDS[name]


def kinds() -> list[RuleKind]:
    return list(_KINDS.values())


def lead_words() -> dict[str, RuleKind]:
    """Keywords that open a rule (SPREAD, FEED ...) -> their kind."""
    return {w: k for k in _KINDS.values() if k.lead for w in (k.word, *k.words)}


def market_words() -> dict[str, RuleKind]:
    """Keywords that follow a market (PRICE, FUNDING ...) -> their kind."""
    return {w: k for k in _KINDS.values() if not k.lead for w in (k.word, *k.words)}
