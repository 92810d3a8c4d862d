"""A trader's terminal for SSH tests: an asyncssh client session on a PTY
whose output feeds a VT emulator (pyte), so tests read the screen the
trader would see rather than escape codes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncssh
import pyte

from support.wait import until


def client_key(comment: str) -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519", comment=comment)


def write_authorized(path: Path, *keys: asyncssh.SSHKey, lines: tuple[str, ...] = ()) -> Path:
    text = [k.export_public_key().decode().strip() for k in keys]
    path.write_text("\n".join([*text, *lines]) + "\n")
    return path


class Terminal:
    """One connected client and the screen it shows."""

    def __init__(self, conn: asyncssh.SSHClientConnection, columns: int, rows: int) -> None:
        self.conn = conn
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self.proc: asyncssh.SSHClientProcess | None = None
        self._reader: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()

    @classmethod
    async def open(
        cls,
        port: int,
        key: asyncssh.SSHKey,
        *,
        columns: int = 120,
        rows: int = 40,
        term: str = "xterm-256color",
        env: dict[str, str] | None = None,
        command: str | None = None,
        pty: bool = True,
        forward: tuple[str, str] | None = None,
    ) -> Terminal:
        """``forward``: (server path, local path) of a Unix socket to forward, as ``ssh -R``."""
        conn = await asyncssh.connect(
            "127.0.0.1", port, username="trader", client_keys=[key], known_hosts=None,
            agent_path=None, password=None, kbdint_auth=False,
        )
        if forward is not None:
            await conn.forward_remote_path(*forward)
        t = cls(conn, columns, rows)
        t.proc = await conn.create_process(
            command, term_type=term if pty else None, term_size=(columns, rows) if pty else None,
            env=env or {}, encoding=None,
        )
        t._reader = asyncio.create_task(t._read())
        return t

    async def _read(self) -> None:
        assert self.proc is not None
        try:
            while True:
                data = await self.proc.stdout.read(65536)
                if not data:
                    break
                self.raw += data
                self.stream.feed(data)
        except (asyncssh.Error, OSError):
            pass
        finally:
            self.closed.set()

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def line_with(self, needle: str) -> str:
        return next((line for line in self.screen.display if needle in line), "")

    async def shows(self, needle: str, timeout: float = 10.0) -> None:
        await until(lambda: needle in self.text(), timeout, f"{needle!r} on the screen")

    def send(self, keys: str | bytes) -> None:
        assert self.proc is not None
        self.proc.stdin.write(keys.encode() if isinstance(keys, str) else keys)

    def resize(self, columns: int, rows: int) -> None:
        assert self.proc is not None
        self.screen.resize(rows, columns)
        self.proc.change_terminal_size(columns, rows)

    async def ended(self, timeout: float = 10.0) -> int | None:
        await asyncio.wait_for(self.closed.wait(), timeout)
        assert self.proc is not None
        await asyncio.wait_for(self.proc.wait_closed(), timeout)
        return self.proc.exit_status

    async def close(self) -> None:
        self.conn.close()
        await self.conn.wait_closed()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
