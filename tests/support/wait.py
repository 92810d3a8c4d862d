"""Waiting for something a real server or the event loop has to do.

Only for work that happens outside the test's control (a socket, a thread, a
worker task); timers of the code under test run on an injected clock instead.
The timeouts are generous because they bound a failure, not a success: a
passing test returns as soon as the condition holds, even on a loaded machine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def wait_until(pred: Callable[[], object], timeout: float = 10.0, interval: float = 0.02) -> bool:
    """True as soon as ``pred()`` holds; False if it still does not after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if pred():
            return True
        await asyncio.sleep(interval)
    return bool(pred())


async def until(cond: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> None:
    """Return once ``cond()`` holds; fail the test naming ``what`` if it never does."""
    if not await wait_until(cond, timeout):
        raise AssertionError(f"timed out waiting for {what}")
