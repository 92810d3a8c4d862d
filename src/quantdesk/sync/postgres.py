"""Push the local journal to PostgreSQL (Supabase) through the journal's outbox.

The SQLite journal is the source of truth. This syncer reads outbox entries in
order, upserts them by id (``INSERT ... ON CONFLICT (owner, id) DO UPDATE``) in
one transaction per batch, run as the trader: ``SET LOCAL ROLE authenticated``
plus the request's JWT claims, so the database's row-level security checks
every row exactly as it would for a Supabase client. Entries are acknowledged
only after the commit; a crash in between re-sends them and the upsert makes
that harmless, so every row arrives once.

When the server is unreachable trading goes on: entries wait in the outbox,
:attr:`PostgresSync.state` says ``down since ...`` with how many are waiting,
and the syncer retries with exponential backoff and catches up when it returns.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from quantdesk.trading.journal import DEFAULT_SINK, Journal, OutboxEntry
from quantdesk.sync.outbox_sync import Outage, OutboxSyncer, SyncState, SyncStatus, latest_rows
from quantdesk.sync.pg_dsn import describe_error, find_dsn, redact, resolve_team_id, resolve_user_id

if TYPE_CHECKING:
    import psycopg

# Outbox table -> the columns the remote table takes from the payload (besides
# id). Column names come only from here, never from a payload, so a payload
# cannot inject SQL.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "intents": ("ts", "venue", "market", "side", "type", "size", "price", "trigger_price", "post_only",
                "reduce_only", "ioc", "client_id"),
    "risk_events": ("intent_id", "ts", "accepted", "reason", "limit_name", "limit_value", "excess"),
    "orders": ("venue", "market", "order_id", "side", "type", "size", "price", "trigger_price", "filled",
               "status", "post_only", "reduce_only", "ioc", "client_id", "ts", "reason", "updated_ts"),
    "cancels": ("ts", "venue", "order_id", "reason"),
    "fills": ("venue", "market", "order_id", "fill_id", "side", "price", "size", "fee", "liquidity", "ts"),
    "funding_payments": ("venue", "market", "amount", "rate", "ts", "kind"),
    "liquidations": ("venue", "market", "base", "price", "fee", "ts", "reason"),
    "positions": ("venue", "market", "base", "quote_entry", "entry_price", "mark_price", "unrealized_pnl",
                  "realized_pnl", "liquidation_price", "margin", "leverage_bps", "ts"),
    "accounts": ("venue", "ts", "collateral", "equity", "free_collateral", "margin_requirement", "health",
                 "leverage_bps"),
}

__all__ = ["TABLE_COLUMNS", "PostgresSync", "SyncError", "SyncState", "SyncStatus", "configured_sync"]


class SyncError(Exception):
    """Configuration the syncer cannot work with; the message says what to fix."""


def _upsert_sql(table: str, columns: tuple[str, ...]) -> Any:
    from psycopg import sql

    cols = ("id", *columns)
    updates: list[sql.Composable] = [sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in cols if c != "id"]
    updates.append(sql.SQL("synced_at = now()"))
    return sql.SQL(
        "INSERT INTO public.{t} ({cols}) VALUES ({vals}) ON CONFLICT (owner, id) DO UPDATE SET {upd}"
    ).format(
        t=sql.Identifier(table),
        cols=sql.SQL(", ").join(map(sql.Identifier, cols)),
        vals=sql.SQL(", ").join(sql.Placeholder() * len(cols)),
        upd=sql.SQL(", ").join(updates),
    )


def _check_uuid(value: str, what: str, env: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise SyncError(
            f"The {what} {value!r} is not a uuid; set {env} (or [db] in the config) to the Supabase "
            "user's id, e.g. 1f0e4c1a-...; it is under Authentication > Users."
        ) from None


class PostgresSync(OutboxSyncer):
    """Moves outbox entries of ``journal`` to the database at ``dsn`` as ``user_id``.

    Use :meth:`sync` for one catch-up pass (raises on failure), or run it in the
    background with :meth:`start`/:meth:`stop` (a thread) or ``await run()``.
    """

    label = "db"
    thread_name = "quantdesk-pg-sync"

    def __init__(
        self,
        journal: Journal,
        dsn: str,
        user_id: str,
        *,
        team_id: str | None = None,
        batch_size: int = 500,
        sink: str = DEFAULT_SINK,
        poll_interval: float = 0.5,
        min_backoff: float = 0.5,
        max_backoff: float = 30.0,
        connect_timeout: int = 5,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        super().__init__(journal, batch_size=batch_size, sink=sink, poll_interval=poll_interval,
                         min_backoff=min_backoff, max_backoff=max_backoff, clock=clock)
        self._dsn = dsn
        self.user_id = _check_uuid(user_id, "database user id", "QUANTDESK_DB__USER_ID")
        self.team_id = _check_uuid(team_id, "team id", "QUANTDESK_DB__TEAM_ID") if team_id else None
        self.connect_timeout = connect_timeout
        self._conn: psycopg.Connection | None = None
        self._claims = json.dumps({"sub": self.user_id, "role": "authenticated", "aud": "authenticated"})
        self._sql = {t: _upsert_sql(t, cols + (("team_id",) if self.team_id else ())) for t, cols in TABLE_COLUMNS.items()}

    def __repr__(self) -> str:
        return f"PostgresSync({redact(self._dsn)!r}, user={self.user_id})"

    # -- pushing -----------------------------------------------------------

    def _connect(self) -> psycopg.Connection:
        import psycopg

        if self._conn is None or self._conn.closed or self._conn.broken:
            self._drop_connection()
            # prepare_threshold=None: Supabase's transaction pooler cannot keep prepared
            # statements. Keepalives: a silently dropped network shows as "down" within
            # about 30 s instead of hanging a push forever.
            self._conn = psycopg.connect(
                self._dsn, autocommit=True, connect_timeout=self.connect_timeout, prepare_threshold=None,
                keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3,
                tcp_user_timeout=30_000,
            )
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                pass
            self._conn = None

    def reset(self) -> None:
        self._drop_connection()

    def outage(self, exc: Exception) -> Outage | None:
        import psycopg

        if isinstance(exc, (psycopg.Error, OSError)):
            return Outage(describe_error(exc, self._dsn))
        return None

    def _row(self, entry: OutboxEntry, columns: tuple[str, ...]) -> list[Any]:
        p = entry.payload
        row = [entry.id, *(p.get(c) for c in columns)]
        if self.team_id:
            row.append(self.team_id)
        return row

    def push_once(self) -> int:
        """Push one batch in one transaction; returns how many entries were acknowledged.
        Raises ``psycopg.Error`` when the database cannot take it (nothing is acknowledged)."""
        entries = self.journal.pending(self.batch_size, self.sink)
        if not entries:
            return 0
        latest = latest_rows(entries, TABLE_COLUMNS)
        by_table: dict[str, list[list[Any]]] = {}
        for (table, _), e in latest.items():
            by_table.setdefault(table, []).append(self._row(e, TABLE_COLUMNS[table]))
        conn = self._connect()
        with conn.transaction():
            with conn.cursor() as cur:
                cur.execute("SET LOCAL ROLE authenticated")
                cur.execute("SELECT set_config('request.jwt.claims', %s, true)", (self._claims,))
                cur.execute("SELECT set_config('request.jwt.claim.sub', %s, true)", (self.user_id,))
                for table, rows in by_table.items():
                    cur.executemany(self._sql[table], rows)
        # Committed: now (and only now) the entries may leave the outbox.
        done = self.journal.mark_done([e.seq for e in entries], self.sink)
        self.pushed += len(latest)
        return done


def configured_sync(journal: Journal, **options: Any) -> PostgresSync | None:
    """The syncer the configuration asks for (``[db] dsn`` / ``QUANTDESK_DB__DSN``
    plus the user id), or None when no database is configured. Raises
    :class:`SyncError` or ``DSNError`` with a fix when the setup is incomplete."""
    dsn = find_dsn()
    if not dsn:
        return None
    user_id = resolve_user_id()
    if not user_id:
        raise SyncError(
            "A database is configured but no user id: set QUANTDESK_DB__USER_ID to the Supabase user's id "
            "(Authentication > Users) so journal rows are written as that user."
        )
    return PostgresSync(journal, dsn, user_id, team_id=resolve_team_id() or None, **options)
