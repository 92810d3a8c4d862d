"""The simulated venues declare themselves: ``sim-drift`` (an order book) and
``sim-jup`` (an oracle-priced pool), configured by ``[sim]``, traded on paper."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from quantdesk.core.model import Market
from quantdesk.venues.base import TradingUnavailable, TradingVenue, Venue
from quantdesk.venues.registry import BuildOptions, TradingContext, VenueSpec
from quantdesk.venues.sim.config import SimSettings

if TYPE_CHECKING:
    from quantdesk.venues.sim.venue import SimVenue

CLOB_SHARE = 0.8  # of the event rate: the order book is the busier venue


def _venues(section: SimSettings, options: BuildOptions) -> list[SimVenue]:
    from quantdesk.venues.sim.clob import SimClobVenue
    from quantdesk.venues.sim.clock import WallClock
    from quantdesk.venues.sim.pool import SimPoolVenue

    clock = options.clock or WallClock()
    seed = section.seed if options.seed is None else options.seed
    rate = section.rate if options.rate is None else options.rate
    r = 0.0 if options.paused else rate
    on_demand = rate <= 0
    return [
        SimClobVenue(seed, r * CLOB_SHARE, clock, on_demand=on_demand),
        SimPoolVenue(seed, r * (1 - CLOB_SHARE), clock, on_demand=on_demand),
    ]


def build(section: SimSettings, name: str, options: BuildOptions) -> list[Venue]:
    return list(_venues(section, options))


def markets(section: SimSettings, name: str) -> list[Market]:
    return [m for v in _venues(section, BuildOptions(paused=True)) for m in v.listed_markets()]


def trading(venue: Any, ctx: TradingContext) -> TradingVenue:
    from quantdesk.venues.sim.paper import PAPER_OWNER, SelfTrade, paper_for

    # RiskLimits checked the mode against the same names already
    self_trade = cast(SelfTrade, ctx.limits.self_trade if ctx.limits is not None else "reject")
    owner = ctx.trader.name if ctx.trader is not None else PAPER_OWNER
    paper = paper_for(venue, ctx.bus, self_trade=self_trade, owner=owner)
    if paper is None:
        raise TradingUnavailable(f"{venue.id}: no paper engine for this simulated venue")
    return paper


SPEC = VenueSpec(
    names=("sim",),
    config=SimSettings,
    build=build,
    markets=markets,
    summary="embedded simulated venues sim-drift (order book) and sim-jup (pool), traded on paper",
    top_level=True,
    simulated=True,
    trading=trading,
)
