"""Live venues over SSH sign only with the trader's own signer agent, forwarded
over their connection (``ssh -R``): never with the server's key. Without a
forwarded agent a live venue is read-only for that trader, and their console
says so once with the line to connect with."""

from __future__ import annotations

from quantdesk.config.settings import load_config
from quantdesk.venues.drift.venue import DriftVenue
from support.drift_servers import local
from support.signer import MemorySigner
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


async def test_without_a_forwarded_agent_a_live_venue_is_read_only_and_the_console_says_how(
    servers, tmp_path, monkeypatch
):
    ws, http = servers
    monkeypatch.setenv("QUANTDESK_SIGNER", "agent:/run/quantdesk/agent.sock")
    server_key = MemorySigner()  # the server's own signer: no trader may sign with it
    agents = tmp_path / "agents"
    desk = await open_desk(tmp_path, settings=load_config(None), agent_dir=agents,
                           live_venues=(DriftVenue(local(ws, http), signer=server_key),))
    try:
        alice = await console_up(desk, "alice")
        trader = console(desk, "alice").trader
        (notice,) = trader.desk.opening
        line = f"ssh -R {agents / 'alice' / 'agent.sock'}:<your signer agent's socket> -p {desk.port} 127.0.0.1"
        assert notice.text == (f"drift is read-only for you: to trade here, run `quantdesk signer serve` "
                               f"on your machine and connect with `{line}`")
        await alice.shows("drift is read-only for you")
        assert not trader.desk.can_trade("drift") and trader.desk.can_trade("sim-drift")
        alice.send(":VENUE drift\r:SOL-PERP BUY 1 MKT\r")
        await alice.shows("drift has no trading connection here")
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
