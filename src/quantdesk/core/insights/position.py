"""Per-position risk: how far liquidation is, how much carry it has paid, and
the price at which closing it would lose nothing.

- ``liquidation_distance``: the fraction of today's price the market must move
  against the position to reach its liquidation price (0.05 = 5 %); negative
  once the price is already beyond it. Measured from the oracle, which both
  Drift and Jupiter liquidate on. ``LIQ < 5%`` alerts on this figure.
- ``realized_volatility``: the standard deviation of the price over a horizon
  (one day by default) as a fraction of the price, from the squared returns
  between volume-weighted samples. Consecutive prints bounce between bid and
  ask; averaging them per time bucket first keeps that bounce out of the
  figure. ``liquidation_sigma`` divides the distance by it: how many daily
  standard deviations away liquidation is.
- ``break_even_price``: the exit price at which the position, after the fees
  it paid to open, the funding and borrow it paid or received and the fee to
  close it, is flat.

Integer math on the market's precision; Decimals only for ratios.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from math import isqrt

from quantdesk.core.cache import MinuteVolume
from quantdesk.core.math.fixed import FEE_PRECISION, div_ceil
from quantdesk.core.model import Position, Trade

DAY_NS = 86_400 * 1_000_000_000
SECOND_NS = 1_000_000_000
MIN_RETURNS = 5  # fewer returns than this say nothing about volatility
_VAR_SCALE = 10**18  # squared returns are summed at 1e18, so their root is at 1e9
_ROOT_SCALE = 10**9

Sample = tuple[int, int]  # (ts ns, price in price units)


def liquidation_distance(position: Position, price: int | None = None) -> Decimal | None:
    """Fraction of ``price`` (default: the position's mark) the market must move
    against the position to reach its liquidation price; negative when already
    past it. None when flat, without a liquidation price, or without a price."""
    liq = position.liquidation_price
    now = position.mark_price if price is None else price
    if position.base == 0 or liq is None or now <= 0:
        return None
    move = now - liq if position.base > 0 else liq - now
    return Decimal(move) / now


def vwap_samples(trades: Iterable[Trade], bucket_ns: int = SECOND_NS) -> list[Sample]:
    """Volume-weighted price per ``bucket_ns`` of time, oldest first, from
    trades given oldest first (the cache's ring). A late print joins the
    bucket being filled rather than reopening an old one."""
    out: list[Sample] = []
    bucket = -1
    notional = size = 0
    last_ts = 0
    for t in trades:
        b = t.ts // bucket_ns
        if b > bucket:
            if size:
                out.append((last_ts, notional // size))
            bucket, notional, size = b, 0, 0
        notional += t.price * t.size
        size += t.size
        last_ts = max(last_ts, t.ts)
    if size:
        out.append((last_ts, notional // size))
    return out


def minute_samples(minutes: Iterable[MinuteVolume], minute_ns: int = 60 * SECOND_NS) -> list[Sample]:
    """Each traded minute's volume-weighted price (the cache's minute buckets)."""
    return [((m.minute + 1) * minute_ns, m.notional // m.size) for m in minutes if m.size > 0]


def realized_volatility(samples: Sequence[Sample], horizon_ns: int = DAY_NS) -> Decimal | None:
    """Standard deviation of the price over ``horizon_ns`` as a fraction of the
    price, from squared simple returns between samples scaled by the time they
    span: sqrt(sum r^2 * horizon / elapsed). None with fewer than
    ``MIN_RETURNS`` returns or no elapsed time."""
    if len(samples) <= MIN_RETURNS:
        return None
    elapsed = samples[-1][0] - samples[0][0]
    if elapsed <= 0:
        return None
    total = 0
    prev = samples[0][1]
    for _, price in samples[1:]:
        if prev > 0:
            move = price - prev
            total += move * move * _VAR_SCALE // (prev * prev)
        prev = price
    return Decimal(isqrt(total * horizon_ns // elapsed)) / _ROOT_SCALE


def liquidation_sigma(distance: Decimal | None, volatility: Decimal | None) -> Decimal | None:
    """``distance`` (a fraction) in units of ``volatility`` (a fraction over the
    same horizon); None when either is unknown or the volatility is zero."""
    if distance is None or volatility is None or volatility <= 0:
        return None
    return distance / volatility


def break_even_price(position: Position, close_fee_ppm: int = 0, base_precision: int = 10**9) -> int | None:
    """Exit price at which the position held now nets zero after its opening
    fees (``position.fees``), the funding and borrow it received or paid
    (``position.funding``) and a closing fee of ``close_fee_ppm`` of the exit
    notional. Rounded against the trader (up for a long, down for a short).
    None when flat, or when the closing fee is 100 % or more."""
    base = position.base
    if base == 0 or close_fee_ppm >= FEE_PRECISION:
        return None
    size = abs(base)
    cost = position.fees - position.funding  # quote at price precision; positive costs the trader
    entry_value = abs(position.quote_entry)
    if base > 0:
        # exit * size / bp * (1 - fee) = entry_value + cost
        need = (entry_value + cost) * base_precision * FEE_PRECISION
        return max(0, div_ceil(need, size * (FEE_PRECISION - close_fee_ppm)))
    # short: entry_value - cost = exit * size / bp * (1 + fee)
    have = (entry_value - cost) * base_precision * FEE_PRECISION
    return max(0, have // (size * (FEE_PRECISION + close_fee_ppm)))


@dataclass(frozen=True, slots=True)
class PositionRisk:
    """The figures the Insights pane shows per open position."""

    venue: str
    market: str
    base: int  # signed
    price: int  # the price measured from (oracle, else the position's mark)
    liquidation_price: int | None
    distance: Decimal | None  # fraction of price to liquidation, see ``liquidation_distance``
    volatility: Decimal | None  # one-day realized, fraction of price
    sigma: Decimal | None  # distance / volatility
    funding: int  # received so far (negative: paid), quote at price precision
    fees: int  # trading fees paid on what is held
    break_even: int | None


def position_risk(
    position: Position,
    price: int | None,
    samples: Sequence[Sample],
    close_fee_ppm: int = 0,
    base_precision: int = 10**9,
) -> PositionRisk:
    """Every per-position figure at once, measured from ``price`` (the oracle;
    the position's mark when None)."""
    now = price if price else position.mark_price
    distance = liquidation_distance(position, now)
    vol = realized_volatility(samples)
    return PositionRisk(
        position.venue,
        position.market,
        position.base,
        now,
        position.liquidation_price,
        distance,
        vol,
        liquidation_sigma(distance, vol),
        position.funding,
        position.fees,
        break_even_price(position, close_fee_ppm, base_precision),
    )
