"""Traders on one ``serve ssh`` each sync their journal through the Supabase
REST API as their own Supabase user (``QUANTDESK_DB__USER_ID`` on their key's
line), on tokens the server signs with ``[sync.supabase] jwt_secret``: real
PostgREST on PostgreSQL with the shipped policies, so each trader reads only
their own rows. The secret never reaches a screen, a log or a repr; a trader
with no user id, or a server with no secret, is told why their journal is not
synced."""

from __future__ import annotations

import logging

import httpx
import jwt
import pytest

from quantdesk.config.settings import load_config
from quantdesk.core.problems import ProblemsError
from quantdesk.sync.supabase_session import session_path
from support.ssh_desk import close_desk, console_up, open_desk
from support.supabase import ANON_KEY, JWT_SECRET, project_config
from support.wait import until

from .conftest import signed_in


def key_lines(rig) -> dict[str, str]:
    return {"alice": f'environment="QUANTDESK_DB__USER_ID={rig.a.id}"',
            "bob": f'environment="QUANTDESK_USER=bob",environment="QUANTDESK_DB__USER_ID={rig.b.id}"'}


def fills_by_owner(rig) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for owner, side in rig.rows("SELECT owner::text, side FROM fills ORDER BY side"):
        out.setdefault(owner, []).append(side)
    return out


def own_fills(rig, user) -> list[str]:
    """What ``user`` reads of the fills through the API, signed in with their own password."""
    session = signed_in(rig, user)
    try:
        r = httpx.get(f"{rig.url}/rest/v1/fills?select=side",
                      headers={"apikey": ANON_KEY, "Authorization": f"Bearer {session.access_token()}"}, timeout=5)
    finally:
        session.project.close()
    assert r.status_code == 200, r.text
    return sorted(row["side"] for row in r.json())


def console_of(desk, who: str):
    return next(ch.console for ch in desk.server.channels if ch.user == who and ch.console is not None)


async def test_each_traders_fills_land_under_their_own_supabase_user(supabase_project, tmp_path, caplog):
    rig = supabase_project
    caplog.set_level(logging.DEBUG)
    # The server's own login (say, its administrator's) is never what a served trader syncs as.
    signed_in(rig, rig.a, path=session_path()).project.close()
    settings = load_config(project_config(tmp_path, rig.url, jwt_secret=JWT_SECRET))
    desk = await open_desk(tmp_path, settings=settings, key_options=key_lines(rig))
    try:
        alice = await console_up(desk, "alice")
        bob = await console_up(desk, "bob")
        alice.send(":SOL-PERP BUY 1 MKT\r")
        bob.send(":SOL-PERP SELL 2 MKT\r")
        await until(lambda: fills_by_owner(rig) == {rig.a.id: ["buy"], rig.b.id: ["sell"]}, 20,
                    "each trader's fill under their own Supabase user")
        # Row-level security: each reads their own fill only, through the API as themselves.
        assert own_fills(rig, rig.a) == ["buy"]
        assert own_fills(rig, rig.b) == ["sell"]
        await until(lambda: "journal ok" in alice.text() and "journal ok" in bob.text(), what="journal ok on both")

        syncer = console_of(desk, "bob").trader.journal_sync
        token = syncer.session.access_token()
        claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"], audience="authenticated")
        assert claims["sub"] == rig.b.id and claims["role"] == "authenticated"
        assert claims["exp"] - claims["iat"] <= 900
        shown = "\n".join([alice.text(), bob.text(), repr(syncer), repr(syncer.session), repr(settings),
                           caplog.text, *(r.getMessage() for r in caplog.records)])
        assert JWT_SECRET not in shown and token not in shown
        assert "not synced" not in alice.text() and "not synced" not in bob.text()
    finally:
        await close_desk(desk)


async def test_a_trader_without_a_user_id_is_told_and_syncs_nothing(supabase_project, tmp_path):
    rig = supabase_project
    settings = load_config(project_config(tmp_path, rig.url, jwt_secret=JWT_SECRET))
    desk = await open_desk(tmp_path, settings=settings, key_options={"alice": ""})
    try:
        alice = await console_up(desk, "alice")
        await alice.shows("Not synced to the team database (your journal and team")
        await alice.shows("QUANTDESK_DB__USER_ID=<your")
        alice.send(":SOL-PERP BUY 1 MKT\r")
        await until(lambda: console_of(desk, "alice").trader.trading.journal.fills(), what="alice's fill in her journal")
        assert console_of(desk, "alice").trader.journal_sync is None
        assert fills_by_owner(rig) == {}
    finally:
        await close_desk(desk)


async def test_a_server_without_the_jwt_secret_says_what_to_set(supabase_project, tmp_path):
    rig = supabase_project
    settings = load_config(project_config(tmp_path, rig.url))
    desk = await open_desk(tmp_path, settings=settings, key_options=key_lines(rig))
    try:
        alice = await console_up(desk, "alice")
        await alice.shows("no jwt_secret")
        assert console_of(desk, "alice").trader.journal_sync is None
    finally:
        await close_desk(desk)


async def test_a_wrong_secret_stops_the_sync_with_what_to_fix(supabase_project, tmp_path):
    rig = supabase_project
    settings = load_config(project_config(tmp_path, rig.url, jwt_secret="not-the-projects-secret-but-long-enough"))
    desk = await open_desk(tmp_path, settings=settings, key_options=key_lines(rig))
    try:
        alice = await console_up(desk, "alice")
        alice.send(":SOL-PERP BUY 1 MKT\r")
        await until(lambda: "journal signed out" in alice.text(), 20, "the journal signed out")
        state = console_of(desk, "alice").trader.journal_sync.state
        assert "check [sync.supabase] jwt_secret" in state.last_error
        assert fills_by_owner(rig) == {}
    finally:
        await close_desk(desk)


def test_the_server_says_at_start_how_traders_journals_sync(tmp_path):
    from quantdesk.commands.serve_ssh import journal_sync_line

    url = "https://project.supabase.co"
    with_secret = load_config(project_config(tmp_path, url, jwt_secret=JWT_SECRET))
    line = journal_sync_line(with_secret)
    assert url in line and "each trader's Supabase user" in line and JWT_SECRET not in line
    assert JWT_SECRET in with_secret.secret_values()  # so the server's log redacts it
    assert "needs jwt_secret" in journal_sync_line(load_config(project_config(tmp_path, url)))


def test_a_jwt_secret_too_short_to_be_a_projects_is_refused(tmp_path):
    with pytest.raises(ProblemsError) as err:
        load_config(project_config(tmp_path, "https://project.supabase.co", jwt_secret="short-secret"))
    text = err.value.render()
    assert "jwt_secret" in text and "short-secret" not in text
