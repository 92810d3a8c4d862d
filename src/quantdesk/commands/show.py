"""``quantdesk show depth|funding|spreads|trades|insights|news|markets``: print market state once and exit.

``news`` polls every ``[[news.sources]]`` once (``commands/show_news.py``).

``markets`` lists every registered venue's markets offline (``commands/markets.py``).

For scripts and quick looks: start a session, wait until every market has a
synced book, a funding rate and an oracle price, print, stop. ``--json``
prints one JSON document that uses the model's field names; numbers are exact
decimals in human units (see the help text for units).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from decimal import Decimal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quantdesk.core.cache import MarketCache
    from quantdesk.core.model import Candle, Market
    from quantdesk.core.venue import Playback
    from quantdesk.venues.session import Session

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
from quantdesk.wiring.sources import SOURCES_HELP

SIM_RATE = 2_000.0  # events/s: fast enough that a full state arrives in a few ms
BPS_PLACES = Decimal("0.0001")
DEFAULT_MARKET = "SOL-PERP"
PIPE_WIDTH = 160

UNITS = """\
units:
  price, size, bid, ask, mid   decimal numbers in human units (USD, base asset)
  rate, predicted_rate         fraction of notional per interval_s (0.0000123 = 0.00123 %/h);
                               positive: longs pay shorts; kind "borrow": every position pays
  annualized                   rate x (seconds per year / interval_s), a fraction (0.1 = 10 %/yr)
  spread_bps, basis_bps        basis points; a venue's basis = (mid_venue - mid_ref) / mid_ref x 1e4
                               against the reference venue (the first order-book venue with a mid);
                               a market's basis_bps is that of basis_venues[0] against basis_venues[1]
  ts, next_ts                  nanoseconds since the Unix epoch
  trades: side, liquidity      side of the order named by liquidity ("taker": the aggressor's;
                               "maker": a resting order an AMM filled; "": unknown);
                               aggressor is the side that took liquidity, null if unknown;
                               maker, taker: the accounts of each side (Drift: User account
                               addresses), null when the venue does not name one
  open_interest_long/short     base asset units
  candles                      "candles" oldest first, --limit of them, bars of --tf (1m 5m 15m 1h 4h 1d);
                               ts the bar's start; open, high, low, close prices; volume base units,
                               quote_volume quote units; "source": "venue" (its candle service: Drift's
                               data API), "simulated" (a simulated venue's history, run up to now in
                               simulated time, seeded by --seed) or "built" (from the trades, or a pool's
                               oracle prices, seen within --timeout)
  insights                     the Insights pane's report: "insights" ranked (warnings, then
                               opportunities by USD earned per notional, then signals) with
                               "figures"; carry, long_cost, short_cost, predicted: fraction of
                               notional a year; liquidation_distance, volatility_1d, imbalance:
                               fractions; per_day, open_cost, funding, fees: USD; *_bps: bps
  news                         headlines newest first: published_ts, seen_ts in ns (published_ts null:
                               not given), age_s seconds, symbols the listed assets named, votes
                               null when the source counts none; sources: each one's poll state
exit status: 0 printed, 1 no full state before --timeout, 2 bad arguments
"""


class UsageError(ValueError):
    pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = UNITS
    parser.add_argument("what", choices=("depth", "funding", "spreads", "trades", "candles", "insights", "news", "markets"),
                        help="what to print")
    parser.add_argument("--market", metavar="SYMBOL",
                        help="market symbol, e.g. SOL-PERP (depth: default SOL-PERP; news: an asset such as SOL, or a market)")
    parser.add_argument("--venue", metavar="ID", help="venue id, e.g. sim-drift (depth: default the first listing the market)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table (units below)")
    parser.add_argument("--depth", type=_positive_int, default=10, metavar="N", help="levels per side for depth (default 10)")
    parser.add_argument("--discover", action="store_true",
                        help="markets: every market the venue lists on chain (needs its RPC), not only the configured ones")
    parser.add_argument("--limit", type=_positive_int, default=20, metavar="N",
                        help="trades or headlines (newest first) or candles (the newest, oldest first) to print (default 20)")
    parser.add_argument("--tf", type=_timeframe, default="1h", metavar="TF",
                        help="candles: the timeframe, 1m 5m 15m 1h 4h or 1d (default 1h)")
    parser.add_argument("--seed", type=int, default=7, metavar="N", help="seed of the simulated venues (default 7)")
    parser.add_argument("--source", default="auto", help=SOURCES_HELP)
    parser.add_argument("--config", metavar="PATH", help="config file (default: the user config dir's config.toml)")
    parser.add_argument("--timeout", type=_positive_float, default=10.0, metavar="S", help="seconds to wait for a full state (default 10)")
    parser.add_argument("--replay", metavar="FILE", help="answer from a recording (quantdesk --record FILE) instead of the venues")
    parser.add_argument("--at", metavar="TIME", help="with --replay: the state at TIME (+90s, 11:06:50, 2026-11-18T11:06:50Z; default: its end)")


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n <= 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def _timeframe(text: str) -> str:
    from quantdesk.core.candles import UnknownTimeframe, parse_timeframe

    try:
        return parse_timeframe(text)
    except UnknownTimeframe as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not x > 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return x


# -- session ----------------------------------------------------------------
def build_session(args: argparse.Namespace, *, clock: Callable[[], int] | None = None, paused: bool = False) -> Session:
    """The venues ``show`` reads from: see ``quantdesk.wiring.sources``. The simulated
    venues run fast here so a full state arrives in milliseconds (or, ``paused`` on
    ``clock``, only when stepped: the candles' simulated history)."""
    from quantdesk.config.settings import load_config
    from quantdesk.wiring.sources import build_session as from_source

    settings = load_config(getattr(args, "config", None))
    source = getattr(args, "source", None)
    if getattr(args, "replay", None):
        from quantdesk.venues.recording.address import MAX_SPEED, replay_url

        source = replay_url(args.replay, speed=MAX_SPEED, until=args.at)  # the whole recording, at once
    elif getattr(args, "at", None):
        raise UsageError("--at needs --replay FILE: it is a moment in a recording")
    if paused:
        return from_source(settings, source=source, seed=args.seed, clock=clock, paused=True)
    return from_source(settings, source=source, seed=args.seed, rate=SIM_RATE)


def missing_state(cache: MarketCache) -> list[str]:
    """What keeps ``cache.has_full_state()`` false, one entry per market."""
    if not cache.markets:
        return ["no venue listed any market"]
    out = []
    for venue, symbol in cache.markets:
        key = (venue, symbol)
        lacks = []
        book = cache.books.get(key)
        if book is None:
            lacks.append("order book")
        elif book.needs_resync:
            lacks.append("order book (resyncing)")
        if key not in cache.funding:
            lacks.append("funding rate")
        if key not in cache.oracle:
            lacks.append("oracle price")
        if lacks:
            out.append(f"{venue} {symbol}: {', '.join(lacks)}")
    return out


async def wait_full_state(session: Session, timeout: float) -> None:
    """Return once the cache holds a full state; TimeoutError naming what is missing."""
    deadline = time.monotonic() + timeout
    while not session.cache.has_full_state():
        if session.errors:
            raise RuntimeError("; ".join(session.errors))
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no full market state after {timeout:g} s; still missing: " + "; ".join(missing_state(session.cache)))
        await asyncio.sleep(0.005)


def _check_choice(kind: str, value: str | None, valid: list[str]) -> None:
    if value is not None and value not in valid:
        raise UsageError(f"unknown {kind} {value!r}; valid {kind}s: {', '.join(valid)}")


def playback_of(session: Session) -> Playback | None:
    from quantdesk.core.venue import Playback

    return next((v for v in session.venues.values() if isinstance(v, Playback)), None)


async def replayed_state(session: Session, playback: Playback) -> None:
    """Wait for the replay to reach its end (or --at); RuntimeError naming what
    the recording lacks if the cache has no full state then."""
    while not playback.progress().finished:
        await asyncio.sleep(0.005)
    if not session.cache.has_full_state():
        ended = playback.progress().ended
        raise RuntimeError(f"the recording holds no full market state there ({ended}); missing: " + "; ".join(missing_state(session.cache)))


async def collect(session: Session, args: argparse.Namespace) -> Any:
    """Start ``session``, validate the choices against what its venues list,
    wait for a full state and return the view ``args.what`` asks for."""
    try:
        await session.start()
        playback = playback_of(session)
        cache = session.cache
        if args.what == "news":
            return await _news(session, args)
        if args.market and session.can_follow(args.market, args.venue):
            await session.follow(args.market, args.venue)  # listed, though not on the watchlist
        venues = list(dict.fromkeys(v for v, _ in cache.markets))
        symbols = list(dict.fromkeys(s for _, s in cache.markets))
        _check_choice("venue", args.venue, venues)
        _check_choice("market", args.market, symbols)
        if args.venue and args.market and (args.venue, args.market) not in cache.markets:
            listed = [s for v, s in cache.markets if v == args.venue]
            raise UsageError(f"{args.venue} does not list {args.market}; it lists: {', '.join(listed)}")
        if args.what == "candles" and playback is None:
            return await candles_view(session, args)
        if playback is not None:
            await replayed_state(session, playback)
        else:
            await wait_full_state(session, args.timeout)
        if args.what == "candles":
            return built_candles(session, *_candle_market(session, args), args.tf, args.limit)
        if args.what == "depth":
            return depth_view(cache, args.venue, args.market, args.depth)
        if args.what == "funding":
            return funding_view(cache, args.venue, args.market)
        if args.what == "insights":
            return insights_report(session, args.market)
        if args.what == "trades":
            symbol = args.market or DEFAULT_MARKET
            if playback is None:
                await wait_trades(session, args.venue, symbol, deadline_s=args.timeout)
            return trades_view(cache, args.venue, symbol, getattr(args, "limit", 20))
        return spreads_view(cache, args.venue, args.market)
    finally:
        await session.stop()


# -- candles -------------------------------------------------------------------
SIM_EVENTS_PER_BAR = 200  # simulated events in each bar of a simulated history
now_ns = time.time_ns  # where a simulated history ends (tests fix it)


def _candle_market(session: Session, args: argparse.Namespace) -> tuple[str, str]:
    """(venue, market): SOL-PERP (or the venue's first market) on the first venue listing it."""
    cache = session.cache
    listed = [s for v, s in cache.markets if args.venue in (None, v)]
    if not listed:
        raise UsageError("no venue lists any market")
    symbol = args.market or (DEFAULT_MARKET if DEFAULT_MARKET in listed else listed[0])
    venue = args.venue or next(v for v, s in sorted(cache.markets, key=lambda k: (cache.markets[k].kind != "clob", k))
                               if s == symbol)
    return venue, symbol


async def candles_view(session: Session, args: argparse.Namespace) -> dict[str, Any]:
    """The newest ``--limit`` bars of ``--tf``: from the venue's candle service when it
    has one, a simulated venue's history run up to now, else the bars built from
    what the venue sends within ``--timeout``."""
    from quantdesk.core.venue import CandleSource, Steppable

    venue_id, symbol = _candle_market(session, args)
    venue = session.venues[venue_id]
    market = session.cache.markets[(venue_id, symbol)]
    if isinstance(venue, CandleSource):
        bars = await venue.candles(symbol, args.tf, args.limit)
        return candle_rows(market, args.tf, "venue", bars[-args.limit :])
    if isinstance(venue, Steppable):
        return await simulated_candles(args, venue_id, symbol)
    await wait_candles(session, venue_id, symbol, args.tf, args.timeout)
    return built_candles(session, venue_id, symbol, args.tf, args.limit)


class HistoryClock:
    """The simulated time a history is run in: it moves only when told (a
    ``SteppedClock``, so ``Session.advance`` steps it with the events)."""

    manual = True

    def __init__(self, start_ns: int) -> None:
        self.now_ns = start_ns

    def __call__(self) -> int:
        return self.now_ns

    def advance(self, ns: int) -> None:
        self.now_ns += ns


async def simulated_candles(args: argparse.Namespace, venue: str, symbol: str) -> dict[str, Any]:
    """A simulated venue's last ``--limit`` bars up to now: a paused simulation of the
    same venues and seed, stepped through each bar in simulated time."""
    from quantdesk.core.candles import timeframe_ns

    step = timeframe_ns(args.tf)
    now = now_ns()
    first = now - now % step - args.limit * step  # one bar more: the opening one has no trades yet
    clock = HistoryClock(first)
    sim = build_session(args, clock=clock, paused=True)
    try:
        await sim.start()
        for i in range(args.limit + 1):
            sim.advance(SIM_EVENTS_PER_BAR)  # moves the clock on a few milliseconds an event
            clock.advance(max(0, first + (i + 1) * step - clock()))  # to the next bar's start
        bars, _ = sim.cache.candles_of(venue, symbol, args.tf)
        return candle_rows(sim.cache.markets[(venue, symbol)], args.tf, "simulated", bars[-args.limit :])
    finally:
        await sim.stop()


async def wait_candles(session: Session, venue: str, symbol: str, timeframe: str, timeout: float) -> None:
    """Wait until the market has a bar built, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not session.cache.candles_of(venue, symbol, timeframe)[0] and time.monotonic() < deadline:
        if session.errors:
            raise RuntimeError("; ".join(session.errors))
        await asyncio.sleep(0.01)


def built_candles(session: Session, venue: str, symbol: str, timeframe: str, limit: int) -> dict[str, Any]:
    bars, source = session.cache.candles_of(venue, symbol, timeframe)
    return candle_rows(session.cache.markets[(venue, symbol)], timeframe, source, bars[-limit:])


def candle_rows(market: Market, timeframe: str, source: str, bars: list[Candle]) -> dict[str, Any]:
    return {
        "venue": market.venue,
        "market": market.symbol,
        "timeframe": timeframe,
        "source": source,
        "candles": [
            {"ts": c.ts, "open": market.price(c.open), "high": market.price(c.high), "low": market.price(c.low),
             "close": market.price(c.close), "volume": market.size(c.volume),
             "quote_volume": Decimal(c.quote_volume).scaleb(-market.price_decimals)}
            for c in bars
        ],
    }


async def _news(session: Session, args: argparse.Namespace) -> Any:
    from quantdesk.commands.show_news import collect_news
    from quantdesk.config.settings import load_config
    from quantdesk.core.news import asset_of

    settings = load_config(getattr(args, "config", None))
    if not settings.news.sources:
        raise UsageError("no news sources configured: add [[news.sources]] to the config (see config.example.toml)")
    markets = list(session.cache.markets.values())
    symbol = None
    if args.market:
        symbol = asset_of(args.market, markets)
        if symbol is None:
            listed = ", ".join(sorted({m.base for m in markets}))
            raise UsageError(f"no listed asset {args.market!r}; listed: {listed}")
    return await collect_news(settings, markets, session.clock, symbol, args.limit)


# -- views (plain data, shared by the table and the JSON output) -------------
def _bps(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(BPS_PLACES)


def depth_view(cache: MarketCache, venue: str | None, symbol: str | None, n: int) -> dict[str, Any]:
    """One book: SOL-PERP (or the venue's first market) on the first venue listing it by default."""
    if symbol is None:
        listed = [s for v, s in cache.markets if venue in (None, v)]
        symbol = DEFAULT_MARKET if DEFAULT_MARKET in listed else listed[0]
    if venue is None:
        venue = next(v for v, s in cache.markets if s == symbol)
    market = cache.markets[(venue, symbol)]
    book = cache.books[(venue, symbol)]
    mid = book.mid()
    return {
        "venue": venue,
        "market": symbol,
        "seq": book.seq,
        "ts": book.ts,
        "bids": [{"price": market.price(lv.price), "size": market.size(lv.size)} for lv in book.depth("bid", n)],
        "asks": [{"price": market.price(lv.price), "size": market.size(lv.size)} for lv in book.depth("ask", n)],
        "mid": None if mid is None else mid.scaleb(-market.price_decimals),
        "spread_bps": _bps(book.spread_bps()),
    }


async def wait_trades(session: Session, venue: str | None, symbol: str, deadline_s: float) -> None:
    """Wait until some venue (or ``venue``) has printed a trade of ``symbol``, at most ``deadline_s``."""
    deadline = time.monotonic() + deadline_s
    while not any(q for (v, s), q in session.cache.trades.items() if s == symbol and venue in (None, v)):
        if time.monotonic() >= deadline:
            return
        await asyncio.sleep(0.005)


def insights_report(session: Session, symbol: str | None) -> dict[str, Any]:
    """What the Insights pane shows, from the state the session holds now."""
    from quantdesk.commands.show_insights import insights_view
    from quantdesk.core.insights import InsightsEngine

    report = InsightsEngine().report(session.cache, session.clock())
    return insights_view(session.cache, report, symbol)


def trades_view(cache: MarketCache, venue: str | None, symbol: str, n: int) -> list[dict[str, Any]]:
    """The newest ``n`` trades of ``symbol`` on every venue (or ``venue``), newest first."""
    rows: list[dict[str, Any]] = []
    for (v, s), trades in cache.trades.items():
        if s != symbol or venue not in (None, v):
            continue
        market = cache.markets[(v, s)]
        for t in trades:
            if t.liquidity == "taker":
                aggressor: str | None = t.side
            elif t.liquidity == "maker":
                aggressor = "sell" if t.side == "buy" else "buy"
            else:
                aggressor = None
            rows.append({"venue": v, "market": s, "ts": t.ts, "price": market.price(t.price),
                         "size": market.size(t.size), "side": t.side, "liquidity": t.liquidity,
                         "aggressor": aggressor, "maker": t.maker or None, "taker": t.taker or None})
    rows.sort(key=lambda r: r["ts"], reverse=True)
    return rows[:n]


def funding_view(cache: MarketCache, venue: str | None, symbol: str | None) -> list[dict[str, Any]]:
    from quantdesk.core.model import RATE_SCALE

    rows = []
    for key, market in cache.markets.items():
        v, s = key
        if (venue and v != venue) or (symbol and s != symbol):
            continue
        f = cache.funding[key]
        oi = cache.open_interest.get(key)
        rows.append(
            {
                "venue": v,
                "market": s,
                "kind": f.kind,
                "rate": Decimal(f.rate) / RATE_SCALE,
                "predicted_rate": Decimal(f.predicted_rate) / RATE_SCALE,
                "interval_s": f.interval_s,
                "annualized": Decimal(f.annualized) / RATE_SCALE,
                "next_ts": f.next_ts,
                "open_interest_long": None if oi is None else market.size(oi.long),
                "open_interest_short": None if oi is None else market.size(oi.short),
            }
        )
    return rows


def spreads_view(cache: MarketCache, venue: str | None, symbol: str | None) -> list[dict[str, Any]]:
    from quantdesk.core.spreads import market_spreads

    venues = [venue] if venue else None
    out = []
    for ms in market_spreads(cache, venues):
        if symbol and ms.symbol != symbol:
            continue
        out.append(
            {
                "market": ms.symbol,
                "venues": [
                    {"venue": q.venue, "bid": q.bid_price, "ask": q.ask_price, "mid": q.mid, "basis_bps": _bps(ms.basis.get(q.venue))}
                    for q in ms.quotes
                ],
                "best_bid": None if ms.best_bid is None else {"venue": ms.best_bid.venue, "price": ms.best_bid.price},
                "best_ask": None if ms.best_ask is None else {"venue": ms.best_ask.venue, "price": ms.best_ask.price},
                "basis_bps": _bps(ms.basis_bps),
                "basis_venues": None if ms.basis_pair is None else list(ms.basis_pair),
            }
        )
    return out


# -- output -------------------------------------------------------------------
def to_json(view: Any) -> bytes:
    import msgspec

    return msgspec.json.Encoder(decimal_format="number").encode(view)


def _num(value: Decimal | None, places: int) -> str:
    if value is None:
        return "—"
    return format(value.quantize(Decimal(1).scaleb(-places)), f",.{places}f")


def _places(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0  # NaN and infinity have no places


def render(what: str, view: Any, cache_markets: dict, now_ns: int | None = None) -> Any:
    """A rich table of ``view``; ``now_ns`` (default the wall clock) is when
    countdowns count from: a replay's recorded time."""
    from rich.table import Table
    from rich.text import Text

    if what == "depth":
        market = cache_markets[(view["venue"], view["market"])]
        pp = _places(market.price(market.tick_size))
        sp = _places(market.size(market.lot_size))
        title = f"{view['venue']} {view['market']}  mid {_num(view['mid'], pp + 1)}  spread {_num(view['spread_bps'], 2)} bps  seq {view['seq']}"
        t = Table(title=title, show_edge=False)
        for name in ("Bid cum", "Bid size", "Bid"):
            t.add_column(name, justify="right", style="green")
        for name in ("Ask", "Ask size", "Ask cum"):
            t.add_column(name, justify="right", style="red")
        bids, asks = view["bids"], view["asks"]
        bcum = acum = Decimal(0)
        for i in range(max(len(bids), len(asks))):
            cells = ["", "", ""]
            if i < len(bids):
                bcum += bids[i]["size"]
                cells = [_num(bcum, sp), _num(bids[i]["size"], sp), _num(bids[i]["price"], pp)]
            if i < len(asks):
                acum += asks[i]["size"]
                cells += [_num(asks[i]["price"], pp), _num(asks[i]["size"], sp), _num(acum, sp)]
            else:
                cells += ["", "", ""]
            t.add_row(*cells)
        return t
    if what == "news":
        from quantdesk.commands.show_news import render_news

        return render_news(view)
    if what == "insights":
        from quantdesk.commands.show_insights import render_insights

        return render_insights(view)
    if what == "candles":
        return _candle_table(view, cache_markets[(view["venue"], view["market"])])
    if what == "trades":
        t = Table(title="Recent trades", show_edge=False)
        for name in ("Time", "Venue", "Market", "Price", "Size", "Side", "Order", "Maker", "Taker"):
            t.add_column(name, justify="right" if name in ("Price", "Size") else "left")
        for r in view:
            market = cache_markets[(r["venue"], r["market"])]
            style = "green" if r["aggressor"] == "buy" else "red" if r["aggressor"] == "sell" else ""
            clock = time.strftime("%H:%M:%S", time.gmtime(r["ts"] // 1_000_000_000))
            t.add_row(clock, r["venue"], r["market"],
                      Text(_num(r["price"], _places(market.price(market.tick_size))), style=style),
                      _num(r["size"], _places(market.size(market.lot_size))), r["side"], r["liquidity"] or "—",
                      _short_address(r["maker"]), _short_address(r["taker"]))
        return t
    if what == "funding":
        t = Table(title="Funding and borrow rates", show_edge=False)
        t.add_column("Venue")
        t.add_column("Market")
        t.add_column("Kind")
        for name in ("Rate", "Predicted", "Per", "Annualized", "Next in", "OI long", "OI short"):  # OI in base units
            t.add_column(name, justify="right")
        now = time.time_ns() if now_ns is None else now_ns
        for r in view:
            rate_style = "red" if r["rate"] > 0 else "green" if r["rate"] < 0 else ""
            t.add_row(
                r["venue"],
                r["market"],
                r["kind"],
                Text(_num(r["rate"] * 100, 5) + "%", style=rate_style),
                _num(r["predicted_rate"] * 100, 5) + "%",
                f"{r['interval_s'] // 3600}h" if r["interval_s"] % 3600 == 0 else f"{r['interval_s']}s",
                Text(_num(r["annualized"] * 100, 2) + "%", style=rate_style),
                _countdown(r["next_ts"] - now),
                _num(r["open_interest_long"], 2),
                _num(r["open_interest_short"], 2),
            )
        return t
    t = Table(title="Cross-venue spreads", show_edge=False)
    t.add_column("Market")
    t.add_column("Venue")
    for name in ("Bid", "Ask", "Mid"):
        t.add_column(name, justify="right")
    t.add_column("Best bid", justify="right", style="green")
    t.add_column("Best ask", justify="right", style="red")
    t.add_column("Basis bps", justify="right")
    for m in view:
        ref = m["basis_venues"][1] if m["basis_venues"] else None
        # one precision per symbol (the finest tick of an order book), so venues line up
        pp = min(_places(mk.price(mk.tick_size)) for mk in (cache_markets[(q["venue"], m["market"])] for q in m["venues"]))
        for i, q in enumerate(m["venues"]):
            best_bid = m["best_bid"] and m["best_bid"]["venue"] == q["venue"]
            best_ask = m["best_ask"] and m["best_ask"]["venue"] == q["venue"]
            first = i == 0
            t.add_row(
                m["market"] if first else "",
                q["venue"],
                Text(_num(q["bid"], pp), style="bold green" if best_bid else "green"),
                Text(_num(q["ask"], pp), style="bold red" if best_ask else "red"),
                _num(q["mid"], pp + 1),
                f"{_num(m['best_bid']['price'], pp)} {m['best_bid']['venue']}" if first and m["best_bid"] else "",
                f"{_num(m['best_ask']['price'], pp)} {m['best_ask']['venue']}" if first and m["best_ask"] else "",
                "ref" if q["venue"] == ref else _num(q["basis_bps"], 2),
            )
        t.add_section()
    return t


def _short_address(address: str | None) -> str:
    """``5Xb2…q9Lm`` for a table cell (the JSON keeps the whole address); "—" when unknown."""
    if not address:
        return "—"
    return address if len(address) <= 12 else f"{address[:4]}…{address[-4:]}"


SOURCE_NOTE = {"venue": "from the venue", "simulated": "simulated history", "built": "built from trades seen"}


def _candle_table(view: dict[str, Any], market: Market) -> Any:
    from rich.table import Table
    from rich.text import Text

    note = SOURCE_NOTE.get(view["source"], view["source"])
    t = Table(title=f"{view['venue']} {view['market']} {view['timeframe']} candles ({note})", show_edge=False)
    t.add_column("Start (UTC)")
    for name in ("Open", "High", "Low", "Close", "Change", "Volume", "Quote volume"):
        t.add_column(name, justify="right")
    pp = _places(market.price(market.tick_size))
    sp = _places(market.size(market.lot_size))
    prev = None
    for c in view["candles"]:
        base = prev if prev is not None else c["open"]
        change = (c["close"] - base) / base * 100 if base else None
        style = "green" if change and change > 0 else "red" if change and change < 0 else ""
        t.add_row(time.strftime("%Y-%m-%d %H:%M", time.gmtime(c["ts"] // 1_000_000_000)),
                  _num(c["open"], pp), _num(c["high"], pp), _num(c["low"], pp), Text(_num(c["close"], pp), style=style),
                  Text("—" if change is None else f"{change:+.2f}%", style=style),
                  _num(c["volume"], sp), _num(c["quote_volume"], 2))
        prev = c["close"]
    if not view["candles"]:
        t.caption = f"No {view['timeframe']} bars of {view['market']} on {view['venue']} yet."
    return t


def _countdown(ns: int) -> str:
    s = max(0, ns // 1_000_000_000)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


def main(args: argparse.Namespace) -> int:
    from quantdesk.core.problems import ProblemsError
    from quantdesk.wiring.sources import SourceError
    from quantdesk.venues.base import VenueError

    if args.what == "markets":
        from quantdesk.commands import markets

        return markets.main(args)
    try:
        session = build_session(args)
    except (ProblemsError, SourceError, UsageError) as exc:
        print(f"quantdesk show: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        view = asyncio.run(collect(session, args))
    except UsageError as exc:
        print(f"quantdesk show: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (TimeoutError, RuntimeError) as exc:
        print(f"quantdesk show: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except (VenueError, OSError) as exc:
        print(f"quantdesk show: could not reach the venues ({exc}); check the connection and venue settings", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    try:
        if args.json:
            sys.stdout.buffer.write(to_json(view) + b"\n")
            sys.stdout.flush()
            return 0
        from rich.console import Console

        console = Console()
        if not console.is_terminal:  # piped: do not squeeze the table into 80 columns
            console = Console(width=PIPE_WIDTH)
        console.print(render(args.what, view, session.cache.markets, session.clock()))
    except BrokenPipeError:  # `quantdesk show ... | head`: the reader has what it wanted
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
    playback = playback_of(session)
    if playback is not None and playback.progress().cut:
        print(f"quantdesk show: {playback.progress().ended}", file=sys.stderr)
    return 0
