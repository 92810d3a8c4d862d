"""Candle streams for the charts on screen, from venues with a candle service.

A chart asks for one (venue, market, timeframe) at a time; if the venue is a
``CandleSource`` (Drift's data API) a stream is started that publishes the
venue's bars on the bus, where the cache keeps them beside the bars it builds
from trades for every market. Charts showing the same thing share a stream; a
stream nobody shows any more is stopped. A venue without a candle service
needs nothing: its bars are built in the cache from what it publishes.

Each stream's state (``loading``, ``live``, ``down`` and why) is kept for the
chart to say where its bars come from.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from quantdesk.core.bus import Bus
from quantdesk.core.model import Candle, topic_for
from quantdesk.core.venue import CandleSource, Venue

log = logging.getLogger(__name__)

StreamKey = tuple[str, str, str]  # (venue, market, timeframe)


@dataclass
class _Stream:
    task: asyncio.Task[None]
    owners: set[int] = field(default_factory=set)
    state: tuple[str, str] = ("loading", "")


class CandleFeed:
    def __init__(self, venues: Mapping[str, Venue], bus: Bus) -> None:
        self.venues = venues
        self.bus = bus
        self._streams: dict[StreamKey, _Stream] = {}
        self._owned: dict[int, StreamKey] = {}  # id(chart) -> what it shows

    def has_candles(self, venue: str) -> bool:
        """Whether ``venue`` serves its own bars (else they are built from its trades)."""
        return isinstance(self.venues.get(venue), CandleSource)

    def watch(self, owner: object, venue: str, market: str, timeframe: str) -> None:
        """``owner`` (a chart) now shows ``market`` on ``venue`` at ``timeframe``;
        what it showed before is let go. Needs a running event loop."""
        key = (venue, market, timeframe)
        who = id(owner)
        if self._owned.get(who) == key:
            return
        self.release(owner)
        source = self.venues.get(venue)
        if not isinstance(source, CandleSource):
            return
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = _Stream(asyncio.get_running_loop().create_task(
                self._run(key, source), name=f"candles:{venue}:{market}:{timeframe}"))
        stream.owners.add(who)
        self._owned[who] = key

    def release(self, owner: object) -> None:
        """``owner`` shows nothing any more; a stream left without a chart stops."""
        key = self._owned.pop(id(owner), None)
        stream = self._streams.get(key) if key is not None else None
        if stream is None or key is None:
            return
        stream.owners.discard(id(owner))
        if not stream.owners:
            stream.task.cancel()
            del self._streams[key]

    def state(self, venue: str, market: str, timeframe: str) -> tuple[str, str] | None:
        """(state, message) of the stream for that chart; None when there is none
        (a venue without a candle service, or nothing asked yet)."""
        stream = self._streams.get((venue, market, timeframe))
        return None if stream is None else stream.state

    async def _run(self, key: StreamKey, source: CandleSource) -> None:
        venue, market, timeframe = key

        def publish(candle: Candle) -> None:
            self.bus.publish(topic_for(candle), candle)

        def on_state(state: str, message: str) -> None:
            stream = self._streams.get(key)
            if stream is not None:
                stream.state = (state, message)

        try:
            await source.stream_candles(market, timeframe, publish, on_state)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a venue bug must not take the chart's terminal down
            log.exception("candle stream %s %s %s stopped", venue, market, timeframe)
            on_state("down", f"the {venue} candle stream stopped ({exc.__class__.__name__}); bars from trades")

    async def stop(self) -> None:
        tasks = [s.task for s in self._streams.values()]
        self._streams.clear()
        self._owned.clear()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
