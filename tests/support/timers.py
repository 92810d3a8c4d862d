"""Timers that move only when the test moves them (quantdesk.venues.timers.Timers).

A silence deadline, a backoff or a poll interval of the code under test then
passes when the test calls ``advance``, never because the machine was slow:
real servers still answer at their own pace, but no timer expires while the
test waits for them."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest


class ManualTimers:
    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._due: list[tuple[float, int, Callable[[], None]]] = []
        self._ids = itertools.count()
        self._live: set[int] = set()

    def now(self) -> float:
        return self._now

    @property
    def waiting(self) -> int:
        """Timers set and not yet expired or left."""
        return len(self._live)

    def _at(self, when: float, fire: Callable[[], None]) -> int:
        n = next(self._ids)
        heapq.heappush(self._due, (when, n, fire))
        self._live.add(n)
        return n

    async def sleep(self, delay: float) -> None:
        if delay <= 0:
            await asyncio.sleep(0)
            return
        done = asyncio.get_running_loop().create_future()
        n = self._at(self._now + delay, lambda: done.done() or done.set_result(None))
        try:
            await done
        finally:
            self._live.discard(n)

    @asynccontextmanager
    async def timeout(self, delay: float) -> AsyncIterator[object]:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(None) as cm:
            # expiring = rescheduling the real timeout to now: asyncio then
            # cancels the block and raises TimeoutError exactly as it would
            expire = lambda: cm.reschedule(loop.time())  # noqa: E731
            if delay <= 0:
                expire()
            n = self._at(self._now + max(0.0, delay), expire)
            try:
                yield cm
            finally:
                self._live.discard(n)

    async def advance(self, seconds: float) -> None:
        """Move time on by ``seconds``, fire every timer now due, and let the
        woken tasks run."""
        self._now += seconds
        while self._due and self._due[0][0] <= self._now:
            _, n, fire = heapq.heappop(self._due)
            if n in self._live:
                self._live.discard(n)
                fire()
        for _ in range(5):
            await asyncio.sleep(0)

    async def advance_until(self, cond: Callable[[], object], step: float, what: str, timeout: float = 10.0) -> None:
        """Advance ``step`` at a time until ``cond()`` holds, giving real
        servers a moment to answer between steps; fail naming ``what`` if it
        never does within ``timeout`` real seconds."""

        async def stepped() -> bool:
            if cond():
                return True
            await self.advance(step)
            return bool(cond())

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if await stepped():
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def timers() -> ManualTimers:
    return ManualTimers()

