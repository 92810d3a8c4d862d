"""Live venues over SSH sign only with the trader's own signer agent, forwarded
over their connection (``ssh -R``): never with the server's key. Without a
forwarded agent a live venue is read-only for that trader, and their console
says so once with the line to connect with. A trader's Drift orders and fills
are followed live onto their console and journal only, while it lives."""

from __future__ import annotations

import shutil
import tempfile
import weakref
from decimal import Decimal
from pathlib import Path

import pytest
from driftpy.addresses import get_user_account_public_key
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from quantdesk.config.settings import load_config
from quantdesk.signing.agent_server import AgentServer
from quantdesk.trading.journal import Journal
from quantdesk.venues import registry
from quantdesk.venues.drift.config import DRIFT_PROGRAM_ID
from quantdesk.venues.drift.venue import DriftVenue
from quantdesk.venues.jupiter.config import JupiterConfig, JupiterMarket
from quantdesk.venues.jupiter.venue import JupiterVenue
from support.drift_chain import LINES, USER_LINE, pk, raw, user_bytes
from support.drift_servers import fill_record, local
from support.jupiter_chain import SOL_CUSTODY
from support.signer_agent import AgentThread, Scripted
from support.app import notes
from support.signer import MemorySigner, keypair_on_file
from support.solana_pubsub import AccountPubsubServer
from support.ssh_client import Terminal
from support.ssh_desk import close_desk, open_desk
from support.wait import until


async def console_up(desk, who: str, **kw) -> Terminal:
    t = await Terminal.open(desk.port, desk.keys[who], **kw)
    desk.terminals.append(t)
    await until(lambda: any(ch.user == who and ch.console and ch.console.app.session_started.is_set()
                            for ch in desk.server.channels), what=f"{who}'s console")
    return t


def console(desk, who: str):
    return next(ch.console for ch in desk.server.channels if ch.user == who)


def jupiter_on(node, signer) -> JupiterVenue:
    return JupiterVenue(
        JupiterConfig(rpc_urls=(node.http.url,), ws_urls=(node.pubsub.url,), collateral={}, price_api_url="",
                      markets=(JupiterMarket("SOL-PERP", "SOL", SOL_CUSTODY),), stale_after_s=3600,
                      poll_interval_s=0.1),
        signer=signer,
    )


async def test_without_a_forwarded_agent_a_live_venue_is_read_only_and_the_console_says_how(
    servers, jupiter_node, tmp_path, monkeypatch
):
    ws, http = servers
    monkeypatch.setenv("QUANTDESK_SIGNER", "agent:/run/quantdesk/agent.sock")
    server_key = MemorySigner()  # the server's own signer: no trader may sign with it
    agents = tmp_path / "agents"
    desk = await open_desk(tmp_path, settings=load_config(None), agent_dir=agents,
                           live_venues=(DriftVenue(local(ws, http), signer=server_key), jupiter_on(jupiter_node, server_key)))
    try:
        alice = await console_up(desk, "alice")
        trader = console(desk, "alice").trader
        (notice,) = trader.desk.opening
        line = f"ssh -R {agents / 'alice' / 'agent.sock'}:<your signer agent's socket> -p {desk.port} 127.0.0.1"
        assert notice.text == (f"drift, jupiter are read-only for you: to trade here, run `quantdesk signer serve` "
                               f"on your machine and connect with `{line}`")
        await alice.shows("drift, jupiter are read-only for you")
        assert not trader.desk.can_trade("drift") and not trader.desk.can_trade("jupiter")
        assert trader.desk.can_trade("sim-drift")
        alice.send(":VENUE drift\r:SOL-PERP BUY 1 MKT\r")
        shown = console(desk, "alice").app
        await until(lambda: any("drift has no trading connection here" in n for n in notes(shown)), what="the refusal")
        assert http.sent == []
    finally:
        await close_desk(desk)


async def test_a_server_that_signs_with_no_agent_keeps_live_venues_read_only_over_ssh(servers, tmp_path, monkeypatch):
    ws, http = servers
    monkeypatch.setenv("QUANTDESK_SIGNER", "none")
    desk = await open_desk(tmp_path, settings=load_config(None), agent_dir=tmp_path / "agents",
                           live_venues=(DriftVenue(local(ws, http), signer=MemorySigner()),))
    try:
        await console_up(desk, "alice")
        trader = console(desk, "alice").trader
        (notice,) = trader.desk.opening
        assert notice.text.startswith("drift is read-only for you: the server's config signs with no signer agent")
        assert not trader.desk.can_trade("drift")
    finally:
        await close_desk(desk)


@pytest.fixture
def trader_key(tmp_path):
    return keypair_on_file(tmp_path)  # on the trader's machine, behind their agent


@pytest.fixture
def agent_dir():
    d = Path(tempfile.mkdtemp(prefix="qd-ssh-", dir="/tmp"))  # short: Unix socket paths are limited
    yield d
    shutil.rmtree(d, ignore_errors=True)


async def test_an_order_on_a_live_venue_is_signed_by_the_traders_forwarded_agent(
    servers, tmp_path, monkeypatch, trader_key, agent_dir
):
    ws, http = servers
    kp, key = trader_key
    for n, line in enumerate(LINES):  # the markets the transaction builder reads from chain
        if line["account"] in ("PerpMarket", "SpotMarket"):
            http.accounts[pk(raw(n), 8)] = line["data_b64"]
    user = get_user_account_public_key(Pubkey.from_string(DRIFT_PROGRAM_ID), kp.pubkey(), 0)
    http.accounts[str(user)] = LINES[USER_LINE]["data_b64"]  # the trader's own Drift account
    monkeypatch.setenv("QUANTDESK_SIGNER", "agent:/run/quantdesk/agent.sock")
    monkeypatch.setenv("QUANTDESK_RISK__MAX_LEVERAGE", "50")  # the fixture's account already runs at ~10x
    server_key = MemorySigner()
    laptop = Scripted(True)  # the trader approves at their own agent
    agent = AgentThread(AgentServer(key, approver=laptop, decoders=registry.instruction_decoders()))
    desk = await open_desk(tmp_path, settings=load_config(None), agent_dir=agent_dir,
                           live_venues=(DriftVenue(local(ws, http), signer=server_key),))
    try:
        forwarded = str(agent_dir / "alice" / "agent.sock")
        alice = await console_up(desk, "alice", forward=(forwarded, str(agent.path)))
        trader = console(desk, "alice").trader
        assert trader.desk.can_trade("drift") and not trader.desk.opening
        drift = trader.trading.router.executors["drift"]
        await until(lambda: drift.venue.executor is not None and drift.venue.executor.chain.user_account() is not None,
                    what="alice's Drift account loaded")
        assert drift.venue.signer.pubkey == kp.pubkey()
        cache = console(desk, "alice").session.cache
        await until(lambda: "drift" in cache.accounts, what="alice's Drift margin on her console")
        assert any(venue == "drift" for venue, _ in cache.positions)  # her positions, read from chain
        await alice.shows("drift $")  # her Drift equity heads the positions pane
        await console_up(desk, "bob")  # no agent forwarded: none of alice's account reaches him
        assert "drift" not in console(desk, "bob").session.cache.accounts
        await until(lambda: cache.book("drift", "SOL-PERP") is not None and cache.book("drift", "SOL-PERP").best_bid(),
                    what="the Drift book on alice's console")
        market = cache.markets[("drift", "SOL-PERP")]
        price = cache.book("drift", "SOL-PERP").best_bid()[0] - market.tick_size
        alice.send(f":VENUE drift\r:SOL-PERP BUY 1 @ {Decimal(price).scaleb(-6).normalize():f}\r")
        await until(lambda: http.sent != [], 20, "the signed transaction at the RPC")
        (tx,) = [VersionedTransaction.from_bytes(b) for b in http.sent]
        tx.verify_and_hash_message()  # raises unless every signature verifies
        assert tx.message.account_keys[0] == kp.pubkey() != server_key.pubkey  # signed by alice's agent only
        (shown,) = laptop.shown
        assert "drift SOL-PERP buy 1" in shown and "place_perp_order" in shown
    finally:
        await close_desk(desk)
        agent.stop()


@pytest.fixture
async def pubsub():
    node = AccountPubsubServer(DRIFT_PROGRAM_ID)  # the RPC node's websocket: User account changes
    await node.start()
    yield node
    await node.stop()


async def test_a_traders_drift_fill_reaches_their_console_and_journal_only_while_it_lives(
    servers, pubsub, tmp_path, monkeypatch, trader_key, agent_dir
):
    ws, http = servers
    kp, key = trader_key
    for n, line in enumerate(LINES):
        if line["account"] in ("PerpMarket", "SpotMarket"):
            http.accounts[pk(raw(n), 8)] = line["data_b64"]
    user = str(get_user_account_public_key(Pubkey.from_string(DRIFT_PROGRAM_ID), kp.pubkey(), 0))
    http.accounts[user] = LINES[USER_LINE]["data_b64"]  # next_order_id 14
    monkeypatch.setenv("QUANTDESK_SIGNER", "agent:/run/quantdesk/agent.sock")
    monkeypatch.setenv("QUANTDESK_RISK__MAX_LEVERAGE", "50")
    agent = AgentThread(AgentServer(key, approver=Scripted(True), decoders=registry.instruction_decoders()))
    venue = DriftVenue(local(ws, http, ws_rpc_url=pubsub.url, slot_poll_s=0), signer=MemorySigner())
    desk = await open_desk(tmp_path, settings=load_config(None), agent_dir=agent_dir, live_venues=(venue,))
    try:
        await until(lambda: len(venue.feed.fill_listeners) == 1, what="the server's own order follower")
        (servers_own,) = venue.feed.fill_listeners
        alice = await console_up(desk, "alice", forward=(str(agent_dir / "alice" / "agent.sock"), str(agent.path)))
        await console_up(desk, "bob")
        trader = console(desk, "alice").trader
        drift = trader.trading.router.executors["drift"].venue
        await until(lambda: user in pubsub.subscribed and drift.follower is not None, what="alice's orders followed")
        assert len(venue.feed.fill_listeners) == 2
        cache, bobs = console(desk, "alice").session.cache, console(desk, "bob").session.cache
        await until(lambda: cache.book("drift", "SOL-PERP") is not None and cache.book("drift", "SOL-PERP").best_bid(),
                    what="the Drift book on alice's console")
        alice.send(":VENUE drift\r:SOL-PERP BUY 1 @ 176\r")
        await until(lambda: http.sent != [] and drift.executor.orders, 20, "alice's order sent")
        ((order_id, (uid, placed)),) = drift.executor.orders.items()
        assert placed.status == "pending"
        slot = dict(order_id=14, user_order_id=uid, size=1_000_000_000)
        await pubsub.notify(user, user_bytes({5: slot}, 15), 300_000_010)
        await until(lambda: order_id in cache.orders and cache.orders[order_id].status == "open", what="open")
        await alice.shows("1 open order")

        await ws.push_fill(fill_record(601, base=1.0, quote=176.0) | {"taker": user, "takerOrderId": 14})
        await until(lambda: [f.order_id for f in cache.fills] == [order_id], what="alice's fill on her console")
        await pubsub.notify(user, user_bytes({5: {}}, 15), 300_000_011)  # filled: the program clears the slot
        await until(lambda: order_id not in cache.orders, what="the order filled on alice's console")
        assert drift.executor.orders[order_id][1].status == "filled"
        (fill,) = cache.fills
        assert (fill.side, fill.size, fill.price, fill.liquidity) == ("buy", 1_000_000_000, 176_000_000, "taker")
        await alice.shows("No open orders")
        assert not bobs.fills and not bobs.orders  # none of alice's trading reaches bob
        with Journal.open(desk.tmp / "ssh" / "traders" / "alice" / "journal.sqlite3") as j:
            await until(lambda: j.order("drift", order_id) is not None and j.order("drift", order_id).status == "filled",
                        what="the filled order in alice's journal")
            assert [r.fill_id for r in j.fills()] == ["0:601:taker"]
        with Journal.open(desk.tmp / "ssh" / "traders" / "bob" / "journal.sqlite3") as j:
            assert not j.fills()

        follower = weakref.ref(drift.follower)
        alice.send("qy")
        assert await alice.ended() == 0
        await until(lambda: venue.feed.fill_listeners == (servers_own,), what="alice's follower gone from the feed")
        await until(lambda: follower() is None, timeout=30, what="the server to let go of alice's follower")
    finally:
        await close_desk(desk)
        agent.stop()
