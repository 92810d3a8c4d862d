"""``quantdesk db migrate`` against a real PostgreSQL."""

from __future__ import annotations

import threading

import psycopg

from quantdesk.cli import main
from quantdesk.sync.migrate import load_migrations, migrate

TABLES = {"orders", "fills", "risk_events", "funding_payments", "alerts", "layouts", "teams", "team_members",
          "intents", "cancels", "liquidations", "positions", "accounts"}


def test_migrate_twice_applies_each_file_once(fresh_dsn, capsys):
    assert main(["db", "migrate", "--dsn", fresh_dsn]) == 0
    first = capsys.readouterr().out
    assert all(f"applied {m.version}_{m.name}" in first for m in load_migrations())
    assert main(["db", "migrate", "--dsn", fresh_dsn]) == 0
    second = capsys.readouterr().out
    assert "applied 0" not in second and "up to date" in second
    with psycopg.connect(fresh_dsn) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
        assert versions == [m.version for m in load_migrations()]
        rows = conn.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
        ).fetchall()
    secured = {name for name, rls, forced in rows if rls and forced}
    assert TABLES <= secured


def test_concurrent_migrations_take_turns(fresh_dsn):
    results, errors = [], []

    def run():
        try:
            with psycopg.connect(fresh_dsn) as conn:
                results.append(migrate(conn))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(len(r.applied) for r in results) == [0, 0, len(load_migrations())]


def test_auth_uid_reads_the_jwt_claims(migrated_dsn):
    with psycopg.connect(migrated_dsn) as conn:
        assert conn.execute("SELECT auth.uid()").fetchone()[0] is None
        conn.execute("SELECT set_config('request.jwt.claims', %s, true)",
                     ('{"sub": "6c0e8f3e-2a43-4d4c-9b7a-0a1f1e0c1a11", "role": "authenticated"}',))
        assert str(conn.execute("SELECT auth.uid()").fetchone()[0]) == "6c0e8f3e-2a43-4d4c-9b7a-0a1f1e0c1a11"
        conn.execute("SELECT set_config('request.jwt.claim.sub', %s, true)",
                     ("0b7e0c8e-0000-4000-8000-000000000001",))
        assert str(conn.execute("SELECT auth.uid()").fetchone()[0]) == "0b7e0c8e-0000-4000-8000-000000000001"


def test_migrate_with_a_bad_dsn_hides_the_password(capsys):
    code = main(["db", "migrate", "--dsn", "postgresql://postgres:hunter2secret@127.0.0.1:1/none"])
    err = capsys.readouterr().err
    assert code == 1
    assert "hunter2secret" not in err and "***" in err and "Traceback" not in err


def test_migrate_dsn_from_environment(fresh_dsn, monkeypatch, capsys):
    monkeypatch.setenv("QUANTDESK_DB__DSN", fresh_dsn)
    assert main(["db", "migrate"]) == 0
    assert "applied 001_supabase_auth" in capsys.readouterr().out
