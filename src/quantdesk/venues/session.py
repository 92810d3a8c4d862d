"""A running set of venues wired to one bus and one cache.

The App, the headless ``show`` command and the feed process all run on a
Session; they differ only in which venues it holds (simulated, live, or a
Redis feed) and in who reads the cache.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from quantdesk.core.bus import Bus
from quantdesk.core.cache import MarketCache
from quantdesk.core.model import Market
from quantdesk.core.venue import FollowsMarkets, Steppable, SteppedClock
from quantdesk.signing.base import Signer
from quantdesk.venues.base import Venue
from quantdesk.venues.candle_feed import CandleFeed

log = logging.getLogger(__name__)

SIM_STEP_NS = 5_000_000  # simulated time per event when a manual clock drives the sim


class Session:
    def __init__(self, venues: Iterable[Venue], clock: Callable[[], int], *, signer: Signer | None = None) -> None:
        self.bus = Bus()
        self.signer = signer  # the trader's signer the venues sign with, for the console's device prompt
        self.venues: dict[str, Venue] = {v.id: v for v in venues}
        self.clock = clock
        self.cache = MarketCache(on_gap=self._on_gap)
        self.cache.attach(self.bus)
        self.candle_feed = CandleFeed(self.venues, self.bus)  # the charts' streams from venues' candle services
        self.markets: list[Market] = []  # the markets streamed
        # Every market the venues list, streamed or not: (venue, symbol) -> market.
        self.listed: dict[tuple[str, str], Market] = {}
        self._tasks: list[asyncio.Task] = []
        self.errors: list[str] = []

    def venue(self, venue_id: str) -> Venue:
        return self.venues[venue_id]

    def _on_gap(self, venue: str, market: str) -> None:
        v = self.venues.get(venue)
        if v is not None:
            v.request_resync(market)

    async def start(self) -> None:
        for v in self.venues.values():
            markets = await v.connect()
            self.markets.extend(markets)
            self.cache.add_markets(markets)
            self.listed.update(((m.venue, m.symbol), m) for m in markets)
            if isinstance(v, FollowsMarkets):
                for m in v.listed_markets():
                    self.listed.setdefault((m.venue, m.symbol), m)
        for v in self.venues.values():
            task = asyncio.create_task(v.run(self.bus), name=f"venue:{v.id}")
            task.add_done_callback(self._on_venue_done)
            self._tasks.append(task)
        await asyncio.sleep(0)

    def can_follow(self, symbol: str, venue: str | None = None) -> bool:
        """A listed market not streamed yet (on ``venue``, or any venue)."""
        return any(
            s == symbol and venue in (None, v) and (v, s) not in self.cache.markets for v, s in self.listed
        )

    async def follow(self, symbol: str, venue: str | None = None) -> list[Market]:
        """Stream ``symbol`` from every venue (or ``venue``) that lists it and does
        not stream it yet; the markets added."""
        added: list[Market] = []
        for (v, s) in list(self.listed):
            if s != symbol or venue not in (None, v) or (v, s) in self.cache.markets:
                continue
            target = self.venues.get(v)
            if not isinstance(target, FollowsMarkets):
                continue
            market = await target.follow(symbol)
            if market is None:
                continue
            self.markets.append(market)
            self.cache.add_markets([market])
            added.append(market)
        return added

    def _on_venue_done(self, task: asyncio.Task) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            msg = f"{task.get_name()} stopped: {exc}"
            self.errors.append(msg)
            log.error(msg, exc_info=exc)

    async def stop(self) -> None:
        await self.candle_feed.stop()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for v in self.venues.values():
            await v.close()

    def advance(self, n: int) -> None:
        """Drive simulated venues by ``n`` events now, deterministically.

        With a manual clock, simulated time moves ``SIM_STEP_NS`` per event.
        sim-drift takes four events for each of sim-jup's, as in live pacing."""
        sims = [v for v in self.venues.values() if isinstance(v, Steppable)]
        if not sims:
            raise RuntimeError("advance() drives simulated venues; this session has none")
        for v in sims:
            v.bind(self.bus)
        clock = self.clock if isinstance(self.clock, SteppedClock) and self.clock.manual else None
        # One round of steps, in order, bound once: this loop drives millions of events.
        steps = [v.advance for v in sims for _ in range(4 if v.kind == "clob" else 1)]
        tick = clock.advance if clock is not None else None
        done = 0
        while done < n:
            for step in steps:
                if tick is not None:
                    tick(SIM_STEP_NS)
                done += step(1)


def simulated_session(
    seed: int = 7,
    rate: float = 200.0,
    clock: Callable[[], int] | None = None,
    paused: bool = False,
) -> Session:
    """Session on every registered simulated venue (built in: ``sim-drift`` and
    ``sim-jup``), with their defaults but for ``seed`` and ``rate``.

    ``rate`` is events per second across them; ``paused`` (or rate 0) emits
    only on ``advance``."""
    from quantdesk.venues import registry

    options = registry.BuildOptions(clock=clock, seed=seed, rate=rate, paused=paused)
    venues = registry.build(registry.simulated(None), options)
    return Session(venues, clock or shared_clock(venues))


def shared_clock(venues: list[Venue]) -> Callable[[], int]:
    """The simulated venues' own clock when they share one (a simulation keeps
    one time), else the wall clock."""
    import time

    clocks = {id(getattr(v, "clock", None)): getattr(v, "clock", None) for v in venues}
    only = next(iter(clocks.values())) if len(clocks) == 1 else None
    return only if callable(only) else time.time_ns
