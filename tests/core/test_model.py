"""Model: fixed-point helpers, topics, and lossless wire round-trips of every event."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from quantdesk.core.model import (
    AccountState,
    BookDelta,
    BookSnapshot,
    Candle,
    Event,
    Fill,
    Funding,
    FundingHistory,
    Market,
    MarkPrice,
    OpenInterest,
    OraclePrice,
    Order,
    OrderIntent,
    Position,
    Trade,
    VenueStatus,
    to_decimal,
    topic_for,
)

SOL = Market("sim-drift", "SOL-PERP", "SOL", "USDC", "clob", tick_size=1_000, lot_size=10_000_000)
T = 1_795_500_000_123_456_789

EVENTS = [
    BookSnapshot("sim-drift", "SOL-PERP", 7, T, [(145_229_000, 664_350_000_000)], [(145_243_000, 1_000_000_000)]),
    BookDelta("sim-drift", "SOL-PERP", 8, T, [(145_229_000, 0)], [(145_250_000, 2_000_000_000)]),
    Trade("sim-drift", "SOL-PERP", T, 145_243_000, 10_000_000, "buy"),
    Funding("sim-drift", "SOL-PERP", T, 8_731, -1_200, 3600, T + 1, "funding"),
    OpenInterest("sim-jup", "BTC-PERP", T, 1_221_158_000_000, 341_924_000_000),
    OraclePrice("sim-jup", "ETH-PERP", T, 3_412_020_000, 170_000),
    MarkPrice("sim-drift", "ETH-PERP", T, 3_413_430_000),
    Order("sim-drift", "SOL-PERP", "o1", "sell", "limit", 5_000_000_000, 150_000_000, filled=1, post_only=True, ts=T),
    Fill("sim-drift", "SOL-PERP", "o1", "f1", "sell", 150_000_000, 1_000_000_000, -15_000, "maker", T),
    Position("sim-drift", "SOL-PERP", -1_000_000_000, 150_000_000, 150_000_000, liquidation_price=None, ts=T),
    AccountState("sim-drift", T, 1_000_000_000, 1_010_000_000, 900_000_000, 100_000_000, 92, 15_000),
    VenueStatus("sim-drift", "stale", T, T - 3_000_000_000, "no data for 3 s"),
    Candle("drift", "SOL-PERP", "1h", T, 145_100_000, 146_000_000, 144_900_000, 145_550_000, 75_911_612_000_000, 166_995_196_877_037),
    FundingHistory("drift", "SOL-PERP", T, [(T - 3_600_000_000_000, 8_731), (T, -1_200)]),
]


def test_every_event_type_is_covered():
    assert {type(e) for e in EVENTS} == set(Event.__args__)  # type: ignore[attr-defined]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_msgpack_round_trip_through_the_event_union(event):
    decoded = msgspec.msgpack.Decoder(Event).decode(msgspec.msgpack.encode(event))
    assert type(decoded) is type(event)
    assert decoded == event


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_json_round_trip_through_the_event_union(event):
    raw = msgspec.json.encode(event)
    assert msgspec.json.decode(raw)["event"]  # tagged: a reader can tell the type
    decoded = msgspec.json.decode(raw, type=Event)
    assert decoded == event


def test_order_intent_round_trips_with_its_own_tag():
    # intents travel from the keyboard to the risk engine, not on the market bus
    intent = OrderIntent("sim-drift", "SOL-PERP", "buy", "stop_market", 1_000_000_000, trigger_price=140_000_000, reduce_only=True)
    raw = msgspec.json.encode(intent)
    assert msgspec.json.decode(raw)["event"] == "intent"
    assert msgspec.json.decode(raw, type=OrderIntent) == intent
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(intent), type=OrderIntent) == intent


def test_book_levels_come_back_as_int_pairs():
    snap = msgspec.json.decode(msgspec.json.encode(EVENTS[0]), type=Event)
    assert snap.bids == [(145_229_000, 664_350_000_000)]
    assert all(type(x) is int for lv in snap.bids + snap.asks for x in lv)


def test_unknown_event_tag_is_rejected():
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"event":"nonsense","venue":"x"}', type=Event)


@pytest.mark.parametrize(
    ("event", "topic"),
    [
        (EVENTS[0], "book.sim-drift.SOL-PERP"),
        (EVENTS[1], "book.sim-drift.SOL-PERP"),
        (EVENTS[2], "trade.sim-drift.SOL-PERP"),
        (EVENTS[3], "funding.sim-drift.SOL-PERP"),
        (EVENTS[4], "oi.sim-jup.BTC-PERP"),
        (EVENTS[5], "oracle.sim-jup.ETH-PERP"),
        (EVENTS[6], "mark.sim-drift.ETH-PERP"),
        (EVENTS[7], "order.sim-drift"),
        (EVENTS[8], "fill.sim-drift"),
        (EVENTS[9], "position.sim-drift"),
        (EVENTS[10], "account.sim-drift"),
        (EVENTS[11], "status.sim-drift"),
        (EVENTS[12], "candle.drift.SOL-PERP"),
        (EVENTS[13], "funding_history.drift.SOL-PERP"),
    ],
    ids=lambda x: x if isinstance(x, str) else type(x).__name__,
)
def test_topic_for(event, topic):
    assert topic_for(event) == topic


def test_price_and_size_scale_to_exact_decimals():
    assert SOL.price(145_229_100) == Decimal("145.2291")
    assert SOL.size(664_350_000_000) == Decimal("664.35")
    assert SOL.price(1) == Decimal("0.000001")
    assert to_decimal(-15_000, 6) == Decimal("-0.015")


def test_to_price_and_to_size_are_exact_inverses():
    assert SOL.to_price("145.2291") == 145_229_100
    assert SOL.to_price(Decimal("0.000001")) == 1
    assert SOL.to_size("0.1") == 100_000_000
    assert SOL.to_size(3) == 3_000_000_000
    for text in ("0.000001", "95412.123456", "3412.02"):
        assert SOL.price(SOL.to_price(text)) == Decimal(text)
    # 0.1 + 0.2 as floats is 0.30000000000000004; as fixed point it is exact
    assert SOL.to_price("0.1") + SOL.to_price("0.2") == SOL.to_price("0.3")


def test_to_price_rounds_sub_precision_input_to_nearest_unit():
    assert SOL.to_price("1.0000004") == 1_000_000
    assert SOL.to_price("1.0000006") == 1_000_001


def test_market_key_and_defaults():
    assert SOL.key == "sim-drift.SOL-PERP"
    assert (SOL.price_decimals, SOL.size_decimals) == (6, 9)


def test_funding_annualized_is_rate_times_intervals_per_year():
    hourly = Funding("v", "m", 0, rate=1_000, predicted_rate=-500, interval_s=3600, next_ts=0)
    assert hourly.annualized == 1_000 * 24 * 365
    assert hourly.predicted_annualized == -500 * 24 * 365
    eight_hourly = Funding("v", "m", 0, rate=1_000, predicted_rate=0, interval_s=8 * 3600, next_ts=0)
    assert eight_hourly.annualized == 1_000 * 3 * 365


def test_order_remaining_and_status_age():
    assert EVENTS[7].remaining == 5_000_000_000 - 1
    st = EVENTS[11]
    assert st.age_s(T) == pytest.approx(3.0)
    assert VenueStatus("x", "connecting", T).age_s(T) == float("inf")


def test_events_are_immutable():
    with pytest.raises(AttributeError):
        EVENTS[2].price = 1  # type: ignore[misc]
