"""Which perp markets a Drift-v2 deployment lists, and which of them it follows.

The deployment lists its markets on chain (``discovery``); the config keeps
only a ``watchlist`` (the markets streamed from the start, in the order the
trader wrote them) and per-market ``overrides``: the symbol QuantDesk shows
(``name``, to line a market up with another venue's), its tick or lot
size, or its index where the listing cannot be read (no RPC, no IDL).
``resolve`` combines them; it does no I/O.

Without a listing (before discovery, offline, or a deployment whose IDL is
not public) the markets known here stand in: SOL, BTC and ETH, plus every
override that gives an index.

The old static ``markets`` list still works: each entry is a watchlist
symbol with its index, tick and lot as overrides (an override wins), and
``deprecations`` says how to write it the new way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from quantdesk.core.problems import did_you_mean

if TYPE_CHECKING:  # discovery reads the chain; this module is loaded with the config
    from quantdesk.venues.drift.discovery import ListedMarket

UNTRADABLE = frozenset({"Delisted", "Settlement"})  # listed on chain, but nothing trades or streams


class MarketSpec(BaseModel):
    """A perp market: the symbol QuantDesk shows, its on-chain index and steps."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    symbol: str
    index: int = Field(ge=0, le=65_535)  # Drift market indexes are u16
    tick_size: int = Field(default=100, gt=0, le=10**12)  # price units (1e6): Drift's order_tick_size
    lot_size: int = Field(default=10_000_000, gt=0, le=10**18)  # base units (1e9): order_step_size
    listed_as: str = ""  # the deployment's own name when an override renamed it ("" : the symbol)

    @property
    def base(self) -> str:
        return self.symbol.split("-")[0]

    @property
    def wire_name(self) -> str:
        """The name the DLOB server and the data API know the market by."""
        return self.listed_as or self.symbol


class MarketOverride(BaseModel):
    """``[venues.drift.overrides."SYMBOL"]``: what to change of one listed market."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    name: str | None = Field(default=None, min_length=1, max_length=32)  # the symbol to show instead
    index: int | None = Field(default=None, ge=0, le=65_535)  # only needed when the listing cannot be read
    tick_size: int | None = Field(default=None, gt=0, le=10**12)
    lot_size: int | None = Field(default=None, gt=0, le=10**18)


class StaticMarket(BaseModel):
    """One entry of the deprecated static ``[[venues.drift.markets]]`` list."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    symbol: str
    index: int = Field(ge=0, le=65_535)
    tick_size: int = Field(default=100, gt=0, le=10**12)
    lot_size: int = Field(default=10_000_000, gt=0, le=10**18)


KNOWN_MARKETS = (
    MarketSpec(symbol="SOL-PERP", index=0, tick_size=100, lot_size=10_000_000),
    MarketSpec(symbol="BTC-PERP", index=1, tick_size=100_000, lot_size=100_000),
    MarketSpec(symbol="ETH-PERP", index=2, tick_size=10_000, lot_size=1_000_000),
)
DEFAULT_WATCHLIST = ("SOL-PERP", "BTC-PERP", "ETH-PERP")


@dataclass(frozen=True)
class MarketList:
    watched: tuple[MarketSpec, ...]  # streamed from the start, in watchlist order
    listed: tuple[MarketSpec, ...]  # every market the deployment lists (the watched ones too), by index
    problems: tuple[str, ...]  # watchlist entries and overrides that name no listed market
    from_chain: bool  # the listing was read from chain (else the markets known here)

    def market(self, symbol: str) -> MarketSpec | None:
        wanted = symbol.upper()
        return next((m for m in self.listed if m.symbol.upper() == wanted), None)


def resolve(
    venue: str,
    watchlist: Sequence[str],
    overrides: Mapping[str, MarketOverride],
    legacy: Sequence[StaticMarket] = (),
    listing: Sequence[MarketSpec] | None = None,
) -> MarketList:
    """The deployment's markets from its listing (or the known ones), overrides and watchlist."""
    base: dict[str, MarketSpec] = {m.symbol.upper(): m for m in (KNOWN_MARKETS if listing is None else listing)}
    merged: dict[str, MarketOverride] = {}
    for m in legacy:  # the deprecated static list: its figures are overrides
        merged[m.symbol.upper()] = MarketOverride(index=m.index, tick_size=m.tick_size, lot_size=m.lot_size)
    for symbol, o in overrides.items():
        merged[symbol.upper()] = o
    problems: list[str] = []
    for key, o in merged.items():
        found = base.get(key)
        if found is None and o.index is None:
            problems.append(
                f"{venue}: overrides.{key} names a market {venue} does not list; "
                f"{did_you_mean(key, base)} Or give its index to add it by hand."
            )
            continue
        # A market listed under another index (or none) is taken as the override says.
        start = found or MarketSpec(symbol=key, index=o.index or 0)
        name = o.name or start.symbol
        base[key] = MarketSpec(
            symbol=name,
            index=o.index if o.index is not None else start.index,
            tick_size=o.tick_size or start.tick_size,
            lot_size=o.lot_size or start.lot_size,
            listed_as=start.wire_name if name != start.wire_name else "",
        )
    listed = sorted(base.values(), key=lambda m: (m.index, m.symbol))
    by_symbol = {m.symbol.upper(): m for m in listed}
    by_wire = {m.wire_name.upper(): m for m in listed}
    wanted = [m.symbol for m in legacy] if legacy else list(watchlist)
    watched: dict[str, MarketSpec] = {}
    for symbol in wanted:
        spec = by_symbol.get(symbol.upper()) or by_wire.get(symbol.upper())
        if spec is None:
            problems.append(
                f"{venue}: the watchlist names {symbol}, which {venue} does not list; {did_you_mean(symbol.upper(), by_symbol)}"
            )
            continue
        watched.setdefault(spec.symbol, spec)
    return MarketList(tuple(watched.values()), tuple(listed), tuple(problems), listing is not None)


def from_listing(listed: Sequence[ListedMarket]) -> list[MarketSpec]:
    """The tradable perp markets of a discovery result."""
    return [
        MarketSpec(symbol=m.symbol, index=m.index, tick_size=m.tick_size, lot_size=m.lot_size)
        for m in listed
        if m.kind == "perp" and m.status not in UNTRADABLE
    ]


def deprecations(venue: str, legacy: Sequence[StaticMarket], *, watchlist_given: bool) -> list[str]:
    """What to write instead of the static ``markets`` list, if one is configured."""
    if not legacy:
        return []
    symbols = ", ".join(f'"{m.symbol}"' for m in legacy)
    note = (
        f"venues.{venue}.markets is deprecated: every listed market is found on chain now. "
        f"Write watchlist = [{symbols}] instead, and keep a tick_size, lot_size or index only where it must "
        f'differ, as [venues.{venue}.overrides."SYMBOL"].'
    )
    if watchlist_given:
        note += f" While markets is set, venues.{venue}.watchlist is not used."
    return [note]
