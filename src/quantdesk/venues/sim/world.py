"""The simulated world: reference prices every simulated venue's oracle follows.

Each asset's price is a seeded random walk on a fixed time grid, so it is a
pure function of (seed, time): every simulated venue builds its own world from
the same seed and sees the same prices at the same moment, which keeps
cross-venue basis realistic without the venues sharing state or a task.
Prices are integers at 1e6; the walk draws floats for its shocks (a model
parameter, not money) and rounds each step to an int.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AssetSpec:
    base: str
    start_price: int  # 1e6
    annual_vol: float  # calm-regime volatility, fraction per sqrt(year)
    tick_size: int  # 1e6
    lot_size: int  # 1e9
    drift_index: int  # Drift's perp market index for the symbol


ASSETS: dict[str, AssetSpec] = {
    "SOL": AssetSpec("SOL", 145_200_000, 0.75, 1_000, 10_000_000, 0),
    "BTC": AssetSpec("BTC", 95_400_000_000, 0.45, 100_000, 100_000, 1),
    "ETH": AssetSpec("ETH", 3_412_000_000, 0.60, 10_000, 1_000_000, 2),
}

YEAR_S = 365 * 24 * 3600
BURST_ENTER_PER_S = 1 / 600  # a volatility burst starts every ~10 minutes
BURST_EXIT_PER_S = 1 / 45  # and lasts ~45 seconds
BURST_MULTIPLIER = 5.0


class PriceWalk:
    """Geometric random walk with a two-state (calm / burst) volatility regime."""

    __slots__ = ("price", "vol", "burst", "_rng")

    def __init__(self, spec: AssetSpec, rng: random.Random) -> None:
        self.price = spec.start_price
        self.vol = spec.annual_vol
        self.burst = False
        self._rng = rng

    def step(self, dt_s: float) -> int:
        rng = self._rng
        if self.burst:
            if rng.random() < BURST_EXIT_PER_S * dt_s:
                self.burst = False
        elif rng.random() < BURST_ENTER_PER_S * dt_s:
            self.burst = True
        vol = self.vol * (BURST_MULTIPLIER if self.burst else 1.0)
        shock = vol * math.sqrt(dt_s / YEAR_S) * rng.gauss(0.0, 1.0)
        self.price = max(1, self.price + int(self.price * shock))
        return self.price


GRID_NS = 100_000_000  # the walk moves every 100 ms of simulated time
MAX_CATCH_UP_STEPS = 36_000  # after a longer pause, jump instead of replaying it


class SimWorld:
    def __init__(self, seed: int, start_ns: int, assets: dict[str, AssetSpec] | None = None) -> None:
        self.assets = assets or ASSETS
        self.walks = {
            base: PriceWalk(spec, random.Random(f"{seed}:world:{base}")) for base, spec in self.assets.items()
        }
        self._t = dict.fromkeys(self.assets, start_ns - start_ns % GRID_NS)

    def price(self, base: str, now_ns: int) -> int:
        """The reference price of ``base`` at ``now_ns``."""
        t = self._t[base]
        walk = self.walks[base]
        steps = (now_ns - t) // GRID_NS
        if steps > 0:
            for _ in range(min(steps, MAX_CATCH_UP_STEPS)):
                walk.step(GRID_NS / 1e9)
            self._t[base] = t + steps * GRID_NS
        return walk.price
