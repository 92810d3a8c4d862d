"""The cache as JSON-ready data: prices and sizes are decimal strings in
human units (from the integers at each market's precision, never a float),
rates are decimal strings as fractions, timestamps integer nanoseconds.

Shared by the REST endpoints and the stream's snapshots and deltas, so the two
always describe a market the same way.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from quantdesk.core.cache import MarketCache
from quantdesk.core.model import RATE_SCALE, BookDelta, BookSnapshot, Funding, Market, Order, Position, Trade
from quantdesk.core.spreads import market_spreads

DEFAULT_DEPTH = 20
MAX_DEPTH = 500


def dec(value: Decimal | None) -> str | None:
    """A Decimal as a plain decimal string (``0.000000015``, never ``1.5E-8``)."""
    return None if value is None else plain(value)


def plain(value: Decimal) -> str:
    return format(value, "f")


def rate(value: int) -> str:
    return format(Decimal(value) / RATE_SCALE, "f")


def bps(value: Decimal | None) -> str | None:
    return None if value is None else format(value.quantize(Decimal("0.0001")), "f")


def market_view(m: Market) -> dict[str, Any]:
    return {
        "venue": m.venue,
        "market": m.symbol,
        "base": m.base,
        "quote": m.quote,
        "kind": m.kind,
        "tick_size": dec(m.price(m.tick_size)),
        "lot_size": dec(m.size(m.lot_size)),
        "price_decimals": m.price_decimals,
        "size_decimals": m.size_decimals,
    }


def markets_view(cache: MarketCache) -> list[dict[str, Any]]:
    return [market_view(m) for m in cache.markets.values()]


def levels(m: Market, side: list[tuple[int, int]]) -> list[list[str]]:
    """[[price, size], ...] as decimal strings; size "0" in a delta removes the level."""
    return [[plain(m.price(p)), plain(m.size(s))] for p, s in side]


def book_view(cache: MarketCache, m: Market, depth: int) -> dict[str, Any]:
    book = cache.books.get((m.venue, m.symbol))
    live = book if book is not None and not book.needs_resync else None
    synced = live is not None
    bids = [(lv.price, lv.size) for lv in live.depth("bid", depth)] if live is not None else []
    asks = [(lv.price, lv.size) for lv in live.depth("ask", depth)] if live is not None else []
    return {
        "venue": m.venue,
        "market": m.symbol,
        "synced": synced,
        "venue_seq": live.seq if live is not None else None,
        "ts": cache.market_updated_ns.get((m.venue, m.symbol)),
        "bids": levels(m, bids),
        "asks": levels(m, asks),
    }


def book_event_view(m: Market, ev: BookDelta | BookSnapshot) -> dict[str, Any]:
    return {"venue_seq": ev.seq, "ts": ev.ts, "bids": levels(m, ev.bids), "asks": levels(m, ev.asks)}


def trade_view(m: Market, t: Trade) -> dict[str, Any]:
    return {"ts": t.ts, "price": dec(m.price(t.price)), "size": dec(m.size(t.size)), "side": t.side, "liquidity": t.liquidity}


def trades_view(cache: MarketCache, m: Market, limit: int) -> dict[str, Any]:
    ring = cache.trades.get((m.venue, m.symbol), ())
    recent = list(ring)[-limit:] if limit else []
    return {"venue": m.venue, "market": m.symbol, "trades": [trade_view(m, t) for t in reversed(recent)]}  # newest first


def funding_row(f: Funding) -> dict[str, Any]:
    return {
        "venue": f.venue,
        "market": f.market,
        "kind": f.kind,
        "rate": rate(f.rate),
        "predicted_rate": rate(f.predicted_rate),
        "interval_s": f.interval_s,
        "annualized": rate(f.annualized),
        "next_ts": f.next_ts,
        "ts": f.ts,
    }


def funding_view(cache: MarketCache) -> list[dict[str, Any]]:
    return [funding_row(cache.funding[k]) for k in cache.markets if k in cache.funding]


def spreads_view(cache: MarketCache) -> list[dict[str, Any]]:
    out = []
    for ms in market_spreads(cache):
        out.append(
            {
                "market": ms.symbol,
                "venues": [
                    {"venue": q.venue, "bid": dec(q.bid_price), "ask": dec(q.ask_price), "mid": dec(q.mid), "basis_bps": bps(ms.basis.get(q.venue))}
                    for q in ms.quotes
                ],
                "best_bid": None if ms.best_bid is None else {"venue": ms.best_bid.venue, "price": dec(ms.best_bid.price)},
                "best_ask": None if ms.best_ask is None else {"venue": ms.best_ask.venue, "price": dec(ms.best_ask.price)},
                "reference": ms.reference,
                "basis_bps": bps(ms.basis_bps),
                "crossed": ms.crossed,
            }
        )
    return out


def position_view(m: Market | None, p: Position) -> dict[str, Any]:
    price = (lambda v: dec(m.price(v))) if m is not None else str  # noqa: E731
    size = (lambda v: dec(m.size(v))) if m is not None else str  # noqa: E731
    return {
        "venue": p.venue,
        "market": p.market,
        "size": size(p.base),
        "entry_price": price(p.entry_price),
        "mark_price": price(p.mark_price),
        "unrealized_pnl": price(p.unrealized_pnl),
        "realized_pnl": price(p.realized_pnl),
        "liquidation_price": None if p.liquidation_price is None else price(p.liquidation_price),
        "margin": price(p.margin),
        "leverage": format(Decimal(p.leverage_bps) / 10_000, "f"),
        "ts": p.ts,
    }


def positions_view(cache: MarketCache) -> list[dict[str, Any]]:
    return [position_view(cache.markets.get(k), p) for k, p in cache.positions.items()]


def order_view(m: Market | None, o: Order) -> dict[str, Any]:
    price = (lambda v: dec(m.price(v))) if m is not None else str  # noqa: E731
    size = (lambda v: dec(m.size(v))) if m is not None else str  # noqa: E731
    return {
        "venue": o.venue,
        "market": o.market,
        "order_id": o.order_id,
        "client_id": o.client_id,
        "side": o.side,
        "type": o.type,
        "status": o.status,
        "size": size(o.size),
        "filled": size(o.filled),
        "price": price(o.price),
        "trigger_price": price(o.trigger_price),
        "post_only": o.post_only,
        "reduce_only": o.reduce_only,
        "ts": o.ts,
    }


def orders_view(cache: MarketCache) -> list[dict[str, Any]]:
    return [order_view(cache.markets.get((o.venue, o.market)), o) for o in cache.orders.values()]
