"""What every simulated venue shares: pacing to an event rate, status, markets."""

from __future__ import annotations

import asyncio
import random
from abc import ABC, abstractmethod
from collections.abc import Callable

from quantdesk.core.bus import Bus
from quantdesk.core.model import ConnState, Market, MarketKind, VenueStatus
from quantdesk.venues.sim.world import SimWorld

# Pacing granularity. A frame is 50 ms at the default 20 fps: finer pacing
# shows nothing more and costs a wake-up of the loop each time.
TICK_S = 0.02
STATUS_EVERY_NS = 1_000_000_000
MAX_BURST = 8_000  # events emitted in one tick at most, so a slow machine never freezes the UI
SLICE = 100  # events emitted between yields to the loop, so a key waits about a millisecond at most


class SimVenue(ABC):
    """Base of the simulated venues. Subclasses implement ``_build`` and ``step``."""

    id: str = ""
    kind: MarketKind = "clob"
    health = None  # no feed counters: the health pane shows the event rate instead
    can_trade = False  # trading is the paper engine's (``paper.py``), attached by the registry

    def __init__(
        self, seed: int, rate: float, clock: Callable[[], int], bus: Bus | None = None, *, on_demand: bool = False
    ) -> None:
        self.seed = seed
        self.rate = rate
        # Configured to send only when asked ([sim] rate = 0): the console must not call
        # its silence stale. A paused harness (tests, replays) stands in for a live feed.
        self.on_demand = on_demand
        self.clock = clock
        self.rng = random.Random(f"{seed}:{self.id}")
        self.world = SimWorld(seed, clock())
        self._bus: Bus | None = bus
        # The bus's publish, bound once: the simulation step publishes on every event.
        self.emit: Callable[[str, object], None] = bus.publish if bus is not None else self._unbound
        self.markets: list[Market] = []
        self.events = 0
        self._last_status_ns = 0
        self._resync: set[str] = set()
        self._running = False

    @property
    def bus(self) -> Bus:
        """The bus the venue publishes on (set by ``bind`` or ``run``)."""
        if self._bus is None:
            raise RuntimeError(f"the simulated venue {self.id} has no bus yet: bind it to one (bind or run) first")
        return self._bus

    def _unbound(self, topic: str, message: object) -> None:
        self.bus.publish(topic, message)  # raises: no bus yet

    def bound_elsewhere(self, bus: Bus) -> bool:
        """Whether the venue publishes on a bus other than ``bus`` already."""
        return self._bus is not None and self._bus is not bus

    # -- Venue protocol ------------------------------------------------
    async def connect(self) -> list[Market]:
        if not self.markets:
            self.markets = self._build()
        return self.markets

    def bind(self, bus: Bus) -> None:
        """Attach to a bus and publish the opening state (status, snapshots)."""
        if self._bus is bus and self._running:
            return
        if not self.markets:
            self.markets = self._build()
        self._bus = bus
        self.emit = bus.publish
        self._running = True
        self._publish_status("connected")
        self._publish_opening_state()

    async def run(self, bus: Bus) -> None:
        self.bind(bus)
        if self.rate <= 0:
            await asyncio.Event().wait()
        loop = asyncio.get_running_loop()
        start = loop.time()
        emitted = 0
        while True:
            await asyncio.sleep(TICK_S)
            due = int((loop.time() - start) * self.rate) - emitted
            if due > MAX_BURST:  # fell behind: drop the backlog rather than flood
                emitted += due - MAX_BURST
                due = MAX_BURST
            # In slices: the keys and the frame timer queued meanwhile run
            # between them instead of after the whole tick's events.
            while due > 0:
                n = self.advance(min(due, SLICE))
                emitted += n
                due -= n
                if due > 0:
                    await asyncio.sleep(0)

    def request_resync(self, market: str) -> None:
        self._resync.add(market)

    def listed_markets(self) -> list[Market]:
        """The markets, built on first use (no bus needed)."""
        if not self.markets:
            self.markets = self._build()
        return list(self.markets)

    async def close(self) -> None:
        if self._bus is not None:
            self._publish_status("down", "closed")
        self._running = False

    # -- simulation ----------------------------------------------------
    def advance(self, n: int) -> int:
        """Emit at least ``n`` events now; returns how many were published."""
        published = 0
        step, clock = self.step, self.clock
        while published < n:
            if self._resync:
                for market in sorted(self._resync):
                    self._publish_snapshot(market)
                    published += 1
                self._resync.clear()
            published += step()
            if clock() - self._last_status_ns >= STATUS_EVERY_NS:
                self._publish_status("connected")
                published += 1
        self.events += published
        return published

    def _publish_status(self, state: ConnState, message: str = "") -> None:
        now = self.clock()
        self._last_status_ns = now
        status = VenueStatus(self.id, state, now, now, message, on_demand=self.on_demand)
        self.bus.publish(f"status.{self.id}", status)

    @abstractmethod
    def _build(self) -> list[Market]:
        """Create the venue's markets and their initial state."""

    @abstractmethod
    def _publish_opening_state(self) -> None:
        """Publish everything a fresh subscriber needs: snapshots, funding, oracle."""

    @abstractmethod
    def _publish_snapshot(self, market: str) -> None:
        """Publish a full book snapshot of ``market`` at the current sequence."""

    @abstractmethod
    def step(self) -> int:
        """Simulate one action; returns the number of events published."""
