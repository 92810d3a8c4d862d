"""The feed and the shared workspace on a real three-master Redis Cluster.

The same tests as on a single server run here against the cluster; a
namespace's keys are hash-tagged, so its multi-stream reads and transactions
stay on one slot whichever node owns it."""

from __future__ import annotations

import secrets

import pytest
import redis

from quantdesk.sync.workspace import Workspace
from quantdesk.venues.feed_wire import FeedKeys

from sync_redis import test_feed, test_workspace

FEED_TESTS = [
    test_feed.test_late_joiner_gets_full_state_at_once,
    test_feed.test_twenty_consumer_terminals_see_the_feeds_books,
    test_feed.test_a_gap_in_the_stream_forces_a_resync,
    test_feed.test_restarted_feed_is_followed,
]
WORKSPACE_TESTS = [
    test_workspace.test_watchlist_change_reaches_another_terminal_within_a_second,
    test_workspace.test_alerts_add_list_remove,
    test_workspace.test_layouts_and_notes,
]


@pytest.fixture
def cns() -> str:
    return "c" + secrets.token_hex(6)


@pytest.mark.parametrize("test", FEED_TESTS, ids=lambda t: t.__name__)
async def test_feed_on_a_cluster(test, redis_cluster, cns):
    await test(redis_cluster.url, cns)


@pytest.mark.parametrize("test", WORKSPACE_TESTS, ids=lambda t: t.__name__)
async def test_workspace_on_a_cluster(test, redis_cluster, cns):
    alice, bob = Workspace(redis_cluster.url, cns, "alice"), Workspace(redis_cluster.url, cns, "bob")
    try:
        await test((alice, bob))
    finally:
        await alice.close()
        await bob.close()


async def test_teams_on_a_cluster_are_apart(redis_cluster, cns):
    await test_workspace.test_teams_do_not_see_each_other(redis_cluster.url, cns)


def test_every_key_of_a_namespace_and_a_team_is_in_one_slot(redis_cluster):
    keys = FeedKeys("desk")
    names = [keys.markets, keys.heartbeat, keys.status, *keys.streams.values(), keys.state("drift", "SOL-PERP"),
             *(f"qd:{{desk}}:ws:{k}" for k in ("watchlists", "alerts", "layouts", "notes", "rev"))]
    seed = redis.Redis(port=redis_cluster.nodes[0].port)
    try:
        assert len({seed.cluster("keyslot", k) for k in names}) == 1  # the server's own hashing
    finally:
        seed.close()
