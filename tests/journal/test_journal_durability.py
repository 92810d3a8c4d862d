"""Nothing the journal acknowledged is lost when the process is killed mid-burst."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

from quantdesk.trading.journal import Journal

WRITER = textwrap.dedent(
    """
    import sys
    from quantdesk.trading.journal import Journal
    from quantdesk.core.model import Fill, Order

    journal = Journal.open(sys.argv[1])
    for i in range(1_000_000):
        oid = journal.record_order(Order(venue="sim-drift", market="SOL-PERP", order_id=str(i), side="buy",
                                         type="limit", size=1_000_000_000, price=150_000_000 + i, ts=i + 1))
        fid = journal.record_fill(Fill(venue="sim-drift", market="SOL-PERP", order_id=str(i), fill_id=f"f{i}",
                                       side="buy", price=150_000_000 + i, size=10, fee=1, liquidity="taker",
                                       ts=i + 1))
        # Acknowledge only after both records returned, as the UI does.
        print(oid, fid, flush=True)
    """
)


def test_sigkill_mid_burst_loses_nothing_acknowledged(tmp_path):
    path = tmp_path / "journal.sqlite3"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    acknowledged: list[tuple[str, str]] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            acknowledged.append(tuple(line.split()))  # type: ignore[arg-type]
            if len(acknowledged) == 150:
                os.kill(proc.pid, signal.SIGKILL)
                break
        # Lines already in the pipe were acknowledged before the kill, too.
        acknowledged += [tuple(line.split()) for line in proc.stdout if line.strip()]  # type: ignore[misc]
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert len(acknowledged) >= 150

    # The file is a consistent database after the crash.
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    with Journal.open(path) as journal:
        order_ids = {f"{o.venue}:{o.order_id}" for o in journal.orders()}
        fill_ids = {f"{f.venue}:{f.fill_id}" for f in journal.fills()}
        missing_orders = [oid for oid, _ in acknowledged if oid not in order_ids]
        missing_fills = [fid for _, fid in acknowledged if fid not in fill_ids]
        assert missing_orders == [] and missing_fills == []
        # Every acknowledged row also waits in the outbox for the syncers.
        queued = {(e.table, e.id) for e in journal.pending(limit=10_000_000)}
        assert all(("orders", oid) in queued and ("fills", fid) in queued for oid, fid in acknowledged)
        # The journal keeps working after the crash.
        journal.record_cancel("0", "after restart", venue="sim-drift")
        assert journal.cancels()[-1]["reason"] == "after restart"


def test_journal_runs_in_wal_with_full_sync(tmp_path):
    with Journal.open(tmp_path / "j.sqlite3") as journal:
        conn = journal._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
