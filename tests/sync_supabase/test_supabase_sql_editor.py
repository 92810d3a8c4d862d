"""`quantdesk db migrate --sql`: the script a Supabase user pastes into the
SQL editor creates what the migrator would, runs twice harmlessly, and the
REST API then enforces its policies."""

from __future__ import annotations

import httpx
import psycopg

from quantdesk.cli import main as cli_main
from quantdesk.core.model import Fill
from quantdesk.sync.migrate import load_migrations, migrate
from quantdesk.sync.supabase_journal import SupabaseJournalSync
from quantdesk.trading.journal import Journal
from support.supabase import ANON_KEY, Auth, Gateway, PostgREST, SupabaseRig, ensure_authenticator, project_config

from .conftest import signed_in


def test_the_editor_script_sets_up_a_project_the_api_can_use(fresh_dsn, postgrest_bin, tmp_path, capsys):
    assert cli_main(["db", "migrate", "--sql"]) == 0
    out = capsys.readouterr()
    script = out.out
    assert "SQL Editor" in out.err
    assert "auth.uid()" in script and "TO authenticated" in script and "FROM anon" in script
    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        conn.execute(script.encode())
        conn.execute(script.encode())  # pasted twice: nothing new, nothing broken
        versions = [r[0] for r in conn.execute("SELECT version FROM public.schema_migrations ORDER BY version")]
        assert versions == [m.version for m in load_migrations()]
        result = migrate(conn)  # the migrator agrees: same checksums, nothing to do
        assert result.applied == [] and result.changed == []

    ensure_authenticator()
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_dsn)["dbname"]
    rest = PostgREST(postgrest_bin, str(dbname), tmp_path)
    rest.start()
    auth = Auth()
    gateway = Gateway(auth, lambda: rest.url)
    gateway.start()
    try:
        rig = SupabaseRig(gateway, rest, auth, fresh_dsn, auth.add_user("a@desk.test", "pw-a"),
                          auth.add_user("b@desk.test", "pw-b"))
        session = signed_in(rig, rig.a)
        with Journal.open(tmp_path / "j.sqlite3") as j:
            j.record_fill(Fill(venue="sim-drift", market="SOL-PERP", order_id="1", fill_id="1", side="buy",
                               price=1, size=1, fee=0, liquidity="taker", ts=1))
            assert SupabaseJournalSync(j, session).sync() == 1
        b_token = signed_in(rig, rig.b).access_token()
        h = {"apikey": ANON_KEY, "Authorization": f"Bearer {b_token}"}
        assert httpx.get(f"{rig.url}/rest/v1/fills", headers=h, timeout=5).json() == []
        anon = {"apikey": ANON_KEY, "Authorization": f"Bearer {ANON_KEY}"}
        assert httpx.get(f"{rig.url}/rest/v1/schema_migrations", headers=anon, timeout=5).status_code == 401
        session.project.close()
    finally:
        gateway.stop()
        rest.kill()


def test_migrate_with_only_a_supabase_project_prints_the_script(tmp_path, monkeypatch, capsys):
    config = project_config(tmp_path, "https://abcd.supabase.co")
    monkeypatch.setenv("QUANTDESK_CONFIG", str(config))
    monkeypatch.delenv("QUANTDESK_DB__DSN", raising=False)
    assert cli_main(["db", "migrate"]) == 0
    out = capsys.readouterr()
    assert "https://abcd.supabase.co" in out.err and "SQL Editor > New query" in out.err
    assert out.out.startswith("-- QuantDesk schema for a Supabase project") and ANON_KEY not in out.out + out.err
