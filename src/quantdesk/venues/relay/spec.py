"""The relay declares itself as the source for Redis URLs: ``quantdesk --source
redis://host:6379`` reads a ``quantdesk feed`` process instead of any venue."""

from __future__ import annotations

from quantdesk.venues.base import Venue
from quantdesk.venues.redis_conn import SCHEMES
from quantdesk.venues.registry import SourceOptions, SourceSpec


def open_feed(url: str, options: SourceOptions) -> list[Venue]:
    import time

    from quantdesk.venues.relay.venue import FeedSource

    return [FeedSource(url, options.namespace, clock=options.clock or time.time_ns)]


SOURCE = SourceSpec(
    schemes=SCHEMES,
    open=open_feed,
    summary="a QuantDesk feed process read back from Redis (redis://, rediss://, unix://)",
)
