"""A Textual driver on one pseudo-terminal, for a console that is not the
process's own terminal.

Textual's Linux driver reads the process's stdin and installs process-wide
signal handlers (SIGWINCH, SIGTSTP); a server with many consoles in one event
loop can use neither. This driver works on the slave side of one PTY pair: it
puts that terminal into raw mode (so Ctrl-C is a key, never a signal), reads
keys with the event loop's reader, writes frames without blocking the loop,
and learns a new window size when the server calls ``resized()`` after setting
it on the PTY.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import struct
import termios
import tty
from codecs import getincrementaldecoder
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual._xterm_parser import XTermParser
from textual.driver import Driver
from textual.geometry import Size

if TYPE_CHECKING:
    from textual.app import App

MAX_PENDING = 4 * 1024 * 1024  # frames not yet taken by the client; past this the client is not reading
ESCAPE_TICK_S = 0.12  # a lone Escape is a key once this long has passed without a sequence following it


class Pty:
    """One PTY pair: the server side (``master``) and the console's terminal (``slave``)."""

    def __init__(self, columns: int = 80, rows: int = 24) -> None:
        self.master, self.slave = os.openpty()
        for fd in (self.master, self.slave):
            os.set_blocking(fd, False)
        self.set_size(columns, rows)
        self.closed = False

    def set_size(self, columns: int, rows: int) -> None:
        """Set the window size the console reads (clamped to what a terminal can be)."""
        columns, rows = max(1, min(columns, 1000)), max(1, min(rows, 1000))
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))

    def size(self) -> tuple[int, int]:
        """(columns, rows) as the PTY holds them."""
        rows, columns, _, _ = struct.unpack("HHHH", fcntl.ioctl(self.slave, termios.TIOCGWINSZ, b"\0" * 8))
        return columns or 80, rows or 24

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


class KeyParser(XTermParser):
    """Textual's key parser without its process-wide cache of parsed sequences.

    That cache is keyed on the parser, so it would keep every ended console's
    parser, the last key it read and, through that key, the console's App for
    as long as the server runs."""

    _parse_extended_key = XTermParser._parse_extended_key.__wrapped__  # type: ignore[assignment]  # a plain method in place of the cached one


class PtyDriver(Driver):
    """Display and input for one App on the slave side of a ``Pty``.

    Subclassed per console by ``driver_for`` (Textual builds the driver from a
    class), so each App finds its own PTY in ``pty``."""

    pty: ClassVar[Pty]
    on_overflow: ClassVar[Any] = None  # called once when the client stops reading
    recolour: ClassVar[Any] = None  # str -> str: the client's colour depth (serve.ssh.colour)

    def __init__(self, app: App[Any], *, debug: bool = False, mouse: bool = True, size: tuple[int, int] | None = None) -> None:
        super().__init__(app, debug=debug, mouse=mouse, size=size)
        self._fd = self.pty.slave
        self._pending = bytearray()
        self._writing = False
        self._reading = False
        self._parser = KeyParser(debug)
        self._decode = getincrementaldecoder("utf-8")(errors="replace").decode
        self._tick: asyncio.TimerHandle | None = None
        self._attrs: list[Any] | None = None
        self._overflowed = False

    # -- output --------------------------------------------------------
    def write(self, data: str) -> None:
        if self.pty.closed or self._overflowed:
            return
        if self.recolour is not None:
            data = self.recolour(data)
        self._pending += data.encode("utf-8")
        if len(self._pending) > MAX_PENDING:
            self._overflowed = True
            self._pending.clear()
            if self.on_overflow is not None:
                self._loop.call_soon(self.on_overflow)
            return
        if not self._writing:
            self._drain()

    def flush(self) -> None:
        pass  # every write goes out as soon as the PTY takes it

    def _drain(self) -> None:
        while self._pending and not self.pty.closed:
            try:
                n = os.write(self._fd, self._pending)
            except BlockingIOError:
                if not self._writing:
                    self._writing = True
                    self._loop.add_writer(self._fd, self._drain)
                return
            except OSError:
                self._pending.clear()
                break
            del self._pending[:n]
        if self._writing:
            self._writing = False
            self._loop.remove_writer(self._fd)

    # -- input ---------------------------------------------------------
    def _on_readable(self) -> None:
        try:
            data = os.read(self._fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._stop_reading()
            return
        for event in self._parser.feed(self._decode(data)):
            self.process_message(event)
        if self._tick is not None:
            self._tick.cancel()
        self._tick = self._loop.call_later(ESCAPE_TICK_S, self._on_tick)

    def _on_tick(self) -> None:
        self._tick = None
        for event in self._parser.tick():
            self.process_message(event)

    def _stop_reading(self) -> None:
        if self._reading:
            self._reading = False
            try:
                self._loop.remove_reader(self._fd)
            except (ValueError, OSError):
                pass
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None

    # -- size ------------------------------------------------------------
    def resized(self) -> None:
        """The server set a new window size on the PTY: lay the console out again."""
        columns, rows = self.pty.size()
        size = Size(columns, rows)
        self.send_message(events.Resize(size, size))

    # -- Textual's driver interface ---------------------------------------
    def start_application_mode(self) -> None:
        try:
            self._attrs = termios.tcgetattr(self._fd)
            tty.setraw(self._fd)  # no echo, no line editing, no signals from Ctrl-C or Ctrl-Z
        except termios.error:
            self._attrs = None
        self.write("\x1b[?1049h")  # alternate screen
        if self._mouse:
            self.write("\x1b[?1000h\x1b[?1003h\x1b[?1015h\x1b[?1006h")
        self.write("\x1b[?25l\x1b[?1004h\x1b[?2004h\x1b[?7l")  # hide cursor, focus events, bracketed paste, no wrap
        self._loop.add_reader(self._fd, self._on_readable)
        self._reading = True
        self.resized()

    def disable_input(self) -> None:
        self._stop_reading()

    def stop_application_mode(self) -> None:
        self._stop_reading()
        if self._mouse:
            self.write("\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l")
        self.write("\x1b[?2004l\x1b[?7h\x1b[?1004l\x1b[?1049l\x1b[?25h")
        if self._attrs is not None and not self.pty.closed:
            try:
                termios.tcsetattr(self._fd, termios.TCSANOW, self._attrs)
            except termios.error:
                pass

    def close(self) -> None:
        self._stop_reading()
        if self._writing:
            self._writing = False
            try:
                self._loop.remove_writer(self._fd)
            except (ValueError, OSError):
                pass


def driver_for(pty: Pty, *, on_overflow: Any = None, recolour: Any = None) -> type[PtyDriver]:
    """A driver class bound to ``pty`` (Textual instantiates the class itself)."""
    attrs = {
        "pty": pty,
        "on_overflow": staticmethod(on_overflow) if on_overflow is not None else None,
        "recolour": staticmethod(recolour) if recolour is not None else None,
    }
    return type("BoundPtyDriver", (PtyDriver,), attrs)
