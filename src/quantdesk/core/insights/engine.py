"""Builds the ``InsightsReport`` from the cache, recomputing only what changed.

Each market's book figures and fill quotes are kept with the book's sequence
number and oracle price they were computed from; each position's volatility
with its market's trade revision. A report after one book update recomputes
that one book's figures and the cheap cross-market parts (pairs, basis,
ranking) from what is kept, so it can follow every update.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from quantdesk.core.cache import Key, MarketCache
from quantdesk.core.insights import text
from quantdesk.core.insights.basis import MarketBasis, market_basis
from quantdesk.core.insights.board import BookFigures, Insight, InsightsReport, Thresholds, rank
from quantdesk.core.insights.book import DEFAULT_LEVELS, depth_within, imbalance
from quantdesk.core.insights.carry import DEFAULT_HORIZON_DAYS, TEN_K, Carry, CarryPair, carry, carry_pairs
from quantdesk.core.insights.impact import DEFAULT_NOTIONALS, DEFAULT_TAKER_FEE_PPM, SIDES, ImpactQuote, cached_ladder
from quantdesk.core.insights.position import (
    MIN_RETURNS,
    PositionRisk,
    Sample,
    minute_samples,
    position_risk,
    vwap_samples,
)
from quantdesk.core.model import PRICE_DECIMALS, Side

DEPTH_BAND_BPS = 10
BPS = Decimal(10_000)


class InsightsEngine:
    def __init__(
        self,
        *,
        notionals: Sequence[int] = DEFAULT_NOTIONALS,
        pair_notional: int = TEN_K,
        horizon_days: int = DEFAULT_HORIZON_DAYS,
        levels: int = DEFAULT_LEVELS,
        band_bps: int = DEPTH_BAND_BPS,
        taker_fee_ppm: Mapping[str, int] | None = None,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.notionals = tuple(sorted(set(notionals) | {pair_notional}))
        self.pair_notional = pair_notional
        self.horizon_days = horizon_days
        self.levels = levels
        self.band_bps = band_bps
        self.taker_fee_ppm = dict(taker_fee_ppm or {})
        self.thresholds = thresholds or Thresholds()
        self._books: dict[Key, tuple[Hashable, BookFigures, dict[tuple[Side, int], ImpactQuote]]] = {}
        self._samples: dict[Key, tuple[Hashable, list[Sample]]] = {}
        self._symbols: dict[str, tuple[Hashable, _SymbolPart]] = {}
        self._positions: dict[Key, tuple[Hashable, PositionRisk, list[Insight]]] = {}
        self._report: tuple[Hashable, InsightsReport] | None = None

    # -- per market, kept until its inputs move --------------------------------
    def _book_state(
        self, cache: MarketCache, key: Key
    ) -> tuple[Hashable, BookFigures, dict[tuple[Side, int], ImpactQuote]]:
        book = cache.books.get(key)
        market = cache.markets[key]
        oracle = cache.oracle.get(key) if market.kind == "pool" else None
        stamp = (None if book is None else (id(book), book.seq, book.ts, book.needs_resync), oracle and oracle.price)
        kept = self._books.get(key)
        if kept is not None and kept[0] == stamp:
            return kept
        quotes: dict[tuple[Side, int], ImpactQuote] = {}
        figures = BookFigures(key[0], key[1], None, None)
        if book is not None:
            figures = BookFigures(
                key[0],
                key[1],
                imbalance(book, self.levels) if market.kind == "clob" else None,  # a pool's ladder is symmetric by design
                depth_within(book, self.band_bps, market.size_decimals),
            )
            for q in cached_ladder(cache, key[0], key[1], self.notionals, self.taker_fee_ppm):
                quotes[(q.side, q.notional)] = q
        self._books[key] = (stamp, figures, quotes)
        return stamp, figures, quotes

    def _position_samples(self, cache: MarketCache, key: Key) -> list[Sample]:
        minutes = cache.trade_minutes.get(key)
        stamp = (cache.trade_rev.get(key, 0), len(minutes) if minutes else 0)
        kept = self._samples.get(key)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        samples = minute_samples(minutes) if minutes else []
        # Whole minutes once there are enough of them; until then, seconds of the tape.
        if len(samples) <= MIN_RETURNS:
            samples = vwap_samples(cache.trades.get(key, ()))
        self._samples[key] = (stamp, samples)
        return samples

    # -- the report ------------------------------------------------------------
    def report(self, cache: MarketCache, now_ns: int) -> InsightsReport:
        rev = cache.rev
        stamp = (
            rev["book"], rev["oracle"], rev["mark"], rev["funding"], rev["position"], rev["trade"], len(cache.markets),
        )
        if self._report is not None and self._report[0] == stamp:
            return self._report[1]
        parts = [self._symbol_part(cache, symbol) for symbol in dict.fromkeys(s for _, s in cache.markets)]
        positions: list[PositionRisk] = []
        warnings: list[Insight] = []
        for key, p in sorted(cache.positions.items()):
            if p.base != 0 and key in cache.markets:
                risk, warning = self._position_part(cache, key)
                positions.append(risk)
                warnings.extend(warning)
        pairs = sorted((p for part in parts for p in part.pairs), key=_pair_rank)
        carry_insights = rank([i for part in parts for i in part.carry])[: self.thresholds.carry_pairs]
        board = rank([*warnings, *carry_insights, *(i for part in parts for i in part.insights)])
        report = InsightsReport(
            now_ns,
            self.pair_notional,
            board,
            [b for part in parts for b in part.books],
            [q for part in parts for q in part.impact],
            sorted((c for part in parts for c in part.rates), key=lambda c: (c.market, c.venue)),
            pairs,
            [part.basis for part in parts],
            positions,
        )
        self._report = (stamp, report)
        return report

    def _symbol_part(self, cache: MarketCache, symbol: str) -> _SymbolPart:
        """Everything about one market across its venues, kept until one of its
        books, rates, oracles or marks changes."""
        keys = _venue_order(cache, symbol)
        states = [self._book_state(cache, k) for k in keys]
        stamp = tuple(
            (st[0], cache.funding.get(k), cache.oracle.get(k), cache.mark.get(k)) for k, st in zip(keys, states)
        )
        kept = self._symbols.get(symbol)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        quotes = {k: st[2] for k, st in zip(keys, states)}
        n = self.pair_notional

        def leg(venue: str, market: str, side: Side) -> ImpactQuote | None:
            return quotes.get((venue, market), {}).get((side, n))

        books = [st[1] for st in states]
        pairs = carry_pairs(cache, n, self.horizon_days, self.taker_fee_ppm, markets=[symbol], quote=leg)
        rates = [carry(f, n) for k in keys if (f := cache.funding.get(k)) is not None]
        basis = market_basis(cache, symbol)
        part = _SymbolPart(
            books,
            [q for k in keys for q in _ordered(quotes[k], self.notionals)],
            pairs,
            rates,
            basis,
            self._carry(pairs),
            [*self._crosses(cache, symbol, quotes), *self._imbalance(books), *self._basis([basis]), *self._turns(rates)],
        )
        self._symbols[symbol] = (stamp, part)
        return part

    def _position_part(self, cache: MarketCache, key: Key) -> tuple[PositionRisk, list[Insight]]:
        position = cache.positions[key]
        oracle = cache.oracle.get(key)
        samples = self._position_samples(cache, key)
        stamp = (position, oracle, self._samples[key][0])
        kept = self._positions.get(key)
        if kept is not None and kept[0] == stamp:
            return kept[1], kept[2]
        market = cache.markets[key]
        risk = position_risk(
            position,
            oracle.price if oracle else None,
            samples,
            self.taker_fee_ppm.get(key[0], DEFAULT_TAKER_FEE_PPM[market.kind]),
            10**market.size_decimals,
        )
        warning = self._liquidation(cache, [risk])
        self._positions[key] = (stamp, risk, warning)
        return risk, warning

    # -- insights ----------------------------------------------------------------
    def _liquidation(self, cache: MarketCache, positions: list[PositionRisk]) -> list[Insight]:
        t = self.thresholds
        out = []
        for r in positions:
            market = cache.markets[(r.venue, r.market)]

            def price(v: int | None) -> str:
                return text.quote(None if v is None else market.price(v))

            near = r.distance is not None and r.distance < t.liquidation_distance
            near_sigma = r.sigma is not None and r.sigma < t.liquidation_sigma
            if not (near or near_sigma) or r.distance is None:
                continue
            side = "long" if r.base > 0 else "short"
            sigma = f" ({text.num(r.sigma, 1)}σ a day)" if r.sigma is not None else ""
            out.append(
                Insight(
                    "warning",
                    "liquidation",
                    r.market,
                    (r.venue,),
                    f"{side} {text.pct(r.distance)} from liquidation{sigma}",
                    f"price {price(r.price)}  liq {price(r.liquidation_price)}  "
                    f"funding {text.usd(r.funding, sign=True)}  break-even {price(r.break_even)}",
                    -r.distance,  # nearest first, whether or not a volatility is known yet
                    {
                        "distance": r.distance,
                        "sigma": r.sigma,
                        "price": market.price(r.price),
                        "liquidation_price": None if r.liquidation_price is None else market.price(r.liquidation_price),
                        "break_even": None if r.break_even is None else market.price(r.break_even),
                        "funding": Decimal(r.funding).scaleb(-PRICE_DECIMALS),
                    },
                )
            )
        return out

    def _crosses(
        self, cache: MarketCache, symbol: str, quotes: dict[Key, dict[tuple[Side, int], ImpactQuote]]
    ) -> list[Insight]:
        """Selling on one venue above what buying on another costs, both at the pair notional, after fees."""
        n = self.pair_notional
        out = []
        venues = list(quotes)
        for sell_key in venues:
            for buy_key in venues:
                if sell_key == buy_key:
                    continue
                sell = quotes.get(sell_key, {}).get(("sell", n))
                buy = quotes.get(buy_key, {}).get(("buy", n))
                if sell is None or buy is None or not (sell.complete and buy.complete):
                    continue
                if sell.avg_price is None or buy.avg_price is None:
                    continue
                bid = sell.avg_price.scaleb(-cache.markets[sell_key].price_decimals)
                ask = buy.avg_price.scaleb(-cache.markets[buy_key].price_decimals)
                edge = (bid - ask) / ask * BPS - sell.fee_bps - buy.fee_bps
                if edge <= 0:
                    continue
                value = int(edge * n / BPS)
                out.append(
                    Insight(
                        "opportunity",
                        "cross",
                        symbol,
                        (buy_key[0], sell_key[0]),
                        f"buy {buy_key[0]} / sell {sell_key[0]}: {text.usd(value)} per {text.usd(n, places=0)}",
                        f"buy avg {text.quote(ask)}  sell avg {text.quote(bid)}  edge {text.bps(edge)} after fees",
                        Decimal(value),
                        {"edge_bps": edge, "value": _usd(value), "buy_avg": ask, "sell_avg": bid},
                    )
                )
        return out

    def _carry(self, pairs: list[CarryPair]) -> list[Insight]:
        out: list[Insight] = []
        for p in pairs:
            if p.net_per_day <= 0:
                continue
            days = p.break_even_days
            out.append(
                Insight(
                    "opportunity",
                    "carry",
                    p.market,
                    (p.long_venue, p.short_venue),
                    f"long {p.long_venue} / short {p.short_venue}: "
                    f"{text.usd(p.net_per_day)}/day net per {text.usd(p.notional, places=0)}",
                    f"carry {text.pct(p.carry, sign=True)}/yr = {text.usd(p.per_day)}/day  "
                    f"open {text.usd(p.open_cost)}  pays back in {text.num(days, 1)}d  "
                    f"(net spreads opening over {p.horizon_days}d)",
                    Decimal(p.net_per_day),
                    {
                        "carry": p.carry,
                        "per_day": _usd(p.per_day),
                        "open_cost": _usd(p.open_cost),
                        "net_per_day": _usd(p.net_per_day),
                        "break_even_days": days,
                    },
                )
            )
        return out

    def _imbalance(self, books: list[BookFigures]) -> list[Insight]:
        limit = self.thresholds.imbalance
        out = []
        for b in books:
            x = b.imbalance
            if x is None or abs(x) < limit:
                continue
            heavy = "bids" if x > 0 else "asks"
            depth = ""
            if b.depth is not None:
                depth = (
                    f"  ±{b.depth.bps}bp: bids {text.usd(b.depth.bid_notional, places=0)} "
                    f"asks {text.usd(b.depth.ask_notional, places=0)}"
                )
            out.append(
                Insight(
                    "signal",
                    "imbalance",
                    b.market,
                    (b.venue,),
                    f"book {text.num(x, 2, sign=True)}: {heavy} heavy",
                    f"top {self.levels} levels each side{depth}",
                    abs(x),
                    {"imbalance": x, "levels": self.levels},
                )
            )
        return out

    def _basis(self, table: list[MarketBasis]) -> list[Insight]:
        limit = self.thresholds.basis_bps
        out = []
        for mb in table:
            for v in mb.venues:
                premium, drift = v.premium_bps, v.oracle_index_bps
                if premium is not None and abs(premium) >= limit:
                    out.append(
                        Insight(
                            "signal",
                            "basis",
                            v.market,
                            (v.venue,),
                            f"mark {text.bps(premium)} vs its oracle",
                            f"mark {text.quote(v.mark)}  oracle {text.quote(v.oracle)}  index {text.quote(mb.index)}",
                            abs(premium),
                            {"premium_bps": premium, "mark": v.mark, "oracle": v.oracle, "index": mb.index},
                        )
                    )
                if drift is not None and abs(drift) >= limit:
                    out.append(
                        Insight(
                            "signal",
                            "basis",
                            v.market,
                            (v.venue,),
                            f"oracle {text.bps(drift)} vs the index",
                            f"oracle {text.quote(v.oracle)}  index (median of venues) {text.quote(mb.index)}",
                            abs(drift),
                            {"oracle_index_bps": drift, "oracle": v.oracle, "index": mb.index},
                        )
                    )
        return out

    def _turns(self, rates: list[Carry]) -> list[Insight]:
        """A funding rate whose next settlement is predicted on the other side of zero."""
        out = []
        for c in rates:
            if c.kind != "funding" or c.rate == 0 or c.predicted == 0 or (c.rate > 0) == (c.predicted > 0):
                continue
            payer = "shorts" if c.predicted < 0 else "longs"
            out.append(
                Insight(
                    "signal",
                    "funding-turn",
                    c.market,
                    (c.venue,),
                    f"funding turns: {payer} pay next",
                    f"now {text.pct(c.rate, sign=True)}/yr  predicted {text.pct(c.predicted, sign=True)}/yr",
                    abs(c.change) * BPS,
                    {"rate": c.rate, "predicted": c.predicted},
                )
            )
        return out


def _venue_order(cache: MarketCache, symbol: str) -> list[Key]:
    """The venues listing ``symbol``, order-book venues before pools."""
    return sorted((k for k in cache.markets if k[1] == symbol), key=lambda k: (cache.markets[k].kind != "clob", k[0]))


def _usd(quote: int) -> Decimal:
    """Quote at price precision in dollars, for an insight's figures."""
    return Decimal(quote).scaleb(-PRICE_DECIMALS)


def _pair_rank(p: CarryPair) -> tuple[int, str, str, str]:
    return (-p.net_per_day, p.market, p.long_venue, p.short_venue)


@dataclass(frozen=True, slots=True)
class _SymbolPart:
    books: list[BookFigures]
    impact: list[ImpactQuote]
    pairs: list[CarryPair]
    rates: list[Carry]
    basis: MarketBasis
    carry: list[Insight]  # the pairs' insights, limited to the best few across markets
    insights: list[Insight]  # crosses, book skew, basis, funding turns


def _ordered(quotes: dict[tuple[Side, int], ImpactQuote], notionals: Sequence[int]) -> list[ImpactQuote]:
    return [quotes[(side, n)] for n in notionals for side in SIDES if (side, n) in quotes]
