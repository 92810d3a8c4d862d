"""What a restarted terminal gets back from the journal."""

from __future__ import annotations

import msgspec
import pytest

from quantdesk.config.paths import default_journal_path
from quantdesk.trading.journal import Journal, JournalError
from quantdesk.core.model import AccountState, Fill, Order, OrderIntent, Position

SOL = dict(venue="sim-drift", market="SOL-PERP")


def order(oid: str, **kw) -> Order:
    base = dict(SOL, order_id=oid, side="buy", type="limit", size=2_000_000_000, price=150_000_000, ts=int(oid))
    base.update(kw)
    return Order(**base)


def fill(fid: str, ts: int, oid: str = "placed-elsewhere") -> Fill:
    # Fills of an order the journal does not hold: they leave the journaled orders' filled amounts alone.
    return Fill(**SOL, order_id=oid, fill_id=fid, side="buy", price=150_000_000, size=1_000_000_000, fee=75_000,
                liquidity="taker", ts=ts)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "journal.sqlite3"


def test_restart_restores_open_orders_fills_positions_and_account(path):
    with Journal.open(path) as j:
        j.record_order(order("1"))
        j.record_order(order("2"))
        j.record_order(order("3", type="stop_market", price=0, trigger_price=140_000_000, status="pending"))
        j.record_order(msgspec.structs.replace(order("2"), status="cancelled", ts=20))
        j.record_order(msgspec.structs.replace(order("1"), filled=1_000_000_000, ts=21))
        j.record_fill(fill("a", 10))
        j.record_fill(fill("b", 30))
        j.record_fill(fill("c", 20))
        j.record_position(Position(**SOL, base=1_000_000_000, quote_entry=-150_000_000, entry_price=150_000_000, ts=5))
        j.record_position(Position(**SOL, base=2_000_000_000, quote_entry=-300_000_000, entry_price=150_000_000, ts=6))
        j.record_position(Position(venue="sim-jup", market="SOL-PERP", base=0, quote_entry=0, entry_price=0, ts=7))
        j.record_account(AccountState(venue="sim-drift", ts=8, collateral=10_000_000_000, equity=10_000_000_000,
                                      free_collateral=9_000_000_000, margin_requirement=1_000_000_000, health=90,
                                      leverage_bps=300))

    with Journal.open(path) as j:
        opened = j.open_orders()
        assert [o.order_id for o in opened] == ["1", "3"]
        assert opened[0].filled == 1_000_000_000 and opened[0].remaining == 1_000_000_000
        assert opened[1].trigger_price == 140_000_000 and opened[1].status == "pending"
        assert j.order("sim-drift", "2").status == "cancelled"
        assert [f.fill_id for f in j.fills()] == ["b", "c", "a"]  # newest first
        assert [f.fill_id for f in j.fills(limit=1)] == ["b"]
        positions = j.positions()
        assert len(positions) == 1 and positions[0].base == 2_000_000_000  # latest, flat ones left out
        assert len(j.positions(include_flat=True)) == 2
        assert j.account("sim-drift").free_collateral == 9_000_000_000
        assert j.account("sim-jup") is None


def test_order_status_history_is_kept(path):
    with Journal.open(path) as j:
        j.record_order(order("7", ts=1))
        j.record_order(order("7", ts=1))  # repeated update: not a new status
        j.record_order(order("7", filled=500_000_000, ts=2))
        j.record_order(order("7", filled=2_000_000_000, status="filled", ts=3))
        history = j.order_history("sim-drift", "7")
    assert [(h.status, h.filled, h.ts) for h in history] == [
        ("open", 0, 1), ("open", 500_000_000, 2), ("filled", 2_000_000_000, 3)
    ]


def test_intent_and_risk_decision_with_limit_and_excess(path):
    intent = OrderIntent(**SOL, side="sell", type="market", size=50_000_000_000)
    with Journal.open(path) as j:
        iid = j.record_intent(intent)
        j.record_risk(iid, False, "order notional 7500 USD exceeds max 5000 USD", "max_order_notional",
                      2_500_000_000, limit_value=5_000_000_000)
        other = j.record_intent(intent, "fixed-id")
        j.record_risk(other, True)
    with Journal.open(path) as j:
        assert j.intent(iid) == intent
        assert other == "fixed-id"
        (rejection,) = j.risk_events(iid)
        assert not rejection.accepted
        assert (rejection.limit_name, rejection.limit_value, rejection.excess) == (
            "max_order_notional", "5000000000", "2500000000")
        assert "exceeds" in rejection.reason
        assert j.risk_events(other)[0].accepted


def test_repeated_fill_funding_and_liquidation_are_recorded_once(path):
    with Journal.open(path) as j:
        assert j.record_fill(fill("x", 1)) == j.record_fill(fill("x", 1)) == "sim-drift:x"
        j.record_funding("sim-drift", "SOL-PERP", -1_234, 125, ts=3_600)
        j.record_funding("sim-drift", "SOL-PERP", -1_234, 125, ts=3_600)
        j.record_funding("sim-drift", "SOL-PERP", 99, -10, ts=7_200)
        j.record_funding("sim-jup", "SOL-PERP", -7, 30, ts=7_200, kind="borrow")
        j.record_liquidation("sim-drift", "SOL-PERP", base=-2_000_000_000, price=120_000_000, fee=3_000_000, ts=9)
        j.record_cancel("1", "trader", venue="sim-drift")
        assert len(j.fills()) == 1
        assert [(p.amount, p.rate, p.kind) for p in j.funding_payments()] == [
            (-1_234, 125, "funding"), (99, -10, "funding"), (-7, 30, "borrow")]
        (liq,) = j.liquidations()
        assert (liq.base, liq.price, liq.fee) == (-2_000_000_000, 120_000_000, 3_000_000)
        assert [c["order_id"] for c in j.cancels()] == ["1"]
        tables = [e.table for e in j.pending()]
    assert tables == ["fills", "funding_payments", "funding_payments", "funding_payments", "liquidations", "cancels"]


def test_cancel_finds_the_venue_of_a_known_order(path):
    with Journal.open(path) as j:
        j.record_order(order("42"))
        j.record_cancel("42", "kill switch")
        assert j.cancels()[0]["venue"] == "sim-drift"


def test_default_path_is_in_the_user_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_journal_path() == tmp_path / "quantdesk" / "journal.sqlite3"
    with Journal.open(default_journal_path()) as j:
        j.record_fill(fill("z", 1))
    assert (tmp_path / "quantdesk" / "journal.sqlite3").exists()


def test_not_a_journal_is_a_clear_error(tmp_path):
    bad = tmp_path / "notes.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(JournalError, match="--journal PATH"):
        Journal.open(bad)
