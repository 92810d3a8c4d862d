"""On any input, the decoders of hostile data return a value or raise their one
documented error: the DLOB wire decoders ``WireError``, the Redis feed codec
``FeedDecodeError``. Anything else would reach a feed task as a crash."""

from __future__ import annotations

import json

import msgspec
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from quantdesk.venues.drift import wire
from quantdesk.venues import feed_wire as codec

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# JSON-ish values, with the numbers hostile feeds send: huge, negative, fractional, non-finite.
numbers = st.one_of(
    st.integers(min_value=-(2**130), max_value=2**130),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["1e999999", "-1", "1.5", "NaN", "Infinity", "0x10", "", "18446744073709551617"]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=12))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=5)),
    max_leaves=25,
)
L2_KEYS = ["bids", "asks", "price", "size", "slot", "ts", "markPrice", "oracle", "oracleData", "generatedAt", "marketIndex"]
TRADE_KEYS = ["ts", "marketIndex", "baseAssetAmountFilled", "quoteAssetAmountFilled", "takerOrderDirection", "action"]
FUNDING_KEYS = ["fundingRates", "ts", "marketIndex", "fundingRate", "oraclePriceTwap"]


def shaped(keys: list[str]):
    """Objects that look like the wire shape (its keys, hostile values), so the
    decoder gets past the outer type check and into its fields."""
    level = st.fixed_dictionaries({"price": json_values | numbers, "size": json_values | numbers})
    value = st.one_of(json_values, st.lists(level, max_size=4), level)
    return st.dictionaries(st.sampled_from(keys), value, max_size=len(keys))


def _json_text(value) -> str:
    return json.dumps(value, allow_nan=True, default=str)


raw_inputs = st.one_of(st.binary(max_size=200), st.text(max_size=200))


@SETTINGS
@given(st.one_of(raw_inputs, shaped(L2_KEYS).map(_json_text)))
@example('{"bids": [{"price": "176000000", "size": "18446744073709551617"}], "asks": []}')
@example('{"bids": [], "asks": [], "oracleData": {"price": -5}}')
def test_dlob_book_decoder_raises_only_wire_error(raw):
    try:
        book = wire.decode_l2(raw)
    except wire.WireError:
        return
    snap = wire.to_snapshot(book, "drift", "SOL-PERP", seq=1, ts=1)
    assert all(0 < p < 2**63 and 0 < s < 2**63 for p, s in snap.bids + snap.asks)


@SETTINGS
@given(st.one_of(raw_inputs, shaped(TRADE_KEYS).map(_json_text), st.lists(shaped(TRADE_KEYS), max_size=3).map(_json_text)))
@example('{"ts": 1, "marketIndex": 0, "baseAssetAmountFilled": "1e999999", "quoteAssetAmountFilled": "1e-999999", "takerOrderDirection": "long"}')
def test_dlob_trade_decoder_and_conversion_raise_only_wire_error(raw):
    try:
        for rec in wire.decode_trades(raw):
            trade = wire.to_trade(rec, "drift", "SOL-PERP")
            assert 0 <= trade.price < 2**63 and 0 < trade.size < 2**63
    except wire.WireError:
        pass


@SETTINGS
@given(st.one_of(raw_inputs, shaped(FUNDING_KEYS).map(_json_text),
                 st.lists(shaped(FUNDING_KEYS), max_size=3).map(lambda rs: _json_text({"fundingRates": rs}))))
def test_dlob_funding_decoder_and_conversion_raise_only_wire_error(raw):
    try:
        records = wire.decode_funding_rates(raw)
        if records:
            wire.to_funding(records, "drift", "SOL-PERP")
            wire.average_rate_ppb(records, 0)
    except wire.WireError:
        pass


@SETTINGS
@given(st.one_of(raw_inputs, st.dictionaries(st.sampled_from(["channel", "data", "message", "error"]), json_values).map(_json_text)))
def test_dlob_envelope_decoder_raises_only_wire_error(raw):
    try:
        wire.decode_envelope(raw)
    except wire.WireError:
        pass


# -- the Redis feed codec ---------------------------------------------------------

EVENT_TAGS = ["book_snapshot", "book_delta", "trade", "funding", "open_interest", "oracle", "mark",
              "order", "fill", "position", "account", "status", "intent", "nope"]
EVENT_KEYS = ["event", "venue", "market", "seq", "ts", "bids", "asks", "price", "size", "side", "rate",
              "predicted_rate", "interval_s", "next_ts", "state", "order_id", "type", "base", "snapshot", "stream_id"]
mp_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**64 - 1),
                       st.floats(), st.text(max_size=10), st.binary(max_size=10))
mp_values = st.recursive(mp_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                         st.dictionaries(st.text(max_size=6), inner, max_size=4)), max_leaves=20)


def _event_like():
    levels = st.lists(st.tuples(mp_scalars, mp_scalars) | st.lists(mp_scalars, max_size=3), max_size=3)
    value = st.one_of(mp_values, levels, st.sampled_from(["sim-drift", "SOL-PERP", "buy", "connected"]))
    fields = st.dictionaries(st.sampled_from(EVENT_KEYS), value, max_size=8)
    return st.tuples(st.sampled_from(EVENT_TAGS), fields).map(lambda tf: {**tf[1], "event": tf[0]})


packed = st.one_of(
    st.binary(max_size=200),
    mp_values.map(msgspec.msgpack.encode),
    _event_like().map(msgspec.msgpack.encode),
    st.builds(lambda e, sid: {"snapshot": e, "stream_id": sid}, _event_like(), mp_scalars).map(msgspec.msgpack.encode),
)


@SETTINGS
@given(st.one_of(packed, st.none(), st.text(max_size=5)), st.sampled_from([None, *codec.FAMILIES]))
@example(msgspec.msgpack.encode({"event": "book_delta", "venue": "v", "market": "m", "seq": 1, "ts": 0,
                                 "bids": [[1, -5]], "asks": []}), "book")
@example(msgspec.msgpack.encode({"event": "order", "venue": "v", "market": "m", "order_id": "x",
                                 "side": "buy", "type": "limit", "size": 1}), "trade")
def test_feed_event_decoder_raises_only_feed_decode_error(raw, family):
    try:
        ev = codec.decode_event(raw, family)
    except codec.FeedDecodeError as exc:
        assert exc.kind in {"missing", "undecodable", "account_event", "wrong_family", "bad_level"}
        return
    assert type(ev) in codec.FEED_FAMILY
    if family is not None:
        assert codec.FEED_FAMILY[type(ev)] == family


@SETTINGS
@given(st.one_of(packed, st.none()))
def test_feed_state_decoders_raise_only_feed_decode_error(raw):
    for decode in (codec.decode_markets, codec.decode_book_state, codec.decode_beat):
        try:
            decode(raw)
        except codec.FeedDecodeError:
            pass
