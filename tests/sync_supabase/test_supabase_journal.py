"""The journal through Supabase's REST API: a real PostgREST on the test
PostgreSQL with the shipped migrations, tokens signed like Supabase Auth's,
row-level security deciding who sees what."""

from __future__ import annotations

import stat
import time

import httpx
import msgspec

from quantdesk.core.model import Fill, Order
from quantdesk.sync.supabase_journal import SupabaseJournalSync
from quantdesk.sync.supabase_session import ENV_TOKEN, SupabaseAuthError, load_session, trader_session
from quantdesk.trading.journal import Journal
from support.supabase import ANON_KEY, JWT_SECRET


def fill(i: int, prefix: str = "f") -> Fill:
    return Fill(venue="sim-drift", market="SOL-PERP", order_id=f"o{i}", fill_id=f"{prefix}{i}", side="buy",
                price=150_000_000 + i, size=10**9, fee=7, liquidity="taker", ts=i + 1)


def rest_get(rig, table: str, token: str | None) -> httpx.Response:
    headers = {"apikey": ANON_KEY, "Authorization": f"Bearer {token or ANON_KEY}"}
    return httpx.get(f"{rig.url}/rest/v1/{table}?select=*", headers=headers, timeout=5)


def test_two_traders_each_see_only_their_own_rows(supabase_project, session_of, tmp_path):
    rig = supabase_project
    for user, prefix in ((rig.a, "a"), (rig.b, "b")):
        with Journal.open(tmp_path / f"{prefix}.sqlite3") as j:
            for i in range(3):
                j.record_fill(fill(i, prefix))
            syncer = SupabaseJournalSync(j, session_of(user))
            assert syncer.sync() == 3
            assert syncer.state.describe() == "journal ok"
    owners = rig.rows("SELECT owner::text, fill_id FROM fills ORDER BY fill_id")
    assert owners == [(rig.a.id, "a0"), (rig.a.id, "a1"), (rig.a.id, "a2"),
                      (rig.b.id, "b0"), (rig.b.id, "b1"), (rig.b.id, "b2")]

    a_token = session_of(rig.a).access_token()
    b_token = session_of(rig.b).access_token()
    assert sorted(r["fill_id"] for r in rest_get(rig, "fills", a_token).json()) == ["a0", "a1", "a2"]
    assert sorted(r["fill_id"] for r in rest_get(rig, "fills", b_token).json()) == ["b0", "b1", "b2"]
    # The anon key alone (no sign-in) reads nothing of the journal.
    assert rest_get(rig, "fills", None).status_code == 401
    # B cannot change or delete A's rows through the API either.
    h = {"apikey": ANON_KEY, "Authorization": f"Bearer {b_token}", "Prefer": "return=representation"}
    r = httpx.patch(f"{rig.url}/rest/v1/fills?fill_id=eq.a0", json={"fee": 0}, headers=h, timeout=5)
    assert r.status_code == 200 and r.json() == []
    r = httpx.delete(f"{rig.url}/rest/v1/fills?fill_id=like.a*", headers=h, timeout=5)
    assert r.status_code == 200 and r.json() == []
    assert rig.rows("SELECT count(*) FROM fills WHERE fee = 7") == [(6,)]
    # A row in someone else's name is refused by the insert policy.
    row = {"id": "x", "owner": rig.a.id, "venue": "v", "market": "m", "order_id": "o", "fill_id": "x",
           "side": "buy", "price": 1, "size": 1, "fee": 0, "liquidity": "maker", "ts": 0}
    assert httpx.post(f"{rig.url}/rest/v1/fills", json=row, headers=h, timeout=5).status_code == 403


def test_order_updates_and_a_reopened_journal_arrive_once(supabase_project, session_of, tmp_path):
    rig = supabase_project
    path = tmp_path / "j.sqlite3"
    session = session_of(rig.a)
    with Journal.open(path) as j:
        order = Order(venue="sim-drift", market="SOL-PERP", order_id="1", side="buy", type="limit", size=10**9,
                      price=150_000_000, ts=1)
        j.record_order(order)
        j.record_order(msgspec.structs.replace(order, filled=10**9, status="filled"))
        j.record_fill(fill(1))
        assert SupabaseJournalSync(j, session, batch_size=2).sync() == 3
    # The terminal restarts: only what is new goes out, nothing twice.
    with Journal.open(path) as j:
        j.record_fill(fill(2))
        syncer = SupabaseJournalSync(j, session)
        assert syncer.sync() == 1 and syncer.pushed == 1
    assert rig.rows("SELECT status, filled FROM orders") == [("filled", 10**9)]
    assert rig.rows("SELECT fill_id FROM fills ORDER BY fill_id") == [("f1",), ("f2",)]


def test_an_expired_token_is_refreshed_before_sending_and_the_new_pair_saved(supabase_project, session_of, tmp_path):
    rig = supabase_project
    path = tmp_path / "data" / "supabase-session.json"
    now = [time.time()]
    session = session_of(rig.a, path, clock=lambda: now[0])
    first = load_session(path)
    now[0] = session.expires_at - 30  # inside the refresh margin, still valid on the server
    with Journal.open(tmp_path / "j.sqlite3") as j:
        j.record_fill(fill(1))
        syncer = SupabaseJournalSync(j, session)
        assert syncer.sync() == 1
    saved = load_session(path)
    assert saved is not None and first is not None
    assert saved.refresh_token != first.refresh_token and saved.access_token == rig.auth.issued[-1]
    assert first.refresh_token not in rig.auth.refresh_tokens  # rotated: the old one is spent
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert rig.rows("SELECT owner::text FROM fills") == [(rig.a.id,)]


def test_a_token_the_server_calls_expired_is_refreshed_once_and_resent(supabase_project, session_of, tmp_path):
    rig = supabase_project
    session = session_of(rig.a)
    # The server thinks it expired although this machine's clock does not (skew):
    # PostgREST answers 401 "JWT expired" and the syncer refreshes and resends.
    stale = rig.auth.access_token(rig.auth.users[rig.a.email], ttl=-300)
    session._stored = msgspec.structs.replace(session._stored, access_token=stale)
    with Journal.open(tmp_path / "j.sqlite3") as j:
        j.record_fill(fill(1))
        assert SupabaseJournalSync(j, session).sync() == 1
    assert session.access_token() != stale
    assert rig.rows("SELECT count(*) FROM fills") == [(1,)]


def test_a_session_that_cannot_be_refreshed_is_refused_clearly_and_loses_nothing(
    supabase_project, session_of, tmp_path
):
    rig = supabase_project
    now = [time.time()]
    session = session_of(rig.a, clock=lambda: now[0])
    rig.auth.refresh_tokens.clear()  # signed out elsewhere: the refresh token is revoked
    now[0] = session.expires_at + 1
    with Journal.open(tmp_path / "j.sqlite3") as j:
        for i in range(4):
            j.record_fill(fill(i))
        syncer = SupabaseJournalSync(j, session, min_backoff=0.01)
        syncer.step()
        state = syncer.state
        assert state.status == "down" and state.needs_login and state.pending == 4
        assert "Supabase refused to refresh the session" in state.last_error
        assert "run `quantdesk login supabase`" in state.last_error
        assert state.describe().startswith("journal signed out since") and "(4 queued)" in state.describe()
        for secret in (session._stored.access_token, session._stored.refresh_token, ANON_KEY):
            assert secret not in state.last_error and secret not in repr(syncer)
        assert rig.rows("SELECT count(*) FROM fills") == [(0,)]


def test_an_expired_script_token_is_refused_with_what_to_do(supabase_project, tmp_path):
    rig = supabase_project
    from quantdesk.sync.supabase_api import SupabaseProject

    project = SupabaseProject(rig.url, ANON_KEY)
    expired = rig.auth.access_token(rig.auth.users[rig.a.email], ttl=-60)
    try:
        trader_session(project, environ={ENV_TOKEN: expired})
        raise AssertionError("an expired token was accepted")
    except SupabaseAuthError as exc:
        assert f"The Supabase token in {ENV_TOKEN} expired at" in str(exc) and "set a fresh access token" in str(exc)
        assert expired not in str(exc)
    good = rig.auth.access_token(rig.auth.users[rig.a.email])
    session = trader_session(project, environ={ENV_TOKEN: good})
    assert session.user_id == rig.a.id and not session.refreshable
    with Journal.open(tmp_path / "j.sqlite3") as j:
        j.record_fill(fill(1))
        assert SupabaseJournalSync(j, session).sync() == 1
    try:
        trader_session(project, environ={ENV_TOKEN: "not-a-token"})
        raise AssertionError("garbage was accepted")
    except SupabaseAuthError as exc:
        assert "does not hold a JWT access token" in str(exc)
    project.close()
    assert JWT_SECRET not in repr(session)


def test_db_sync_pushes_through_the_api_when_only_supabase_is_configured(
    supabase_project, tmp_path, monkeypatch, capsys
):
    from quantdesk.cli import main as cli_main
    from quantdesk.sync.supabase_session import session_path
    from support.supabase import project_config

    from .conftest import signed_in

    rig = supabase_project
    monkeypatch.setenv("QUANTDESK_CONFIG", str(project_config(tmp_path, rig.url)))
    monkeypatch.delenv("QUANTDESK_DB__DSN", raising=False)
    journal = tmp_path / "j.sqlite3"
    with Journal.open(journal) as j:
        j.record_fill(fill(1))
    assert cli_main(["db", "sync", "--journal", str(journal)]) == 2
    assert "Not signed in to Supabase" in capsys.readouterr().err
    signed_in(rig, rig.a, session_path())
    assert cli_main(["db", "sync", "--journal", str(journal)]) == 0
    assert f"pushed 1 rows to {rig.url} as {rig.a.email}; journal ok" in capsys.readouterr().out
    rig.rest.kill()
    with Journal.open(journal) as j:
        j.record_fill(fill(2))
    assert cli_main(["db", "sync", "--journal", str(journal)]) == 1
    assert "did not answer" in capsys.readouterr().err and rig.rows("SELECT count(*) FROM fills") == [(1,)]
