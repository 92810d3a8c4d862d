"""Carry: what holding a position earns or pays per unit of time, on every venue
in one unit, and the cross-venue pairs that earn it.

Drift funding moves between longs and shorts (positive: longs pay); a pool's
borrow fee is paid by every position to the pool. Both are stated here as a
fraction of notional per year (0.1 = 10 %/yr) from the cached ``Funding``
(``rate`` per ``interval_s``, parts per billion).

A pair is long on one venue and short on another: its carry is what the short
leg earns minus what the long leg pays. Opening both legs costs their impact
and taker fees (``impact.market_impact``); ``net_per_day`` spreads that cost
over ``horizon_days`` of holding, and pairs are ranked by it. Amounts are per
``notional`` (default $10k), quote at price precision.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from quantdesk.core.cache import MarketCache
from quantdesk.core.insights.impact import ImpactQuote, market_impact
from quantdesk.core.math.fixed import div_trunc
from quantdesk.core.model import RATE_SCALE, SECONDS_PER_YEAR, Funding, Side

USD = 1_000_000
TEN_K = 10_000 * USD
DAYS_PER_YEAR = SECONDS_PER_YEAR // 86_400  # the year the annualized rates use
DEFAULT_HORIZON_DAYS = 7
BPS = Decimal(10_000)

HoldSide = Literal["long", "short"]
LegQuote = Callable[[str, str, Side], "ImpactQuote | None"]  # (venue, market, side) -> the leg's fill


def holding_cost(f: Funding, side: HoldSide) -> int:
    """Annualized cost of holding ``side`` (ppb of notional a year); negative
    means it is paid. Funding moves between longs and shorts; a borrow fee is
    paid by both."""
    if f.kind == "borrow" or side == "long":
        return f.annualized
    return -f.annualized


def _per_year(ppb_per_year: int) -> Decimal:
    return Decimal(ppb_per_year) / RATE_SCALE


@dataclass(frozen=True, slots=True)
class Carry:
    """One venue's funding or borrow for one market."""

    venue: str
    market: str
    kind: Literal["funding", "borrow"]
    rate: Decimal  # per year, now; + longs pay (borrow: every position pays)
    predicted: Decimal  # per year, the venue's estimate of the next settlement
    long_cost: Decimal  # per year a long pays (negative: it is paid)
    short_cost: Decimal
    interval_s: int
    next_ts: int  # ns; 0 when the venue does not say
    next_long: int  # quote a long of the notional receives at next_ts (negative: pays), at the predicted rate
    next_short: int
    notional: int

    @property
    def change(self) -> Decimal:
        """Predicted minus now, per year: where the rate is heading."""
        return self.predicted - self.rate


def carry(f: Funding, notional: int = TEN_K) -> Carry:
    """``f`` restated per year, with the next payment of a ``notional`` position."""
    per_interval = div_trunc(f.predicted_rate * notional, RATE_SCALE)  # quote, positive: longs pay
    next_long = -per_interval
    next_short = -per_interval if f.kind == "borrow" else per_interval
    return Carry(
        f.venue,
        f.market,
        f.kind,
        _per_year(f.annualized),
        _per_year(f.predicted_annualized),
        _per_year(holding_cost(f, "long")),
        _per_year(holding_cost(f, "short")),
        f.interval_s,
        f.next_ts,
        next_long,
        next_short,
        notional,
    )


def carries(cache: MarketCache, notional: int = TEN_K) -> list[Carry]:
    """Every cached rate, by market then venue."""
    return [carry(f, notional) for _, f in sorted(cache.funding.items())]


@dataclass(frozen=True, slots=True)
class CarryPair:
    """Long ``long_venue``, short ``short_venue``, ``notional`` each."""

    market: str
    long_venue: str
    short_venue: str
    carry: Decimal  # per year earned by the pair (negative: it pays)
    per_day: int  # quote earned a day by the pair
    open_cost: int  # quote to open both legs: impact against the reference plus taker fees
    horizon_days: int
    notional: int
    long_leg: ImpactQuote
    short_leg: ImpactQuote

    @property
    def net_per_day(self) -> int:
        """Daily carry less the opening cost spread over the horizon."""
        return self.per_day - div_trunc(self.open_cost, self.horizon_days)

    @property
    def break_even_days(self) -> Decimal | None:
        """Days of carry that pay for opening both legs; None when it never does."""
        if self.per_day <= 0:
            return None
        return Decimal(self.open_cost) / self.per_day


def _leg_cost(q: ImpactQuote) -> int | None:
    cost = q.cost_bps
    if cost is None or not q.complete:
        return None
    return int(cost * q.notional / BPS)


def carry_pairs(
    cache: MarketCache,
    notional: int = TEN_K,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    taker_fee_ppm: Mapping[str, int] | None = None,
    markets: list[str] | None = None,
    quote: LegQuote | None = None,
) -> list[CarryPair]:
    """Every long-here short-there pair of a market listed on two venues or more,
    best first: highest ``net_per_day``, then the venues' names. Pairs whose
    legs cannot be quoted (no book, or not deep enough) are left out.
    ``quote`` prices a leg of ``notional`` (default: ``market_impact`` on the cache)."""

    def cached_leg(venue: str, symbol: str, side: Side) -> ImpactQuote | None:
        return market_impact(cache, venue, symbol, side, notional, taker_fee_ppm)

    leg = quote or cached_leg
    by_market: dict[str, list[Funding]] = {}
    for (_, symbol), f in sorted(cache.funding.items()):
        if markets is None or symbol in markets:
            by_market.setdefault(symbol, []).append(f)
    out: list[CarryPair] = []
    for symbol, rates in by_market.items():
        legs: dict[tuple[str, str], ImpactQuote | None] = {}
        for f in rates:
            legs[(f.venue, "buy")] = leg(f.venue, symbol, "buy")
            legs[(f.venue, "sell")] = leg(f.venue, symbol, "sell")
        for lf in rates:
            for sf in rates:
                if lf.venue == sf.venue:
                    continue
                long_leg, short_leg = legs[(lf.venue, "buy")], legs[(sf.venue, "sell")]
                if long_leg is None or short_leg is None:
                    continue
                long_cost, short_cost = _leg_cost(long_leg), _leg_cost(short_leg)
                if long_cost is None or short_cost is None:
                    continue
                earned = -(holding_cost(lf, "long") + holding_cost(sf, "short"))  # ppb a year
                out.append(
                    CarryPair(
                        symbol,
                        lf.venue,
                        sf.venue,
                        _per_year(earned),
                        div_trunc(earned * notional, RATE_SCALE * DAYS_PER_YEAR),
                        long_cost + short_cost,
                        horizon_days,
                        notional,
                        long_leg,
                        short_leg,
                    )
                )
    out.sort(key=lambda p: (-p.net_per_day, p.market, p.long_venue, p.short_venue))
    return out
