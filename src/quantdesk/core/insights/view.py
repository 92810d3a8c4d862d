"""The insights report as plain data in human units: what ``quantdesk show
insights --json`` prints and the data API's ``/v1/insights`` serves.

Prices and sizes in their market's units, dollars as Decimals, ratios and
basis points rounded to fixed places, so scripts and the pane read one shape.
A reader without the positions scope gets the report without its position
figures (``positions=False``): the board's liquidation warnings name the
trader's own positions.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from quantdesk.core.cache import MarketCache
from quantdesk.core.insights.board import InsightsReport
from quantdesk.core.model import PRICE_DECIMALS, Market

POSITION_KINDS = frozenset({"liquidation"})

BPS_PLACES = Decimal("0.0001")
RATIO_PLACES = Decimal("0.000001")


def _bps(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(BPS_PLACES)


def _ratio(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(RATIO_PLACES)


def _usd(quote: int | None) -> Decimal | None:
    return None if quote is None else Decimal(quote).scaleb(-PRICE_DECIMALS)


def _price(value: int | Decimal | None, market: Market) -> Decimal | None:
    """A price in price units as quote units, to the market's precision."""
    if value is None:
        return None
    return Decimal(value).scaleb(-market.price_decimals).quantize(Decimal(1).scaleb(-market.price_decimals))


def _figure(value: object) -> object:
    """A figure with at most six places (a ratio's long tail cut, exact values kept)."""
    if isinstance(value, Decimal) and value.is_finite():
        cut = value.quantize(RATIO_PLACES)
        return value if cut == value else cut
    return value


def insights_view(
    cache: MarketCache, report: InsightsReport, symbol: str | None = None, *, positions: bool = True
) -> dict[str, Any]:
    """The report as plain data; ``symbol`` keeps one market; ``positions``
    False leaves out every figure of the trader's own positions."""

    def wanted(market: str) -> bool:
        return symbol is None or market == symbol

    markets = cache.markets
    return {
        "ts": report.ts,
        "notional": _usd(report.notional),
        "insights": [
            {
                "severity": i.severity,
                "kind": i.kind,
                "market": i.market,
                "venues": list(i.venues),
                "headline": i.headline,
                "detail": i.detail,
                "figures": {k: _figure(v) for k, v in i.figures.items()},
            }
            for i in report.insights
            if wanted(i.market) and (positions or i.kind not in POSITION_KINDS)
        ],
        "positions": [
            {
                "venue": r.venue,
                "market": r.market,
                "size": markets[(r.venue, r.market)].size(r.base),
                "price": _price(r.price, markets[(r.venue, r.market)]),
                "liquidation_price": _price(r.liquidation_price, markets[(r.venue, r.market)]),
                "liquidation_distance": _ratio(r.distance),
                "volatility_1d": _ratio(r.volatility),
                "liquidation_sigma": None if r.sigma is None else r.sigma.quantize(Decimal("0.01")),
                "funding": _usd(r.funding),
                "fees": _usd(r.fees),
                "break_even": _price(r.break_even, markets[(r.venue, r.market)]),
            }
            for r in report.positions
            if wanted(r.market) and positions
        ],
        "carry_pairs": [
            {
                "market": p.market,
                "long_venue": p.long_venue,
                "short_venue": p.short_venue,
                "carry": p.carry,
                "per_day": _usd(p.per_day),
                "open_cost": _usd(p.open_cost),
                "net_per_day": _usd(p.net_per_day),
                "break_even_days": None if p.break_even_days is None else p.break_even_days.quantize(Decimal("0.01")),
                "horizon_days": p.horizon_days,
            }
            for p in report.pairs
            if wanted(p.market)
        ],
        "impact": [
            {
                "venue": q.venue,
                "market": q.market,
                "kind": q.kind,
                "side": q.side,
                "notional": _usd(q.notional),
                "filled_notional": _usd(q.filled_notional),
                "complete": q.complete,
                "size": markets[(q.venue, q.market)].size(q.size),
                "avg_price": _price(q.avg_price, markets[(q.venue, q.market)]),
                "reference": _price(q.reference, markets[(q.venue, q.market)]),
                "impact_bps": _bps(q.impact_bps),
                "fee_bps": _bps(q.fee_bps),
                "cost_bps": _bps(q.cost_bps),
            }
            for q in report.impact
            if wanted(q.market)
        ],
        "carry": [
            {
                "venue": c.venue,
                "market": c.market,
                "kind": c.kind,
                "rate": c.rate,
                "predicted": c.predicted,
                "long_cost": c.long_cost,
                "short_cost": c.short_cost,
                "interval_s": c.interval_s,
                "next_ts": c.next_ts,
                "next_payment_long": _usd(c.next_long),
                "next_payment_short": _usd(c.next_short),
            }
            for c in report.carry
            if wanted(c.market)
        ],
        "books": [
            {
                "venue": b.venue,
                "market": b.market,
                "imbalance": _ratio(b.imbalance),
                "depth_bps": None if b.depth is None else b.depth.bps,
                "bid_size": None if b.depth is None else markets[(b.venue, b.market)].size(b.depth.bid_size),
                "ask_size": None if b.depth is None else markets[(b.venue, b.market)].size(b.depth.ask_size),
                "bid_notional": None if b.depth is None else _usd(b.depth.bid_notional),
                "ask_notional": None if b.depth is None else _usd(b.depth.ask_notional),
            }
            for b in report.books
            if wanted(b.market)
        ],
        "basis": [
            {
                "market": mb.market,
                "index": mb.index,
                "venues": [
                    {
                        "venue": v.venue,
                        "mark": v.mark,
                        "oracle": v.oracle,
                        "mid": v.mid,
                        "premium_bps": _bps(v.premium_bps),
                        "oracle_index_bps": _bps(v.oracle_index_bps),
                        "mark_index_bps": _bps(v.mark_index_bps),
                    }
                    for v in mb.venues
                ],
            }
            for mb in report.basis
            if wanted(mb.market)
        ],
    }
