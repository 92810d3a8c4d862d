"""Jupiter Perps over ``quantdesk serve ssh``: a trader who forwards their
signer agent trades from their own wallet. Their order is built for their
wallet and signed by their agent after the risk engine passed it; their
position requests are followed as a keeper executes them, and their orders,
fills and positions reach their console and journal only, while it lives.
The pool's market data stays one feed for every console."""

from __future__ import annotations

import time
import weakref

import pytest
from solders.transaction import VersionedTransaction

from quantdesk.config.settings import load_config
from quantdesk.signing.agent_server import AgentServer
from quantdesk.trading.journal import Journal
from quantdesk.venues import registry
from quantdesk.venues.jupiter.venue import JupiterVenue
from support.jupiter_trade_rig import SOL_PRICE, TradeRig
from support.signer import MemorySigner
from support.signer_agent import AgentThread, Scripted
from support.ssh_desk import close_desk, open_desk
from support.wait import until
from test_ssh_signer_agent import agent_dir, console, console_up, trader_key  # noqa: F401  # the agent harness

SIDE = "create_increase_position_market_request"


@pytest.fixture
async def rig(trader_key):
    _kp, key = trader_key
    # Alice's wallet holds the SOL and USDC to post. The chain's time starts at
    # the consoles' (the server's session runs on the wall clock) and stands still.
    r = TradeRig(key, now_s=time.time_ns() // 1_000_000_000)
    await r.start()
    yield r
    await r.stop()


async def test_a_traders_jupiter_order_is_signed_by_their_agent_and_followed_onto_their_console_only(
    rig, tmp_path, monkeypatch, trader_key, agent_dir  # noqa: F811  # the imported fixtures
):
    kp, key = trader_key
    monkeypatch.setenv("QUANTDESK_SIGNER", "agent:/run/quantdesk/agent.sock")
    monkeypatch.setenv("QUANTDESK_RISK__MAX_LEVERAGE", "20")
    monkeypatch.setenv("QUANTDESK_RISK__MAX_DATA_AGE_S", "600")  # the oracle's time stands still meanwhile
    laptop = Scripted(True)
    agent = AgentThread(AgentServer(key, approver=laptop, decoders=registry.instruction_decoders()))
    server_key = MemorySigner()  # the server's own wallet: it follows its own requests, never signs for a trader
    venue = JupiterVenue(rig.config(), clock=rig.clock, signer=server_key)
    desk = await open_desk(tmp_path, settings=load_config(None), agent_dir=agent_dir, live_venues=(venue,))
    try:
        await until(lambda: venue.feed.pool is not None and rig.node.pubsub.connections == 2,
                    what="the shared feed and the server's own request follower")
        alice = await console_up(desk, "alice", forward=(str(agent_dir / "alice" / "agent.sock"), str(agent.path)))
        bob = await console_up(desk, "bob")  # no agent forwarded
        (told,) = console(desk, "bob").trader.desk.opening
        assert told.text.startswith("jupiter is read-only for you: to trade here, run `quantdesk signer serve` "
                                    f"on your machine and connect with `ssh -R {agent_dir / 'bob' / 'agent.sock'}:")
        await bob.shows("jupiter is read-only for you")
        trader = console(desk, "alice").trader
        assert trader.desk.can_trade("jupiter") and not trader.desk.opening
        jupiter = trader.trading.router.executors["jupiter"]
        view = jupiter.venue
        await until(lambda: view.account is not None and view.account.wallet is not None and view.follower is not None
                    and view.follower.bus is not None and rig.node.pubsub.connections == 3, what="alice's wallet followed")
        assert view.account.owner == str(kp.pubkey()) != str(server_key.pubkey)
        assert view.feed is venue.feed  # one feed of the pool for every console
        cache, bobs = console(desk, "alice").session.cache, console(desk, "bob").session.cache
        assert "jupiter" in cache.accounts and "jupiter" not in bobs.accounts  # her wallet's equity is hers
        await until(lambda: ("jupiter", "SOL-PERP") in cache.oracle, what="the SOL oracle on alice's console")

        alice.send(":VENUE jupiter\r:SOL-PERP BUY 1 MKT\r")
        await until(lambda: rig.node.http.sent != [], 20, "alice's request at the RPC")
        (tx,) = [VersionedTransaction.from_bytes(b) for b in rig.node.http.sent]
        assert tx.verify_with_results() == [True]
        (preflight,) = rig.node.http.preflight  # litesvm checks the signature before the program (not in its VM)
        assert "SignatureFailure" not in preflight
        assert tx.message.account_keys[0] == kp.pubkey()  # her wallet pays and signs: her agent only
        (shown,) = laptop.shown
        assert SIDE in shown
        (sent,) = rig.program.seen
        assert sent.accounts["owner"] == str(kp.pubkey())  # the request is for her wallet's position
        await until(lambda: [o for o in cache.orders.values() if o.venue == "jupiter"], what="her request pending")
        (order,) = [o for o in cache.orders.values() if o.venue == "jupiter"]
        assert order.status == "pending"  # in flight until it lands
        await rig.program.land()
        await until(lambda: cache.orders[order.order_id].status == "open", what="her request open")
        await rig.keeper.execute(rig.program.request(SIDE), SOL_PRICE)
        await until(lambda: [f.order_id for f in cache.fills if f.venue == "jupiter"] == [order.order_id],
                    what="the keeper's execution as her fill")
        await until(lambda: (p := cache.positions.get(("jupiter", "SOL-PERP"))) is not None and p.base > 0,
                    what="her long on her console")
        await alice.shows("LONG")
        assert not [f for f in bobs.fills if f.venue == "jupiter"] and not [o for o in bobs.orders.values()
                                                                             if o.venue == "jupiter"]
        assert ("jupiter", "SOL-PERP") not in bobs.positions  # none of alice's trading reaches bob
        with Journal.open(desk.tmp / "ssh" / "traders" / "alice" / "journal.sqlite3") as j:
            await until(lambda: (o := j.order("jupiter", order.order_id)) is not None and o.status == "filled",
                        what="the filled request in alice's journal")
            assert [f.order_id for f in j.fills()] == [order.order_id]
        with Journal.open(desk.tmp / "ssh" / "traders" / "bob" / "journal.sqlite3") as j:
            assert not j.fills()

        follower = weakref.ref(view.follower)
        jupiter = view = trader = None  # the test holds none of her trading either
        alice.send("qy")
        assert await alice.ended() == 0
        await until(lambda: rig.node.pubsub.connections == 2, what="alice's request websocket closed")
        await until(lambda: follower() is None, timeout=30, what="the server to let go of alice's follower")
    finally:
        await close_desk(desk)
        agent.stop()
