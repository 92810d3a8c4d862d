"""Workspace writes waiting for Redis, kept in the local SQLite journal file.

When Redis is down a terminal's shared-state writes (watchlist entries, alerts,
notes, layouts) go into the table ``workspace_outbox`` of the journal file, so
they survive a restart of the terminal too. Each entry is keyed by what it
changes (``alert:<id>``, ``watch:<list>:<symbol>`` ...): a later write to the
same thing replaces the queued one, and every write is idempotent by name or
id, so replaying one twice changes nothing. The journal's own outbox is not
used: its sinks (Postgres) would receive these entries too.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import msgspec

_SCHEMA = """
CREATE TABLE IF NOT EXISTS workspace_outbox (
    team TEXT NOT NULL,
    key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    op TEXT NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (team, key)
)
"""


class QueuedWrite(msgspec.Struct, frozen=True):
    seq: int
    key: str
    op: str
    payload: bytes


class WorkspaceOutbox:
    """Queued workspace writes of one team, oldest first."""

    def __init__(self, path: str | Path, team: str) -> None:
        self.path = Path(path)
        self.team = team
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(_SCHEMA)
        self._count = self._conn.execute(
            "SELECT count(*) FROM workspace_outbox WHERE team = ?", (team,)
        ).fetchone()[0]

    def __repr__(self) -> str:
        return f"WorkspaceOutbox({str(self.path)!r}, team={self.team!r}, queued={self._count})"

    def put(self, key: str, op: str, payload: bytes) -> None:
        """Queue a write (replacing a queued write to the same thing)."""
        with self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            seq = self._conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM workspace_outbox").fetchone()[0]
            self._conn.execute(
                "INSERT INTO workspace_outbox VALUES (?, ?, ?, ?, ?) ON CONFLICT (team, key) DO UPDATE"
                " SET seq = excluded.seq, op = excluded.op, payload = excluded.payload",
                (self.team, key, seq, op, payload),
            )
        self._refresh()

    def pending(self) -> list[QueuedWrite]:
        rows = self._conn.execute(
            "SELECT seq, key, op, payload FROM workspace_outbox WHERE team = ? ORDER BY seq", (self.team,)
        ).fetchall()
        return [QueuedWrite(seq, key, op, bytes(payload)) for seq, key, op, payload in rows]

    def done(self, write: QueuedWrite) -> None:
        """Forget a write Redis has taken (unless it was replaced by a newer one meanwhile)."""
        self._conn.execute(
            "DELETE FROM workspace_outbox WHERE team = ? AND key = ? AND seq = ?", (self.team, write.key, write.seq)
        )
        self._refresh()

    def _refresh(self) -> None:
        self._count = self._conn.execute(
            "SELECT count(*) FROM workspace_outbox WHERE team = ?", (self.team,)
        ).fetchone()[0]

    def __len__(self) -> int:
        return self._count

    def close(self) -> None:
        self._conn.close()
