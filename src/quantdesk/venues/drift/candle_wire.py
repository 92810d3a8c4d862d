"""Wire shapes of the data API's candles, and their conversion to ``Candle`` events.

``GET /market/{SYMBOL}/candles/{resolution}?limit=N[&startTs=S]`` answers
``{"success": true, "records": [...]}``, newest bar first; ``startTs`` asks for
the bars from that time backwards. Each record holds the bar's start ``ts``
(seconds), fill and oracle OHLC and ``quoteVolume``/``baseVolume``, all JS
numbers in human units (``88.7234``). The WebSocket (``/ws``) takes
``{"type": "subscribe", "symbol": S, "resolution": R}`` and answers an
``init`` (``data``: the forming bar, alone or in a list), a ``subscription``
acknowledgement and then an ``update`` with the forming ``candle`` after each
fill. A bar without fills carries the last fill price, as the chart expects.

Prices are converted exactly (Decimal, half-even to the 1e6 precision);
anything that does not decode, or a bar whose range does not hold its open and
close, raises ``WireError`` and the feed counts and drops it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import msgspec

from quantdesk.core.model import Candle
from quantdesk.venues.drift.wire import BASE_SCALE, MAX_AMOUNT, PRICE_SCALE, WireError

# QuantDesk's timeframes as the data API's resolution path segment.
RESOLUTION: dict[str, str] = {"1m": "1", "5m": "5", "15m": "15", "1h": "60", "4h": "240", "1d": "D"}
FETCH_LIMIT = 1_000  # bars the endpoint serves at most per request


class CandleRecord(msgspec.Struct):
    ts: int  # the bar's start, seconds
    symbol: str | None = None  # on the WebSocket's bars
    resolution: str | None = None
    fillOpen: Decimal | None = None
    fillHigh: Decimal | None = None
    fillLow: Decimal | None = None
    fillClose: Decimal | None = None
    oracleOpen: Decimal | None = None
    oracleHigh: Decimal | None = None
    oracleLow: Decimal | None = None
    oracleClose: Decimal | None = None
    quoteVolume: Decimal | None = None
    baseVolume: Decimal | None = None


class CandlesReply(msgspec.Struct):
    success: bool
    records: list[CandleRecord] = []


class CandleMessage(msgspec.Struct):
    """One WebSocket message: ``init``, ``subscription``, ``update`` or an error."""

    type: str = ""
    candle: CandleRecord | None = None
    data: list[CandleRecord] | CandleRecord | None = None
    message: str | None = None
    error: str | None = None


_reply = msgspec.json.Decoder(CandlesReply, strict=False)
_message = msgspec.json.Decoder(CandleMessage, strict=False)


def decode_candles(raw: bytes | str) -> list[CandleRecord]:
    """The records of a candles reply, oldest first; WireError for a reply that
    does not decode or says ``success: false``."""
    try:
        reply = _reply.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise WireError(f"malformed candles reply: {exc}") from None
    if not reply.success:
        raise WireError("the data API answered success: false for candles")
    return sorted(reply.records, key=lambda r: r.ts)


def decode_message(raw: bytes | str) -> CandleMessage:
    try:
        return _message.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise WireError(f"malformed candle message: {exc}") from None


def message_candles(msg: CandleMessage) -> list[CandleRecord]:
    """The bars a message carries (an ``init``'s or an ``update``'s), oldest first."""
    if msg.type == "update" and msg.candle is not None:
        return [msg.candle]
    if msg.type == "init" and msg.data is not None:
        return sorted(msg.data, key=lambda r: r.ts) if isinstance(msg.data, list) else [msg.data]
    return []


def _amount(value: Decimal, scale: int, what: str) -> int:
    try:
        out = int((value * scale).to_integral_value(rounding=ROUND_HALF_EVEN))
    except ArithmeticError:
        raise WireError(f"candle {what} {value} is not a number") from None
    if not 0 <= out <= MAX_AMOUNT:
        raise WireError(f"candle {what} {value} is out of range")
    return out


def _price(fill: Decimal | None, oracle: Decimal | None, what: str) -> int:
    value = fill if fill is not None else oracle
    if value is None:
        raise WireError(f"candle without a {what} price")
    price = _amount(value, PRICE_SCALE, what)
    if price == 0:
        raise WireError(f"candle {what} price 0")
    return price


def to_candle(rec: CandleRecord, venue: str, market: str, timeframe: str) -> Candle:
    """A record as a bar of fill prices (the oracle's where a record has no fill
    figures), volumes at base and quote precision."""
    o = _price(rec.fillOpen, rec.oracleOpen, "open")
    h = _price(rec.fillHigh, rec.oracleHigh, "high")
    lo = _price(rec.fillLow, rec.oracleLow, "low")
    c = _price(rec.fillClose, rec.oracleClose, "close")
    if not lo <= min(o, c) <= max(o, c) <= h:
        raise WireError(f"candle at {rec.ts} has low {lo} / high {h} outside its open {o} and close {c}")
    if not 0 <= rec.ts <= MAX_AMOUNT // 1_000_000_000:
        raise WireError(f"candle time {rec.ts} is out of range")
    base = _amount(rec.baseVolume or Decimal(0), BASE_SCALE, "base volume")
    quote = _amount(rec.quoteVolume or Decimal(0), PRICE_SCALE, "quote volume")
    return Candle(venue, market, timeframe, rec.ts * 1_000_000_000, o, h, lo, c, base, quote)
