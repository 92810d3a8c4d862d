"""Giving back to the server's process what ended consoles leave.

The settled heap is frozen (``console.collector``), so an ended console's
widgets, which form reference cycles, wait for a collection. Part of a console
outlives its end by a few seconds: every Textual timer it stopped (a
notification's, a refresh's) leaves its cancelled sleep in the event loop's
schedule until that sleep's time comes, and the sleep's context holds the App.
So a collection runs a little after consoles end, and again, later each time,
while one of them is still held. One still held after the last try is not
waiting on a timer: it is logged as memory the server does not give back.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable
from contextvars import Context

from quantdesk.console import collector

log = logging.getLogger(__name__)

# Seconds from one try to the next: the first once the console's own tasks let
# go of it, the later ones past the longest notification a console shows (20 s).
TRIES_S = (2.0, 4.0, 8.0, 16.0, 32.0)


class Reclaimer:
    """Collects after consoles end until each is given back (or logged as kept)."""

    def __init__(self, collect: Callable[[], None] = collector.reclaim, tries_s: tuple[float, ...] = TRIES_S) -> None:
        self.collect = collect
        self.tries_s = tries_s
        self.give_up_s = sum(tries_s)  # a console held this long after it ended is not waiting on a timer
        self._held: list[tuple[str, weakref.ref[object], float]] = []  # ended consoles not yet given back
        self._try = 0
        self._timer: asyncio.TimerHandle | None = None

    def ended(self, who: str, app: object) -> None:
        """``who``'s console ``app`` has ended: collect it once nothing holds it."""
        loop = asyncio.get_running_loop()
        self._held.append((who, weakref.ref(app), loop.time()))
        if self._timer is None:  # one collection for consoles ending together
            self._try = 0
            self._schedule()

    def held(self) -> list[str]:
        """Whose ended consoles are still in memory."""
        return [who for who, app, _ in self._held if app() is not None]

    @property
    def scheduled(self) -> bool:
        """Whether another collection is to come."""
        return self._timer is not None

    def _schedule(self) -> None:
        # An empty context: the collection must not itself carry a context that names an ended console.
        self._timer = asyncio.get_running_loop().call_later(self.tries_s[self._try], self.run, context=Context())

    def run(self) -> None:
        """Collect now; try again later while an ended console is still held."""
        self.close()
        started = time.perf_counter()
        self.collect()
        log.info("collected what ended consoles left in %.0f ms", (time.perf_counter() - started) * 1000)
        now = asyncio.get_running_loop().time()
        held = [(who, app, at) for who, app, at in self._held if app() is not None]
        kept = [who for who, _, at in held if now - at >= self.give_up_s]
        if kept:
            log.warning("the ended consoles of %s are still in memory %.0f s after they ended: "
                        "something other than a timer holds them", ", ".join(kept), self.give_up_s)
        self._held = [(who, app, at) for who, app, at in held if now - at < self.give_up_s]
        if self._held:
            self._try = min(self._try + 1, len(self.tries_s) - 1)
            self._schedule()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
