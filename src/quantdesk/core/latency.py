"""Round-trip times kept as a histogram: fixed bucket bounds, counts, sum.

Plain data with no clock and no I/O: whoever times a request observes the
seconds it took, and ``/metrics`` renders the buckets as a Prometheus
histogram when scraped, so the request path never touches the metrics library.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

# From a nearby node's getSlot (a few ms) to a congested public endpoint's getProgramAccounts.
RPC_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(slots=True)
class LatencyHistogram:
    bounds: tuple[float, ...] = RPC_BUCKETS  # upper bounds in seconds, ascending; +Inf is implied
    counts: list[int] = field(default_factory=list)  # per bucket, not cumulative; last is +Inf
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [0] * (len(self.bounds) + 1)

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(self.bounds, seconds)] += 1
        self.total += seconds
        self.count += 1

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, observations at or below it), ending with +Inf."""
        out, running = [], 0
        for bound, n in zip((*self.bounds, float("inf")), self.counts):
            running += n
            out.append((bound, running))
        return out
