"""No log line, at any level, carries the anon key, an access token or a
refresh token while the terminal signs in, syncs, refreshes, polls and
listens by Realtime."""

from __future__ import annotations

import logging
import time

from quantdesk.core.model import Fill
from quantdesk.sync.supabase_journal import SupabaseJournalSync
from quantdesk.sync.supabase_workspace import SupabaseWorkspace
from quantdesk.sync.team_desk import desk_on
from quantdesk.trading.journal import Journal
from support.supabase import ANON_KEY
from support.wait import until


async def test_debug_logs_hold_no_key_or_token(supabase_project, session_of, tmp_path, timers, caplog):
    rig = supabase_project
    caplog.set_level(logging.DEBUG)
    now = [time.time()]
    session = session_of(rig.a, clock=lambda: now[0])
    team = rig.add_team(rig.a)
    desk = desk_on(SupabaseWorkspace(session, "ana", team_id=team, poll_s=5, realtime=True, timers=timers),
                   str(tmp_path / "j.sqlite3"))
    await desk.start()
    try:
        await until(lambda: desk.loaded and desk.ws.link is not None and desk.ws.link.live, what="joined")
        await desk.add_note("size down")
        now[0] = session.expires_at  # due: the next call refreshes
        with Journal.open(tmp_path / "j.sqlite3") as j:
            j.record_fill(Fill(venue="sim-drift", market="SOL-PERP", order_id="1", fill_id="1", side="buy",
                               price=1, size=1, fee=0, liquidity="taker", ts=1))
            assert SupabaseJournalSync(j, session).sync() == 1
        await timers.advance(5)  # a poll tick hands Realtime the refreshed token
        await until(lambda: desk.queued == 0, what="sent")
    finally:
        await desk.stop()
    # What any log file would hold: each record as formatted.
    text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert len(rig.auth.issued) >= 2  # signed in, then refreshed
    for secret in (ANON_KEY, *rig.auth.issued, *rig.auth.refresh_tokens):
        assert secret not in text
