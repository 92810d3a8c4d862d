"""Real PostgreSQL for the tests: a fresh database per test on the running
server, and a private cluster for tests that kill the server.

When the environment variable CI is set, a server that cannot be reached fails
the test instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from support.services import free_port, unavailable

ADMIN_DSN = os.environ.get("QUANTDESK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def with_db(dsn: str, dbname: str) -> str:
    return psycopg.conninfo.make_conninfo(dsn, dbname=dbname)


@pytest.fixture
def fresh_dsn() -> Iterator[str]:
    """A new, empty database on the running server, dropped afterwards."""
    name = f"quantdesk_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL at {ADMIN_DSN} is not reachable: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_db(ADMIN_DSN, name)
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def migrated_dsn(fresh_dsn: str) -> str:
    from quantdesk.sync.migrate import migrate

    with psycopg.connect(fresh_dsn) as conn:
        migrate(conn)
    return fresh_dsn


class Cluster:
    """A throwaway PostgreSQL 15 cluster run as the ``postgres`` OS user."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.data = root / "data"
        self.port = port
        self.dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _pg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=60)

    def init(self) -> None:
        self._pg(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                 "-E", "UTF8")

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"), "-w",
                 "-t", "30", "start")

    def kill(self) -> None:
        """Stop as a crash would: no shutdown checkpoint, clients cut off mid-transaction."""
        self._pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        self._pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if not (PG_BIN / "initdb").exists():
        unavailable(f"PostgreSQL 15 server binaries not found in {PG_BIN}")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        unavailable("runuser is needed to run PostgreSQL as the postgres user")
    root = Path(tempfile.mkdtemp(prefix="quantdesk-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    c = Cluster(root, free_port())
    try:
        c.init()
        c.start()
    except (subprocess.CalledProcessError, OSError, KeyError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        detail = getattr(exc, "stderr", "") or str(exc)
        unavailable(f"could not start a private PostgreSQL cluster: {detail}")
    try:
        yield c
    finally:
        c.stop()
        shutil.rmtree(root, ignore_errors=True)
