"""The alert kinds QuantDesk ships, registered in the kinds table on import.

    SOL-PERP PRICE > 180            the book's mid (a pool venue: its oracle), quote units
    SOL-PERP ABOVE 180 | BELOW 140  the same, the older spelling
    SOL-PERP FUNDING > 50%          funding or borrow rate, annualized percent
    SOL-PERP IMBALANCE > 0.7        the book's bid share of the top 10 levels, -1 to 1
    SPREAD SOL-PERP drift jupiter > 20BPS   drift's price over jupiter's, bps of jupiter's
    POSITION SOL-PERP LIQ < 5%      how far the price is from the position's liquidation, %
    FEED drift STALE 10S            seconds since the venue last sent anything
    PNL < -500                      unrealized plus realized PnL of every position, quote

A market kind without ``ON venue`` reads the first venue that has the figure,
order-book venues first, then by id (the same reference the Spreads pane
uses); a position without ``ON venue`` is the one nearest its liquidation.
Book imbalance and liquidation distance are the Insights' own figures
(``quantdesk.core.insights``), so an alert and the Insights pane agree. Each kind's default hysteresis is wide enough that noise around the
line does not re-arm it and narrow enough that a real retreat does.
"""

from __future__ import annotations

from decimal import Decimal

from quantdesk.core.alerts.grammar import RuleParser
from quantdesk.core.alerts.rule import Rule, plain
from quantdesk.core.alerts.table import BPS, PERCENT, QUOTE, RATIO, SECONDS, Reading, RuleKind, register
from quantdesk.core.cache import MarketCache
from quantdesk.core.insights import imbalance, liquidation_distance
from quantdesk.core.model import PRICE_DECIMALS
from quantdesk.core.spreads import basis_bps, listing_venues, market_price

PPB_PER_PERCENT = Decimal(10_000_000)  # rates are parts per billion
NS = Decimal(1_000_000_000)


def _venues(cache: MarketCache, rule: Rule) -> list[str]:
    return list(rule.venues) if rule.venues else listing_venues(cache, rule.market)


def _where(rule: Rule) -> str:
    return rule.venues[0] if rule.venues else "*"


# -- PRICE ---------------------------------------------------------------------------


def _parse_price(p: RuleParser, market: str, word: str) -> Rule:
    op = ">" if word == "ABOVE" else "<" if word == "BELOW" else p.op()
    return Rule("price", op, p.value(QUOTE, "price", positive=True), market)


def _observe_price(cache: MarketCache, rule: Rule, now: int) -> Reading | None:
    for venue in _venues(cache, rule):
        price = market_price(cache, venue, rule.market)
        if price is not None:
            return price, venue
    return None


PRICE = RuleKind(
    "price", "PRICE", False, "ALERT SOL-PERP PRICE > 180", QUOTE,
    parse=_parse_price,
    observe=_observe_price,
    topics=lambda r: (f"book.{_where(r)}.{r.market}", f"oracle.{_where(r)}.{r.market}"),
    band=lambda r: abs(r.threshold) / 1000,  # 0.1 % of the level
    text=lambda r: f"{r.market} PRICE {r.op} {plain(r.threshold)}",
    on_venue=True,
    words=("ABOVE", "BELOW"),
    help="the market's price (book mid, else oracle)",
)  # fmt: skip


# -- FUNDING -------------------------------------------------------------------------


def _parse_funding(p: RuleParser, market: str, word: str) -> Rule:
    op = p.op()
    return Rule("funding", op, p.value(PERCENT, "funding"), market)


def _observe_funding(cache: MarketCache, rule: Rule, now: int) -> Reading | None:
    for venue in _venues(cache, rule):
        f = cache.funding.get((venue, rule.market))
        if f is not None and f.interval_s > 0:
            return Decimal(f.annualized) / PPB_PER_PERCENT, venue
    return None


FUNDING = RuleKind(
    "funding", "FUNDING", False, "ALERT SOL-PERP FUNDING > 50%", PERCENT,
    parse=_parse_funding,
    observe=_observe_funding,
    topics=lambda r: (f"funding.{_where(r)}.{r.market}",),
    band=lambda r: max(abs(r.threshold) / 10, Decimal(1)),
    text=lambda r: f"{r.market} FUNDING {r.op} {PERCENT.write(r.threshold)}",
    on_venue=True,
    help="funding (or borrow) rate, annualized %",
)  # fmt: skip


# -- IMBALANCE -----------------------------------------------------------------------


def _parse_imbalance(p: RuleParser, market: str, word: str) -> Rule:
    op = p.op()
    at = p.peek()
    value = p.value(RATIO, "imbalance")
    if not -1 <= value <= 1:
        raise p.fail("imbalance runs from -1 (only asks) to 1 (only bids)", at)
    return Rule("imbalance", op, value, market)


def _observe_imbalance(cache: MarketCache, rule: Rule, now: int) -> Reading | None:
    for venue in _venues(cache, rule):
        book = cache.books.get((venue, rule.market))
        figure = imbalance(book) if book is not None else None
        if figure is not None:
            return figure, venue
    return None


IMBALANCE = RuleKind(
    "imbalance", "IMBALANCE", False, "ALERT SOL-PERP IMBALANCE > 0.7", RATIO,
    parse=_parse_imbalance,
    observe=_observe_imbalance,
    topics=lambda r: (f"book.{_where(r)}.{r.market}",),
    band=lambda r: Decimal("0.1"),
    text=lambda r: f"{r.market} IMBALANCE {r.op} {plain(r.threshold)}",
    on_venue=True,
    help="the book's bid share of its top levels, -1 to 1",
)  # fmt: skip


# -- POSITION ... LIQ ------------------------------------------------------------------


def _parse_liq(p: RuleParser, market: str, word: str) -> Rule:
    market = p.market()
    p.keyword("LIQ", f"expected LIQ after {market}: POSITION {market} LIQ < 5%")
    op = p.op()
    return Rule("liq", op, p.value(PERCENT, "distance to liquidation"), market)


def _observe_liq(cache: MarketCache, rule: Rule, now: int) -> Reading | None:
    nearest: Reading | None = None
    for (venue, market), pos in cache.positions.items():
        if market != rule.market or (rule.venues and venue != rule.venues[0]):
            continue
        oracle = cache.oracle.get((venue, market))  # what Drift and Jupiter liquidate on
        distance = liquidation_distance(pos, oracle.price if oracle is not None else None)
        if distance is not None and (nearest is None or distance * 100 < nearest[0]):
            nearest = distance * 100, venue
    return nearest


LIQ = RuleKind(
    "liq", "POSITION", True, "ALERT POSITION SOL-PERP LIQ < 5%", PERCENT,
    parse=_parse_liq,
    observe=_observe_liq,
    topics=lambda r: (f"position.{_where(r)}", f"oracle.{_where(r)}.{r.market}", f"mark.{_where(r)}.{r.market}"),
    band=lambda r: max(abs(r.threshold) / 5, Decimal("0.5")),
    text=lambda r: f"POSITION {r.market} LIQ {r.op} {PERCENT.write(r.threshold)}",
    on_venue=True,
    help="the price's distance from the position's liquidation, %",
)  # fmt: skip


# -- SPREAD --------------------------------------------------------------------------


def _parse_spread(p: RuleParser, market: str, word: str) -> Rule:
    market = p.market()
    a = p.venue("first venue")
    at = p.peek()
    b = p.venue("second venue")
    if a == b:
        raise p.fail(f"SPREAD needs two different venues, got {a} twice", at)
    op = p.op()
    return Rule("spread", op, p.value(BPS, "spread"), market, (a, b))


def _observe_spread(cache: MarketCache, rule: Rule, now: int) -> Reading | None:
    a, b = rule.venues
    pa, pb = market_price(cache, a, rule.market), market_price(cache, b, rule.market)
    if pa is None or pb is None:
        return None
    bps = basis_bps(pa, pb)
    return None if bps is None else (bps, "")


def _spread_topics(rule: Rule) -> tuple[str, ...]:
    return tuple(f"{family}.{v}.{rule.market}" for v in rule.venues for family in ("book", "oracle"))


SPREAD = RuleKind(
    "spread", "SPREAD", True, "ALERT SPREAD SOL-PERP drift jupiter > 20BPS", BPS,
    parse=_parse_spread,
    observe=_observe_spread,
    topics=_spread_topics,
    band=lambda r: max(abs(r.threshold) / 4, Decimal(1)),
    text=lambda r: f"SPREAD {r.market} {r.venues[0]} {r.venues[1]} {r.op} {BPS.write(r.threshold)}",
    help="the first venue's price over the second's, bps",
)  # fmt: skip


# -- FEED ... STALE --------------------------------------------------------------------


def _parse_stale(p: RuleParser, market: str, word: str) -> Rule:
    venue = p.venue()
    p.keyword("STALE", f"expected STALE after {venue}: FEED {venue} STALE 10S")
    p.accept(">")
    return Rule("stale", ">", p.value(SECONDS, "silence", positive=True), "", (venue,))


def _observe_stale(cache: MarketCache, rule: Rule, now: int) -> Reading | None:
    venue = rule.venues[0]
    status = cache.status.get(venue)
    if status is not None and status.on_demand:
        return None  # sends only when asked: silence is not staleness
    last = cache.last_message_ns.get(venue)
    if last is None:
        last = status.ts if status is not None else None  # never heard from: silent since it was set up
    if last is None:
        return None
    return Decimal(max(0, now - last)) / NS, venue


STALE = RuleKind(
    "stale", "FEED", True, "ALERT FEED drift STALE 10S", SECONDS,
    parse=_parse_stale,
    observe=_observe_stale,
    topics=lambda r: (),  # silence sends no event: read on the engine's tick
    band=lambda r: r.threshold / 2,
    text=lambda r: f"FEED {r.venues[0]} STALE {SECONDS.write(r.threshold)}",
    help="seconds since the venue last sent data",
)  # fmt: skip


# -- PNL -----------------------------------------------------------------------------


def _parse_pnl(p: RuleParser, market: str, word: str) -> Rule:
    op = p.op()
    return Rule("pnl", op, p.value(QUOTE, "PnL"))


def _observe_pnl(cache: MarketCache, rule: Rule, now: int) -> Reading | None:
    total = 0
    for (venue, _), pos in cache.positions.items():
        if not rule.venues or venue == rule.venues[0]:
            total += pos.unrealized_pnl + pos.realized_pnl
    return Decimal(total).scaleb(-PRICE_DECIMALS), rule.venues[0] if rule.venues else ""


PNL = RuleKind(
    "pnl", "PNL", True, "ALERT PNL < -500", QUOTE,
    parse=_parse_pnl,
    observe=_observe_pnl,
    topics=lambda r: (f"position.{_where(r)}",),
    band=lambda r: max(abs(r.threshold) / 10, Decimal(1)),
    text=lambda r: f"PNL {r.op} {plain(r.threshold)}",
    on_venue=True,
    help="unrealized plus realized PnL of the positions, quote",
)  # fmt: skip


BUILT_IN = (PRICE, FUNDING, IMBALANCE, SPREAD, LIQ, STALE, PNL)
for _k in BUILT_IN:
    register(_k)
