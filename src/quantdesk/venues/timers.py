"""The timers a venue adapter waits on: silence deadlines, backoff, polling.

Adapters take a ``Timers`` so a test can hand them a manual one and move time
itself: a silence or a backoff then takes exactly as long as the test says,
however loaded the machine is. ``LOOP_TIMERS`` is the event loop's clock."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from typing import Protocol


class Timers(Protocol):
    def now(self) -> float:
        """Monotonic seconds."""
        ...

    async def sleep(self, delay: float) -> None: ...

    def timeout(self, delay: float) -> AbstractAsyncContextManager[object]:
        """Raise ``TimeoutError`` out of the block if it is still running after ``delay`` seconds."""
        ...


class LoopTimers:
    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, delay: float) -> None:
        await asyncio.sleep(delay)

    def timeout(self, delay: float) -> AbstractAsyncContextManager[object]:
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a
        # cancellation that lands as the awaited result arrives.
        return asyncio.timeout(delay)


LOOP_TIMERS = LoopTimers()
