"""The outbox syncer against the running PostgreSQL."""

from __future__ import annotations

import uuid

import msgspec
import psycopg
import pytest

from quantdesk.cli import main
from quantdesk.trading.journal import Journal
from quantdesk.core.model import AccountState, Fill, Order, OrderIntent, Position
from quantdesk.sync.migrate import load_migrations
from quantdesk.sync.postgres import PostgresSync, SyncError

from support.wait import wait_until

USER = str(uuid.uuid4())
SOL = dict(venue="sim-drift", market="SOL-PERP")


def fill_record(i: int) -> Fill:
    return Fill(**SOL, order_id=str(i), fill_id=f"f{i}", side="sell", price=150_000_000 + i, size=10**9, fee=-5,
                liquidity="maker", ts=i)


def rows(dsn: str, sql: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql).fetchall()


def test_every_kind_of_record_lands_in_its_table(migrated_dsn, tmp_path):
    with Journal.open(tmp_path / "j.sqlite3") as j:
        iid = j.record_intent(OrderIntent(**SOL, side="buy", type="limit", size=10**9, price=149_000_000))
        j.record_risk(iid, False, "price 8% from oracle, band 5%", "price_band", "300", limit_value="500")
        o = Order(**SOL, order_id="1", side="buy", type="limit", size=10**9, price=149_000_000, ts=1)
        j.record_order(o)
        j.record_order(msgspec.structs.replace(o, filled=10**9, status="filled"))
        j.record_cancel("1", "trader")
        j.record_fill(fill_record(1))
        j.record_funding("sim-drift", "SOL-PERP", -2_500, 120, ts=3_600_000_000_000)
        j.record_liquidation("sim-drift", "SOL-PERP", -10**9, 120_000_000, 1_500_000, ts=9, reason="maintenance")
        j.record_position(Position(**SOL, base=10**9, quote_entry=-149_000_000, entry_price=149_000_000,
                                   liquidation_price=None, ts=2))
        j.record_account(AccountState(venue="sim-drift", ts=3, collateral=10**10, equity=10**10,
                                      free_collateral=9 * 10**9, margin_requirement=10**9, health=95, leverage_bps=150))
        syncer = PostgresSync(j, migrated_dsn, USER)
        assert syncer.sync() == 10  # outbox entries: the order twice
        assert syncer.state.status == "ok" and syncer.state.pending == 0

    assert rows(migrated_dsn, "SELECT status, filled, owner::text FROM orders") == [("filled", 10**9, USER)]
    assert rows(migrated_dsn, "SELECT accepted, limit_name, limit_value, excess FROM risk_events") == [
        (False, "price_band", "500", "300")]
    assert rows(migrated_dsn, "SELECT price, fee, liquidity FROM fills") == [(150_000_001, -5, "maker")]
    assert rows(migrated_dsn, "SELECT amount, rate, kind FROM funding_payments") == [(-2_500, 120, "funding")]
    assert rows(migrated_dsn, "SELECT base, reason FROM liquidations") == [(-10**9, "maintenance")]
    assert rows(migrated_dsn, "SELECT base, liquidation_price FROM positions") == [(10**9, None)]
    assert rows(migrated_dsn, "SELECT health FROM accounts") == [(95,)]
    assert rows(migrated_dsn, "SELECT count(*) FROM intents") == [(1,)]
    assert rows(migrated_dsn, "SELECT reason FROM cancels") == [("trader",)]


def test_resending_everything_duplicates_nothing(migrated_dsn, tmp_path):
    with Journal.open(tmp_path / "j.sqlite3") as j:
        for i in range(120):
            j.record_fill(fill_record(i))
        PostgresSync(j, migrated_dsn, USER, batch_size=50).sync()
        # A second sink replays the whole outbox, as after a crash between the
        # remote commit and the local acknowledgement.
        assert PostgresSync(j, migrated_dsn, USER, sink="replay", batch_size=7).sync() == 120
    assert rows(migrated_dsn, "SELECT count(*), count(DISTINCT id) FROM fills") == [(120, 120)]


def test_server_down_keeps_rows_and_reports_state(tmp_path, closed_port):
    dsn = f"postgresql://postgres:topsecretpw@127.0.0.1:{closed_port}/test"
    with Journal.open(tmp_path / "j.sqlite3") as j:
        j.record_fill(fill_record(1))
        clock = iter(range(10**18, 10**18 + 100 * 10**9, 10**9))
        syncer = PostgresSync(j, dsn, USER, min_backoff=0.1, max_backoff=0.4, connect_timeout=1,
                              clock=lambda: next(clock))
        delays = [syncer.step() for _ in range(4)]
        state = syncer.state
        assert delays == [0.1, 0.2, 0.4, 0.4]  # exponential backoff, capped
        assert state.status == "down" and state.pending == 1
        assert state.down_since == 10**18  # since the first failure, not the latest
        assert state.describe().startswith("db down since ") and "(1 queued)" in state.describe()
        assert "topsecretpw" not in state.last_error and "topsecretpw" not in repr(syncer)
        assert j.pending_count() == 1  # nothing acknowledged


def test_sync_command_pushes_and_reports(migrated_dsn, tmp_path, capsys):
    path = tmp_path / "j.sqlite3"
    with Journal.open(path) as j:
        j.record_fill(fill_record(1))
        j.record_fill(fill_record(2))
    assert main(["db", "sync", "--dsn", migrated_dsn, "--journal", str(path), "--user-id", USER]) == 0
    assert "pushed 2 rows; db ok" in capsys.readouterr().out
    assert rows(migrated_dsn, "SELECT count(*) FROM fills") == [(2,)]
    assert main(["db", "status", "--dsn", migrated_dsn, "--journal", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{len(load_migrations())} migrations applied" in out and "0 entries waiting" in out


def test_a_user_id_that_is_not_a_uuid_is_refused(tmp_path):
    with Journal.open(tmp_path / "j.sqlite3") as j, pytest.raises(SyncError, match="QUANTDESK_DB__USER_ID"):
        PostgresSync(j, "postgresql://x@127.0.0.1/db", "alice")


async def test_async_loop_pushes_in_the_background(migrated_dsn, tmp_path):
    import asyncio

    with Journal.open(tmp_path / "j.sqlite3") as j:
        syncer = PostgresSync(j, migrated_dsn, USER, poll_interval=0.01)
        task = asyncio.create_task(syncer.run())
        try:
            for i in range(5):
                j.record_fill(fill_record(i))
                await asyncio.sleep(0)
            await wait_until(lambda: j.pending_count() == 0, 20)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        assert syncer.state.status == "ok"
    assert rows(migrated_dsn, "SELECT count(*) FROM fills") == [(5,)]


def test_a_rejected_batch_is_all_or_nothing_and_stays_queued(migrated_dsn, tmp_path):
    stranger_team = str(uuid.uuid4())  # no such team: the database refuses rows filed under it
    with Journal.open(tmp_path / "j.sqlite3") as j:
        for i in range(3):
            j.record_fill(fill_record(i))
        syncer = PostgresSync(j, migrated_dsn, USER, team_id=stranger_team)
        syncer.step()
        state = syncer.state
        assert state.status == "down" and state.pending == 3
        assert "row-level security" in state.last_error or "foreign key" in state.last_error
        assert rows(migrated_dsn, "SELECT count(*) FROM fills") == [(0,)]
        # Fixed configuration: the same entries go through.
        assert PostgresSync(j, migrated_dsn, USER).sync() == 3
    assert rows(migrated_dsn, "SELECT count(*) FROM fills") == [(3,)]
