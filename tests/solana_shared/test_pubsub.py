"""The shared Solana pubsub client against a local node speaking the
documented websocket protocol: accounts, a program's accounts and slots on
one connection, all subscribed again after the node drops it."""

from __future__ import annotations

import asyncio

import pytest

from support.solana_pubsub import AccountPubsubServer
from support.wait import until
from quantdesk.venues.solana.pubsub import AccountPubsub

PROGRAM = "dRiftyHA39MWEi3m9aunc5MzRF1JYuBsbn6VPcn33UH"
ACCOUNT = "DXHpL2cCjm3CtMSJk9js8TdigSCUNMAs4MipvNKGrmtq"


@pytest.fixture
async def node():
    n = AccountPubsubServer(PROGRAM)
    await n.start()
    yield n
    await n.stop()


async def test_account_program_and_slot_subscriptions_resubscribe_after_a_drop(node):
    accounts, programs, slots, states = [], [], [], []
    filters = [{"memcmp": {"offset": 0, "bytes": "3xDZzhq9S1"}}]
    ps = AccountPubsub([node.url], [ACCOUNT], lambda k, s, d: accounts.append((k, s, d)),
                       lambda st, m: states.append(st), backoff_initial_s=0.01, backoff_max_s=0.05,
                       programs=[(PROGRAM, filters)], on_program=lambda k, s, d: programs.append((k, s, d)),
                       on_slot=slots.append)
    task = asyncio.create_task(ps.run())
    try:
        await until(lambda: ps.connected, what="all three subscribed")
        assert sorted(node.subscribed) == sorted([ACCOUNT, f"programSubscribe:{PROGRAM}", "slotSubscribe:slot"])
        await node.notify(ACCOUNT, b"user-1", 10)
        await node.notify_program(PROGRAM, "MaRket1111111111111111111111111111111111111", b"market-1", 11)
        await node.notify_slot(12)
        await until(lambda: accounts and programs and slots, what="one of each")
        assert accounts == [(ACCOUNT, 10, b"user-1")]
        assert programs == [("MaRket1111111111111111111111111111111111111", 11, b"market-1")]
        assert slots == [12] and ps.malformed == 0
        await node.drop_all()
        await until(lambda: ps.reconnects >= 1 and ps.connected, what="resubscribed")
        assert node.subscribed.count(f"programSubscribe:{PROGRAM}") == 2 and node.subscribed.count("slotSubscribe:slot") == 2
        await node.notify_slot(13)
        await until(lambda: slots == [12, 13], what="slots after the reconnect")
        assert states.count("connected") == 2 and "down" in states
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_notifications_for_unknown_subscriptions_are_counted_not_raised():
    ps = AccountPubsub(["ws://unused"], [], lambda *a: None, lambda *a: None, on_slot=lambda s: None)
    ps.on_message('{"jsonrpc":"2.0","method":"slotNotification","params":{"result":{"slot":5},"subscription":99}}')
    ps.on_message('{"jsonrpc":"2.0","method":"programNotification","params":{"result":{},"subscription":1}}')
    assert ps.malformed == 2


async def test_an_account_added_while_running_is_followed_and_kept_after_a_reconnect(node):
    accounts = []
    ps = AccountPubsub([node.url], [], lambda k, s, d: accounts.append((k, d)), lambda st, m: None,
                       backoff_initial_s=0.01, backoff_max_s=0.05)  # fmt: skip
    task = asyncio.create_task(ps.run())
    try:
        await until(lambda: ps._ws is not None, what="connected")
        await ps.subscribe(ACCOUNT)
        await until(lambda: ps.connected and ACCOUNT in ps.subscriptions.values(), what="the new account acked")
        await node.notify(ACCOUNT, b"request", 20)
        await until(lambda: accounts == [(ACCOUNT, b"request")], what="its notification")
        await node.drop_all()
        await until(lambda: ps.reconnects >= 1 and ps.connected, what="resubscribed")
        assert node.subscribed.count(ACCOUNT) == 2
        await ps.unsubscribe(ACCOUNT)
        assert ACCOUNT not in ps.pubkeys and ACCOUNT not in ps.subscriptions.values()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
