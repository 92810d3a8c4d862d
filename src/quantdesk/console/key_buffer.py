"""Type-ahead: no key is lost while the focus moves.

A key that opens the command line, pushes the ticket or moves the focus takes
effect a little later (Textual focuses a widget on a later turn of the App's
queue, and a pushed screen mounts its widgets in its own task). Keys that
arrive in the same burst would otherwise go to the widget that had the focus
before: dropped, or worse, taken as pane keys. The ``KeyBuffer`` hands keys to
the App one at a time: after each key it holds the next ones until the App's
widgets have handled everything that key set off (the screen is mounted, every
message queue of the screen is empty), then delivers the next held key. Keys
arriving at a quiet App pass straight through; a held key waits for queues to
drain, never for a clock.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from textual import events

if TYPE_CHECKING:
    from textual.app import App

# Turns of the App's queue a held key waits for widgets to settle before it is
# delivered anyway (a widget stuck in a long handler must not swallow keys).
MAX_TURNS = 500


class KeyBuffer:
    def __init__(self, app: App[Any], deliver: Callable[[events.Key], Awaitable[None]]) -> None:
        self._app = app
        self._deliver = deliver
        self._held: deque[events.Key] = deque()
        self._settling = False
        self._turns = 0

    @property
    def held(self) -> int:
        """Keys waiting for the previous one to settle."""
        return len(self._held)

    async def key(self, event: events.Key) -> None:
        if self._settling:
            self._held.append(event)
            return
        await self._run(event)

    async def _run(self, event: events.Key) -> None:
        self._settling = True
        self._turns = 0
        try:
            await self._deliver(event)
        finally:
            self._app.call_later(self._settle)

    async def _settle(self) -> None:
        if self._held and not self._quiet() and self._turns < MAX_TURNS:
            self._turns += 1
            await asyncio.sleep(0)  # let the widgets' tasks run, then look again
            self._app.call_later(self._settle)
            return
        self._settling = False
        if self._held:
            await self._run(self._held.popleft())

    def _quiet(self) -> bool:
        """True when the screen is mounted and no widget on it has a message waiting."""
        try:
            screen = self._app.screen
        except Exception:  # no screen yet (start-up) or any more (shut-down)
            return True
        if not screen.is_mounted:
            return False
        if self._app.message_queue_size:
            return False
        return all(node.message_queue_size == 0 for node in screen.walk_children(with_self=True))
