"""A real ``serve ssh`` server on a free port over one shared simulated
session, driven event by event, with traders' keys on file and an
injected clock for the idle timeout."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

from quantdesk.serve.ssh.console import ConsoleOptions
from quantdesk.serve.ssh.keys import load_authorized_keys, load_or_create_host_key
from quantdesk.serve.ssh.server import DeskServer, SshOptions
from quantdesk.venues.session import Session, simulated_session
from support.ssh_client import Terminal, client_key, write_authorized
from support.wait import until


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Desk:
    server: DeskServer
    shared: Session
    port: int
    keys: dict[str, asyncssh.SSHKey]
    clock: FakeClock
    tmp: Path
    terminals: list = field(default_factory=list)


async def open_desk(
    tmp: Path, *, max_sessions: int = 20, idle_timeout_s: float = 0, agent_dir: Path | None = None, settings: Any = None,
    key_options: dict[str, str] | None = None, live_venues: tuple[Any, ...] = (),
) -> Desk:
    """``key_options``: what goes before a trader's key on their authorized_keys line;
    ``live_venues`` join the simulated ones in the shared session."""
    keys = {name: client_key(name) for name in ("alice", "bob")}
    options_of = key_options or {}
    plain = [k for name, k in keys.items() if name not in options_of]
    lines = tuple(f"{options_of[name]} {k.export_public_key().decode().strip()}" for name, k in keys.items()
                  if name in options_of)
    authorized = write_authorized(tmp / "authorized_keys", *plain, lines=lines)
    host_key = load_or_create_host_key(tmp / "host_key")
    shared = simulated_session(seed=7, paused=True)
    if live_venues:
        shared = Session([*shared.venues.values(), *live_venues], shared.clock)
    await shared.start()
    shared.advance(400)
    clock = FakeClock()
    options = SshOptions(
        host_key, load_authorized_keys(authorized), ConsoleOptions(settings, tmp / "ssh"),
        max_sessions=max_sessions, idle_timeout_s=idle_timeout_s, agent_dir=agent_dir,
    )
    server = DeskServer(shared, options, clock=clock)
    port = await server.start("127.0.0.1", 0)
    return Desk(server, shared, port, keys, clock, tmp)


async def close_desk(desk: Desk) -> None:
    for t in desk.terminals:
        await t.close()
    await desk.server.close()
    await desk.shared.stop()


async def console_up(desk: Desk, who: str) -> Terminal:
    """``who`` connected, their console drawn and its session started."""
    t = await Terminal.open(desk.port, desk.keys[who])
    desk.terminals.append(t)
    await t.shows("POSITIONS")
    await until(lambda: any(ch.user == who and ch.console and ch.console.app.session_started.is_set()
                            for ch in desk.server.channels), what=f"{who}'s console")
    return t


async def second_console(desk: Desk, who: str) -> Terminal:
    """Another console of ``who``, who trades in a console already: it says it shows market data only."""
    t = await Terminal.open(desk.port, desk.keys[who])
    desk.terminals.append(t)
    await t.shows("already trades in another console")
    return t
