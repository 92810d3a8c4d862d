"""The loop every journal syncer shares: read the outbox, push, acknowledge.

A syncer subclass says how one batch reaches its store (:meth:`push_once`) and
which errors mean "the store is away" (:meth:`outage`). This class keeps the
rest the same for all of them: entries are acknowledged only after the store
committed them, so a crash or an outage in between re-sends them and the
store's upsert by id absorbs the repeat; while the store is away trading goes
on, :attr:`state` says ``down since ...`` with how many entries wait, and the
loop retries with exponential backoff.
"""

from __future__ import annotations

import asyncio
import threading
from abc import ABC, abstractmethod
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Literal

import msgspec

from quantdesk.trading.journal import DEFAULT_SINK, Journal, OutboxEntry

SyncStatus = Literal["ok", "behind", "down"]


class SyncState(msgspec.Struct, frozen=True):
    status: SyncStatus
    pending: int = 0  # outbox entries not yet in the store
    down_since: int | None = None  # ns, first failed attempt of the current outage
    last_ok: int | None = None  # ns, last successful push
    last_error: str = ""  # secret-free
    label: str = "db"  # what the status bar calls this store
    needs_login: bool = False  # the store refused who we are: the trader must sign in again

    def describe(self) -> str:
        """Short text for the status bar: ``db ok``, ``db behind 12``, ``db down since 07:12:03 (40 queued)``."""
        if self.status == "down":
            since = ""
            if self.down_since:
                since = " since " + datetime.fromtimestamp(self.down_since // 10**9, tz=timezone.utc).strftime(
                    "%H:%M:%S"
                )
            word = "signed out" if self.needs_login else "down"
            return f"{self.label} {word}{since} ({self.pending} queued)"
        if self.status == "behind":
            return f"{self.label} behind {self.pending}"
        return f"{self.label} ok"


class Outage(Exception):
    """One failed attempt, described without secrets."""

    def __init__(self, message: str, *, needs_login: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.needs_login = needs_login


def latest_rows(entries: list[OutboxEntry], tables: dict[str, tuple[str, ...]]) -> dict[tuple[str, str], OutboxEntry]:
    """The newest entry per (table, row id): later entries for the same row
    supersede earlier ones (an order's updates). Entries for tables the store
    does not keep are left out (and acknowledged unsent)."""
    latest: dict[tuple[str, str], OutboxEntry] = {}
    for e in entries:
        if e.table in tables:
            latest[(e.table, e.id)] = e
    return latest


class OutboxSyncer(ABC):
    """Moves outbox entries of ``journal`` (sink ``sink``) to a store.

    Use :meth:`sync` for one catch-up pass (raises on failure), or run it in the
    background with :meth:`start`/:meth:`stop` (a thread) or ``await run()``.
    """

    label = "db"
    thread_name = "quantdesk-sync"

    def __init__(
        self,
        journal: Journal,
        *,
        batch_size: int = 500,
        sink: str = DEFAULT_SINK,
        poll_interval: float = 0.5,
        min_backoff: float = 0.5,
        max_backoff: float = 30.0,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.journal = journal
        self.batch_size = batch_size
        self.sink = sink
        self.poll_interval = poll_interval
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self._clock = clock
        self._state = SyncState("ok", label=self.label)
        self._backoff = min_backoff
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.pushed = 0  # rows committed to the store by this syncer

    # -- what a store provides -------------------------------------------------

    @abstractmethod
    def push_once(self) -> int:
        """Push one batch; returns how many entries were acknowledged. Raises when
        the store cannot take it (nothing is acknowledged). Each store (PostgreSQL,
        Supabase's REST API) implements it."""

    def outage(self, exc: Exception) -> Outage | None:
        """``exc`` as an outage to wait out, or None for an error that is a bug."""
        return None

    def reset(self) -> None:
        """Forget connections after a failure (the next attempt makes new ones)."""

    # -- state -------------------------------------------------------------

    @property
    def state(self) -> SyncState:
        """The current state with a fresh pending count."""
        s = self._state
        pending = self.journal.pending_count(self.sink)
        status: SyncStatus = s.status if s.status == "down" else ("behind" if pending else "ok")
        return msgspec.structs.replace(s, status=status, pending=pending)

    # -- pushing -----------------------------------------------------------

    def sync(self) -> int:
        """Push until the outbox is empty; returns entries acknowledged. Raises on failure."""
        total = 0
        while True:
            n = self.push_once()
            total += n
            if n == 0 or self.journal.pending_count(self.sink) == 0:
                return total

    def step(self) -> float:
        """One attempt to catch up; records the outcome in :attr:`state` and returns
        how long to wait before the next attempt."""
        try:
            self.sync()
        except Exception as exc:
            failure = self.outage(exc)
            if failure is None:
                raise
            self.reset()
            now = self._clock()
            prev = self._state
            self._state = SyncState(
                "down",
                down_since=prev.down_since if prev.status == "down" else now,
                last_ok=prev.last_ok,
                last_error=failure.message,
                label=self.label,
                needs_login=failure.needs_login,
            )
            delay = self._backoff
            self._backoff = min(self.max_backoff, self._backoff * 2)
            return delay
        self._backoff = self.min_backoff
        self._state = SyncState("ok", last_ok=self._clock(), label=self.label)
        return self.poll_interval

    def notify(self) -> None:
        """Wake the background loop now (after a journal write) instead of at its next poll."""
        self._wake.set()

    # -- background --------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            delay = self.step()
            self._wake.wait(delay)
            self._wake.clear()
        self.reset()

    def start(self) -> threading.Thread:
        """Run in a daemon thread until :meth:`stop`."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    async def run(self) -> None:
        """The same loop for an asyncio app: each attempt runs in a worker thread."""
        try:
            while True:
                delay = await asyncio.to_thread(self.step)
                await asyncio.sleep(delay)
        finally:
            await asyncio.to_thread(self.reset)


__all__ = ["Outage", "OutboxSyncer", "SyncState", "SyncStatus", "latest_rows"]
