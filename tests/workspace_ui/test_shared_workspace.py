"""A change made in one terminal shows in the other terminal's workspace pane
(pushed through Redis, normally within a few frames); an alert fires on a
crossing and shows triggered in both. The waits are generous deadlines so a
loaded machine cannot fail them; propagation is event-driven, never polled."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import redis

from quantdesk.core.model import BookSnapshot

from support.team_app import SIZE, run, terminal, type_command, workspace_text
from support.app import start, status_text
from support.wait import wait_until


async def test_watchlist_alert_and_note_reach_the_other_terminal(redis_url, ns, tmp_path):
    alice, bob = terminal(redis_url, ns, "alice", tmp_path), terminal(redis_url, ns, "bob", tmp_path)
    async with alice.run_test(size=SIZE) as pa, bob.run_test(size=SIZE) as pb:
        await start(alice, pa)
        await start(bob, pb)
        assert await wait_until(lambda: bob.team.workspace.loaded and alice.team.workspace.loaded, 3)
        assert await wait_until(lambda: "No watchlists yet" in workspace_text(bob), 5.0)  # drawn on the next frame

        await type_command(pa, "WATCH ADD SOL-PERP majors")
        await pa.press("enter")
        assert await wait_until(lambda: "SOL-PERP" in workspace_text(bob), 5.0), workspace_text(bob)
        row = next(line for line in workspace_text(bob).splitlines() if "majors" in line)
        assert "sim-drift" in row and any(ch.isdigit() for ch in row.split("sim-drift")[1])  # a live mid

        await type_command(pa, "ALERT BTC-PERP BELOW 1000 capitulation")
        await pa.press("enter")
        assert await wait_until(lambda: "capitulation" in workspace_text(bob), 5.0), workspace_text(bob)
        alert_row = next(line for line in workspace_text(bob).splitlines() if "capitulation" in line)
        assert "BTC-PERP PRICE < 1000" in alert_row and "armed" in alert_row and "alice" in alert_row

        await type_command(pa, "NOTE funding flips negative on SOL at the hour")
        await pa.press("enter")
        assert await wait_until(lambda: "funding flips negative" in workspace_text(bob), 5.0)
        assert "alice: funding flips negative on SOL at the hour" in workspace_text(bob)

        # And back: bob removes alice's alert and takes SOL off the list.
        alert_id = next(iter(bob.team.workspace.alerts))
        assert await run(bob, f"ALERT DEL {alert_id}")
        assert await run(bob, "WATCH DEL SOL-PERP majors")
        assert await wait_until(lambda: "capitulation" not in workspace_text(alice), 5.0)
        assert await wait_until(lambda: "No watchlists yet" in workspace_text(alice), 5.0)
        assert await wait_until(lambda: "redis ok" in status_text(alice) and "redis ok" in status_text(bob), 5.0)

    r = redis.Redis.from_url(redis_url)
    try:
        assert r.hlen(f"qd:{{{ns}}}:ws:alerts") == 0
        assert r.hlen(f"qd:{{{ns}}}:ws:notes") == 1
    finally:
        r.close()


def _push_book(app, venue: str, market: str, bid: Decimal, ask: Decimal) -> None:
    """The venue's next book: a move through the alert's price."""
    m = app.session.cache.markets[(venue, market)]
    book = app.session.cache.book(venue, market)
    snap = BookSnapshot(venue, market, book.seq + 1, app.session.clock(),
                        [(m.to_price(bid), 10**9)], [(m.to_price(ask), 10**9)])  # fmt: skip
    app.session.bus.publish(f"book.{venue}.{market}", snap)


def _alert_notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications if n.title == "Alert triggered"]


async def test_alert_fires_on_a_crossing_and_shows_triggered_in_both(redis_url, ns, tmp_path):
    alice, bob = terminal(redis_url, ns, "alice", tmp_path), terminal(redis_url, ns, "bob", tmp_path)
    async with alice.run_test(size=SIZE) as pa, bob.run_test(size=SIZE) as pb:
        await start(alice, pa)
        await start(bob, pb)
        assert await wait_until(lambda: bob.team.workspace.loaded and alice.team.workspace.loaded, 3)
        m = alice.session.cache.markets[("sim-drift", "SOL-PERP")]
        mid = alice.session.cache.book("sim-drift", "SOL-PERP").mid().scaleb(-m.price_decimals)
        level = (mid + 5).quantize(Decimal("0.01"))

        assert await run(alice, "VENUE sim-drift")
        assert await run(alice, f"ALERT SOL-PERP ABOVE {level} breakout")
        assert await wait_until(lambda: "breakout" in workspace_text(bob), 5.0)
        await asyncio.sleep(0.3)  # several alert checks: below the level nothing fires
        assert all("armed" in t and "triggered" not in t for t in (workspace_text(alice), workspace_text(bob)))
        assert not _alert_notices(alice) and not _alert_notices(bob)

        _push_book(alice, "sim-drift", "SOL-PERP", level + 1, level + 2)  # only alice's feed moved
        for app in (alice, bob):
            assert await wait_until(lambda app=app: "triggered" in workspace_text(app), 5.0), workspace_text(app)
            assert await wait_until(lambda app=app: len(_alert_notices(app)) == 1, 5.0)
            assert f"SOL-PERP PRICE > {level}: {level + Decimal('1.5')} on sim-drift - breakout" in _alert_notices(app)[0]
        (alert,) = bob.team.workspace.alerts.values()
        assert alert.state == "triggered" and alert.triggered_price == (2 * level + 3) / 2
        await asyncio.sleep(0.3)
        assert len(_alert_notices(alice)) == 1 and len(_alert_notices(bob)) == 1  # announced once
        assert "fired on alice's terminal" in _alert_notices(bob)[0]

        # Bob's own feed crosses too: the same firing, already announced, so nothing new anywhere.
        _push_book(bob, "sim-drift", "SOL-PERP", level + 1, level + 2)
        await pb.pause()
        await asyncio.sleep(0.3)
        assert len(_alert_notices(alice)) == 1 and len(_alert_notices(bob)) == 1
        (row,) = bob.alerts.desk.rows()
        assert row.cooling_until > bob.session.clock()  # alice's firing holds it for its cooldown on bob's terminal


async def test_a_saved_layout_goes_to_the_team_and_the_pane_repaints_only_on_change(redis_url, ns, tmp_path):
    from quantdesk.console.panes.workspace import WorkspacePane

    alice, bob = terminal(redis_url, ns, "alice", tmp_path), terminal(redis_url, ns, "bob", tmp_path)
    async with alice.run_test(size=SIZE) as pa, bob.run_test(size=SIZE) as pb:
        await start(alice, pa)
        await start(bob, pb)
        assert await wait_until(lambda: bob.team.workspace.loaded and alice.team.workspace.loaded, 3)
        assert await run(alice, "LAYOUT desk")
        assert await run(alice, "LAYOUT SAVE my-desk")
        assert await wait_until(lambda: "Shared layouts: my-desk" in workspace_text(bob), 5.0), workspace_text(bob)
        r = redis.Redis.from_url(redis_url)
        try:
            saved = r.hget(f"qd:{{{ns}}}:ws:layouts", "my-desk").decode()
        finally:
            r.close()
        assert 'type = "workspace"' in saved

        pane = bob.query_one(WorkspacePane)
        now = bob.session.clock()
        pane.tick(now)
        bob.session.advance(500)  # the book moves, no watched market: nothing to redraw
        assert pane.tick(now) is False
        assert await run(alice, "WATCH ADD ETH-PERP")
        assert await wait_until(lambda: "ETH-PERP" in workspace_text(bob), 5.0)
        pane.tick(now)
        assert pane.tick(now) is False  # drawn once per change
        before = workspace_text(bob)
        bob.session.advance(2000)  # now a watched market's price moves: redrawn with the new mid
        assert pane.tick(now) is True
        bob.refresh()
        await pb.pause()
        eth = lambda text: next(line for line in text.splitlines() if "ETH-PERP" in line)  # noqa: E731
        assert eth(workspace_text(bob)) != eth(before)
