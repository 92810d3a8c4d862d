"""Redis with Sentinel: the workspace and the feed reach the service's master
through its sentinel, and a terminal keeps its workspace across a failover."""

from __future__ import annotations

import asyncio
import time

from quantdesk.sync.workspace import Workspace, WorkspaceError

from support.wait import wait_until
from sync_redis import test_feed


async def until_served(call, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await call()
        except WorkspaceError as exc:
            assert "unreachable" in str(exc) or "master" in str(exc).lower(), exc
            assert time.monotonic() < deadline, exc
            await asyncio.sleep(0.1)


async def test_the_feed_reaches_its_consumers_through_sentinel(redis_sentinel):
    await test_feed.test_late_joiner_gets_full_state_at_once(redis_sentinel.url, "sentinel")


async def test_the_workspace_follows_a_failover_to_the_promoted_replica(redis_sentinel):
    alice = Workspace(redis_sentinel.url, "desk", "alice")
    bob = Workspace(redis_sentinel.url, "desk", "bob")
    heard = []
    try:
        await bob.subscribe(heard.append)
        await alice.set_watchlist("majors", ["SOL-PERP"])
        assert await wait_until(lambda: redis_sentinel.replica_synced(), 5)
        old_master = redis_sentinel.master.port
        redis_sentinel.master.kill()
        deadline = time.monotonic() + 20  # the sentinel calls the master down after 0.5 s, then promotes
        while redis_sentinel.master_port() in (old_master, None):
            assert time.monotonic() < deadline, "no failover within 20 s"
            time.sleep(0.1)
        assert redis_sentinel.master_port() == redis_sentinel.replica.port
        # Until the promoted replica serves as master a call fails with a clear
        # message (the console keeps it queued); then it goes to the new master.
        await until_served(lambda: alice.set_watchlist("alts", ["JTO-PERP"]))
        assert await until_served(bob.watchlists) == {"majors": ["SOL-PERP"], "alts": ["JTO-PERP"]}  # nothing lost
        # bob's subscription came back (a resync: reload, something may be missed) and hears what follows
        assert await wait_until(lambda: any(c.kind == "resync" for c in heard), 10), heard
        await alice.set_watchlist("later", ["BTC-PERP"])
        assert await wait_until(lambda: any(c.name == "later" for c in heard), 10), heard
    finally:
        await alice.close()
        await bob.close()
