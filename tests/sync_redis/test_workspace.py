"""Shared workspace: one terminal's change reaches the others within a second."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest

from quantdesk.sync.workspace import Change, Workspace

from support.wait import wait_until


@pytest.fixture
async def desk(redis_url, ns):
    alice = Workspace(redis_url, ns, "alice")
    bob = Workspace(redis_url, ns, "bob")
    yield alice, bob
    await alice.close()
    await bob.close()


async def test_watchlist_change_reaches_another_terminal_within_a_second(desk):
    alice, bob = desk
    seen: list[tuple[float, Change]] = []
    await bob.subscribe(lambda ch: seen.append((time.monotonic(), ch)))
    t0 = time.monotonic()
    await alice.set_watchlist("majors", ["SOL-PERP", "BTC-PERP", "SOL-PERP"])
    assert await wait_until(lambda: seen, 1.0), "bob heard nothing within 1 s"
    at, change = seen[0]
    assert at - t0 < 1.0
    assert (change.kind, change.op, change.name, change.user) == ("watchlist", "set", "majors", "alice")
    assert change.client == alice.client_id != bob.client_id
    assert await bob.get_watchlist("majors") == ["SOL-PERP", "BTC-PERP"]
    await alice.delete_watchlist("majors")
    assert await wait_until(lambda: len(seen) == 2, 1.0)
    assert seen[1][1].op == "delete"
    assert await bob.watchlists() == {}


async def test_alerts_add_list_remove(desk):
    alice, bob = desk
    changes: list[Change] = []

    async def on_change(ch: Change) -> None:  # async callbacks work too
        changes.append(ch)

    await bob.subscribe(on_change)
    a = await alice.add_alert("SOL-PERP PRICE > 142.50 ON sim-drift", note="breakout")
    b = await alice.add_alert("spread btc-perp sim-drift sim-jup < -5bps")
    listed = await bob.alerts()
    assert [x.id for x in listed] == [a.id, b.id]
    assert listed[0].rule_text() == "SOL-PERP PRICE > 142.5 ON sim-drift"  # kept in its canonical spelling
    assert (listed[0].market, listed[0].venue, listed[0].note, listed[0].user) == ("SOL-PERP", "sim-drift", "breakout", "alice")
    assert listed[1].rule_text() == "SPREAD BTC-PERP sim-drift sim-jup < -5BPS" and listed[1].venue == ""
    assert await bob.remove_alert(a.id) is True
    assert await bob.remove_alert(a.id) is False
    assert [x.id for x in await alice.alerts()] == [b.id]
    assert await wait_until(lambda: len(changes) == 3, 1.0)
    assert [(c.kind, c.op, c.user) for c in changes] == [("alert", "set", "alice")] * 2 + [("alert", "delete", "bob")]


async def test_bad_alerts_and_layouts_are_refused_with_a_fix(desk):
    alice, _ = desk
    with pytest.raises(ValueError, match="'CROSSES' is not something to alert on.*e.g. ALERT SOL-PERP PRICE > 180"):
        await alice.add_alert("SOL-PERP CROSSES 1")
    with pytest.raises(ValueError, match="price must be more than 0"):
        await alice.add_alert("SOL-PERP PRICE > -3")
    with pytest.raises(ValueError, match="not valid TOML"):
        await alice.save_layout("broken", "panes = [")
    assert await alice.alerts() == [] and await alice.layouts() == []


async def test_layouts_and_notes(desk):
    alice, bob = desk
    text = '[[pane]]\nkind = "depth"\nmarket = "SOL-PERP"\n'
    await alice.save_layout("scalping", text)
    await alice.save_layout("funding", 'panes = ["funding"]\n')
    assert await bob.layouts() == ["funding", "scalping"]
    assert await bob.get_layout("scalping") == text
    assert await bob.get_layout("missing") is None
    n1 = await alice.set_note("SOL funding flips at 14:00", market="SOL-PERP")
    n2 = await bob.set_note("desk offsite friday")
    assert [(n.id, n.user) for n in await alice.notes()] == [(n1.id, "alice"), (n2.id, "bob")]
    await alice.set_note("SOL funding flips at 15:00", id=n1.id, market="SOL-PERP")  # edit in place
    notes = {n.id: n for n in await bob.notes()}
    assert len(notes) == 2 and notes[n1.id].text.endswith("15:00")
    await bob.delete_note(n2.id)
    assert [n.id for n in await alice.notes()] == [n1.id]
    assert await alice.revision() == 6


async def test_teams_do_not_see_each_other(redis_url, ns):
    mine = Workspace(redis_url, ns, "alice")
    other = Workspace(redis_url, ns + "x", "eve")
    heard: list[Change] = []
    await other.subscribe(heard.append)
    await mine.set_watchlist("majors", ["SOL-PERP"])
    await asyncio.sleep(0.3)
    assert heard == [] and await other.watchlists() == {}
    await mine.close()
    await other.close()


async def test_subscriber_resyncs_after_redis_restarts(redis_server):
    srv = redis_server()
    alice = Workspace(srv.url, "desk", "alice")
    bob = Workspace(srv.url, "desk", "bob")
    seen: list[Change] = []
    await bob.subscribe(seen.append)
    await alice.set_watchlist("majors", ["SOL-PERP"])
    assert await wait_until(lambda: len(seen) == 1, 1.0)
    srv.kill()
    assert await wait_until(lambda: bob.state == "down", 5)
    with pytest.raises(Exception, match="was not saved.*unreachable"):
        await alice.set_watchlist("majors", ["BTC-PERP"])
    srv.start()
    # Back: bob is told to reload (changes may have been missed), then hears new ones.
    assert await wait_until(lambda: any(c.kind == "resync" for c in seen), 10)
    await alice.set_watchlist("majors", ["ETH-PERP"])
    assert await wait_until(lambda: seen[-1].kind == "watchlist", 1.0)
    assert await bob.get_watchlist("majors") == ["ETH-PERP"]
    await alice.close()
    await bob.close()


async def test_a_mangled_entry_is_skipped_not_fatal(desk, redis_url, ns):
    import redis.asyncio

    alice, _ = desk
    await alice.set_watchlist("majors", ["SOL-PERP"])
    a = await alice.add_alert("SOL-PERP PRICE > 150")
    r = redis.asyncio.Redis.from_url(redis_url)
    await r.hset(f"qd:{{{ns}}}:ws:watchlists", "junk", b"{not json")
    await r.hset(f"qd:{{{ns}}}:ws:alerts", "junk", b'{"id": 3}')
    await r.aclose()
    assert await alice.watchlists() == {"majors": ["SOL-PERP"]}
    assert [x.id for x in await alice.alerts()] == [a.id]


async def test_a_workspace_saved_under_the_old_key_names_is_kept(redis_url, ns):
    import redis.asyncio

    r = redis.asyncio.Redis.from_url(redis_url)
    await r.hset(f"qd:{ns}:ws:watchlists", "majors", b'["SOL-PERP"]')  # as earlier versions saved it
    await r.hset(f"qd:{ns}:ws:notes", "n1", b"junk kept as it was")
    await r.hset(f"qd:{{{ns}}}:ws:notes", "n2", b"{}")  # already under the new name: never overwritten
    try:
        ws = Workspace(redis_url, ns, "alice")
        assert await ws.watchlists() == {"majors": ["SOL-PERP"]}
        assert await r.exists(f"qd:{ns}:ws:watchlists") == 0
        assert await r.hkeys(f"qd:{{{ns}}}:ws:notes") == [b"n2"]
        assert await r.hkeys(f"qd:{ns}:ws:notes") == [b"n1"]  # left for the trader to look at, not lost
        await ws.close()
    finally:
        await r.delete(f"qd:{ns}:ws:notes")
        await r.aclose()


async def test_an_alert_written_before_rules_had_kinds_reads_as_a_price_rule(desk, redis_url, ns):
    import redis.asyncio

    alice, _ = desk
    old = (b'{"id":"a1","market":"SOL-PERP","venue":"sim-drift","condition":"below","price":"140.5","note":"dip",'
           b'"user":"bob","created_ts":1,"state":"armed","triggered_ts":0,"triggered_price":null}')  # fmt: skip
    r = redis.asyncio.Redis.from_url(redis_url)
    await r.hset(f"qd:{{{ns}}}:ws:alerts", "a1", old)
    await r.aclose()
    (alert,) = await alice.alerts()
    assert alert.rule_text() == "SOL-PERP PRICE < 140.5 ON sim-drift" and alert.note == "dip"
