"""Redis dies mid-stream and comes back empty: the feed and every terminal recover."""

from __future__ import annotations

import asyncio

import redis.asyncio
from support.feed_rig import redis_session

from support.feed_rig import FeedRig, book_mismatches
from support.wait import wait_until


async def test_consumers_recover_after_redis_is_killed_and_restarted(redis_server):
    srv = redis_server()
    # The feed is stepped a fixed number of events, not run at a rate, so the
    # twenty terminals have the same backlog however loaded the machine is.
    feed = await FeedRig(srv.url, "desk", paused=True).start()
    terms = [redis_session(srv.url, "desk") for _ in range(20)]
    try:
        for t in terms:
            await t.start()
        assert await wait_until(lambda: all(t.venues["feed"].synced.is_set() for t in terms), 5)
        feed.session.advance(1500)
        await feed.publisher.flush()

        srv.kill()
        # The outage is shown at once: the feed source is down, the feed's venues stale.
        assert await wait_until(lambda: all(t.cache.status["feed"].state == "down" for t in terms), 5)
        for t in terms:
            assert t.cache.status["sim-drift"].state == "stale"
            assert "unreachable" in t.cache.status["feed"].message
        assert await wait_until(lambda: feed.publisher.state == "down", 5)
        feed.session.advance(1500)  # the feed keeps ingesting while Redis is away

        srv.start()  # same port, no data: every key and stream is gone
        assert await wait_until(lambda: feed.publisher.state == "connected", 10)
        assert await wait_until(lambda: all(t.venues["feed"].synced.is_set() for t in terms), 10)
        assert all(t.cache.status["feed"].state == "connected" for t in terms)
        feed.session.advance(1500)  # live again after the resync
        await feed.publisher.flush()
        await feed.stop_venues()
        ok = await wait_until(lambda: all(not book_mismatches(feed.session, t) for t in terms), 15)
        assert ok, [book_mismatches(feed.session, t) for t in terms]
        assert feed.publisher.dropped > 0  # it did lose stream entries, and the books still agree
    finally:
        for t in terms:
            await t.stop()
        await feed.close()


async def test_dropped_connections_with_data_kept_recover(redis_server):
    srv = redis_server()
    feed = await FeedRig(srv.url, "desk", rate=1500).start()
    terms = [redis_session(srv.url, "desk") for _ in range(3)]
    try:
        for t in terms:
            await t.start()
        await asyncio.sleep(0.5)
        admin = redis.asyncio.Redis(port=srv.port)
        killed = await admin.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
        await admin.aclose()
        assert killed >= 4  # the feed's and every terminal's connections
        await asyncio.sleep(0.7)
        await feed.stop_venues()
        ok = await wait_until(lambda: all(not book_mismatches(feed.session, t) for t in terms), 15)
        assert ok, [book_mismatches(feed.session, t) for t in terms]
        # Each terminal lost its blocked read and resynced (the feed may not
        # notice at all: the client reconnects an idle pooled connection).
        assert all(t.venues["feed"].syncs >= 2 for t in terms)
    finally:
        for t in terms:
            await t.stop()
        await feed.close()


async def test_terminal_started_before_the_feed_waits_then_syncs(redis_server):
    srv = redis_server()
    term = redis_session(srv.url, "desk", connect_timeout=5.0)
    starting = asyncio.create_task(term.start())
    await asyncio.sleep(0.3)
    feed = await FeedRig(srv.url, "desk", rate=800).start()
    try:
        await starting
        assert await wait_until(lambda: term.venues["feed"].synced.is_set(), 5)
        await asyncio.sleep(0.3)
        await feed.stop_venues()
        assert await wait_until(lambda: not book_mismatches(feed.session, term), 10), book_mismatches(
            feed.session, term
        )
    finally:
        await term.stop()
        await feed.close()
