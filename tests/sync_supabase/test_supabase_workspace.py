"""The team workspace through Supabase's REST API: real PostgREST, row-level
security deciding who shares what, teammates' changes arriving by polling on
an injected clock, and an outage that queues writes and delivers them once."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.console.app import QuantDeskApp
from quantdesk.sync.supabase_workspace import SupabaseWorkspace
from quantdesk.sync.team_desk import TeamDesk, desk_on
from support.app import paused_session, start, status_text
from support.team_app import PANES, SIZE, run, workspace_text
from support.wait import until

POLL = 5.0
LAYOUT = '[layout]\nname = "desk"\n'


def desk(session, user: str, team: str | None, tmp_path, timers) -> TeamDesk:
    store = SupabaseWorkspace(session, user, team_id=team, poll_s=POLL, timers=timers)
    return desk_on(store, str(tmp_path / f"{user}-journal.sqlite3"))


async def test_team_members_share_the_workspace_and_outsiders_see_none_of_it(
    supabase_project, session_of, tmp_path, timers
):
    rig = supabase_project
    carl = rig.auth.add_user("carl@desk.test", "carl-password-3")
    team = rig.add_team(rig.a, rig.b)
    ana, ben = desk(session_of(rig.a), "ana", team, tmp_path, timers), desk(session_of(rig.b), "ben", team, tmp_path, timers)
    outsider = desk(session_of(carl), "carl", None, tmp_path, timers)
    for d in (ana, ben, outsider):
        await d.start()
    try:
        await until(lambda: ana.loaded and ben.loaded and outsider.loaded, what="first reads")
        assert ana.status() == (f"supabase ok (poll {POLL:g}s)", "connected")

        await ana.watch_add("SOL-PERP", "main")
        alert = await ana.add_alert("SOL-PERP PRICE > 150 ON sim-drift", "breakout")
        await ana.add_note("funding flips at 16:00")
        await ana.save_layout("desk", LAYOUT)
        await outsider.add_note("carl's own note")
        await until(lambda: ana.queued == 0 and outsider.queued == 0, what="writes sent")

        # Ben hears of it at his next poll, not before.
        assert ben.watchlists == {}
        await timers.advance_until(lambda: ben.layout_texts.get("desk") == LAYOUT, POLL, "ben's poll")
        assert ben.watchlists == {"main": ["SOL-PERP"]}
        assert ben.alerts[alert.id].note == "breakout" and ben.alerts[alert.id].rule_text() == "SOL-PERP PRICE > 150 ON sim-drift"
        assert [n.text for n in ben.notes] == ["funding flips at 16:00"]

        # A team member may change a teammate's entry (it is the team's), and it stays Ana's.
        fired = ben.trigger(alert.id, 1, Decimal("151"), "sim-drift")  # ben's terminal saw it fire
        assert fired is not None and fired.triggered_by == "ben"
        await until(lambda: ben.queued == 0, what="trigger sent")
        await timers.advance_until(lambda: ana.alerts[alert.id].state == "triggered", POLL, "ana's poll")
        assert rig.rows("SELECT owner::text, updated_by::text FROM workspace_items WHERE kind = 'alert'") == [
            (rig.a.id, rig.b.id)]

        # Carl, in no team, sees only his own note; the team never sees his.
        await timers.advance(POLL)
        assert outsider.watchlists == {} and outsider.alerts == {}
        assert [n.text for n in outsider.notes] == ["carl's own note"]
        assert "carl's own note" not in [n.text for n in ben.notes]
        assert rig.rows("SELECT count(*) FROM workspace_items") == [(5,)]  # one row each, nothing twice
    finally:
        for d in (ana, ben, outsider):
            await d.stop()


async def test_writes_made_while_postgrest_is_down_arrive_once_after_a_restart(
    supabase_project, session_of, tmp_path, timers
):
    rig = supabase_project
    team = rig.add_team(rig.a)
    session = session_of(rig.a)
    ana = desk(session, "ana", team, tmp_path, timers)
    await ana.start()
    await until(lambda: ana.loaded, what="first read")
    rig.rest.kill()
    await ana.watch_add("SOL-PERP", "main")
    await ana.watch_add("ETH-PERP", "main")
    await ana.add_note("written while the API was away")
    await until(lambda: ana.ws.state == "down", what="the outage seen")
    assert ana.status() == ("supabase down (3 queued)", "down")
    assert "did not answer" in ana.ws.last_error or "upstream" in ana.ws.last_error
    await ana.stop()  # the terminal quits with the writes still queued

    rig.rest.start()
    again = desk(session, "ana", team, tmp_path, timers)  # restarted: same journal file, same queue
    assert again.queued == 3
    await again.start()
    try:
        await until(lambda: again.queued == 0 and again.loaded, what="the queue replayed")
        await timers.advance_until(lambda: again.notes and again.watchlists, POLL, "the reload")
        assert again.watchlists == {"main": ["SOL-PERP", "ETH-PERP"]}
        assert [n.text for n in again.notes] == ["written while the API was away"]
        assert rig.rows("SELECT kind, count(*) FROM workspace_items GROUP BY kind ORDER BY kind") == [
            ("note", 1), ("watchlist", 1)]
    finally:
        await again.stop()


async def test_the_terminal_shows_the_supabase_workspace_and_its_poll_interval(
    supabase_project, session_of, tmp_path, timers
):
    rig = supabase_project
    team = rig.add_team(rig.a)
    app = QuantDeskApp(paused_session(), panes=PANES, workspace=desk(session_of(rig.a), "ana", team, tmp_path, timers))
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await until(lambda: app.team.workspace is not None and app.team.workspace.loaded, what="loaded")
        assert await run(app, "WATCH ADD SOL-PERP")
        assert await run(app, "NOTE sized down ahead of CPI")
        await until(lambda: app.team.workspace.queued == 0, what="sent")
        app.frame()
        await pilot.pause()
        assert f"supabase ok (poll {POLL:g}s)" in status_text(app)
        assert "sized down ahead of CPI" in workspace_text(app)
    assert rig.rows("SELECT body->>'text' FROM workspace_items WHERE kind = 'note'") == [("sized down ahead of CPI",)]
