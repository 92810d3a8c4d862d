"""Push the local journal to Supabase through its REST API, as the trader.

The same outbox the PostgreSQL syncer reads (its own cursor, sink
``supabase``), the same tables, but no database password: each batch is one
upsert per table, ``POST /rest/v1/<table>?on_conflict=owner,id`` with
``Prefer: resolution=merge-duplicates``, carrying the trader's access token.
PostgREST runs it as that user, the owner column defaults to ``auth.uid()``,
and the row-level security policies check every row.

Entries are acknowledged only after every table of the batch was accepted; a
failure part-way, or a response lost after PostgREST committed, re-sends the
batch, and the upsert by (owner, id) makes the repeat harmless. A token the
server calls expired is refreshed once and the request sent again; a session
that cannot be refreshed turns the state to "signed out" with what to do,
and the entries wait in the outbox.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from quantdesk.trading.journal import Journal
from quantdesk.sync.outbox_sync import Outage, OutboxSyncer, latest_rows
from quantdesk.sync.postgres import TABLE_COLUMNS
from quantdesk.sync.supabase_api import is_unreachable
from quantdesk.sync.supabase_session import SessionUnavailable, SupabaseAuthError, TraderSession

SINK = "supabase"
# PostgREST's answers to a token it will not take (expired, bad signature, malformed).
JWT_REJECTED = ("PGRST301", "PGRST302", "PGRST303")


def token_rejected(exc: BaseException) -> bool:
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None) or ""
    return code in JWT_REJECTED or (isinstance(message, str) and message.startswith("JWT"))


class SupabaseJournalSync(OutboxSyncer):
    """Moves outbox entries of ``journal`` to the Supabase project of ``session``."""

    label = "journal"
    thread_name = "quantdesk-supabase-sync"

    def __init__(
        self,
        journal: Journal,
        session: TraderSession,
        *,
        team_id: str | None = None,
        batch_size: int = 500,
        sink: str = SINK,
        poll_interval: float = 0.5,
        min_backoff: float = 0.5,
        max_backoff: float = 30.0,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        super().__init__(journal, batch_size=batch_size, sink=sink, poll_interval=poll_interval,
                         min_backoff=min_backoff, max_backoff=max_backoff, clock=clock)
        self.session = session
        self.project = session.project
        self.team_id = team_id

    def __repr__(self) -> str:
        return f"SupabaseJournalSync({self.project.url!r}, user={self.session.user_id})"

    def outage(self, exc: Exception) -> Outage | None:
        if isinstance(exc, SessionUnavailable):
            return Outage(str(exc))
        if isinstance(exc, SupabaseAuthError):
            return Outage(str(exc), needs_login=True)
        from postgrest.exceptions import APIError

        if isinstance(exc, APIError):
            if not exc.code:  # the gateway's own answer (502/503/504): PostgREST itself is away
                return Outage(f"Supabase at {self.project.url} did not answer: {self.project.describe_error(exc)}")
            if token_rejected(exc):
                return Outage(f"Supabase refused the session ({self.project.describe_error(exc)}); "
                              f"{self.session.fix}", needs_login=True)
            # Kept, not dropped: the entries wait until the project takes them
            # (a missing migration, a policy that refuses them).
            return Outage(f"Supabase refused the journal rows: {self.project.describe_error(exc)}")
        if is_unreachable(exc):
            return Outage(f"Supabase at {self.project.url} did not answer: {self.project.describe_error(exc)}")
        return None

    def _rows(self, table: str, entries: list[Any]) -> list[dict[str, Any]]:
        cols = TABLE_COLUMNS[table]
        rows = []
        for e in entries:
            row = {"id": e.id, **{c: e.payload.get(c) for c in cols}}
            if self.team_id:
                row["team_id"] = self.team_id
            rows.append(row)
        return rows

    def _upsert(self, table: str, rows: list[dict[str, Any]]) -> None:
        from postgrest.exceptions import APIError
        from postgrest.types import ReturnMethod

        token = self.session.access_token()
        for attempt in (1, 2):
            rest = self.project.client().postgrest
            rest.auth(token)
            try:
                rest.from_(table).upsert(rows, on_conflict="owner,id", returning=ReturnMethod.minimal).execute()
                return
            except APIError as exc:
                if attempt == 2 or not token_rejected(exc) or not self.session.refreshable:
                    raise
                token = self.session.refresh(rejected=token)  # expired early (clock skew): once more

    def push_once(self) -> int:
        entries = self.journal.pending(self.batch_size, self.sink)
        if not entries:
            return 0
        latest = latest_rows(entries, TABLE_COLUMNS)
        by_table: dict[str, list[Any]] = {}
        for (table, _), e in latest.items():
            by_table.setdefault(table, []).append(e)
        for table, batch in by_table.items():
            self._upsert(table, self._rows(table, batch))
        # Every table took its rows: now (and only now) the entries may leave the outbox.
        done = self.journal.mark_done([e.seq for e in entries], self.sink)
        self.pushed += len(latest)
        return done
