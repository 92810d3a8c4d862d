"""``quantdesk journal export --csv``: fills and orders for a spreadsheet."""

from __future__ import annotations

import csv

from quantdesk.cli import main
from quantdesk.trading.journal import Journal
from quantdesk.core.model import Fill, Order

T0 = 1_763_971_200_000_000_000  # 2025-11-24T08:00:00Z in ns


def seed(path):
    with Journal.open(path) as j:
        j.record_order(Order(venue="sim-drift", market="SOL-PERP", order_id="1", side="buy", type="limit",
                             size=2_500_000_000, price=151_250_000, ts=T0, client_id="=HYPERLINK(1)"))
        j.record_fill(Fill(venue="sim-drift", market="SOL-PERP", order_id="1", fill_id="f1", side="buy",
                           price=151_250_000, size=1_000_000_000, fee=-15_125, liquidity="maker",
                           ts=T0 + 1_500_000))


def test_export_writes_orders_and_fills_with_exact_decimals(tmp_path):
    path, out = tmp_path / "j.sqlite3", tmp_path / "out.csv"
    seed(path)
    assert main(["journal", "export", "--csv", str(out), "--journal", str(path)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["kind"] for r in rows] == ["order", "fill"]
    order, fill = rows
    assert order["price"] == "151.250000" and order["size"] == "2.500000000" and order["status"] == "open"
    assert order["time_utc"] == "2025-11-24T08:00:00.000000Z"
    assert order["client_id"] == "'=HYPERLINK(1)"  # never a live spreadsheet formula
    assert fill["fill_id"] == "f1" and fill["size"] == "1.000000000"
    assert fill["fee"] == "-0.015125" and fill["liquidity"] == "maker"
    assert fill["time_utc"] == "2025-11-24T08:00:00.001500Z"


def test_export_one_kind(tmp_path):
    path, out = tmp_path / "j.sqlite3", tmp_path / "fills.csv"
    seed(path)
    assert main(["journal", "export", "--csv", str(out), "--journal", str(path), "--kind", "fills"]) == 0
    assert [r["kind"] for r in csv.DictReader(out.open())] == ["fill"]


def test_export_without_a_journal_says_what_to_do(tmp_path, capsys):
    code = main(["journal", "export", "--csv", str(tmp_path / "o.csv"), "--journal", str(tmp_path / "none.sqlite3")])
    assert code == 2
    err = capsys.readouterr().err
    assert "No journal at" in err and "--journal PATH" in err and "Traceback" not in err
