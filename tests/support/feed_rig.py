"""A feed process and its consumer terminals, in-process and all real:
simulated venues -> FeedPublisher -> Redis -> FeedSource sessions."""

from __future__ import annotations

import asyncio

from support.wait import wait_until

from quantdesk.venues.relay.venue import FeedSource
from quantdesk.venues.session import Session


def redis_session(url: str, namespace: str = "default", clock=None, **kw) -> Session:
    """A terminal's session on a Redis feed, as `quantdesk --source redis://...`
    builds it, with the reader's timings open to the test."""
    import time

    clock = clock or time.time_ns
    return Session([FeedSource(url, namespace, clock=clock, **kw)], clock)


class FeedRig:
    """``quantdesk feed`` in-process: a simulated Session published to Redis."""

    def __init__(self, url: str, namespace: str, *, seed: int = 7, rate: float = 2000.0, paused: bool = False, **kw):
        from quantdesk.venues.session import simulated_session
        from quantdesk.sync.redis_feed import FeedPublisher

        self.session = simulated_session(seed=seed, rate=rate, paused=paused)
        self.publisher = FeedPublisher(url, namespace, **kw)
        self.task = None

    async def start(self) -> FeedRig:
        self.publisher.attach(self.session.bus)
        await self.session.start()
        self.publisher.set_markets(self.session.markets)
        self.task = asyncio.create_task(self.publisher.run())
        assert await wait_until(lambda: self.publisher.state == "connected", 5), self.publisher.status_line()
        return self

    async def stop_venues(self) -> None:
        """Freeze the feed's books; the publisher keeps delivering what is left."""
        await self.session.stop()
        await self.publisher.flush()

    async def close(self) -> None:
        await self.session.stop()
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.publisher.close()


def book_mismatches(feed_session, consumer_session) -> list[str]:
    """Markets whose consumer book differs from the feed's (empty: all equal)."""
    out = []
    for m in feed_session.markets:
        fb = feed_session.cache.book(m.venue, m.symbol)
        cb = consumer_session.cache.book(m.venue, m.symbol)
        if fb is None:
            out.append(f"{m.key}: feed has no book")
        elif cb is None or cb.needs_resync:
            out.append(f"{m.key}: consumer has no synced book")
        elif (cb.seq, cb.sorted_bids(), cb.sorted_asks()) != (fb.seq, fb.sorted_bids(), fb.sorted_asks()):
            out.append(f"{m.key}: consumer seq {cb.seq} vs feed {fb.seq}")
    return out
