"""A session's market data published to Redis for terminals elsewhere: what
``quantdesk feed`` runs, and what ``quantdesk serve web`` runs for its tabs.

The publisher listens before the venues start, so their opening snapshots
are published, and flushes after they stop, so their final "down" status
reaches the terminals.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from quantdesk.sync.redis_feed import FeedPublisher
from quantdesk.venues.feed_wire import FeedDecodeError, FeedKeys, decode_beat
from quantdesk.venues.redis_conn import client, close_quietly, redis_errors
from quantdesk.venues.session import Session

FLUSH_S = 2.0  # at stop: what Redis has not taken by then is not waited for
LIVE_WITHIN_S = 5.0  # a heartbeat this recent is a feed at work (it beats every 0.5 s)


class SessionFeed:
    """``session`` published by ``publisher``; build it before the session starts."""

    def __init__(self, session: Session, publisher: FeedPublisher) -> None:
        self.session = session
        self.publisher = publisher
        publisher.attach(session.bus)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.session.start()
        self.publisher.set_markets(self.session.markets)
        self._task = asyncio.create_task(self.publisher.run(), name="feed-publisher")

    async def stop(self) -> None:
        await self.session.stop()
        try:
            await asyncio.wait_for(self.publisher.flush(), FLUSH_S)
        except Exception:  # Redis gone at shutdown: nothing more to deliver
            pass
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.publisher.close()


async def feed_alive(url: str, namespace: str, *, clock: Callable[[], int] = time.time_ns) -> bool:
    """Whether a QuantDesk feed is publishing at ``url`` in ``namespace`` now
    (its heartbeat is fresh); False too when Redis cannot be asked."""
    unanswered: tuple[type[BaseException], ...] = (*redis_errors(), FeedDecodeError)
    r = client(url, socket_timeout=3.0)
    try:
        raw = await r.get(FeedKeys(namespace).heartbeat)
        beat = decode_beat(raw) if raw else None
    except unanswered:
        return False
    finally:
        await close_quietly(r)
    return beat is not None and abs(clock() - beat.ts) < LIVE_WITHIN_S * 1e9
