"""Real Redis for the tests.

``redis_url`` is the machine's Redis at 127.0.0.1:6379 with a fresh namespace
per test (``ns``), cleaned up after. ``redis_server`` starts a private
redis-server on a free port for tests that kill, restart or reconfigure it.
With the CI environment variable set, a missing Redis fails the test.
"""

from __future__ import annotations

import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.services import free_port, unavailable

SHARED_URL = "redis://127.0.0.1:6379/0"


def _ping(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            data = s.recv(64)
            return data.startswith(b"+PONG") or data.startswith(b"-NOAUTH") or data.startswith(b"-ERR")
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    if not _ping(6379):
        unavailable("no Redis at 127.0.0.1:6379")
    return SHARED_URL


@pytest.fixture
def ns(redis_url: str) -> Iterator[str]:
    import redis

    name = "t" + secrets.token_hex(6)
    yield name
    r = redis.Redis.from_url(redis_url)
    keys = list(r.scan_iter(f"qd:{name}:*", count=1000))
    if keys:
        r.delete(*keys)
    r.close()


class RedisServer:
    """A redis-server this test owns: start, kill -9, start again on the same port."""

    def __init__(self, workdir: Path, extra: list[str] | None = None, tls: bool = False) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.extra = extra or []
        self.tls = tls
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        port_args = ["--port", "0", "--tls-port", str(self.port)] if self.tls else ["--port", str(self.port)]
        cmd = [
            "redis-server",
            *port_args,
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--dir", str(self.workdir),
            "--logfile", str(self.workdir / "redis.log"),
            *self.extra,
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = (self.workdir / "redis.log").read_text() if (self.workdir / "redis.log").exists() else ""
                raise RuntimeError(f"redis-server exited: {log[-2000:]}")
            if self._accepting():
                return
            time.sleep(0.02)
        raise RuntimeError("redis-server did not start within 10 s")

    def _accepting(self) -> bool:
        if self.tls:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return True
            except OSError:
                return False
        return _ping(self.port)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(5)
        self.proc = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[callable]:
    """Factory: ``redis_server(extra_args, tls=False)`` -> a started RedisServer."""
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed")
    servers: list[RedisServer] = []

    def make(extra: list[str] | None = None, tls: bool = False) -> RedisServer:
        d = tmp_path / f"redis{len(servers)}"
        d.mkdir()
        srv = RedisServer(d, extra, tls)
        servers.append(srv)
        srv.start()
        return srv

    yield make
    for srv in servers:
        srv.kill()
