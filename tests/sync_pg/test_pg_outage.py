"""PostgreSQL killed during a burst of journal writes and restarted: every row
arrives exactly once, and trading (journal writes) never waits for it."""

from __future__ import annotations

import time
import uuid

import msgspec
import psycopg

from quantdesk.trading.journal import Journal
from quantdesk.core.model import Fill, Order
from quantdesk.sync.migrate import migrate
from quantdesk.sync.postgres import PostgresSync

USER = str(uuid.uuid4())
N = 600


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_kill_postgres_mid_burst_every_row_arrives_exactly_once(cluster, tmp_path):
    with psycopg.connect(cluster.dsn) as conn:
        migrate(conn)
    path = tmp_path / "journal.sqlite3"
    writer = Journal.open(path)
    # The syncer has its own connection to the journal, as in the terminal.
    syncer = PostgresSync(Journal.open(path), cluster.dsn, USER, batch_size=64, poll_interval=0.01,
                          min_backoff=0.05, max_backoff=0.4, connect_timeout=2)
    syncer.start()
    slowest_write = 0.0
    states = set()
    try:
        for i in range(N):
            t0 = time.perf_counter()
            order = Order(venue="sim-drift", market="SOL-PERP", order_id=str(i), side="buy", type="limit",
                          size=10**9, price=150_000_000 + i, ts=i + 1)
            writer.record_order(order)
            writer.record_fill(Fill(venue="sim-drift", market="SOL-PERP", order_id=str(i), fill_id=f"f{i}",
                                    side="buy", price=150_000_000 + i, size=10**9, fee=7, liquidity="taker", ts=i + 1))
            writer.record_order(msgspec.structs.replace(order, filled=10**9, status="filled"))
            slowest_write = max(slowest_write, time.perf_counter() - t0)
            syncer.notify()
            time.sleep(0.001)  # a burst of orders, not a bulk load
            if i == 10:
                assert wait_for(lambda: syncer.pushed > 0, timeout=10)  # connected and pushing
            if i == N // 3:
                cluster.kill()
            if i == 2 * N // 3:
                assert wait_for(lambda: syncer.state.status == "down", timeout=10)
                states.add(syncer.state.status)
                assert syncer.state.pending > 0
                cluster.start()
        assert wait_for(lambda: syncer.state.status == "ok" and syncer.state.pending == 0, timeout=60)
        states.add(syncer.state.status)
    finally:
        syncer.stop()
        syncer.journal.close()
        writer.close()

    assert states == {"down", "ok"}
    assert slowest_write < 1.0  # the outage never held up a journal write
    with psycopg.connect(cluster.dsn) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT id) FROM fills").fetchone() == (N, N)
        assert conn.execute("SELECT count(*), count(DISTINCT id) FROM orders").fetchone() == (N, N)
        fill_ids = {r[0] for r in conn.execute("SELECT id FROM fills")}
        statuses = conn.execute("SELECT status, count(*) FROM orders GROUP BY status").fetchall()
        owners = conn.execute("SELECT DISTINCT owner::text FROM orders").fetchall()
    assert fill_ids == {f"sim-drift:f{i}" for i in range(N)}
    assert statuses == [("filled", N)]  # the latest update of every order won
    assert owners == [(USER,)]
