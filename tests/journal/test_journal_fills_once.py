"""Every fill is journaled exactly once: fills during a restore, a crash
between a fill and its order's update, reused fill ids."""

from __future__ import annotations

import csv
import logging

import msgspec
import pytest

from quantdesk.core.bus import Bus
from quantdesk.core.model import Fill, Order, OrderIntent
from quantdesk.trading.journal import Journal, JournalConflict
from quantdesk.trading.router import JournalRecorder
from quantdesk.venues.session import Session, simulated_session
from quantdesk.venues.sim.clock import ManualClock
from quantdesk.wiring.trading import open_paper_trading

START_NS = 1_795_000_000_000_000_000
SOL = 10**9
VENUE, MARKET = "sim-drift", "SOL-PERP"


def session() -> Session:
    return simulated_session(seed=7, clock=ManualClock(START_NS), paused=True)


def best_ask() -> int:
    """The ask the restarted terminal's simulated book opens with (same seed, same clock)."""
    s = session()
    venue = s.venues[VENUE]
    venue.bind(s.bus)
    return venue.books[MARKET].engine.best_ask()


def resting_buy(order_id: str, price: int, *, size: int = SOL, filled: int = 0) -> Order:
    """An order a previous run left open: a buy limit that rested below the market then."""
    return Order(VENUE, MARKET, order_id, "buy", "limit", size, price, 0, filled, "open", ts=START_NS - 60 * 10**9)


def fills_of(journal: Journal, order_id: str) -> list[Fill]:
    return [f for f in journal.fills(venue=VENUE) if f.order_id == order_id]


@pytest.fixture
def path(tmp_path):
    return tmp_path / "journal.sqlite3"


def test_an_order_filling_during_restore_is_journaled_exported_and_does_not_fill_again(path, tmp_path):
    ask = best_ask()
    with Journal.open(path) as j:
        j.record_order(resting_buy("r1", ask + 1_000_000))  # the market has come down to it since

    s = session()
    trading = open_paper_trading(s, path)
    try:
        paper = trading.router.executors[VENUE]
        assert paper.account.positions[MARKET].base == SOL  # it filled while the account was rebuilt
        (fill,) = fills_of(trading.journal, "r1")
        assert fill.size == SOL
        order = trading.journal.order(VENUE, "r1")
        assert (order.status, order.filled) == ("filled", SOL)
        assert trading.journal.open_orders() == []
        # the database copy waits in the outbox, with the order's new state
        queued = {(e.table, e.id) for e in trading.journal.pending(limit=10_000)}
        assert ("fills", f"{VENUE}:{fill.fill_id}") in queued and ("orders", f"{VENUE}:r1") in queued
        out = tmp_path / "export.csv"
        trading.journal.export_csv(out)
        rows = list(csv.DictReader(out.open()))
        assert [r["fill_id"] for r in rows if r["kind"] == "fill"] == [fill.fill_id]
        assert [r["status"] for r in rows if r["kind"] == "order"] == ["filled"]
        # shown once on screen
        assert [f.fill_id for f in s.cache.fills] == [fill.fill_id]
        assert "r1" not in s.cache.orders
    finally:
        trading.close()

    s = session()
    again = open_paper_trading(s, path)
    try:
        assert len(fills_of(again.journal, "r1")) == 1  # no second fill on the next restart
        assert again.router.executors[VENUE].account.positions[MARKET].base == SOL
        assert again.router.executors[VENUE].open_orders() == []
    finally:
        again.close()


def test_a_fill_commits_with_its_orders_filled_amount(path):
    with Journal.open(path) as j:
        j.record_order(resting_buy("p1", 150_000_000))
        j.record_fill(Fill(VENUE, MARKET, "p1", "p1:0", "buy", 150_000_000, SOL // 2, 10, "maker", START_NS))
        # the process dies here, before the venue's order update reaches the journal
    with Journal.open(path) as j:
        order = j.order(VENUE, "p1")
        assert (order.filled, order.status) == (SOL // 2, "open")
        assert [o.remaining for o in j.open_orders()] == [SOL // 2]
        assert [(h.status, h.filled) for h in j.order_history(VENUE, "p1")] == [("open", 0), ("open", SOL // 2)]
        # the venue's own update arriving afterwards changes nothing
        j.record_order(msgspec.structs.replace(order, filled=SOL // 2))
        assert j.order(VENUE, "p1").filled == SOL // 2


def test_an_order_update_published_before_its_fill_is_not_counted_twice(path):
    with Journal.open(path) as j:
        j.record_order(resting_buy("p2", 150_000_000))
        j.record_order(resting_buy("p2", 150_000_000, filled=SOL))  # a venue that says "filled" first
        j.record_fill(Fill(VENUE, MARKET, "p2", "p2:0", "buy", 150_000_000, SOL, 10, "maker", START_NS))
        assert j.order(VENUE, "p2").filled == SOL


def test_a_restored_half_filled_order_fills_only_its_remainder_with_new_fill_ids(path):
    ask = best_ask()
    with Journal.open(path) as j:
        j.record_order(resting_buy("h1", ask + 1_000_000))
        # the fill committed, then the process died before the order's update
        j.record_fill(Fill(VENUE, MARKET, "h1", "h1:0", "buy", ask - 1_000_000, SOL // 2, 10, "maker", START_NS - 1))

    trading = open_paper_trading(session(), path)
    try:
        paper = trading.router.executors[VENUE]
        fills = fills_of(trading.journal, "h1")
        assert sorted(f.fill_id for f in fills) == ["h1:0", f"h1:{SOL // 2}"]
        assert sum(f.size for f in fills) == SOL
        assert trading.journal.order(VENUE, "h1").filled == SOL
        assert paper.account.positions[MARKET].base == SOL  # not 1.5 SOL for an order of size 1
    finally:
        trading.close()


def test_a_fill_redelivered_unchanged_is_recorded_once(path):
    fill = Fill(VENUE, MARKET, "x", "x:0", "buy", 150_000_000, SOL, 10, "taker", 5)
    with Journal.open(path) as j:
        assert j.record_fill(fill) == j.record_fill(fill)
        assert len(j.fills()) == 1
        assert [e.table for e in j.pending()] == ["fills"]


def test_a_different_fill_under_a_journaled_id_is_refused_loudly(path):
    fill = Fill(VENUE, MARKET, "x", "x:0", "buy", 150_000_000, SOL, 10, "taker", 5)
    with Journal.open(path) as j:
        j.record_fill(fill)
        with pytest.raises(JournalConflict, match="sim-drift:x:0 is already in the journal"):
            j.record_fill(msgspec.structs.replace(fill, size=2 * SOL))
        assert [f.size for f in j.fills()] == [SOL]  # the first one stays


def test_the_recorder_logs_and_keeps_a_conflicting_fill_for_the_screen(path, caplog):
    fill = Fill(VENUE, MARKET, "x", "x:0", "buy", 150_000_000, SOL, 10, "taker", 5)
    bus = Bus()
    with Journal.open(path) as j:
        recorder = JournalRecorder(j, bus)
        bus.publish(f"fill.{VENUE}", fill)
        with caplog.at_level(logging.ERROR):
            bus.publish(f"fill.{VENUE}", msgspec.structs.replace(fill, price=151_000_000))
        recorder.close()
    assert recorder.errors == 1
    assert "journal write failed for fill.sim-drift" in caplog.text
    assert len(recorder.problems) == 1 and "already in the journal" in recorder.problems[0]


async def test_an_order_id_used_before_is_refused_before_it_reaches_the_venue(path):
    trading = open_paper_trading(session(), path)
    try:
        first = await trading.router.submit(OrderIntent(VENUE, MARKET, "buy", "market", SOL, client_id="mine"))
        assert first.ok
    finally:
        trading.close()
    trading = open_paper_trading(session(), path)
    try:
        again = await trading.router.submit(OrderIntent(VENUE, MARKET, "buy", "market", SOL, client_id="mine"))
        assert not again.ok and "Order id mine was used before" in again.message
        assert len(fills_of(trading.journal, "mine")) == 1
        assert trading.router.executors[VENUE].account.positions[MARKET].base == SOL
    finally:
        trading.close()
