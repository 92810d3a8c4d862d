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


class Live:
    """A Drift venue following one trader's account on the local pubsub node
    and fills on the local DLOB server, journaling what its bus carries."""

    def __init__(self, servers, pubsub, tmp_path) -> None:
        from driftpy.addresses import get_user_account_public_key

        self.ws, self.http = servers
        self.pubsub = pubsub
        for n, x in enumerate(LINES):
            if x["account"] in ("PerpMarket", "SpotMarket"):
                self.http.accounts[pk(raw(n), 8)] = x["data_b64"]
        signer = MemorySigner()
        self.user = str(get_user_account_public_key(Pubkey.from_string(DRIFT_PROGRAM_ID), signer.pubkey, 0))
        self.http.accounts[self.user] = LINES[USER_LINE]["data_b64"]  # next_order_id 14
        self.venue = DriftVenue(local(self.ws, self.http, ws_rpc_url=pubsub.url, slot_poll_s=0), signer=signer)
        self.bus = Bus()
        self.journal = Journal.open(tmp_path / "journal.sqlite3")
        self.recorder = JournalRecorder(self.journal, self.bus)
        self.orders: list[Order] = []
        self.fills: list[Fill] = []
        self.bus.subscribe("order.>", lambda t, o: self.orders.append(o))
        self.bus.subscribe("fill.>", lambda t, f: self.fills.append(f))
        self.router = DriftRouterExecutor(self.venue, bus=self.bus)

    async def __aenter__(self) -> Live:
        await self.venue.connect()
        self.task = asyncio.create_task(self.venue.run(self.bus))
        await until(lambda: self.user in self.pubsub.subscribed, what="the User account subscribed")
        return self

    async def __aexit__(self, *exc) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        self.recorder.close()
        await self.venue.close()

    async def place_open(self, order_id: str, size: int = SIZE) -> dict:
        """An order placed and seen open on chain as Drift order 14; its slot."""
        intent = OrderIntent(venue="drift", market=SOL, side="buy", type="limit", size=size, price=176 * 10**6)
        await self.router.place(intent, order_id)
        slot = dict(order_id=14, user_order_id=self.venue.executor.orders[order_id][0], size=size)
        await self.pubsub.notify(self.user, user_bytes({5: slot}, 15), 300_000_010)
        await until(lambda: self.orders and self.orders[-1].status == "open", what="open")
        return slot

    def fill(self, fill_id: int, base: float) -> dict:
        return fill_record(fill_id, base=base, quote=base * 176) | {"taker": self.user, "takerOrderId": 14}


async def test_a_fill_record_ahead_of_the_account_shows_the_order_filled_at_once_and_counts_once(
    servers, pubsub, tmp_path
):
    async with Live(servers, pubsub, tmp_path) as live:
        await live.place_open("q3")
        await live.ws.push_fill(live.fill(601, 0.4))
        await until(lambda: live.orders[-1].filled == 400_000_000, what="partly filled from the fill record")
        assert live.orders[-1].status == "open"
        await live.ws.push_fill(live.fill(602, 0.6))
        await until(lambda: live.orders[-1].status == "filled", what="filled from the fill record alone")
        assert live.orders[-1].filled == SIZE
        published = len(live.orders)
        await live.ws.push_fill(live.fill(602, 0.6))  # the record again
        await live.pubsub.notify(live.user, user_bytes({5: {}}, 15), 300_000_011)  # the same fills, on chain
        await until(lambda: live.venue.follower.account_updates == 2, what="the account update")
        await until(lambda: live.venue.health.duplicate_fills == 1, what="the repeat dropped")
        assert len(live.orders) == published, "the account's clearing of the slot says nothing new"
        assert [f.fill_id for f in live.fills] == ["0:601:taker", "0:602:taker"]
        assert sorted(f.fill_id for f in live.journal.fills()) == ["0:601:taker", "0:602:taker"]
        journaled = live.journal.order("drift", "q3")
        assert (journaled.status, journaled.filled) == ("filled", SIZE)


async def test_the_account_ahead_of_the_fill_records_counts_each_fill_once(servers, pubsub, tmp_path):
    async with Live(servers, pubsub, tmp_path) as live:
        slot = await live.place_open("q4")
        await live.pubsub.notify(live.user, user_bytes({5: dict(slot, filled=400_000_000)}, 15), 300_000_011)
        await until(lambda: live.orders[-1].filled == 400_000_000, what="partly filled from the account")
        await live.ws.push_fill(live.fill(701, 0.4))
        await until(lambda: len(live.fills) == 1, what="its fill record")
        assert live.orders[-1].filled == 400_000_000, "the same 0.4, counted once"
        await live.pubsub.notify(live.user, user_bytes({5: {}}, 15), 300_000_012)  # cleared: the rest filled
        await until(lambda: live.orders[-1].status == "cancelled", what="gone from the account, fills not yet seen")
        await live.ws.push_fill(live.fill(702, 0.6))  # the fill record for an order the account no longer lists
        await until(lambda: live.orders[-1].status == "filled", what="filled once its fill record arrives")
        assert live.orders[-1].filled == SIZE and live.orders[-1].reason == ""
        journaled = live.journal.order("drift", "q4")
        assert (journaled.status, journaled.filled) == ("filled", SIZE)
        assert sum(f.size for f in live.journal.fills()) == SIZE
