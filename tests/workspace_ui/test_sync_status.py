"""The status bar's sync state (Redis workspace, Postgres journal), the set-up
from the config, and credentials never shown."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from quantdesk.config.settings import Settings
from quantdesk.trading.journal import Journal
from quantdesk.core.model import Fill
from quantdesk.sync.postgres import PostgresSync
from quantdesk.sync.team_desk import open_team_desk
from quantdesk.wiring.team import TeamSetupError, desk_user, team_from_settings
from quantdesk.console.app import QuantDeskApp

from support.team_app import PANES, SIZE, run, workspace_text
from support.app import paused_session, start, status_text
from support.wait import wait_until

USER = str(uuid.uuid4())


def a_fill(i: int) -> Fill:
    return Fill(venue="sim-drift", market="SOL-PERP", order_id=str(i), fill_id=f"f{i}", side="buy",
                price=150_000_000, size=10**9, fee=5, liquidity="taker", ts=i)  # fmt: skip


async def test_both_servers_down_shows_state_and_queue_never_a_password(tmp_path, closed_port):
    url = f"redis://bob:s3cretredis@127.0.0.1:{closed_port}/0"
    dsn = f"postgresql://postgres:s3cretpg@127.0.0.1:{closed_port}/test"
    journal = Journal.open(tmp_path / "j.sqlite3")
    journal.record_fill(a_fill(1))
    desk = open_team_desk(url, "desk1", "bob", str(journal.path))
    db_sync = PostgresSync(journal, dsn, USER, min_backoff=0.1, max_backoff=0.2, connect_timeout=1)
    app = QuantDeskApp(paused_session(), panes=PANES, workspace=desk, journal_sync=db_sync)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        assert await wait_until(lambda: "redis down (0 queued)" in status_text(app), 5), status_text(app)
        assert await wait_until(lambda: "db down since" in status_text(app) and "(1 queued)" in status_text(app), 5)
        assert await run(app, "NOTE still trading")
        assert await run(app, "WATCH ADD SOL-PERP")
        assert await wait_until(lambda: "redis down (2 queued)" in status_text(app), 1), status_text(app)
        assert "redis down (2 queued): changes made here are kept" in workspace_text(app)
        assert "still trading" in workspace_text(app)
        shown = [status_text(app), workspace_text(app), repr(desk), repr(db_sync)]
        shown += [str(n.message) for n in app._notifications]
        assert not [s for s in shown if "s3cret" in s]
    assert app.team.journal_sync is None and app.team.workspace is None  # stopped with the App
    journal.close()


async def test_db_ok_once_the_journal_reached_postgres(tmp_path, migrated_dsn):
    journal = Journal.open(tmp_path / "j.sqlite3")
    journal.record_fill(a_fill(1))
    sync = PostgresSync(journal, migrated_dsn, USER, poll_interval=0.1)
    app = QuantDeskApp(paused_session(), panes=PANES, journal_sync=sync)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        assert await wait_until(lambda: "db ok" in status_text(app), 5), status_text(app)
        assert "No team workspace" in workspace_text(app)
        assert "redis" not in status_text(app)
    assert sync._thread is None  # the syncer stopped with the App
    with psycopg.connect(migrated_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM public.fills").fetchone()[0] == 1
    journal.close()


def test_settings_open_the_workspace_as_the_os_user(tmp_path, monkeypatch):
    monkeypatch.delenv("QUANTDESK_DB__DSN", raising=False)
    monkeypatch.setenv("QUANTDESK_CONFIG", str(tmp_path / "none.toml"))
    settings = Settings.model_validate({"redis": {"url": "redis://alice:pw9secret@127.0.0.1:6379/0", "team": "desk1"}})
    with Journal.open(tmp_path / "j.sqlite3") as journal:
        desk, sync = team_from_settings(settings, journal)
        assert sync is None
        assert desk.ws.user == desk_user() and desk.ws.team == "desk1"
        assert desk.outbox.path == journal.path
        assert "pw9secret" not in repr(desk)
        desk.outbox.close()

        bad = Settings.model_validate({"redis": {"url": "http://alice:pw9secret@host/0", "team": "desk1"}})
        with pytest.raises(TeamSetupError) as info:
            team_from_settings(bad, journal)
        assert "[redis]" in str(info.value) and "pw9secret" not in str(info.value)

        no_user = Settings.model_validate({"db": {"dsn": "postgresql://postgres:pgpw77@127.0.0.1:5432/test"}})
        monkeypatch.delenv("QUANTDESK_DB__USER_ID", raising=False)
        with pytest.raises(TeamSetupError) as info:
            team_from_settings(no_user, journal)
        assert "user_id" in str(info.value) and "pgpw77" not in str(info.value)
