"""A recording played back as a venue, on the recording's clock.

Every recorded event is published again on the bus, under its own venue and
market, in the order it was received. The replay's clock (the session clock
of a replay) reads the receive time of the last event published, and while
playing it moves on between events with the wall clock times the speed: what
a pane shows after event N is the same on every run, and a quiet minute in
the recording still ticks its data ages.

``--from`` publishes everything before that moment at once (the screen at
that moment is built from all of it), then plays at speed. ``until`` stops
there. ``step`` publishes events one call at a time, paused, for the console's
step key and for tests. When the recording ends, or stops early at a cut,
``progress().ended`` says where and why.

The replay has no status of its own on the bus: the recorded venues' statuses
are replayed, and the console shows the replay's progress itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

from quantdesk.core.bus import Bus
from quantdesk.core.model import Market, MarketKind, topic_for
from quantdesk.venues.base import PlaybackProgress, VenueError
from quantdesk.venues.feed_wire import Stamped
from quantdesk.venues.recording.address import MAX_SPEED, SPEED_MAX, SPEED_MIN
from quantdesk.venues.recording.reader import Recording
from quantdesk.venues.recording.times import Moment, format_ns
from quantdesk.venues.timers import LOOP_TIMERS, Timers

log = logging.getLogger(__name__)

TICK_S = 0.05  # while playing, the clock moves on at least this often between events
SLICE = 200  # events published between yields to the loop, so keys and frames run between


class ReplayClock:
    """Recorded time: moves only when the replay moves it."""

    def __init__(self, start_ns: int) -> None:
        self.now_ns = start_ns

    def __call__(self) -> int:
        return self.now_ns


class ReplaySource:
    """A Venue (``venues/base.py``) and a Playback (``core/venue.py``)."""

    kind: MarketKind = "clob"
    health = None
    can_trade = False

    def __init__(
        self,
        path: str | Path,
        *,
        speed: float = 1.0,
        start: Moment | None = None,
        until: Moment | None = None,
        paused: bool = False,
        timers: Timers = LOOP_TIMERS,
        id: str = "replay",
    ) -> None:
        """Opens the recording now: RecordingError when there is none at ``path``."""
        self.id = id
        self.recording = Recording(path)
        self.summary = self.recording.scan()
        first = self.summary.first_ts or self.recording.meta.created
        self.start_ns = start.resolve(first) if start is not None else None
        self.until_ns = until.resolve(first) if until is not None else None
        self._start_text = start.text if start is not None else ""
        self.clock = ReplayClock(first)
        self.speed = speed
        self.paused = paused
        self.played = 0
        self.finished = False
        self.ended = ""
        self.cut = False  # stopped before the recording's end
        self._timers = timers
        self._records: Iterator[Stamped] = self.recording.records()
        self._next: Stamped | None = None
        self._bus: Bus | None = None
        self._changed = asyncio.Event()
        self._anchor_wall = 0.0
        self._anchor_rec = first

    def __repr__(self) -> str:
        return f"ReplaySource({str(self.recording.path)!r}, played={self.played}, speed={self.speed})"

    # -- Venue -------------------------------------------------------------
    async def connect(self) -> list[Market]:
        return self.recording.markets

    def bind(self, bus: Bus) -> None:
        self._bus = bus

    async def run(self, bus: Bus) -> None:
        self.bind(bus)
        await self._fast_forward()
        self._anchor()
        while True:
            if self.finished or self.paused:
                await self._wait(None)
                continue
            nxt = self._peek()
            if nxt is None:
                continue
            now = self._timers.now()
            if self.speed != MAX_SPEED:
                due = self._due(nxt.ts)
                if due > now:
                    # between events recorded time moves with the wall clock
                    self.clock.now_ns = max(self.clock.now_ns, min(nxt.ts, self._recorded_at(now)))
                    await self._wait(min(due - now, TICK_S))
                    continue
            for _ in range(SLICE):
                if self.paused or self._peek() is None:
                    break
                assert self._next is not None
                if self.speed != MAX_SPEED and self._due(self._next.ts) > now:
                    break
                self._publish(self._pop())
            await asyncio.sleep(0)

    def request_resync(self, market: str) -> None:
        """A recording cannot be asked again: a gap stays a gap until its next snapshot."""

    async def close(self) -> None:
        self.finished = True
        self._changed.set()

    # -- Playback ----------------------------------------------------------
    def progress(self) -> PlaybackProgress:
        return PlaybackProgress(
            self.played, self.summary.events, self.clock(), self.speed, self.paused, self.finished, self.ended, self.cut
        )

    def pause(self) -> None:
        self.paused = True
        self._changed.set()

    def resume(self) -> None:
        self.paused = False
        self._anchor()
        self._changed.set()

    def set_speed(self, speed: float) -> None:
        self.speed = speed if speed == MAX_SPEED else min(SPEED_MAX, max(SPEED_MIN, speed))
        self._anchor()
        self._changed.set()

    def step(self, n: int = 1) -> int:
        self.paused = True
        self._changed.set()
        done = 0
        while done < n and self._bus is not None and self._peek() is not None:
            self._publish(self._pop())
            done += 1
        return done

    # -- playing -----------------------------------------------------------
    def _anchor(self) -> None:
        self._anchor_wall = self._timers.now()
        self._anchor_rec = self.clock()

    def _due(self, ts: int) -> float:
        """When (timers' clock) the event received at ``ts`` is due."""
        return self._anchor_wall + (ts - self._anchor_rec) / 1e9 / self.speed

    def _recorded_at(self, now: float) -> int:
        return self._anchor_rec + int((now - self._anchor_wall) * self.speed * 1e9)

    async def _wait(self, timeout: float | None) -> None:
        """Until a control changes, or ``timeout`` seconds."""
        try:
            if timeout is None:
                await self._changed.wait()
            else:
                async with self._timers.timeout(timeout):
                    await self._changed.wait()
        except TimeoutError:
            pass
        self._changed.clear()

    async def _fast_forward(self) -> None:
        """Everything before ``--from`` at once, in slices between which the loop runs."""
        if self.start_ns is None:
            return
        while True:
            for _ in range(SLICE):
                nxt = self._peek()
                if nxt is None or nxt.ts >= self.start_ns:
                    break
                self._publish(self._pop())
            else:
                await asyncio.sleep(0)
                continue
            break
        if self.finished and self.recording.cut is None:
            last = format_ns(self.clock())
            self.ended = f"the recording ends at {last}, before --from {self._start_text}: all {self.played:,} events replayed"
        else:
            self.clock.now_ns = max(self.clock.now_ns, self.start_ns)

    def _peek(self) -> Stamped | None:
        if self._next is None and not self.finished:
            try:
                self._next = next(self._records)
            except StopIteration:
                self._finish(self._end_message())
            except OSError as exc:
                self.cut = True
                self._finish(f"the recording could not be read on ({exc.strerror or exc}): {self.played:,} events replayed")
            if self._next is not None and self.until_ns is not None and self._next.ts > self.until_ns:
                self._next = None
                self.clock.now_ns = max(self.clock.now_ns, self.until_ns)
                self._finish(f"stopped at {format_ns(self.until_ns)} as asked: {self.played:,} events replayed")
        return self._next

    def _pop(self) -> Stamped:
        rec, self._next = self._next, None
        assert rec is not None
        return rec

    def _publish(self, rec: Stamped) -> None:
        bus = self._bus
        if bus is None:
            raise VenueError("the replay has no bus to publish on yet")
        self.clock.now_ns = rec.ts
        self.played += 1
        ev = rec.event
        bus.publish(topic_for(ev), ev)

    def _end_message(self) -> str:
        cut = self.recording.cut
        if cut is not None:
            self.cut = True
            where = format_ns(self.clock()) if self.played else "its start"
            return f"the recording stops early: {cut.describe()}; replayed {self.played:,} events, up to {where}"
        if not self.played:
            return "the recording holds no events"
        return f"end of the recording: {self.played:,} events, up to {format_ns(self.clock())}"

    def _finish(self, message: str) -> None:
        self.finished = True
        self.ended = message
        log.info("replay of %s: %s", self.recording.path, message)
        self._changed.set()
