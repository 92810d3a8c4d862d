"""Teammates' workspace changes by Supabase Realtime (`realtime = true`):
they arrive without waiting for a poll, only to those the row-level security
lets read them, and polling takes over while Realtime is away."""

from __future__ import annotations

import asyncio

from quantdesk.sync.supabase_workspace import SupabaseWorkspace
from quantdesk.sync.team_desk import TeamDesk, desk_on
from support.wait import until

POLL = 5.0


def desk(session, user: str, team: str | None, tmp_path, timers) -> TeamDesk:
    store = SupabaseWorkspace(session, user, team_id=team, poll_s=POLL, realtime=True, timers=timers)
    return desk_on(store, str(tmp_path / f"{user}-journal.sqlite3"))


def live(d: TeamDesk) -> bool:
    link = getattr(d.ws, "link", None)
    return link is not None and link.live


async def test_changes_arrive_by_realtime_and_by_polling_while_it_is_away(
    supabase_project, session_of, tmp_path, timers
):
    rig = supabase_project
    rt = rig.gateway.realtime
    carl = rig.auth.add_user("carl@desk.test", "carl-password-3")
    team = rig.add_team(rig.a, rig.b)
    ana, ben = desk(session_of(rig.a), "ana", team, tmp_path, timers), desk(session_of(rig.b), "ben", team, tmp_path, timers)
    snoop = desk(session_of(carl), "carl", team, tmp_path, timers)  # asks for a team he is not in
    desks = (ana, ben, snoop)
    for d in desks:
        await d.start()
    try:
        await until(lambda: all(d.loaded and live(d) for d in desks), what="all three joined")
        assert ben.status() == ("supabase ok (live)", "connected")

        await ana.add_note("cutting SOL into the close")
        # No clock moved: Realtime told Ben, and only those allowed to read the row.
        await until(lambda: [n.text for n in ben.notes] == ["cutting SOL into the close"], what="ben told")
        await until(lambda: rt.sent == 2, what="ana and ben told")
        assert snoop.notes == [] and rt.joins == 3

        await asyncio.wrap_future(rig.gateway.call(rt.drop_all()))  # Realtime crashes
        await until(lambda: not live(ben), what="ben notices Realtime is gone")
        assert ben.status() == (f"supabase ok (poll {POLL:g}s)", "connected")
        await ana.add_note("second note, Realtime away")
        await until(lambda: ana.queued == 0, what="sent")
        assert len(ben.notes) == 1  # no Realtime: it waits for the poll
        await timers.advance_until(lambda: len(ben.notes) == 2, POLL, "ben's poll")

        rt.refuse = False  # Realtime is back: the next tick joins again
        await timers.advance_until(lambda: live(ben), POLL, "ben rejoined")
        await ana.watch_add("ETH-PERP", "main")
        await until(lambda: ben.watchlists == {"main": ["ETH-PERP"]}, what="ben told again")

        # Realtime restarted cleanly (a close frame): seen at the next tick at the latest.
        await asyncio.wrap_future(rig.gateway.call(rt.drop_all(clean=True)))
        await timers.advance_until(lambda: not live(ben), POLL, "ben notices the clean close")
        assert ben.status() == (f"supabase ok (poll {POLL:g}s)", "connected")
    finally:
        for d in desks:
            await d.stop()
