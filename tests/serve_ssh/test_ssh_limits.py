"""What the SSH server allows: session limit, idle timeout, no commands, no
shell without a terminal, signer agents only at the trader's own path, and
who a key says its trader is."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import asyncssh
import pytest
from solders.keypair import Keypair

from quantdesk.serve.ssh.keys import load_authorized_keys
from quantdesk.serve.ssh.server import agent_socket
from quantdesk.signing.agent import AgentSigner
from quantdesk.signing.agent_server import AgentServer
from quantdesk.signing.base import SignerError
from quantdesk.signing.keypair import KeypairSigner
from support.signer_agent import AgentThread
from support.ssh_client import Terminal, client_key
from support.ssh_desk import close_desk, open_desk
from support.wait import until


async def test_past_the_session_limit_a_trader_is_told_and_the_others_keep_theirs(tmp_path):
    desk = await open_desk(tmp_path, max_sessions=1)
    try:
        first = await Terminal.open(desk.port, desk.keys["alice"])
        desk.terminals.append(first)
        await first.shows("DEPTH")
        second = await Terminal.open(desk.port, desk.keys["bob"])
        desk.terminals.append(second)
        assert await second.ended() == 1
        assert b"limit of 1 sessions" in second.raw
        assert [ch.user for ch in desk.server.channels] == ["alice"]
        first.send("q")
        await first.ended()
        third = await Terminal.open(desk.port, desk.keys["bob"])  # the slot is free again
        desk.terminals.append(third)
        await third.shows("DEPTH")
    finally:
        await close_desk(desk)


async def test_an_idle_console_is_closed_with_a_line_saying_why(tmp_path):
    desk = await open_desk(tmp_path, idle_timeout_s=600)
    try:
        idle = await Terminal.open(desk.port, desk.keys["alice"])
        busy = await Terminal.open(desk.port, desk.keys["bob"])
        desk.terminals += [idle, busy]
        await idle.shows("DEPTH")
        await busy.shows("DEPTH")
        desk.clock.now += 599
        busy.send("]")  # bob types; alice does not
        await busy.shows("DEPTH BTC-PERP")
        assert desk.server.close_idle() == 0
        desk.clock.now += 2
        assert desk.server.close_idle() == 1
        assert await idle.ended() == 0
        assert b"closed after 10 minutes without a key" in idle.raw
        assert [ch.user for ch in desk.server.channels] == ["bob"]
    finally:
        await close_desk(desk)


async def test_a_command_gets_how_to_connect_and_no_shell(desk):
    t = await Terminal.open(desk.port, desk.keys["alice"], command="cat /etc/passwd", pty=False)
    desk.terminals.append(t)
    assert await t.ended() == 1
    assert b"serves the console only" in t.raw and b"root:" not in t.raw


async def test_without_a_terminal_the_trader_is_told_to_ask_for_one(desk):
    t = await Terminal.open(desk.port, desk.keys["alice"], pty=False)
    desk.terminals.append(t)
    assert await t.ended() == 1
    assert b"needs a terminal" in t.raw
    assert not desk.server.channels


async def test_sftp_and_port_forwarding_are_refused(desk):
    async with asyncssh.connect("127.0.0.1", desk.port, username="t", client_keys=[desk.keys["alice"]],
                                known_hosts=None, agent_path=None) as conn:
        with pytest.raises(asyncssh.Error):
            await conn.start_sftp_client()
        with pytest.raises(asyncssh.ChannelListenError):
            await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", 22)
        with pytest.raises((asyncssh.Error, OSError)):
            await conn.open_connection("127.0.0.1", 22)


@pytest.fixture
def agent():
    a = AgentThread(AgentServer(KeypairSigner(Keypair()), approver=None))
    yield a
    a.stop()


async def test_a_forwarded_signer_agent_answers_at_the_traders_path(tmp_path, agent):
    agents = Path(tempfile.mkdtemp(prefix="qd-ssh-", dir="/tmp"))  # short: socket paths are limited
    desk = await open_desk(tmp_path, agent_dir=agents)
    try:
        async with asyncssh.connect("127.0.0.1", desk.port, username="t", client_keys=[desk.keys["alice"]],
                                    known_hosts=None, agent_path=None) as conn:
            path = agent_socket(agents, "alice")
            listener = await conn.forward_remote_path(str(path), str(agent.path))
            signer = AgentSigner(path, timeout_s=10)
            pubkey = await asyncio.to_thread(lambda: signer.pubkey)
            assert str(pubkey) == str(agent.server.signer.pubkey)
            assert (path.parent.stat().st_mode & 0o777) == 0o700
            with pytest.raises(asyncssh.ChannelListenError):  # anywhere else on the server: no
                await conn.forward_remote_path(str(agents / "bob" / "agent.sock"), str(agent.path))
            with pytest.raises(asyncssh.ChannelListenError):
                await conn.forward_remote_path("/tmp/qd-anywhere.sock", str(agent.path))
            listener.close()
        await until(lambda: not path.exists(), what="the forwarded socket to go with the connection")
        with pytest.raises(SignerError, match="no signer agent"):
            await asyncio.to_thread(lambda: AgentSigner(path, timeout_s=2).pubkey)
    finally:
        await close_desk(desk)


async def test_an_authorized_keys_option_names_the_trader(tmp_path):
    desk = await open_desk(tmp_path)
    try:
        carol = client_key("laptop-2019")
        line = 'environment="QUANTDESK_USER=carol" ' + carol.export_public_key().decode().strip()
        path = tmp_path / "authorized_keys"
        path.write_text(path.read_text() + line + "\n")
        object.__setattr__(desk.server.options, "authorized", load_authorized_keys(path))
        t = await Terminal.open(desk.port, carol)
        desk.terminals.append(t)
        await t.shows("DEPTH")
        assert [ch.user for ch in desk.server.channels] == ["carol"]
        t.send(":ETH-PERP DEPTH\r")
        await t.shows("DEPTH ETH-PERP")
        await until(lambda: (tmp_path / "ssh" / "traders" / "carol" / "history").exists(), what="carol's history")
        assert "eth-perp depth" in (tmp_path / "ssh" / "traders" / "carol" / "history").read_text().lower()
        assert not (tmp_path / "ssh" / "traders" / "laptop-2019").exists()
    finally:
        await close_desk(desk)


async def test_each_traders_workspace_carries_their_own_name(tmp_path, redis_url, ns, monkeypatch):
    from quantdesk.config.settings import load_config

    monkeypatch.setenv("QUANTDESK_REDIS__URL", redis_url)
    monkeypatch.setenv("QUANTDESK_REDIS__TEAM", ns)
    desk = await open_desk(tmp_path, settings=load_config(None))
    try:
        alice = await Terminal.open(desk.port, desk.keys["alice"])
        bob = await Terminal.open(desk.port, desk.keys["bob"])
        desk.terminals += [alice, bob]
        await alice.shows("DEPTH")
        await bob.shows("DEPTH")
        users = {ch.user: ch.console.workspace.ws.user for ch in desk.server.channels}
        assert users == {"alice": "alice", "bob": "bob"}
        assert all(ch.console.workspace.ws.team == ns for ch in desk.server.channels)
        assert (tmp_path / "ssh" / "traders" / "alice" / "journal.sqlite3").exists()
    finally:
        await close_desk(desk)
