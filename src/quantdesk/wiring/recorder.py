"""``--record FILE``: every event on a session's bus, stamped with the time the
session received it, written to a recording (``quantdesk.venues.recording``).

The bus side only stamps and queues (a deque append: the feed's hot path
stays a few hundred nanoseconds longer). A writer thread drains the queue
every ``interval`` seconds: it scrubs what a recording may not hold
(``record_policy``), keeps the state so far (``StateTracker``), and writes
blocks; when a part reaches its size it starts the next one with that state,
so every part replays on its own.

The first part opens with what the session's cache held when the recorder
attached (orders, fills and positions restored from the journal) and is
written once the venues have listed their markets and sent data. A disk that
fills or a file that cannot be written stops the recording, never the
session: ``problem`` says what happened, and the file keeps what came before.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from quantdesk import __version__
from quantdesk.core.bus import Subscription
from quantdesk.core.cache_state import StateTracker, state_events
from quantdesk.core.model import TOPIC_PREFIX
from quantdesk.venues.feed_wire import FEED_FAMILY, Stamped
from quantdesk.venues.recording.format import Codec, RecordingError
from quantdesk.venues.recording.writer import BLOCK_RECORDS, DEFAULT_MAX_BYTES, RecordingWriter
from quantdesk.venues.session import Session
from quantdesk.wiring.record_policy import TEXT_FIELDS, RecordPolicy

log = logging.getLogger(__name__)

RECORDED = frozenset(TOPIC_PREFIX)  # the model's events; anything else on the bus is the session's own business
# a venue's data, not its status: what shows its markets were listed and it is sending
MARKET_DATA = frozenset(t for t, family in FEED_FAMILY.items() if family != "status")
FLUSH_INTERVAL_S = 0.5
MAX_QUEUE = 1_000_000  # events waiting for a writer that fell behind; beyond it they are dropped and counted
OPEN_ANYWAY = 10_000  # queued events that open the first part even before any venue listed a market


class SessionRecorder:
    def __init__(
        self,
        session: Session,
        path: str | Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        keep: int = 0,
        secrets: Iterable[str] = (),
        codec: Codec | None = None,
        interval: float = FLUSH_INTERVAL_S,
    ) -> None:
        """Creates the file now; RecordingError saying what to change when it cannot."""
        self.writer = RecordingWriter(path, max_bytes=max_bytes, keep=keep, codec=codec, writer=f"quantdesk {__version__}")
        self.path = self.writer.path
        self.interval = interval
        self.problem = ""  # set when the recording stopped early
        self.dropped = 0  # events not recorded: the writer fell behind or stopped
        self._session = session
        self._clock = session.clock
        self._policy = RecordPolicy(secrets)
        self._queue: deque[Stamped] = deque()
        self._opening: list[Stamped] = []
        self._tracker = StateTracker()
        self._sub: Subscription | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one flush at a time
        self._failed = False
        self._unwritten = 0  # drained from the queue, not yet in the file

    def __repr__(self) -> str:
        return f"SessionRecorder({str(self.path)!r}, part={self.writer.part}, problem={self.problem!r})"

    # -- bus side ----------------------------------------------------------
    def attach(self) -> None:
        """Take the cache's state as the recording's opening and follow the bus.
        Call before the session starts, so the venues' first snapshots are seen."""
        now = self._clock()
        self._opening = [Stamped(now, ev) for ev in state_events(self._session.cache)]
        self._sub = self._session.bus.subscribe("#", self._on_event)

    def _on_event(self, topic: str, event: Any) -> None:
        if type(event) not in RECORDED:
            return
        if self._failed or len(self._queue) >= MAX_QUEUE:
            self.dropped += 1
            return
        self._queue.append(Stamped(self._clock(), event))

    # -- writer side -------------------------------------------------------
    def start(self) -> None:
        """Flush from a background thread every ``interval`` seconds."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="quantdesk-recorder", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def flush(self, final: bool = False) -> None:
        """Write what is queued (``final``: even if no venue listed a market)."""
        with self._lock:
            if self._failed:
                self._queue.clear()
                return
            try:
                self._flush(final)
            except (OSError, RecordingError) as exc:
                self._fail(getattr(exc, "strerror", None) or str(exc))
            except Exception as exc:  # a bug must cost the recording, never the session
                log.exception("the recorder failed")
                self._fail(f"{type(exc).__name__}: {exc}")

    def _ready(self, markets: list[Any]) -> bool:
        if markets and any(type(r.event) in MARKET_DATA for r in self._queue):
            return True
        return len(self._queue) >= OPEN_ANYWAY

    def _drain(self) -> list[Stamped]:
        q = self._queue
        return [q.popleft() for _ in range(len(q))]

    def _scrub(self, records: list[Stamped]) -> list[Stamped]:
        clean = self._policy.clean
        return [r if type(r.event) not in TEXT_FIELDS else Stamped(r.ts, clean(r.event)) for r in records]

    def _track(self, records: list[Stamped]) -> None:
        self._tracker.apply([r.event for r in records])

    def _flush(self, final: bool) -> None:
        w = self.writer
        markets = list(self._session.markets)
        if not w.begun:
            if not final and not self._ready(markets):
                return
            opening = self._scrub(self._opening)
            self._opening = []
            w.begin(markets, opening[0].ts if opening else self._clock(), opening)
            self._track(opening)
        records = self._scrub(self._drain())
        self._unwritten = len(records)
        for i in range(0, len(records), BLOCK_RECORDS):
            chunk = records[i : i + BLOCK_RECORDS]
            if w.full:
                ts = chunk[0].ts
                w.rotate(markets, ts, [Stamped(ts, ev) for ev in self._tracker.events()])
            w.append(chunk)
            self._unwritten -= len(chunk)
            self._track(chunk)

    def _fail(self, reason: str) -> None:
        self._failed = True
        self.dropped += len(self._queue) + self._unwritten
        self._queue.clear()
        self._unwritten = 0
        self.problem = f"recording stopped ({reason}); {self.writer.current} keeps what came before"
        log.error("%s", self.problem)

    def close(self) -> None:
        """Stop following the bus, write the rest and close the file."""
        if self._sub is not None:
            self._sub.close()
            self._sub = None
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.flush(final=True)
        try:
            self.writer.close()
        except OSError as exc:
            if not self._failed:
                self._fail(exc.strerror or str(exc))

    # -- what the trader sees ----------------------------------------------
    @property
    def bytes_written(self) -> int:
        return self.writer.bytes_written

    def segment(self) -> tuple[str, str]:
        """(text, state) for the status bar."""
        if self.problem:
            return ("rec stopped", "down")
        mb = self.writer.bytes_written / 1e6
        return (f"rec {mb:,.1f} MB", "connected")

    def summary(self) -> str:
        """One line for the end of a session."""
        w = self.writer
        parts = f" in {w.part + 1} parts" if w.part else ""
        line = f"recorded {w.events:,} events to {self.path}{parts} ({w.bytes_written / 1e6:,.1f} MB)"
        if self.dropped:
            line += f"; {self.dropped:,} events were not recorded"
        return f"{line}; {self.problem}" if self.problem else line

