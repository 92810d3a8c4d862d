"""The pane catalogue: every pane type QuantDesk has, declared once.

Layouts (validation and the grid), the command line (``SOL-PERP DEPTH``,
``PANE health``), the palette, the help screen, focus keys and ``quantdesk
config validate`` all read this table; nothing else in the code lists pane
types. A new pane is one module in this package plus one ``PaneEntry`` here.

Importing this module is cheap on purpose (no Textual, no pane module):
``PaneEntry.target`` names the class as ``"module:Class"`` and it is imported
the first time a pane of that type is built.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from quantdesk.core.problems import did_you_mean

if TYPE_CHECKING:
    from quantdesk.console.panes.base import Pane


class UnknownPane(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Param:
    """A setting a layout may give one pane (``market = "SOL-PERP"``)."""

    name: str
    type: type
    default: object
    help: str


MARKET = Param("market", str, None, "the market shown; omitted: the first market")
VENUE = Param("venue", str, None, "the venue; omitted: the first venue listing the market")
TAPE_VENUE = Param("venue", str, None, "one venue's trades only; omitted: every venue")
TIMEFRAME = Param("timeframe", str, "15m", "the bars' timeframe: 1m, 5m, 15m, 1h, 4h or 1d")


@dataclass(frozen=True, slots=True)
class PaneEntry:
    id: str  # the layout ``type`` and the class's ``pane_type``
    title: str  # the pane's border title
    target: str | type[Pane]  # "module:Class", imported on first use (or the class itself)
    help: str  # one line for the help screen and the palette
    words: tuple[str, ...] = ()  # command-line keywords; the first is the canonical spelling
    params: tuple[Param, ...] = ()
    focus_action: str | None = None  # the actions-catalogue id that focuses it (its key)
    overlay: bool = False  # its command opens it over a layout that has none (Esc closes)

    @property
    def word(self) -> str:
        return self.words[0] if self.words else self.id.upper()

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def load(self) -> type[Pane]:
        """The pane class (imported now if it was named by a string)."""
        if not isinstance(self.target, str):
            return self.target
        module, _, attr = self.target.partition(":")
        cls: type[Pane] = getattr(importlib.import_module(module), attr)
        if cls.pane_type != self.id:
            raise TypeError(f"{self.target} has pane_type {cls.pane_type!r}, but its catalogue entry is {self.id!r}")
        return cls


_P = "quantdesk.console.panes"

BUILT_IN: tuple[PaneEntry, ...] = (
    PaneEntry("depth", "DEPTH", f"{_P}.depth:DepthPane", "order-book ladder of one market on one venue",
              ("DEPTH", "DEP"), (MARKET, VENUE), "focus.depth"),
    PaneEntry("trades", "TRADES", f"{_P}.trades:TradesPane", "the tape: recent trades of one market on every venue",
              ("TRADES", "TRD"), (MARKET, TAPE_VENUE)),
    PaneEntry("chart", "CHART", f"{_P}.chart:ChartPane",
              "candles of one market, 1m to 1d, with volume, mark, oracle and a position's entry and liquidation",
              ("CHART", "GP"), (MARKET, VENUE, TIMEFRAME)),
    PaneEntry("funding", "FUNDING & BORROW", f"{_P}.funding:FundingPane", "funding and borrow rates of every market",
              ("FUND", "FUNDING"), (), "focus.funding"),
    PaneEntry("fundhist", "FUNDING HISTORY", f"{_P}.funding_history:FundingHistoryPane",
              "one market's hourly funding and borrow history on every venue, with 24h and 7d averages",
              ("FHIST",), (MARKET,), overlay=True),
    PaneEntry("spreads", "CROSS-VENUE SPREADS", f"{_P}.spreads:SpreadsPane", "each market's prices across venues, basis, liquidity",
              ("SPRD", "SPREADS"), (), "focus.spreads"),
    PaneEntry("positions", "POSITIONS", f"{_P}.positions:PositionsPane", "open positions, PnL and liquidation prices",
              ("POS", "POSITIONS"), (), "focus.positions"),
    PaneEntry("orders", "ORDERS", f"{_P}.orders:OrdersPane", "working orders; cancel or modify the selected one",
              ("ORD", "ORDERS"), (), "focus.orders"),
    PaneEntry("fills", "FILLS", f"{_P}.fills:FillsPane", "the account's own fills, newest first", ("FILLS",)),
    PaneEntry("health", "FEED & RPC HEALTH", f"{_P}.health:HealthPane", "each venue's feed and RPC: state, lag, errors",
              ("HEALTH",)),
    PaneEntry("insights", "INSIGHTS", f"{_P}.insights:InsightsPane",
              "ranked warnings and opportunities: liquidation, carry pairs, crosses, book skew, fill costs",
              ("INSIGHTS", "INS")),
    PaneEntry("workspace", "TEAM WORKSPACE", f"{_P}.workspace:WorkspacePane", "the team's watchlists, alerts and notes",
              ("WORKSPACE",)),
    PaneEntry("alerts", "ALERTS", f"{_P}.alerts:AlertsPane", "alert rules, local and shared: armed, or fired when and at what",
              ("ALRT",)),  # ALERTS is the command that lists them in any layout
    PaneEntry("news", "NEWS", f"{_P}.news:NewsPane",
              "headlines from the news sources, newest first, tagged with the assets they name",
              ("NEWS",)),  # NEWS [asset|ALL] filters them
)

# The App's grid when no layout is given (the shipped ``overview`` layout adds the
# open orders under the positions).
DEFAULT_PANES: tuple[str, ...] = ("depth", "funding", "spreads", "positions")

_BY_ID: dict[str, PaneEntry] = {e.id: e for e in BUILT_IN}
_classes: dict[str, type[Pane]] = {}


def entries() -> list[PaneEntry]:
    """Every pane type, in catalogue order."""
    return list(_BY_ID.values())


def ids() -> list[str]:
    return list(_BY_ID)


def get(pane_id: str) -> PaneEntry:
    """The entry for ``pane_id``; ``UnknownPane`` (listing the known ones) if there is none."""
    try:
        return _BY_ID[pane_id]
    except KeyError:
        raise UnknownPane(unknown_message(pane_id)) from None


def unknown_message(pane_id: object) -> str:
    known = ", ".join(sorted(_BY_ID))
    return f"unknown pane type {pane_id!r}; choose one of: {known}"


def unknown_fix(pane_id: object) -> str:
    return did_you_mean(str(pane_id), _BY_ID)


def pane_class(pane_id: str) -> type[Pane]:
    cls = _classes.get(pane_id)
    if cls is None:
        cls = _classes[pane_id] = get(pane_id).load()
    return cls


def title(pane_id: str) -> str:
    entry = _BY_ID.get(pane_id)
    return entry.title if entry is not None else pane_id.upper()


def command_words() -> dict[str, str]:
    """Command-line keyword -> pane id, canonical spelling of each pane first."""
    out: dict[str, str] = {}
    for e in _BY_ID.values():
        for w in e.words or (e.word,):
            out.setdefault(w, e.id)
    return out


def with_param(name: str) -> Iterator[PaneEntry]:
    return (e for e in _BY_ID.values() if e.param(name) is not None)


def register(entry: PaneEntry) -> None:
    """Add a pane type (an extension's, or a test's) beside the built-in ones."""
    if entry.id in _BY_ID:
        raise ValueError(f"a pane type {entry.id!r} is already in the catalogue")
    _BY_ID[entry.id] = entry


def unregister(pane_id: str) -> None:
    if any(e.id == pane_id for e in BUILT_IN):
        raise ValueError(f"{pane_id!r} is a built-in pane type")
    _BY_ID.pop(pane_id, None)
    _classes.pop(pane_id, None)
