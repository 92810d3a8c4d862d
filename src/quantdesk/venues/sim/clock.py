"""Clocks for simulated venues: the wall clock, or a manual one for tests."""

from __future__ import annotations

import time


class WallClock:
    manual = False

    def __call__(self) -> int:
        return time.time_ns()


class ManualClock:
    """Time that moves only when told: same seed and same steps give the same
    timestamps, which is what reproducible tests and snapshots need."""

    manual = True

    def __init__(self, start_ns: int) -> None:
        self.now_ns = start_ns

    def __call__(self) -> int:
        return self.now_ns

    def advance(self, ns: int) -> None:
        self.now_ns += ns
