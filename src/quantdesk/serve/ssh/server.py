"""The SSH server: who may connect, how many at once, for how long, and
where a trader's signer agent may be forwarded.

Public-key authentication only; passwords and keyboard-interactive are never
offered. One shared session (the feed) serves every console. A connection
that names an unknown key gets "Permission denied"; one past the session
limit is told the limit and closed; a console without a key for
``idle_timeout_s`` is closed with a line saying so. A trader may forward
their signer agent's socket (``ssh -R``) only to their own path under the
agent directory, never elsewhere on the server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncssh

from quantdesk.console import collector
from quantdesk.serve.ssh.channel import ConsoleChannel
from quantdesk.serve.ssh.console import ConsoleOptions
from quantdesk.serve.ssh.keys import AuthorizedKey, HostKey, authorized_entry
from quantdesk.serve.ssh.pacing import FrameBudget, Pacer
from quantdesk.serve.ssh.reclaim import Reclaimer

if TYPE_CHECKING:
    from quantdesk.console.app import QuantDeskApp
    from quantdesk.venues.session import Session

log = logging.getLogger(__name__)

DEFAULT_LISTEN = "127.0.0.1:2222"
DEFAULT_MAX_SESSIONS = 20
DEFAULT_IDLE_TIMEOUT_S = 8 * 3600.0
LOGIN_TIMEOUT_S = 30.0
KEEPALIVE_S = 30.0


@dataclass(frozen=True)
class SshOptions:
    host_key: HostKey
    authorized: list[AuthorizedKey]
    console: ConsoleOptions
    max_sessions: int = DEFAULT_MAX_SESSIONS
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S  # 0: never
    agent_dir: Path | None = None  # where traders' signer agents are forwarded: <dir>/<trader>/agent.sock
    fps: float = 20.0  # each console's frame rate while the core has room for all of them


def agent_socket(agent_dir: Path, user: str) -> Path:
    """Where ``user``'s forwarded signer agent listens on the server."""
    return agent_dir / user / "agent.sock"


class DeskServer:
    """Listens for traders and runs a console per SSH session."""

    def __init__(self, shared: Session, options: SshOptions, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.shared = shared
        self.options = options
        self.clock = clock
        self.channels: set[ConsoleChannel] = set()
        self.refused_full = 0
        self._listener: Any = None
        self._idle_task: asyncio.Task[None] | None = None
        self.address = ("127.0.0.1", 0)  # where it listens, once started
        self.reclaimer = Reclaimer()  # gives back what ended consoles leave
        # The consoles share this process's core: their repaint rate follows its load.
        self.pacer = Pacer(FrameBudget(options.fps), self._paced)

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (0: a free port); returns the port."""
        self._listener = await asyncssh.create_server(
            lambda: _Connection(self),
            host, port,
            server_host_keys=[self.options.host_key.key],
            encoding=None,
            line_editor=False,
            allow_pty=True,
            agent_forwarding=False,
            x11_forwarding=False,
            login_timeout=LOGIN_TIMEOUT_S,
            keepalive_interval=KEEPALIVE_S,
        )
        if self.options.idle_timeout_s > 0:
            self._idle_task = asyncio.create_task(self._watch_idle(), name="ssh-idle")
        self.pacer.start()
        collector.serve_many()
        self.address = (host, int(self._listener.sockets[0].getsockname()[1]))
        return self.address[1]

    async def close(self) -> None:
        await self.pacer.stop()
        if self._idle_task is not None:
            self._idle_task.cancel()
            await asyncio.gather(self._idle_task, return_exceptions=True)
        if self._listener is not None:
            self._listener.close()
            await self._listener.wait_closed()
        for ch in list(self.channels):
            ch.end("the server is shutting down")
        tasks = [ch.task for ch in list(self.channels) if ch.task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
        self.reclaimer.close()  # the process goes with the server

    # -- limits ------------------------------------------------------------------
    def admit(self, channel: ConsoleChannel) -> str:
        """Take ``channel`` on as a console; the reason if it cannot be."""
        if len(self.channels) >= self.options.max_sessions:
            self.refused_full += 1
            return (f"QuantDesk is serving its limit of {self.options.max_sessions} sessions; "
                    "try again later or ask for --max-sessions to be raised.")
        # One trading console a trader: a second one on the same journal shows market data only.
        channel.trades = not any(ch.user == channel.user and ch.trades for ch in self.channels)
        self.channels.add(channel)
        return ""

    def release(self, channel: ConsoleChannel) -> None:
        if channel in self.channels and channel.console is not None:
            self.reclaimer.ended(channel.user, channel.console.app)
        self.channels.discard(channel)

    def _paced(self) -> list[QuantDeskApp]:
        return [ch.console.app for ch in self.channels if ch.console is not None]

    def close_idle(self) -> int:
        """Close every console idle past the limit; how many were closed."""
        limit = self.options.idle_timeout_s
        if limit <= 0:
            return 0
        now = self.clock()
        closed = 0
        for ch in list(self.channels):
            if now - ch.last_input >= limit:
                ch.end(f"closed after {_duration(limit)} without a key; connect again to carry on")
                closed += 1
        return closed

    async def _watch_idle(self) -> None:
        every = max(1.0, min(60.0, self.options.idle_timeout_s / 4))
        while True:
            await asyncio.sleep(every)
            self.close_idle()

    # -- the signer agent ---------------------------------------------------------
    def agent_path_for(self, user: str) -> Path | None:
        d = self.options.agent_dir
        return agent_socket(d, user) if d is not None else None

    def forward_line(self, user: str) -> str:
        """The ``ssh`` line that forwards ``user``'s signer agent to this server."""
        host, port = self.address
        return f"ssh -R {self.agent_path_for(user)}:<your signer agent's socket> -p {port} {host}"


class _Connection(asyncssh.SSHServer):
    """One client connection: authentication and what it may ask for."""

    def __init__(self, server: DeskServer) -> None:
        self.server = server
        self.user: str | None = None
        self.user_id = ""  # the trader's database user id, from their key's line
        self.peer = "?"
        self.agent_socket: Path | None = None

    def connection_made(self, conn: Any) -> None:
        peer = conn.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"

    def begin_auth(self, username: str) -> bool:
        return True  # every connection authenticates

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: Any) -> bool:
        entry = authorized_entry(self.server.options.authorized, key)
        if entry is None:
            log.warning("ssh: %s offered a key not in the authorized keys (%s)", self.peer, key.get_fingerprint())
            return False
        self.user, self.user_id = entry.user, entry.user_id
        return True

    def auth_completed(self) -> None:
        log.info("ssh: %s signed in as %s", self.peer, self.user)

    def session_requested(self) -> ConsoleChannel | bool:
        if self.user is None:
            return False
        return ConsoleChannel(self.server, self.user, user_id=self.user_id, agent=lambda: self.agent_socket)

    def unix_server_requested(self, listen_path: str) -> bool:
        """``ssh -R PATH:agent.sock``: only to this trader's own agent path."""
        wanted = self.server.agent_path_for(self.user) if self.user else None
        if wanted is None or os.path.abspath(listen_path) != str(wanted.absolute()):
            log.warning("ssh: %s (%s) asked to listen on %s; refused (signer agents go to %s)",
                        self.peer, self.user, listen_path, wanted or "nowhere: no --agent-dir")
            return False
        wanted.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(wanted.parent, 0o700)  # the socket is as private as its folder
        try:
            wanted.unlink()  # left by an earlier connection that did not end cleanly
        except FileNotFoundError:
            pass
        self.agent_socket = wanted
        return True

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        return False  # no TCP forwarding of any kind

    def connection_requested(self, dest_host: str, dest_port: int, orig_host: str, orig_port: int) -> bool:
        return False

    def unix_connection_requested(self, dest_path: str) -> bool:
        return False

    def connection_lost(self, exc: BaseException | None) -> None:
        if self.agent_socket is not None:
            try:
                self.agent_socket.unlink()
            except OSError:
                pass


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        h = int(seconds // 3600)
        return f"{h} hour{'s' if h != 1 else ''}"
    if seconds >= 60 and seconds % 60 == 0:
        m = int(seconds // 60)
        return f"{m} minute{'s' if m != 1 else ''}"
    return f"{seconds:g} s"
