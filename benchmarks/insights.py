"""Insights recomputed per book update, beside the book update itself, in the same run.

A paused simulated session is warmed up (every market's book, funding,
oracle, trades) and given a leveraged position; then one-level deltas to
SOL-PERP's sim-drift book are applied through the MarketCache, as the bus
delivers them:

  apply_per_s          the deltas alone (MarketCache.on_event: the book apply)
  apply_insights_per_s each delta followed by InsightsEngine.report: the
                       changed book's imbalance, depth and fill ladder, then
                       every cross-market figure and the ranked board
  full_report_per_s    (information) a report from a new engine each time:
                       nothing kept, every market recomputed

    python benchmarks/insights.py [--json] [--updates 5000]

The ratio ``apply_insights / apply`` is the figure to watch; absolute rates
move with machine load.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from quantdesk.core.insights import InsightsEngine  # noqa: E402
from quantdesk.core.model import BookDelta, Position, topic_for  # noqa: E402
from quantdesk.venues.session import Session, simulated_session  # noqa: E402
from quantdesk.venues.sim.clock import ManualClock  # noqa: E402

START_NS = 1_795_000_000_000_000_000
KEY = ("sim-drift", "SOL-PERP")
REPEATS = 5


async def warmed_session(events: int = 20_000) -> Session:
    s = simulated_session(seed=7, clock=ManualClock(START_NS), paused=True)
    await s.start()
    s.advance(events)
    price = s.cache.oracle[KEY].price
    p = Position(KEY[0], KEY[1], 50 * 10**9, -50 * price, price, price, liquidation_price=price * 96 // 100)
    s.bus.publish(topic_for(p), p)
    return s


def deltas_for(s: Session, n: int, seed: int = 1) -> list[BookDelta]:
    """One-level deltas near the touch of the warmed book, alternating sides, 20 % deletes."""
    rng = random.Random(seed)
    book = s.cache.books[KEY]
    tick = s.cache.markets[KEY].tick_size
    bid, ask = book.best_bid(), book.best_ask()
    assert bid is not None and ask is not None
    out = []
    for i in range(n):
        buy = i % 2 == 0
        price = (bid[0] - rng.randint(0, 20) * tick) if buy else (ask[0] + rng.randint(0, 20) * tick)
        size = 0 if rng.random() < 0.2 else rng.randint(1, 1_000) * 10_000_000
        lv = [(price, size)]
        out.append(BookDelta(KEY[0], KEY[1], book.seq + i + 1, START_NS + i, lv if buy else [], [] if buy else lv))
    return out


def timed(fn: Callable[[], int]) -> float:
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        n = fn()
        return n / (time.perf_counter() - t0)
    finally:
        gc.enable()


async def measure(updates: int) -> dict[str, float]:
    s = await warmed_session()
    cache = s.cache
    topic = f"book.{KEY[0]}.{KEY[1]}"
    book = cache.books[KEY]
    engine = InsightsEngine()

    def run(with_insights: bool) -> Callable[[], int]:
        def go() -> int:
            # the same deltas every repeat: rewind the book's sequence first
            snap = book.snapshot()
            deltas = deltas_for(s, updates)
            on_event = cache.on_event
            report = engine.report
            if with_insights:
                for d in deltas:
                    on_event(topic, d)
                    report(cache, d.ts)
            else:
                for d in deltas:
                    on_event(topic, d)
            book.apply_snapshot(snap)
            return updates

        return go

    def full() -> int:
        n = max(1, updates // 20)
        for d in deltas_for(s, n):
            cache.on_event(topic, d)
            InsightsEngine().report(cache, d.ts)
        return n

    best = {"apply_per_s": 0.0, "apply_insights_per_s": 0.0, "full_report_per_s": 0.0}
    for _ in range(REPEATS):
        best["apply_per_s"] = max(best["apply_per_s"], timed(run(False)))
        best["apply_insights_per_s"] = max(best["apply_insights_per_s"], timed(run(True)))
        best["full_report_per_s"] = max(best["full_report_per_s"], timed(full))
    await s.stop()
    best["insights_us_per_update"] = 1e6 / best["apply_insights_per_s"] - 1e6 / best["apply_per_s"]
    best["ratio_apply_insights_to_apply"] = best["apply_insights_per_s"] / best["apply_per_s"]
    best["markets"] = float(len(cache.markets))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--updates", type=int, default=5_000)
    args = parser.parse_args()
    figures = asyncio.run(measure(args.updates))
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"markets in the cache           {figures['markets']:.0f}")
    print(f"book updates alone             {figures['apply_per_s']:>12,.0f} /s")
    print(f"book update + insights report  {figures['apply_insights_per_s']:>12,.0f} /s"
          f"   ({figures['ratio_apply_insights_to_apply']:.3f}x the updates alone;"
          f" {figures['insights_us_per_update']:.0f} µs of insights per update)")
    print(f"full report, nothing kept      {figures['full_report_per_s']:>12,.0f} /s   (information)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
