"""Fill records from the DLOB server's trades channel, framed as the real server
frames them (support.drift_servers.fill_record): fills with and without a
taker, and one print per fill across reconnects."""

from __future__ import annotations

import json

import pytest

from support.drift_servers import SOL, fill_record, local
from support.wait import until
from quantdesk.venues.drift import wire
from quantdesk.venues.drift.recent_keys import RecentKeys
from quantdesk.venues.drift.venue import DriftVenue

from drift.test_drift_market_data import Running


def _trades(r: Running) -> list:
    return list(r.cache.trades.get((r.venue.id, SOL), []))


async def test_a_maker_filled_by_the_amm_prints_with_the_makers_side(servers):
    ws, http = servers
    async with Running(DriftVenue(local(ws, http))) as r:
        await until(lambda: r.book() is not None, what="book")
        await ws.push_fill(fill_record(1, direction="long"))  # taker bought from a maker
        await ws.push_fill(fill_record(2, taker=False, direction="short", base=2, quote=353.08))
        await until(lambda: len(_trades(r)) == 2, what="two trades")
        matched, amm = _trades(r)
        assert (matched.side, matched.liquidity, matched.size) == ("buy", "taker", 500_000_000)
        # No taker: the resting maker's side, marked as the maker's, so the
        # volume line counts the AMM that hit it as the buyer.
        assert (amm.price, amm.size, amm.side, amm.liquidity) == (176_540_000, 2_000_000_000, "sell", "maker")
        assert r.venue.health.malformed == 0 and r.venue.health.trades == 2
        minute = r.cache.trade_minutes[(r.venue.id, SOL)][-1]
        assert (minute.buy_size, minute.sell_size) == (2_500_000_000, 0)


async def test_a_fill_replayed_after_a_reconnect_prints_once(servers):
    ws, http = servers
    async with Running(DriftVenue(local(ws, http))) as r:
        await until(lambda: r.book() is not None, what="book")
        await ws.push_fill(fill_record(7))
        await until(lambda: len(_trades(r)) == 1, what="first trade")
        connects = ws.connects
        await ws.drop_all()
        await until(lambda: ws.connects > connects and ws.connections, what="reconnect")
        await until(lambda: ("trades", SOL) in {(m.get("channel"), m.get("market")) for m in ws.subscribes[-2:]},
                    what="resubscribed to trades")
        await ws.push_fill(fill_record(7))  # the same record again
        await ws.push_fill(fill_record(8, direction="short"))
        await until(lambda: len(_trades(r)) == 2, what="the new trade")
        assert [t.side for t in _trades(r)] == ["buy", "sell"]
        assert r.venue.health.duplicate_fills == 1


def test_fill_records_decode_as_the_trades_publisher_writes_them():
    with_taker = wire.decode_trades(json.dumps(fill_record(9001)))[0]
    assert (with_taker.fillRecordId, with_taker.txSig, with_taker.slot) == (9001, "5tx9001", 300009001)
    assert with_taker.taker and with_taker.maker and with_taker.takerOrderId == 101
    assert str(with_taker.makerFee) == "-0.0044"
    no_taker = wire.decode_trades(json.dumps(fill_record(9002, taker=False)))[0]
    assert no_taker.taker is None and no_taker.takerOrderDirection is None and no_taker.takerOrderId is None
    assert wire.trade_side(no_taker) == ("buy", "maker")
    assert wire.trade_key(no_taker) == (0, 9002)
    # an id-less record is keyed by its transaction and orders
    rec = fill_record(1)
    del rec["fillRecordId"]
    assert wire.trade_key(wire.decode_trades(json.dumps(rec))[0]) == ("5tx1", 101, 55)


@pytest.mark.parametrize("change", [
    {"takerOrderDirection": "up"},
    {"makerOrderDirection": "sideways", "takerOrderDirection": None},
])
def test_a_fill_with_an_unknown_direction_is_malformed(change):
    rec = dict(fill_record(3), **change)
    rec = {k: v for k, v in rec.items() if v is not None}
    with pytest.raises(wire.WireError, match="direction"):
        wire.to_trade(wire.decode_trades(json.dumps(rec))[0], "drift", SOL)


def test_a_fill_with_no_direction_at_all_is_malformed_and_says_so():
    rec = {k: v for k, v in fill_record(4, taker=False).items() if k != "makerOrderDirection"}
    with pytest.raises(wire.WireError, match="neither a taker nor a maker direction"):
        wire.to_trade(wire.decode_trades(json.dumps(rec))[0], "drift", SOL)


def test_recent_keys_forget_the_oldest_beyond_capacity():
    keys = RecentKeys(capacity=2)
    assert keys.add(1) and keys.add(2) and not keys.add(1)
    assert keys.add(3) and len(keys) == 2
    assert keys.add(1)  # forgotten, so new again
    with pytest.raises(ValueError):
        RecentKeys(0)


async def test_a_fill_of_another_market_on_a_channel_is_dropped_and_named(servers):
    ws, http = servers
    async with Running(DriftVenue(local(ws, http))) as r:
        await until(lambda: r.book() is not None, what="book")
        stray = fill_record(31, market_index=2)  # an ETH-PERP fill
        await ws.send_raw(json.dumps({"channel": "trades_perp_0", "data": json.dumps(stray)}))
        await ws.push_fill(fill_record(32))
        await until(lambda: len(_trades(r)) == 1, what="the SOL fill")
        assert r.venue.health.malformed == 1 and "market 2 on the channel of SOL-PERP" in r.venue.health.last_error


async def test_show_trades_names_maker_and_taker_accounts_when_the_record_does(servers):
    from rich.console import Console

    from quantdesk.commands import show

    ws, http = servers
    async with Running(DriftVenue(local(ws, http))) as r:
        await until(lambda: r.book() is not None, what="book")
        await ws.push_fill(fill_record(1, direction="long"))  # a taker against a resting maker
        await ws.push_fill(fill_record(2, taker=False, direction="short", base=2, quote=353.08))  # the AMM took a maker
        await until(lambda: len(_trades(r)) == 2, what="two trades")
        view = show.trades_view(r.cache, r.venue.id, SOL, 10)
        table = show.render("trades", view, r.cache.markets)
    matched = next(row for row in view if row["liquidity"] == "taker")
    amm = next(row for row in view if row["liquidity"] == "maker")
    maker, taker = "MaKer111111111111111111111111111111111111111", "TaKer111111111111111111111111111111111111111"
    assert (matched["maker"], matched["taker"]) == (maker, taker)
    assert (amm["maker"], amm["taker"]) == (maker, None)  # no taker account: the AMM filled it
    rows = json.loads(show.to_json(view))
    assert {(row["maker"], row["taker"]) for row in rows} == {(maker, taker), (maker, None)}
    console = Console(width=160, record=True)
    console.print(table)
    text = console.export_text()
    assert "Maker" in text and "Taker" in text and "MaKe…1111" in text and "TaKe…1111" in text
