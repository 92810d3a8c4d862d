"""One process's CPU shared by the consoles it serves.

Every SSH console runs in the server's one process, on one core. Each
repaints the feed's changes at the configured fps when the core has room;
when twenty traders' repaints would need more than the core, all of them
repaint less often instead of every key waiting behind a queue of frames.
Keys are not paced: a key's own change is painted as it is handled.

``FrameBudget`` is the rule (no I/O, no clock); ``Pacer`` reads the
process's CPU time once a window and sets every console's frame rate.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

WINDOW_S = 1.0  # how often the rate is set again
CORE_SHARE = 0.6  # of one core: what the consoles may use, the rest is headroom for keys and the feed
MIN_FPS = 2.0  # the feed's changes still reach every screen at least this often
STEP = 2.0  # a window moves the rate by at most this factor, so it settles without swinging


@dataclass(frozen=True)
class FrameBudget:
    max_fps: float
    share: float = CORE_SHARE
    min_fps: float = MIN_FPS

    def next_fps(self, fps: float, busy: float) -> float:
        """The frame rate for the next window, given the one used in the last
        and the share of a core the process was busy for (CPU s per wall s)."""
        if busy <= 0:
            wanted = self.max_fps
        else:
            # The repaints scale with the frame rate: aim the next window at the share.
            wanted = fps * self.share / busy
        wanted = min(max(wanted, fps / STEP), fps * STEP)
        return min(self.max_fps, max(self.min_fps, wanted))


class Paced(Protocol):
    def set_frame_rate(self, fps: float, phase: float = 0.0) -> None: ...


class Pacer:
    """Sets the frame rate of every console from the process's CPU use."""

    def __init__(
        self,
        budget: FrameBudget,
        consoles: Callable[[], Iterable[Paced]],
        *,
        cpu: Callable[[], float] = time.process_time,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        self.budget = budget
        self.consoles = consoles
        self.cpu = cpu
        self.wall = wall
        self.fps = budget.max_fps
        self._mark = (wall(), cpu())
        self._task: asyncio.Task[None] | None = None

    def step(self) -> float:
        """Measure the window that just ended and set the rate for the next."""
        now, used = self.wall(), self.cpu()
        (t0, c0), self._mark = self._mark, (now, used)
        if now <= t0:
            return self.fps
        fps = self.budget.next_fps(self.fps, (used - c0) / (now - t0))
        if abs(fps - self.fps) >= 0.05 * self.fps:
            log.debug("ssh consoles repaint at %.1f fps (was %.1f)", fps, self.fps)
            self.fps = fps
        consoles = list(self.consoles())
        for i, console in enumerate(consoles):
            # Spread over the interval: twenty frames back to back would hold every key behind them.
            console.set_frame_rate(self.fps, i / len(consoles))
        return self.fps

    def start(self) -> None:
        self._mark = (self.wall(), self.cpu())
        self._task = asyncio.create_task(self._run(), name="ssh-pacer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(WINDOW_S)
            self.step()
