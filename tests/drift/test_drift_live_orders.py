"""Orders follow the trader's User account live: a local pubsub node pushes
real-layout User account changes, the local DLOB server pushes the fills; the
order placed through the router goes pending -> open -> partly filled ->
filled within one notification each, and each own fill is journaled once."""

from __future__ import annotations

import asyncio

import pytest
from solders.pubkey import Pubkey

from support.drift_chain import LINES, USER_LINE, pk, raw, user_bytes
from support.drift_servers import SOL, fill_record, local
from support.signer import MemorySigner
from support.solana_pubsub import AccountPubsubServer
from support.wait import until
from quantdesk.core.bus import Bus
from quantdesk.core.model import Fill, Order, OrderIntent
from quantdesk.trading.journal import Journal
from quantdesk.trading.router import JournalRecorder
from quantdesk.venues.drift.config import DRIFT_PROGRAM_ID
from quantdesk.venues.drift.router_executor import DriftRouterExecutor
from quantdesk.venues.drift.venue import DriftVenue

SIZE = 1_000_000_000


@pytest.fixture
async def pubsub():
    node = AccountPubsubServer(DRIFT_PROGRAM_ID)
    await node.start()
    yield node
    await node.stop()


async def test_an_order_follows_the_account_and_its_fills_are_journaled_once(servers, pubsub, tmp_path):
    from driftpy.addresses import get_user_account_public_key

    ws, http = servers
    for n, x in enumerate(LINES):
        if x["account"] in ("PerpMarket", "SpotMarket"):
            http.accounts[pk(raw(n), 8)] = x["data_b64"]
    signer = MemorySigner()
    user = str(get_user_account_public_key(Pubkey.from_string(DRIFT_PROGRAM_ID), signer.pubkey, 0))
    http.accounts[user] = LINES[USER_LINE]["data_b64"]  # next_order_id 14
    venue = DriftVenue(local(ws, http, ws_rpc_url=pubsub.url, slot_poll_s=0), signer=signer)
    bus = Bus()
    journal = Journal.open(tmp_path / "journal.sqlite3")
    recorder = JournalRecorder(journal, bus)
    orders: list[Order] = []
    fills: list[Fill] = []
    bus.subscribe("order.>", lambda t, o: orders.append(o))
    bus.subscribe("fill.>", lambda t, f: fills.append(f))
    router = DriftRouterExecutor(venue, bus=bus)
    await venue.connect()
    task = asyncio.create_task(venue.run(bus))
    try:
        await until(lambda: user in pubsub.subscribed, what="the User account subscribed")
        intent = OrderIntent(venue="drift", market=SOL, side="buy", type="limit", size=SIZE, price=176 * 10**6)
        placed = await router.place(intent, "q1")
        assert placed.status == "pending"
        uid = venue.executor.orders["q1"][0]
        slot = dict(order_id=14, user_order_id=uid, size=SIZE)

        await pubsub.notify(user, user_bytes({5: slot}, 15), 300_000_010)
        await until(lambda: orders[-1].status == "open", what="open after one notification")
        await pubsub.notify(user, user_bytes({5: dict(slot, filled=400_000_000)}, 15), 300_000_011)
        await until(lambda: orders[-1].filled == 400_000_000, what="partly filled")
        assert orders[-1].status == "open"

        # the fills: ours as the taker (order 14), someone else's, and ours again after a replay
        ours = fill_record(501, base=0.4, quote=70.4) | {"taker": user, "takerOrderId": 14}
        await ws.push_fill(ours)
        await ws.push_fill(fill_record(502))
        await ws.push_fill(ours)
        rest = fill_record(503, base=0.6, quote=105.6) | {"taker": user, "takerOrderId": 14}
        await ws.push_fill(rest)
        await until(lambda: len(fills) == 2, what="two own fills")
        await pubsub.notify(user, user_bytes({5: {}}, 15), 300_000_012)  # filled: the slot is cleared
        await until(lambda: orders[-1].status == "filled", what="filled")
        assert orders[-1].filled == SIZE and venue.executor.orders["q1"][1].status == "filled"
        assert [(f.order_id, f.size, f.price, f.liquidity) for f in fills] == [
            ("q1", 400_000_000, 176_000_000, "taker"), ("q1", 600_000_000, 176_000_000, "taker")]
        assert venue.health.duplicate_fills == 1
        rows = journal.fills()
        assert sorted(r.fill_id for r in rows) == ["0:501:taker", "0:503:taker"]
        assert journal.order("drift", "q1").status == "filled"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        recorder.close()
        await venue.close()


async def test_after_a_pubsub_reconnect_the_account_is_read_once_so_no_change_is_missed(servers, pubsub):
    from driftpy.addresses import get_user_account_public_key

    ws, http = servers
    for n, x in enumerate(LINES):
        if x["account"] in ("PerpMarket", "SpotMarket"):
            http.accounts[pk(raw(n), 8)] = x["data_b64"]
    signer = MemorySigner()
    user = str(get_user_account_public_key(Pubkey.from_string(DRIFT_PROGRAM_ID), signer.pubkey, 0))
    http.accounts[user] = LINES[USER_LINE]["data_b64"]
    venue = DriftVenue(local(ws, http, ws_rpc_url=pubsub.url, slot_poll_s=0, backoff_initial_s=0.05,
                             backoff_max_s=0.1), signer=signer)
    bus = Bus()
    orders: list[Order] = []
    bus.subscribe("order.>", lambda t, o: orders.append(o))
    router = DriftRouterExecutor(venue, bus=bus)
    await venue.connect()
    task = asyncio.create_task(venue.run(bus))
    try:
        await until(lambda: user in pubsub.subscribed, what="subscribed")
        intent = OrderIntent(venue="drift", market=SOL, side="sell", type="limit", size=SIZE, price=180 * 10**6)
        await router.place(intent, "q2")
        uid = venue.executor.orders["q2"][0]
        await pubsub.notify(user, user_bytes({3: dict(order_id=14, user_order_id=uid, size=SIZE, direction=1)}, 15), 1)
        await until(lambda: orders[-1].status == "open", what="open")
        rereads = venue.follower.rereads
        # the node restarts; while the socket is down the order is cancelled on chain
        await pubsub.drop_all()
        import base64

        http.accounts[user] = base64.b64encode(user_bytes({3: {}}, 15)).decode()
        await until(lambda: venue.follower.rereads > rereads, what="the account re-read after resubscribing")
        await until(lambda: orders[-1].status == "cancelled", what="the cancel seen without a notification")
        assert orders[-1].reason == "cancelled on chain"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await venue.close()
