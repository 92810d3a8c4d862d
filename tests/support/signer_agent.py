"""A signer agent running on a real Unix socket in a thread of its own (the
console side, ``AgentSigner``, is synchronous), and a raw protocol client."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import tempfile
import threading
from pathlib import Path

from quantdesk.signing.agent_server import AgentServer


class Scripted:
    """An approver answering from a list and remembering what it was shown;
    ``gate`` (when set) holds each answer until the test releases it."""

    def __init__(self, *answers: bool, gate: threading.Event | None = None) -> None:
        self.answers = list(answers)
        self.shown: list[str] = []
        self.gate = gate
        self.asked = threading.Event()

    async def __call__(self, lines, view) -> bool:
        self.shown.append("\n".join(lines))
        self.asked.set()
        if self.gate is not None:
            await asyncio.to_thread(self.gate.wait, 10)
        return self.answers.pop(0) if self.answers else False


class AgentThread:
    def __init__(self, server: AgentServer) -> None:
        self.server = server
        self.dir = Path(tempfile.mkdtemp(prefix="qd-agent-", dir="/tmp"))  # short: socket paths are limited
        self.path = self.dir / "agent.sock"
        self.loop = asyncio.new_event_loop()
        self.said: list[str] = []
        server.say = self.said.append
        ready = threading.Event()
        self._error: BaseException | None = None

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            try:
                self._srv = self.loop.run_until_complete(server.start(self.path))
            except BaseException as exc:  # reported to the test below
                self._error = exc
                ready.set()
                return
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(10)
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        async def close() -> None:
            self._srv.close()

        if self.loop.is_running():
            asyncio.run_coroutine_threadsafe(close(), self.loop).result(5)
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def connect(path: Path) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(str(path))
    return s


def send(s: socket.socket, body: bytes | dict) -> None:
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    s.sendall(len(raw).to_bytes(4, "big") + raw)


def recv(s: socket.socket) -> dict | None:
    """The next reply, or None when the agent closed the connection."""
    head = _exactly(s, 4)
    if head is None:
        return None
    body = _exactly(s, int.from_bytes(head, "big"))
    return None if body is None else json.loads(body)


def _exactly(s: socket.socket, n: int) -> bytes | None:
    out = b""
    while len(out) < n:
        part = s.recv(n - len(out))
        if not part:
            return None
        out += part
    return out
