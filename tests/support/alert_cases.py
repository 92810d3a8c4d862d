"""Alert rules of every kind on a real bus and cache, with a clock the test
moves, and for each kind how to set its figure and four figures: below the
line, over it, back just inside the hysteresis band, and past it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from quantdesk.core.alerts import AlertEngine
from quantdesk.core.bus import Bus
from quantdesk.core.cache import MarketCache
from quantdesk.core.model import BookSnapshot, Funding, Market, OraclePrice, Position, Trade, topic_for

START = 1_800_000_000 * 10**9
S = 10**9
CLOB = Market("drift", "SOL-PERP", "SOL", "USDC", "clob", 1_000, 10_000_000)
POOL = Market("jupiter", "SOL-PERP", "SOL", "USDC", "pool", 1, 1_000_000)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> int:
        return self.now


class Desk:
    """A bus, a cache and an engine recording what it reports."""

    def __init__(self, cooldown_s: float = 60) -> None:
        self.clock = Clock()
        self.bus = Bus()
        self.cache = MarketCache()
        self.cache.attach(self.bus)
        self.cache.add_markets([CLOB, POOL])
        self.events: list[tuple[str, str, Decimal]] = []
        self.engine = AlertEngine(self.cache, self.clock, self._record, cooldown_s=cooldown_s)
        self.engine.attach(self.bus)
        self.ticks: list[Callable[[], None]] = [self.engine.tick]  # what a tick reads (an AlertDesk adds its own)
        self.seq = 0

    def _record(self, watch, t) -> None:
        self.events.append((t.rule_id, t.event, t.value))

    def publish(self, event) -> None:
        self.bus.publish(topic_for(event), event)

    def tick(self) -> None:
        for tick in self.ticks:
            tick()

    def fired(self) -> int:
        return sum(1 for _, e, _ in self.events if e == "fired")

    def book(self, venue: str, mid: Decimal) -> None:
        self.seq += 1
        p = int(mid * 10**6)
        self.publish(BookSnapshot(venue, "SOL-PERP", self.seq, self.clock(), [(p - 1000, 10**9)], [(p + 1000, 10**9)]))


# Each kind: its rule, how to set its figure, and four figures: below the line,
# over it, back just inside the band (no re-arm), and past the band (re-arm).
@dataclass
class Case:
    rule: str
    set: Callable[[Desk, Decimal], None]
    quiet: str
    over: str
    wiggle: str
    clear: str


def _price(d: Desk, v: Decimal) -> None:
    d.book("drift", v)


def _funding(d: Desk, pct: Decimal) -> None:
    hourly = int(pct * 10**7 * 3600 / (365 * 24 * 3600))  # ppb per hour for an annualized percent
    d.publish(Funding("drift", "SOL-PERP", d.clock(), hourly, hourly, 3600, d.clock() + 3600 * S))


def _imbalance(d: Desk, v: Decimal) -> None:
    d.seq += 1
    bids, asks = int((1 + v) * 10**9), int((1 - v) * 10**9)  # (bids - asks) / (bids + asks) = v
    d.publish(BookSnapshot("drift", "SOL-PERP", d.seq, d.clock(), [(99_000_000, bids)], [(101_000_000, asks)]))


def _liq(d: Desk, pct: Decimal) -> None:
    """A long of 1 SOL liquidated at 100, the oracle ``pct`` % above that."""
    d.publish(Position("drift", "SOL-PERP", 10**9, -120_000_000, 120_000_000, liquidation_price=100_000_000))
    d.publish(OraclePrice("drift", "SOL-PERP", d.clock(), int(Decimal(100_000_000) / (1 - pct / 100))))


def _spread(d: Desk, bps: Decimal) -> None:
    d.publish(OraclePrice("jupiter", "SOL-PERP", d.clock(), 100_000_000))  # jupiter at 100
    d.book("drift", Decimal(100) * (1 + bps / 10_000))


def _stale(d: Desk, age: Decimal) -> None:
    d.publish(Trade("drift", "SOL-PERP", d.clock() - int(age * S), 100_000_000, 10**9, "buy"))
    d.tick()  # silence sends nothing: the tick reads it


def _pnl(d: Desk, usd: Decimal) -> None:
    d.publish(Position("drift", "SOL-PERP", 10**9, -100_000_000, 100_000_000, unrealized_pnl=int(usd * 10**6)))


CASES = {
    "price": Case("SOL-PERP PRICE > 180", _price, "179", "180.5", "179.9", "179.7"),
    "funding": Case("SOL-PERP FUNDING > 50%", _funding, "40", "55", "47", "44"),
    "imbalance": Case("SOL-PERP IMBALANCE > 0.7", _imbalance, "0.2", "0.8", "0.65", "0.55"),
    "liq": Case("POSITION SOL-PERP LIQ < 5%", _liq, "10", "4", "5.5", "6.5"),
    "spread": Case("SPREAD SOL-PERP drift jupiter > 20BPS", _spread, "10", "25", "16", "14"),
    "stale": Case("FEED drift STALE 10S", _stale, "1", "12", "6", "4"),
    "pnl": Case("PNL < -500", _pnl, "-100", "-520", "-460", "-440"),
}


