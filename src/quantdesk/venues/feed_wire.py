"""The wire format of a QuantDesk Redis feed, shared by the publisher
(``quantdesk feed``, in ``quantdesk.sync``) and the relay venue that reads it
back (``quantdesk.venues.relay``).

Layout under a namespace ``ns`` (all keys start ``qd:{ns}:``, braces
included: Redis Cluster hashes only the part in braces, so every key of one
namespace lives in one slot and a multi-stream read or a transaction over them
works on a cluster as on a single server):

``stream:{family}``
    A Redis Stream per topic family (book, trade, funding, oi, oracle, mark,
    status). Each entry has one field ``e``: a model event, msgpack encoded.
    Trimmed with ``MAXLEN ~``.
``markets``
    msgpack ``list[Market]`` the feed serves.
``state:{venue}:{market}``
    Hash of the latest ``funding``, ``oi``, ``oracle``, ``mark`` events and
    ``book``: a :class:`BookState`, the full book plus the id of the last book
    stream entry it already includes.
``status``
    Hash venue -> latest ``VenueStatus``.
``heartbeat``
    :class:`FeedBeat`: the feed's clock, so a terminal can show the feed's age.

Recordings (``quantdesk --record``, read back by ``quantdesk replay``) store
the same msgpack events, each wrapped in a :class:`Stamped` with the time the
session received it; they carry the trader's own order, fill, position and
account events too (``quantdesk.venues.recording`` frames and compresses them).

Anything may be written to those keys by anyone with access to the Redis, so
every decoder here takes arbitrary bytes and either returns a checked value or
raises :class:`FeedDecodeError`, whose ``kind`` names what was wrong (the
consumer counts drops by kind). Encoding raises :class:`FeedEncodeError` for a
value the format cannot carry (an integer beyond 64 bits).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from quantdesk.core.model import TOPIC_PREFIX, BookDelta, BookSnapshot, Event, Level, Market

DEFAULT_NAMESPACE = "default"
FAMILIES = ("book", "trade", "funding", "oi", "oracle", "mark", "status")
# market data only: a terminal's own orders, fills and account never leave it
FEED_FAMILY: dict[type, str] = {typ: family for typ, family in TOPIC_PREFIX.items() if family in FAMILIES}
LATEST_FAMILIES = ("funding", "oi", "oracle", "mark")  # kept per market in the state hash
EVENT_FIELD = b"e"
TRADE_ID_FIELD = b"o"  # "{epoch}:{n}" on trade entries: replays after an outage skip what Redis has
MAX_WIRE_INT = 2**63 - 1  # prices and sizes beyond this are no venue's

_STREAM_ID_RE = re.compile(r"^[0-9]{1,20}-[0-9]{1,20}$")

_NAMESPACE_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class FeedDecodeError(ValueError):
    """Bytes from Redis that are not what the feed format says; ``kind`` is the
    counter it is dropped under."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class FeedEncodeError(ValueError):
    """A value the feed format cannot carry (the publisher drops and counts it)."""


class BookState(msgspec.Struct, frozen=True):
    """A full book and the id of the last book stream entry it includes."""

    snapshot: BookSnapshot
    stream_id: str


class FeedBeat(msgspec.Struct, frozen=True):
    ts: int  # the feed's clock, ns
    epoch: str  # changes when the feed restarts
    events: int  # events the feed has seen since it started
    started: int


class Stamped(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """An event and when the session received it (ns, the session's clock)."""

    ts: int
    event: Event


def check_namespace(namespace: str) -> str:
    if not isinstance(namespace, str) or not _NAMESPACE_RE.match(namespace):
        raise ValueError(
            f"namespace {namespace!r} is not usable: use 1-64 letters, digits, '-' or '_'"
        )
    return namespace


def key_prefix(name: str) -> str:
    """``qd:{name}``: the hash-tagged prefix of a namespace's or team's keys."""
    return f"qd:{{{name}}}"


def legacy_key_prefix(name: str) -> str:
    """The prefix keys had before they were hash-tagged (``qd:name``)."""
    return f"qd:{name}"


class FeedKeys:
    """Key names of one feed namespace."""

    def __init__(self, namespace: str) -> None:
        self.namespace = check_namespace(namespace)
        p = key_prefix(namespace)
        self.prefix = p
        self.markets = f"{p}:markets"
        self.heartbeat = f"{p}:heartbeat"
        self.status = f"{p}:status"
        self.streams = {fam: f"{p}:stream:{fam}" for fam in FAMILIES}

    def state(self, venue: str, market: str) -> str:
        return f"{self.prefix}:state:{venue}:{market}"


# -- encoding ------------------------------------------------------------------

_encoder = msgspec.msgpack.Encoder()


def encode(value: Any) -> bytes:
    """``value`` as msgpack; FeedEncodeError if it holds what msgpack cannot carry."""
    try:
        return _encoder.encode(value)
    except (OverflowError, TypeError, ValueError, msgspec.EncodeError) as exc:
        raise FeedEncodeError(f"cannot encode {type(value).__name__} for the feed: {exc}") from None


# -- decoding ------------------------------------------------------------------

_event_dec = msgspec.msgpack.Decoder(Event)
_markets_dec = msgspec.msgpack.Decoder(list[Market])
_book_state_dec = msgspec.msgpack.Decoder(BookState)
_beat_dec = msgspec.msgpack.Decoder(FeedBeat)
_stamped_dec = msgspec.msgpack.Decoder(list[Stamped])
_DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, TypeError, ValueError, RecursionError)


def _decode(decoder: msgspec.msgpack.Decoder, raw: Any, what: str) -> Any:
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise FeedDecodeError("missing", f"no {what} where one was expected")
    try:
        return decoder.decode(raw)
    except _DECODE_ERRORS as exc:
        raise FeedDecodeError("undecodable", f"{what} is not a QuantDesk feed value: {exc}") from None


def _bad_level(levels: list[Level], zero_ok: bool) -> Level | None:
    for lv in levels:
        price, size = lv
        if not (0 < price <= MAX_WIRE_INT and 0 <= size <= MAX_WIRE_INT) or (size == 0 and not zero_ok):
            return lv
    return None


def check_book(ev: BookSnapshot | BookDelta) -> None:
    """Reject a book event no venue could have sent: a price at or below zero, a
    negative size (or a zero size in a snapshot, where it means nothing), a
    price or size beyond 2^63 - 1. Raises FeedDecodeError (``bad_level``)."""
    deltas = type(ev) is BookDelta
    bad = _bad_level(ev.bids, deltas) or _bad_level(ev.asks, deltas)
    if bad is not None:
        what = "delta" if deltas else "snapshot"
        raise FeedDecodeError("bad_level", f"book {what} {ev.venue}/{ev.market} seq {ev.seq} holds the level {bad}")


def decode_event(raw: Any, family: str | None = None) -> Event:
    """A market-data event from a stream entry's ``e`` field (or a state hash).

    ``family``, when given, is the stream it came from: an event of another
    family there is refused (``wrong_family``). Order, fill, position and
    account events are refused whatever their stream (``account_event``): a
    feed never carries them, so one seen here was written by someone else.
    """
    try:
        ev = _event_dec.decode(raw)  # the hot path: bytes that decode
    except _DECODE_ERRORS:
        ev = _decode(_event_dec, raw, "event")  # raises with the reason
    fam = FEED_FAMILY.get(type(ev))
    if fam is None:
        raise FeedDecodeError("account_event", f"a {type(ev).__name__} event in the feed (feeds carry market data only)")
    if family is not None and fam != family:
        raise FeedDecodeError("wrong_family", f"a {type(ev).__name__} event in the {family} stream")
    if fam == "book":
        check_book(ev)
    return ev


def decode_markets(raw: Any) -> list[Market]:
    markets = _decode(_markets_dec, raw, "market list")
    for m in markets:
        if m.tick_size <= 0 or m.lot_size <= 0:
            raise FeedDecodeError("undecodable", f"market {m.venue}/{m.symbol} has tick {m.tick_size}, lot {m.lot_size}")
    return markets


def decode_book_state(raw: Any) -> BookState:
    st = _decode(_book_state_dec, raw, "book state")
    if not _STREAM_ID_RE.match(st.stream_id):
        raise FeedDecodeError("undecodable", f"book state with stream id {st.stream_id[:40]!r}")
    check_book(st.snapshot)
    return st


def decode_beat(raw: Any) -> FeedBeat:
    return _decode(_beat_dec, raw, "heartbeat")


def decode_stamped(raw: Any) -> list[Stamped]:
    """Recorded events: every event type of the model, book levels checked as
    a feed's are (``bad_level``)."""
    records: list[Stamped] = _decode(_stamped_dec, raw, "recorded events")
    for rec in records:
        if type(rec.event) is BookSnapshot or type(rec.event) is BookDelta:
            check_book(rec.event)
    return records
