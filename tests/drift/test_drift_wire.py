"""DLOB and data-API wire decoding: documented shapes, string integers, exact conversions."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from quantdesk.venues.drift import wire

FIXTURES = Path(__file__).parent.parent / "fixtures" / "drift"


def test_l2_fixture_decodes_with_string_integers():
    book = wire.decode_l2((FIXTURES / "dlob_l2_sol_perp.json").read_bytes())
    assert book.marketName == "SOL-PERP" and book.marketIndex == 0 and book.slot == 300000000
    assert (book.bids[0].price, book.bids[0].size) == (176_543_200, 12_500_000_000)
    assert wire.oracle_price(book) == 176_548_000 and book.markPrice == 176_551_600
    snap = wire.to_snapshot(book, "drift", "SOL-PERP", seq=7, ts=1)
    assert [p for p, _ in snap.bids] == sorted((p for p, _ in snap.bids), reverse=True)
    assert [p for p, _ in snap.asks] == sorted(p for p, _ in snap.asks)
    assert snap.seq == 7 and snap.bids[0] == (176_543_200, 12_500_000_000)


def test_numbers_as_json_numbers_work_too_and_bad_levels_are_dropped():
    raw = json.dumps({"bids": [{"price": 81868100, "size": 61040000000, "sources": {"vamm": 1}},
                               {"price": 0, "size": 5}, {"price": 81000000, "size": 0}],
                      "asks": [], "slot": 5, "ts": 1000})
    book = wire.decode_l2(raw)
    assert wire.book_levels(book.bids) == [(81_868_100, 61_040_000_000)]


def test_velocity_generated_at_is_the_snapshot_time():
    book = wire.decode_l2(json.dumps({"bids": [], "asks": [], "ts": 1000, "generatedAt": 2000}))
    assert wire.book_ts_ns(book) == 2000 * 1_000_000
    assert wire.book_ts_ns(wire.decode_l2('{"bids": [], "asks": [], "ts": 1000}')) == 1000 * 1_000_000
    assert wire.book_ts_ns(wire.decode_l2('{"bids": [], "asks": []}')) is None


@pytest.mark.parametrize("raw", ['{"bids": 1, "asks": []}', '{"asks": []}', "[]", "nope", '{"bids": [{"price": "1.5", "size": "1"}], "asks": []}'])
def test_malformed_books_raise_wire_error(raw):
    with pytest.raises(wire.WireError):
        wire.decode_l2(raw)


def test_envelopes_heartbeat_ack_push():
    assert wire.decode_envelope('{"channel": "heartbeat"}').channel == "heartbeat"
    ack = wire.decode_envelope('{"message": "Subscribe received for channel: orderbook, market: SOL-PERP"}')
    assert ack.channel is None and ack.message.startswith("Subscribe")
    push = wire.decode_envelope(json.dumps({"channel": "orderbook_perp_0", "data": json.dumps({"bids": [], "asks": []})}))
    assert wire.decode_l2(push.data).bids == []


def test_trades_convert_exactly_from_human_amounts():
    recs = wire.decode_trades((FIXTURES / "dlob_trades_sol_perp.json").read_text())
    assert len(recs) == 2 and recs[0].baseAssetAmountFilled == Decimal("0.5")
    t = wire.to_trade(recs[0], "drift", "SOL-PERP")
    assert (t.price, t.size, t.side) == (176_543_200, 500_000_000, "buy")
    # 1/3 of a unit at 1 USD: price rounds half-even at 1e6, size exact at 1e9
    odd = wire.decode_trades(json.dumps({"ts": 1, "marketIndex": 0, "baseAssetAmountFilled": "0.000000003",
                                         "quoteAssetAmountFilled": "0.000000001", "takerOrderDirection": "short"}))[0]
    t2 = wire.to_trade(odd, "drift", "SOL-PERP")
    assert (t2.price, t2.size, t2.side) == (333_333, 3, "sell")


def test_funding_records_to_hourly_ppb_and_average():
    recs = wire.decode_funding_rates((FIXTURES / "data_api_funding_sol_perp.json").read_text())
    assert len(recs) == 30
    r = wire.decode_funding_rates(json.dumps({"fundingRates": [{"ts": "100", "marketIndex": 0,
                                              "fundingRate": "1760000", "oraclePriceTwap": "176000000"}]}))[0]
    # 0.00176 USD per SOL per hour on a 176 USD twap = 1e-5 = 10,000 ppb
    assert wire.hourly_rate_ppb(r) == 10_000
    assert wire.hourly_rate_ppb(r, period_s=1800) == 20_000
    f = wire.to_funding([r], "drift", "SOL-PERP")
    assert (f.rate, f.interval_s, f.ts, f.next_ts) == (10_000, 3600, 100 * 10**9, 3700 * 10**9)
    assert wire.average_rate_ppb(recs, since_s=10**12) is None
    with pytest.raises(wire.WireError):
        wire.hourly_rate_ppb(wire.FundingRateRecord(ts=1, marketIndex=0, fundingRate=1, oraclePriceTwap=0))
