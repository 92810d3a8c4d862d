"""Redis goes away: workspace writes queue in the journal file, the terminal
keeps working and says so, and when Redis is back every queued change arrives
exactly once."""

from __future__ import annotations

import asyncio

import redis

from quantdesk.sync.workspace_outbox import WorkspaceOutbox

from support.team_app import SIZE, run, terminal, workspace_text
from support.app import start, status_text
from support.wait import wait_until


async def test_changes_made_while_redis_is_down_arrive_once_when_it_returns(redis_server, tmp_path):
    srv = redis_server()
    team = "desk1"
    alice, bob = terminal(srv.url, team, "alice", tmp_path), terminal(srv.url, team, "bob", tmp_path)
    async with alice.run_test(size=SIZE) as pa, bob.run_test(size=SIZE) as pb:
        await start(alice, pa)
        await start(bob, pb)
        assert await wait_until(lambda: bob.team.workspace.loaded and alice.team.workspace.loaded, 3)

        srv.kill()
        assert await run(alice, "WATCH ADD SOL-PERP")
        assert await run(alice, "ALERT ETH-PERP ABOVE 99999 moon")
        assert await run(alice, "NOTE written while redis was down")
        assert await run(alice, "WATCH ADD BTC-PERP")
        assert await run(alice, "WATCH DEL BTC-PERP")  # replaces the queued add: net nothing
        assert alice.team.workspace.queued == 4
        assert await wait_until(lambda: "redis down (4 queued)" in status_text(alice), 1.0), status_text(alice)
        # The terminal keeps working: its own pane shows the changes, frames go on.
        text = workspace_text(alice)
        assert "SOL-PERP" in text and "moon" in text and "written while redis was down" in text
        frames = alice.frames
        alice.session.advance(200)
        await asyncio.sleep(0.2)
        assert alice.frames > frames
        assert "moon" not in workspace_text(bob)

        srv.start()
        for app in (alice, bob):
            assert await wait_until(
                lambda app=app: "written while redis was down" in workspace_text(app) and "moon" in workspace_text(app),
                5.0,
            ), workspace_text(app)
        assert await wait_until(lambda: "redis ok" in status_text(alice) and "redis ok" in status_text(bob), 3.0)
        assert alice.team.workspace.queued == 0
        await asyncio.sleep(1.0)  # replays keep trying every half second: nothing may arrive twice

        r = redis.Redis.from_url(srv.url)
        try:
            assert r.hlen(f"qd:{{{team}}}:ws:notes") == 1
            assert r.hlen(f"qd:{{{team}}}:ws:alerts") == 1
            assert r.hgetall(f"qd:{{{team}}}:ws:watchlists") == {b"main": b'["SOL-PERP"]'}
        finally:
            r.close()
        assert [n.text for n in bob.team.workspace.notes] == ["written while redis was down"]
        assert bob.team.workspace.watchlists == {"main": ["SOL-PERP"]}


def test_queued_writes_survive_a_restart_and_replace_each_other(tmp_path):
    path = tmp_path / "journal.sqlite3"
    box = WorkspaceOutbox(path, "desk1")
    box.put("alert:a1", "alert_put", b"{1}")
    box.put("note:n1", "note_put", b"{2}")
    box.put("alert:a1", "alert_del", b"a1")  # the later write to the same alert wins, and goes last
    other_team = WorkspaceOutbox(path, "desk2")
    other_team.put("note:n9", "note_put", b"{9}")
    box.close()
    box = WorkspaceOutbox(path, "desk1")
    assert [(w.key, w.op) for w in box.pending()] == [("note:n1", "note_put"), ("alert:a1", "alert_del")]
    first = box.pending()[0]
    box.put("note:n1", "note_put", b"{3}")  # changed again while the first copy was on its way
    box.done(first)
    assert [(w.key, w.payload) for w in box.pending()] == [("alert:a1", b"a1"), ("note:n1", b"{3}")]
    assert len(box) == 2 and len(other_team) == 1
    box.close()
    other_team.close()


async def test_writes_queued_when_the_terminal_quit_are_sent_by_its_next_start(redis_server, tmp_path):
    srv = redis_server()
    srv.kill()
    first = terminal(srv.url, "desk2", "alice", tmp_path)
    async with first.run_test(size=SIZE) as pilot:
        await start(first, pilot)
        assert await run(first, "NOTE left while redis was down")
        assert await wait_until(lambda: "redis down (1 queued)" in status_text(first), 2), status_text(first)
    srv.start()
    again = terminal(srv.url, "desk2", "alice", tmp_path)  # same journal file
    async with again.run_test(size=SIZE) as pilot:
        await start(again, pilot)
        assert await wait_until(lambda: "left while redis was down" in workspace_text(again), 3), workspace_text(again)
        assert await wait_until(lambda: again.team.workspace.queued == 0, 1)
    r = redis.Redis.from_url(srv.url)
    try:
        assert r.hlen("qd:{desk2}:ws:notes") == 1
    finally:
        r.close()
