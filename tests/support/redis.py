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
    keys = [k for pattern in (f"qd:{{{name}}}:*", f"qd:{name}:*") for k in r.scan_iter(pattern, count=1000)]
    if keys:
        r.delete(*keys)
    r.close()


class RedisServer:
    """A redis-server this test owns: start, kill -9, start again on the same port."""

    def __init__(self, workdir: Path, extra: list[str] | None = None, tls: bool = False, port: int | None = None) -> None:
        self.port = port or free_port()
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


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000, as Redis fixes it) is free too."""
    import random

    for _ in range(200):
        port = random.randint(20_000, 45_000)
        if _bindable(port) and _bindable(port + 10_000):
            return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


class RedisCluster:
    """A three-master Redis Cluster this test session owns, on free ports."""

    def __init__(self, workdir: Path, masters: int = 3) -> None:
        extra = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"]
        self.nodes = []
        for i in range(masters):
            d = workdir / f"node{i}"
            d.mkdir()
            self.nodes.append(RedisServer(d, extra, port=_cluster_port()))

    @property
    def url(self) -> str:
        """Any one node seeds the client; it learns the others."""
        return f"redis://127.0.0.1:{self.nodes[0].port}/0?cluster=true"

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        addrs = [f"127.0.0.1:{n.port}" for n in self.nodes]
        subprocess.run(
            ["redis-cli", "--cluster", "create", *addrs, "--cluster-replicas", "0", "--cluster-yes"],
            check=True, capture_output=True, timeout=60,
        )
        import redis

        deadline = time.monotonic() + 30
        for node in self.nodes:  # every node must agree the cluster is up before a client seeds from it
            r = redis.Redis(port=node.port)
            while r.cluster("info").get("cluster_state") != "ok":
                if time.monotonic() > deadline:
                    raise RuntimeError("the test Redis Cluster did not reach cluster_state:ok within 30 s")
                time.sleep(0.05)
            r.close()

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """A real three-master cluster (redis-server --cluster-enabled, redis-cli --cluster create)."""
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        unavailable("redis-server and redis-cli are needed for a Redis Cluster")
    cluster = RedisCluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


class RedisSentinelSet:
    """A master, its replica and one sentinel watching them as ``service``
    (quorum 1, half a second to call the master down): a failover in seconds."""

    def __init__(self, workdir: Path, service: str = "desk") -> None:
        self.service = service
        self.workdir = workdir
        for name in ("master", "replica", "sentinel"):
            (workdir / name).mkdir()
        self.master = RedisServer(workdir / "master")
        self.replica = RedisServer(workdir / "replica")
        self.sentinel_port = free_port()
        self.sentinel: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{self.service}/0"

    def start(self) -> None:
        self.master.start()
        self.replica.extra = ["--replicaof", "127.0.0.1", str(self.master.port)]
        self.replica.start()
        conf = self.workdir / "sentinel" / "sentinel.conf"
        conf.write_text(
            f"port {self.sentinel_port}\nbind 127.0.0.1\ndir {self.workdir / 'sentinel'}\n"
            f"sentinel monitor {self.service} 127.0.0.1 {self.master.port} 1\n"
            f"sentinel down-after-milliseconds {self.service} 500\n"
            f"sentinel failover-timeout {self.service} 2000\n"
        )
        self.sentinel = subprocess.Popen(
            ["redis-server", str(conf), "--sentinel", "--logfile", str(self.workdir / "sentinel" / "log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while self.master_port() != self.master.port or not self.replica_synced():
            if time.monotonic() > deadline:
                raise RuntimeError("the test sentinel did not see its master and replica within 15 s")
            time.sleep(0.05)

    def master_port(self) -> int | None:
        import redis

        try:
            r = redis.Redis(port=self.sentinel_port, socket_timeout=1)
            addr = r.execute_command("SENTINEL", "get-master-addr-by-name", self.service)
            r.close()
        except (redis.RedisError, OSError):
            return None
        return int(addr[1]) if addr else None

    def replica_synced(self) -> bool:
        import redis

        r = redis.Redis(port=self.replica.port, socket_timeout=1)
        try:
            return r.info("replication").get("master_link_status") == "up"
        except (redis.RedisError, OSError):
            return False
        finally:
            r.close()

    def stop(self) -> None:
        if self.sentinel is not None and self.sentinel.poll() is None:
            self.sentinel.kill()
            self.sentinel.wait(5)
        self.master.kill()
        self.replica.kill()


@pytest.fixture
def redis_sentinel(tmp_path: Path) -> Iterator[RedisSentinelSet]:
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed")
    group = RedisSentinelSet(tmp_path)
    try:
        group.start()
        yield group
    finally:
        group.stop()
