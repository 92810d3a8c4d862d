"""Traders on one ``serve ssh`` share their team's workspace through Supabase
as their own Supabase users (``QUANTDESK_DB__USER_ID`` on their key's line),
on the tokens their journal sync uses: real PostgREST with the shipped
row-level security, and teammates' changes told by the Realtime double, which
checks each row as the receiving user. A trader of another team sees none of
it; a second console of a trader has the workspace as the first does."""

from __future__ import annotations

import logging

from quantdesk.config.settings import load_config
from support.ssh_client import Terminal
from support.ssh_desk import close_desk, console_up, open_desk, second_console
from support.supabase import JWT_SECRET, project_config
from support.wait import until

from .test_supabase_ssh_traders import key_lines

QUIET_POLL_S = 3600  # changes must come by Realtime: a poll would not come within the test


def team_config(tmp_path, rig, team: str):
    return load_config(project_config(tmp_path, rig.url, jwt_secret=JWT_SECRET, team_id=team, realtime=True,
                                      poll_s=QUIET_POLL_S))


def consoles_of(desk, who: str) -> list:
    return [ch.console for ch in desk.server.channels if ch.user == who and ch.console is not None]


def watched(t: Terminal) -> list[str]:
    """The markets of the "main" watchlist rows on a trader's screen."""
    return [word for line in t.text().splitlines() if "│ main " in line
            for word in line.split("│ main ", 1)[1].split()[:1]]


def workspace_rows(rig) -> set[tuple[str, str, str, str, str]]:
    """(team, kind, name, owner, last changed by) of every workspace row, as the database holds them."""
    return {tuple(r) for r in rig.rows(
        "SELECT team_id::text, kind, name, owner::text, updated_by::text FROM workspace_items")}


def note_rows(rig) -> dict[str, tuple[str, str]]:
    """note text -> (owner, the author name in its body)."""
    return {r[0]: (r[1], r[2]) for r in rig.rows(
        "SELECT body->>'text', owner::text, body->>'user' FROM workspace_items WHERE kind = 'note'")}


async def test_teammates_share_the_workspace_as_themselves_and_another_team_sees_none_of_it(
    supabase_project, tmp_path, caplog
):
    rig = supabase_project
    caplog.set_level(logging.DEBUG)
    team = rig.add_team(rig.a, rig.b)
    carl = rig.auth.add_user("carl@desk.test", "carl-password-3")
    other_team = rig.add_team(carl)
    (tmp_path / "team").mkdir()
    (tmp_path / "other").mkdir()
    desk = await open_desk(tmp_path / "team", settings=team_config(tmp_path / "team", rig, team),
                           key_options=key_lines(rig))
    # Another team's server; carl connects to it with the harness's first key.
    other = await open_desk(tmp_path / "other", settings=team_config(tmp_path / "other", rig, other_team),
                            key_options={"alice": f'environment="QUANTDESK_USER=carl",'
                                                  f'environment="QUANTDESK_DB__USER_ID={carl.id}"'})
    try:
        alice = await console_up(desk, "alice")
        bob = await console_up(desk, "bob")
        carl_t = await Terminal.open(other.port, other.keys["alice"])
        other.terminals.append(carl_t)
        await carl_t.shows("POSITIONS")
        for t in (alice, bob, carl_t):
            t.send(":LAYOUT desk\r")
        for t in (alice, bob, carl_t):
            await t.shows("TEAM WORKSPACE")
        await until(lambda: all(c.workspace.loaded for c in [*consoles_of(desk, "alice"), *consoles_of(desk, "bob"),
                                                            *consoles_of(other, "carl")]), what="first reads")

        # Alice starts the team's watchlist and leaves a note; Bob sees both, her name on the note.
        alice.send(":WATCH ADD SOL-PERP\r")
        alice.send(":NOTE funding flips at 16:00\r")
        await bob.shows("alice: funding flips at 16:00")
        await until(lambda: consoles_of(desk, "bob")[0].workspace.watchlists == {"main": ["SOL-PERP"]},
                    what="alice's watchlist entry at bob's")
        # Bob adds to the same watchlist and answers; Alice sees both, his name on his note.
        bob.send(":WATCH ADD ETH-PERP\r")
        bob.send(":NOTE sized down ahead of CPI\r")
        await alice.shows("bob: sized down ahead of CPI")
        await until(lambda: consoles_of(desk, "alice")[0].workspace.watchlists == {"main": ["SOL-PERP", "ETH-PERP"]},
                    what="bob's watchlist entry at alice's")
        await until(lambda: {"SOL-PERP", "ETH-PERP"} <= set(watched(alice)), what="both entries on alice's screen")

        # Each write is under the writer's own Supabase user, in the team's scope.
        await until(lambda: ("watchlist", "main", rig.a.id, rig.b.id) in {r[1:] for r in workspace_rows(rig)},
                    what="bob's change of alice's watchlist in the database")
        assert note_rows(rig) == {"funding flips at 16:00": (rig.a.id, "alice"),
                                  "sized down ahead of CPI": (rig.b.id, "bob")}
        assert {r[0] for r in workspace_rows(rig)} == {team}

        # Carl, of another team, writes to his own team and sees nothing of theirs.
        carl_t.send(":NOTE carl's own desk\r")
        await carl_t.shows("carl: carl's own desk")
        carl_ws = consoles_of(other, "carl")[0].workspace
        assert carl_ws.watchlists == {} and [n.text for n in carl_ws.notes] == ["carl's own desk"]
        assert ("note", carl.id, other_team) in {(r[1], r[3], r[0]) for r in workspace_rows(rig)}
        # ... and after a reload of theirs the team still does not see his.
        alice.send(":NOTE after carl\r")
        await bob.shows("alice: after carl")
        for who in ("alice", "bob"):
            assert "carl's own desk" not in [n.text for n in consoles_of(desk, who)[0].workspace.notes]
        assert "carl's own desk" not in bob.text() and "carl's own desk" not in alice.text()

        # The workspace rides on the journal sync's session: one token source per console.
        bob_console = consoles_of(desk, "bob")[0]
        assert bob_console.workspace.ws.session is bob_console.trader.journal_sync.session
        assert bob_console.workspace.ws.user == "bob"
        token = bob_console.workspace.ws.session.access_token()
        shown = "\n".join([alice.text(), bob.text(), carl_t.text(), repr(bob_console.workspace),
                           repr(bob_console.workspace.ws), repr(bob_console.workspace.ws.session),
                           caplog.text, *(r.getMessage() for r in caplog.records)])
        assert JWT_SECRET not in shown and token not in shown
        assert "supabase ok" in bob.text() and "Not synced" not in bob.text()
    finally:
        await close_desk(desk)
        await close_desk(other)


async def test_a_second_console_of_a_trader_has_the_workspace_too(supabase_project, tmp_path):
    rig = supabase_project
    team = rig.add_team(rig.a, rig.b)
    desk = await open_desk(tmp_path, settings=team_config(tmp_path, rig, team), key_options=key_lines(rig))
    try:
        bob = await console_up(desk, "bob")
        bob.send(":LAYOUT desk\r")
        bob.send(":NOTE bob was here\r")
        await until(lambda: "bob was here" in note_rows(rig), what="bob's note stored")
        await console_up(desk, "alice")
        second = await second_console(desk, "alice")
        second.send(":LAYOUT desk\r")
        await second.shows("bob: bob was here")
        # Its notes go to the team as Alice, from the queue the first console shares.
        second.send(":NOTE from alice's second console\r")
        await bob.shows("alice: from alice's second console")
        assert note_rows(rig)["from alice's second console"] == (rig.a.id, "alice")
        (other,) = [c for c in consoles_of(desk, "alice") if c.trader.trading is None]  # the read-only one
        assert other.trader.journal_sync is None and other.workspace.ws.user == "alice"
    finally:
        await close_desk(desk)


async def test_without_a_user_id_or_jwt_secret_there_is_no_workspace_and_the_trader_is_told(supabase_project, tmp_path):
    rig = supabase_project
    team = rig.add_team(rig.a, rig.b)
    desk = await open_desk(tmp_path, settings=team_config(tmp_path, rig, team), key_options={"alice": ""})
    try:
        alice = await console_up(desk, "alice")
        await alice.shows("Not synced to the team database (your journal and team")
        second = await Terminal.open(desk.port, desk.keys["alice"])
        desk.terminals.append(second)
        await second.shows("Not synced to the team database (your team workspace)")
        assert all(c.workspace is None for c in consoles_of(desk, "alice"))
        alice.send(":NOTE nowhere to go\r")
        await alice.shows("no team workspace")
    finally:
        await close_desk(desk)
    assert rig.rows("SELECT count(*) FROM workspace_items") == [(0,)]

    no_secret = load_config(project_config(tmp_path, rig.url, team_id=team))
    desk = await open_desk(tmp_path, settings=no_secret, key_options=key_lines(rig))
    try:
        bob = await console_up(desk, "bob")
        await bob.shows("no jwt_secret")
        assert consoles_of(desk, "bob")[0].workspace is None
    finally:
        await close_desk(desk)
