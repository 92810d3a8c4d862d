"""Wire shapes of the DLOB server and the data API, and their conversion to events.

Decoded with typed msgspec decoders in non-strict mode, because the servers
send integers as strings ("81868100") in some places and as JSON numbers in
others. Book prices are integers at 1e6, sizes at 1e9. Trade amounts arrive in
human units (``baseAssetAmountFilled: 2``) and are converted exactly through
Decimal. Anything that does not match raises ``WireError``; the feed counts
and drops it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal, TypeVar

import msgspec

from quantdesk.core.model import BookSnapshot, Funding, Level, Side, Trade

PRICE_SCALE = 10**6
BASE_SCALE = 10**9
FUNDING_RATE_SCALE = 10**9
PPB = 10**9


# Prices and sizes beyond a signed 64-bit integer are no market's, and nothing
# downstream (SQLite, Postgres bigint, the Redis feed's msgpack) could hold them.
MAX_AMOUNT = 2**63 - 1


# The DLOB WebSocket pushes at most this many levels a side; deeper books come from REST /l2.
WS_LEVELS = 20


class WireError(ValueError):
    pass


def _check_amount(value: int | None, what: str) -> None:
    if value is not None and not 0 <= value <= MAX_AMOUNT:
        raise WireError(f"{what} {value} is outside 0..2^63-1")


# -- DLOB server ---------------------------------------------------------------


class L2Level(msgspec.Struct):
    price: int
    size: int


class OracleData(msgspec.Struct):
    price: int | None = None
    slot: int | None = None
    confidence: int | None = None
    twap: int | None = None


class L2Book(msgspec.Struct):
    """``GET /l2`` and the inner ``data`` of an ``orderbook_perp_N`` push."""

    bids: list[L2Level]
    asks: list[L2Level]
    marketName: str | None = None
    marketIndex: int | None = None
    # "perp" on a pushed or cached book; the SDK's enum ({"perp": {}}) on a /l2 cache miss
    marketType: str | dict[str, Any] | None = None
    ts: int | None = None  # ms
    slot: int | None = None
    markPrice: int | None = None
    oracle: int | None = None
    oracleData: OracleData | None = None
    generatedAt: int | None = None  # ms; Velocity sets it for staleness checks


class Envelope(msgspec.Struct):
    """A WebSocket message: a push (``channel`` + JSON string ``data``), a
    heartbeat (``channel: heartbeat``), an ack (``message``) or an error."""

    channel: str | None = None
    data: str | None = None
    message: str | None = None
    error: str | None = None


class TradeRecord(msgspec.Struct):
    """The inner ``data`` of a ``trades_perp_N`` push: one fill record, as the
    dlob-server's trades publisher builds it from an ``OrderActionRecord``.

    Amounts arrive in human units (JS numbers). Fields the record's source
    leaves ``undefined`` are absent from the JSON: a post-only maker filled by
    the AMM has no ``taker`` and no ``takerOrderDirection``; an order filled
    against the AMM has no ``maker``.
    """

    ts: int  # seconds
    marketIndex: int
    baseAssetAmountFilled: Decimal  # base, human units
    quoteAssetAmountFilled: Decimal  # quote, human units
    takerOrderDirection: str | None = None  # "long" | "short"
    makerOrderDirection: str | None = None
    taker: str | None = None
    maker: str | None = None
    takerOrderId: int | None = None
    makerOrderId: int | None = None
    takerFee: Decimal | None = None  # quote, human units
    makerFee: Decimal | None = None  # negative: a rebate
    # Each order's filled base amount after this fill, human units (absent in older records)
    takerOrderCumulativeBaseAssetAmountFilled: Decimal | None = None
    makerOrderCumulativeBaseAssetAmountFilled: Decimal | None = None
    filler: str | None = None
    txSig: str | None = None
    action: str = "fill"
    actionExplanation: str | None = None
    slot: int | None = None
    marketType: str | dict[str, Any] = "perp"
    fillRecordId: int | None = None


class FundingRateRecord(msgspec.Struct):
    ts: int  # seconds
    marketIndex: int
    fundingRate: int  # quote per base per period, 1e9
    oraclePriceTwap: int  # 1e6
    slot: int | None = None
    markPriceTwap: int | None = None


class FundingRates(msgspec.Struct):
    fundingRates: list[FundingRateRecord]


T = TypeVar("T")

_l2 = msgspec.json.Decoder(L2Book, strict=False)
_envelope = msgspec.json.Decoder(Envelope, strict=False)
_trades = msgspec.json.Decoder(TradeRecord | list[TradeRecord], strict=False)
_funding = msgspec.json.Decoder(FundingRates, strict=False)


def _decode(decoder: msgspec.json.Decoder[T], raw: bytes | str, what: str) -> T:
    try:
        return decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise WireError(f"malformed {what}: {exc}") from None


def decode_l2(raw: bytes | str) -> L2Book:
    """An L2 book; WireError if it does not decode or holds a negative or
    beyond-64-bit price or size (levels of size or price 0 are dropped later)."""
    book: L2Book = _decode(_l2, raw, "L2 book")
    for side in (book.bids, book.asks):
        for lv in side:
            _check_amount(lv.price, "book price")
            _check_amount(lv.size, "book size")
    _check_amount(book.markPrice, "mark price")
    _check_amount(book.oracle, "oracle price")
    if book.oracleData is not None:
        _check_amount(book.oracleData.price, "oracle price")
        _check_amount(book.oracleData.confidence, "oracle confidence")
    return book


def decode_envelope(raw: bytes | str) -> Envelope:
    return _decode(_envelope, raw, "WebSocket message")


def decode_trades(raw: bytes | str) -> list[TradeRecord]:
    out = _decode(_trades, raw, "trade")
    return out if isinstance(out, list) else [out]


def decode_funding_rates(raw: bytes | str) -> list[FundingRateRecord]:
    return _decode(_funding, raw, "funding rates").fundingRates


# -- conversions ---------------------------------------------------------------


def market_type_of(mt: str | dict[str, Any] | None) -> str | None:
    """``"perp"``/``"spot"`` whichever way the server spelled it (``"perp"`` or ``{"perp": {}}``)."""
    if isinstance(mt, dict):
        return next(iter(mt), None)
    return mt


def market_type(book: L2Book) -> str | None:
    return market_type_of(book.marketType)


def is_cache_miss(book: L2Book) -> bool:
    """A ``/l2`` reply the server built without a cached book: no levels and no
    market name (``src/index.ts`` of the dlob-server fills in only the oracle)."""
    return not book.bids and not book.asks and book.marketName is None


def deepen(pushed: L2Book, deep: L2Book, depth: int) -> L2Book:
    """A pushed book with the levels of a REST book beyond it: where a side
    of the push is full (``WS_LEVELS``), the REST book's levels worse than the
    push's worst are appended, up to ``depth`` a side. The push stays the truth
    at the top."""

    def side(ws: list[L2Level], rest: list[L2Level], worse: Callable[[int, int], bool]) -> list[L2Level]:
        if len(ws) < WS_LEVELS or not ws:
            return ws
        edge = ws[-1].price
        for lv in ws:
            if worse(lv.price, edge):
                edge = lv.price
        return (ws + [lv for lv in rest if worse(lv.price, edge)])[:depth]

    return msgspec.structs.replace(
        pushed,
        bids=side(pushed.bids, deep.bids, lambda a, b: a < b),
        asks=side(pushed.asks, deep.asks, lambda a, b: a > b),
    )


def book_levels(levels: list[L2Level]) -> list[Level]:
    return [(lv.price, lv.size) for lv in levels if lv.size > 0 and lv.price > 0]


def book_ts_ns(book: L2Book) -> int | None:
    ms = book.generatedAt if book.generatedAt is not None else book.ts
    return None if ms is None else ms * 1_000_000


def book_order_key(book: L2Book) -> tuple[int, int]:
    """What orders two snapshots of one market: slot first, then server time."""
    return (book.slot or 0, book.ts or 0)


def to_snapshot(book: L2Book, venue: str, market: str, seq: int, ts: int) -> BookSnapshot:
    bids = sorted(book_levels(book.bids), key=lambda lv: -lv[0])
    asks = sorted(book_levels(book.asks), key=lambda lv: lv[0])
    return BookSnapshot(venue=venue, market=market, seq=seq, ts=ts, bids=bids, asks=asks)


def oracle_price(book: L2Book) -> int | None:
    if book.oracleData is not None and book.oracleData.price is not None:
        return book.oracleData.price
    return book.oracle


def _round(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_EVEN))


def _direction_side(direction: str, whose: str) -> Side:
    if direction == "long":
        return "buy"
    if direction == "short":
        return "sell"
    raise WireError(f"trade with {whose} direction {direction!r}")


def trade_side(rec: TradeRecord) -> tuple[Side, Literal["taker", "maker"]]:
    """The side a fill prints as, and whose order that side is.

    The taker's direction when the record has one (the aggressor is known);
    otherwise the maker's (a resting order the AMM filled). WireError if
    neither direction is a known one.
    """
    if rec.takerOrderDirection is not None:
        return _direction_side(rec.takerOrderDirection, "taker"), "taker"
    if rec.makerOrderDirection is not None:
        return _direction_side(rec.makerOrderDirection, "maker"), "maker"
    raise WireError("trade with neither a taker nor a maker direction")


def trade_key(rec: TradeRecord) -> tuple[int, int] | tuple[str, int, int] | None:
    """What identifies one fill across reconnects and replays: the market and
    its ``fillRecordId`` (a per-market counter on chain), else the transaction
    signature with the taker and maker order ids; None if the record has neither."""
    if rec.fillRecordId is not None:
        return (rec.marketIndex, rec.fillRecordId)
    if rec.txSig:
        return (rec.txSig, rec.takerOrderId or 0, rec.makerOrderId or 0)
    return None


def to_trade(rec: TradeRecord, venue: str, market: str) -> Trade:
    base = rec.baseAssetAmountFilled
    quote = rec.quoteAssetAmountFilled
    if not (base.is_finite() and quote.is_finite()) or base <= 0 or quote < 0:
        raise WireError(f"trade with base {base} and quote {quote}")
    side, liquidity = trade_side(rec)
    try:
        price, size = _round(quote / base * PRICE_SCALE), _round(base * BASE_SCALE)
    except ArithmeticError:  # exponents no trade has (1e999999)
        raise WireError(f"trade with base {base} and quote {quote}") from None
    _check_amount(price, "trade price")
    _check_amount(size, "trade size")
    return Trade(
        venue=venue,
        market=market,
        ts=rec.ts * 1_000_000_000,
        price=price,
        size=size,
        side=side,
        liquidity=liquidity,
        maker=rec.maker or "",
        taker=rec.taker or "",
    )


def order_filled(rec: TradeRecord, role: Literal["taker", "maker"]) -> int | None:
    """The taker's or maker's order's filled base amount (1e9) after this fill,
    as the record says; None when it says nothing usable."""
    value = (rec.takerOrderCumulativeBaseAssetAmountFilled if role == "taker"
             else rec.makerOrderCumulativeBaseAssetAmountFilled)
    if value is None or not value.is_finite() or value < 0:
        return None
    try:
        filled = _round(value * BASE_SCALE)
    except ArithmeticError:
        return None
    return filled if filled <= MAX_AMOUNT else None


def hourly_rate_ppb(rec: FundingRateRecord, period_s: int = 3600) -> int:
    """A funding record as parts per billion of notional per hour (positive: longs pay)."""
    if rec.oraclePriceTwap <= 0:
        raise WireError(f"funding record with oracle twap {rec.oraclePriceTwap}")
    # fundingRate is quote (1e9) per base per period; the twap is quote (1e6) per base.
    try:
        frac = Decimal(rec.fundingRate) * PRICE_SCALE / (Decimal(rec.oraclePriceTwap) * FUNDING_RATE_SCALE)
        return _round(frac * PPB * 3600 / period_s)
    except ArithmeticError:
        raise WireError(f"funding record with rate {rec.fundingRate}") from None


def to_funding(history: list[FundingRateRecord], venue: str, market: str, period_s: int = 3600) -> Funding:
    """The newest record as the current rate; the next payment one period later.

    The data API has no prediction, so ``predicted_rate`` repeats the last rate.
    """
    last = max(history, key=lambda r: r.ts)
    rate = hourly_rate_ppb(last, period_s)
    return Funding(
        venue=venue,
        market=market,
        ts=last.ts * 1_000_000_000,
        rate=rate,
        predicted_rate=rate,
        interval_s=3600,
        next_ts=(last.ts + period_s) * 1_000_000_000,
    )


def average_rate_ppb(history: list[FundingRateRecord], since_s: int, period_s: int = 3600) -> int | None:
    """Mean hourly rate (ppb) of the records at or after ``since_s``; None if there are none."""
    rates = [hourly_rate_ppb(r, period_s) for r in history if r.ts >= since_s]
    if not rates:
        return None
    return _round(Decimal(sum(rates)) / len(rates))
