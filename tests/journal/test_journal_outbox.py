"""The outbox the Postgres and Redis syncers drain."""

from __future__ import annotations

from quantdesk.trading.journal import Journal
from quantdesk.core.model import Fill, Order


def fill(i: int) -> Fill:
    return Fill(venue="sim-drift", market="SOL-PERP", order_id="1", fill_id=str(i), side="sell",
                price=150_000_000, size=1, fee=0, liquidity="maker", ts=i)


def test_every_record_enqueues_its_row_with_a_stable_id(tmp_path):
    with Journal.open(tmp_path / "j.sqlite3") as j:
        j.record_fill(fill(1))
        o = Order(venue="sim-drift", market="SOL-PERP", order_id="9", side="buy", type="limit", size=5, price=7)
        j.record_order(o)
        j.record_order(o)  # unchanged: nothing new to push
        (f, od) = j.pending()
    assert (f.table, f.id) == ("fills", "sim-drift:1")
    assert f.payload["price"] == 150_000_000 and f.payload["fill_id"] == "1"
    assert (od.table, od.id) == ("orders", "sim-drift:9")
    assert od.payload["status"] == "open" and od.payload["size"] == 5
    assert f.seq < od.seq and f.created_at > 0


def test_mark_done_removes_from_pending_and_survives_reopen(tmp_path):
    path = tmp_path / "j.sqlite3"
    with Journal.open(path) as j:
        for i in range(5):
            j.record_fill(fill(i))
        first = j.pending(limit=3)
        assert [e.id for e in first] == ["sim-drift:0", "sim-drift:1", "sim-drift:2"]
        assert j.mark_done([e.seq for e in first]) == 3
    with Journal.open(path) as j:
        assert [e.id for e in j.pending()] == ["sim-drift:3", "sim-drift:4"]
        assert j.pending_count() == 2


def test_acknowledging_past_a_gap_keeps_the_gap_pending(tmp_path):
    with Journal.open(tmp_path / "j.sqlite3") as j:
        for i in range(4):
            j.record_fill(fill(i))
        seqs = [e.seq for e in j.pending()]
        assert j.mark_done([seqs[0], seqs[2]]) == 1
        # seq[1] was not acknowledged: it and everything after it are delivered again.
        assert [e.seq for e in j.pending()] == seqs[1:]
        assert j.mark_done(seqs[1:]) == 3
        assert j.pending() == []


def test_each_sink_has_its_own_progress_and_prune_respects_all(tmp_path):
    with Journal.open(tmp_path / "j.sqlite3") as j:
        for i in range(3):
            j.record_fill(fill(i))
        j.mark_done([e.seq for e in j.pending(sink="postgres")], sink="postgres")
        assert j.pending_count("postgres") == 0
        assert j.pending_count("redis") == 3
        assert j.prune_outbox(["postgres", "redis"]) == 0
        j.mark_done([e.seq for e in j.pending(limit=2, sink="redis")], sink="redis")
        assert j.prune_outbox(["postgres", "redis"]) == 2
        assert [e.id for e in j.pending(sink="redis")] == ["sim-drift:2"]
        assert len(j.fills()) == 3  # the journal itself keeps every row
