"""Past funding and borrow rates of one market, one point an hour.

Rates are kept per hour (parts per billion of notional, positive: longs pay),
whatever the venue's interval, so venues compare. Each hour holds the last
rate seen in it: a venue that settles hourly (Drift, the simulated book) has
one rate an hour anyway; a pool's borrow rate, which moves with utilization,
is sampled at the last update of each hour. A venue's published history
(Drift's data API: 30 days) is merged in beside the live rates.
"""

from __future__ import annotations

from collections.abc import Iterable

HOUR_NS = 3_600 * 1_000_000_000
HOURS_KEPT = 24 * 45  # 45 days; Drift's data API serves 30


def per_hour(rate: int, interval_s: int) -> int:
    """A per-interval rate restated per hour."""
    return rate * 3_600 // interval_s if interval_s > 0 else rate


class RateHistory:
    """(hour start in ns, hourly rate in ppb), oldest first, the newest ``keep`` hours."""

    __slots__ = ("points", "keep")

    def __init__(self, keep: int = HOURS_KEPT) -> None:
        self.points: list[tuple[int, int]] = []
        self.keep = keep

    def record(self, ts: int, hourly: int) -> bool:
        """The rate in effect at ``ts``; False when that hour is older than any kept
        and the history is full, or the hour already holds that rate."""
        hour = ts - ts % HOUR_NS
        pts = self.points
        if pts and pts[-1][0] == hour:
            if pts[-1][1] == hourly:
                return False
            pts[-1] = (hour, hourly)
            return True
        if not pts or hour > pts[-1][0]:
            pts.append((hour, hourly))
            if len(pts) > self.keep:
                del pts[: len(pts) - self.keep]
            return True
        self.merge([(ts, hourly)])
        return True

    def merge(self, points: Iterable[tuple[int, int]]) -> None:
        """Rates from elsewhere (a venue's history); a live rate of the same hour
        is kept over a published one only when it came later, so the merge lets
        the published point win for past hours and the live one for this hour."""
        latest = self.points[-1][0] if self.points else None
        merged = dict(self.points)
        for ts, rate in points:
            hour = ts - ts % HOUR_NS
            if hour != latest or hour not in merged:
                merged[hour] = rate
        self.points = sorted(merged.items())[-self.keep :]

    def last(self, hours: int, now_ns: int) -> list[int | None]:
        """The hourly rate of each of the ``hours`` hours up to now's, oldest first;
        None for an hour with no rate known (before the history starts, or a gap
        the venue did not report)."""
        if hours <= 0:
            return []
        this_hour = now_ns - now_ns % HOUR_NS
        first = this_hour - (hours - 1) * HOUR_NS
        by_hour = {h: r for h, r in self.points if h >= first}
        out: list[int | None] = []
        carried: int | None = None
        # A rate holds until the next one: an hour with no update inside the known
        # span keeps the one before it (a venue reports only changes).
        for h, r in self.points:
            if h < first:
                carried = r
        started = carried is not None
        for i in range(hours):
            h = first + i * HOUR_NS
            if h in by_hour:
                carried = by_hour[h]
                started = True
            out.append(carried if started else None)
        return out
