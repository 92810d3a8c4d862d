"""One SSH session channel: the trader's terminal on one side, their console's
PTY on the other.

Keys go from the channel into the PTY, frames from the PTY to the channel;
reading frames pauses while the client is behind (SSH flow control), so a
slow link slows only its own console. A window-size change sets the PTY's
size and lays the console out again. The channel ends when the trader quits,
disconnects or idles past the limit, and only its own console goes with it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncssh

from quantdesk.serve.ssh.pty_driver import Pty

if TYPE_CHECKING:
    from quantdesk.serve.ssh.console import TraderConsole
    from quantdesk.serve.ssh.server import DeskServer

log = logging.getLogger(__name__)

NEEDS_PTY = "QuantDesk needs a terminal: connect with `ssh -t` (or without a command).\r\n"
NO_COMMANDS = "QuantDesk serves the console only: connect without a command, e.g. `ssh -p 2222 desk`.\r\n"


class ConsoleChannel(asyncssh.SSHServerSession):
    def __init__(
        self, server: DeskServer, user: str, *, user_id: str = "", agent: Callable[[], Path | None] = lambda: None
    ) -> None:
        self.server = server
        self.user = user
        self.user_id = user_id  # their database user id: whose rows their journal syncs as
        self.agent = agent  # the trader's signer agent socket, once they forwarded it
        self.chan: Any = None
        self.term = ""
        self.size = (80, 24)
        self.has_pty = False
        self.command: str | None = None
        self.console: TraderConsole | None = None
        self.trades = False  # set on admission: whether this console trades for its trader
        self.pty: Pty | None = None
        self.task: asyncio.Task[None] | None = None
        self.last_input = server.clock()
        self.ended_because = ""
        self._to_pty = bytearray()
        self._reading = False
        self._paused = False
        self._loop = asyncio.get_running_loop()

    # -- what the client asks for ------------------------------------------------
    def connection_made(self, chan: Any) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int], term_modes: Any) -> bool:
        self.has_pty = True
        self.term = term_type or ""
        self.size = (term_size[0] or 80, term_size[1] or 24)
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self.command = command  # answered with how to connect, in session_started
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        return False  # no sftp, no anything else

    def session_started(self) -> None:
        if self.command is not None:
            self._refuse(NO_COMMANDS)
            return
        if not self.has_pty:
            self._refuse(NEEDS_PTY)
            return
        refusal = self.server.admit(self)
        if refusal:
            self._refuse(refusal + "\r\n")
            return
        try:
            self._start_console()
        except Exception as exc:  # a console that cannot open says why and ends alone
            log.exception("console for %s could not start", self.user)
            self.server.release(self)
            self._refuse(f"QuantDesk could not open your console ({exc}); the server's log has the details.\r\n")

    def _refuse(self, text: str) -> None:
        self.chan.write(text.encode())
        self.chan.exit(1)

    # -- the console -------------------------------------------------------------
    def _start_console(self) -> None:
        from quantdesk.serve.ssh.console import TraderConsole
        from quantdesk.serve.ssh.trader_desk import SignerAgent

        env = dict(self.chan.get_environment() or {})
        self.pty = Pty(*self.size)
        try:
            self.console = TraderConsole(
                self.server.shared, self.user, self.pty, self.server.options.console,
                term=self.term, env=env, on_overflow=self._client_not_reading, trades=self.trades,
                user_id=self.user_id, signer_agent=SignerAgent(self.agent(), self.server.forward_line(self.user)),
            )
        except BaseException:
            self.pty.close()
            self.pty = None
            raise
        self._loop.add_reader(self.pty.master, self._from_pty)
        self._reading = True
        self.task = asyncio.create_task(self._run(), name=f"ssh-console:{self.user}")

    async def _run(self) -> None:
        assert self.console is not None and self.pty is not None
        code = 1
        try:
            code = await self.console.run()
        except Exception:
            log.exception("console for %s stopped on an error", self.user)
        finally:
            self.server.release(self)
            self._from_pty()  # the last frames (leaving the alternate screen)
            self._stop_reading()
            self.pty.close()
            if self.chan is not None and not self._closed():
                if self.ended_because:
                    self.chan.write(f"\r\nQuantDesk: {self.ended_because}\r\n".encode())
                self.chan.exit(code)

    def _closed(self) -> bool:
        return bool(self.chan is None or self.chan.is_closing())

    def end(self, reason: str = "") -> None:
        """Close this console (the trader sees ``reason`` after it)."""
        if reason and not self.ended_because:
            self.ended_because = reason
        if self.console is not None:
            self.console.stop()

    def _client_not_reading(self) -> None:
        log.warning("ssh console of %s: the client stopped reading its screen; closing it", self.user)
        self.end("closed: your terminal stopped reading the screen")

    # -- bytes both ways ---------------------------------------------------------
    def _from_pty(self) -> None:
        if self.pty is None or self.pty.closed:
            return
        while True:
            try:
                data = os.read(self.pty.master, 65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # EIO: the console side is closed
                self._stop_reading()
                return
            if not data:
                return
            if not self._closed():
                self.chan.write(data)
            if self._paused:
                return

    def _stop_reading(self) -> None:
        if self._reading and self.pty is not None:
            self._reading = False
            self._loop.remove_reader(self.pty.master)

    def pause_writing(self) -> None:
        """The client is behind: stop taking frames until it catches up."""
        self._paused = True
        self._stop_reading()

    def resume_writing(self) -> None:
        self._paused = False
        if not self._reading and self.pty is not None and not self.pty.closed:
            self._loop.add_reader(self.pty.master, self._from_pty)
            self._reading = True

    def data_received(self, data: bytes, datatype: Any) -> None:
        self.last_input = self.server.clock()
        if self.pty is None or self.pty.closed:
            return
        self._to_pty += data
        self._write_pty()

    def _write_pty(self) -> None:
        assert self.pty is not None
        while self._to_pty and not self.pty.closed:
            try:
                n = os.write(self.pty.master, self._to_pty)
            except BlockingIOError:
                self._loop.add_writer(self.pty.master, self._write_pty_later)
                return
            except OSError:
                self._to_pty.clear()
                return
            del self._to_pty[:n]

    def _write_pty_later(self) -> None:
        if self.pty is not None and not self.pty.closed:
            self._loop.remove_writer(self.pty.master)
            self._write_pty()

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self.size = (width or 80, height or 24)
        if self.console is not None and self.pty is not None and not self.pty.closed:
            self.console.resized(*self.size)

    def break_received(self, msec: int) -> bool:
        return True  # a BREAK is not a reason to end anything

    def eof_received(self) -> bool:
        self.end()
        return True  # the channel closes once the console has gone

    def connection_lost(self, exc: BaseException | None) -> None:
        self.chan = None
        self.end()
        if self.console is None:
            self.server.release(self)
