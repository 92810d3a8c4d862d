"""What building chart bars costs the feed: trades into the MarketCache with the
1m/1h bars built (every market, every trade) beside the same cache with bar
building switched off, in the same run, best of several repeats.

    python benchmarks/candle_build.py

  trades_per_s          Trade events through ``MarketCache.on_event`` (tape ring,
                        minute volume and the bars)
  trades_bare_per_s     the same without the bars (baseline)
  pipeline_per_s        simulated venues -> bus -> cache (books, trades, oracle ...)
  pipeline_bare_per_s   the same without the bars (baseline)
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(os.environ.get("QUANTDESK_BENCH_SRC") or ROOT / "src")))

from quantdesk.core import candles  # noqa: E402
from quantdesk.core.cache import MarketCache  # noqa: E402
from quantdesk.core.model import Market, Trade  # noqa: E402

T0 = 1_795_000_000_000_000_000
SOL = Market("v", "SOL-PERP", "SOL", "USDC", "clob", 1_000, 10_000_000)
REPEATS = 5


class _NoBars(candles.MarketCandles):
    def add(self, ts: int, price: int, size: int = 0) -> bool:
        return False


def trades(n: int = 200_000) -> list[Trade]:
    # 20 trades a second: a new 1m bar every 1,200 trades, a new 1h bar every 72,000
    return [Trade("v", "SOL-PERP", T0 + i * 50_000_000, 145_000_000 + (i * 7_919) % 100_000, 1_000_000_000, "buy")
            for i in range(n)]


def best_rate(run: Callable[[], int]) -> float:
    best = 0.0
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        n = run()
        best = max(best, n / (time.perf_counter() - t0))
    return best


def into_cache(events: list[Trade]) -> int:
    cache = MarketCache()
    cache.add_markets([SOL])
    on = cache.on_event
    for ev in events:
        on("trade.v.SOL-PERP", ev)
    return len(events)


def pipeline(n: int = 60_000) -> int:
    from quantdesk.venues.session import simulated_session
    from quantdesk.venues.sim.clock import ManualClock

    session = simulated_session(seed=7, clock=ManualClock(T0), paused=True)
    session.advance(n)
    return n


def with_bars(bars: bool, fn: Callable[[], int]) -> float:
    import quantdesk.core.cache as cache_module

    cache_module.MarketCandles = candles.MarketCandles if bars else _NoBars  # type: ignore[misc]  # the switch
    try:
        return best_rate(fn)
    finally:
        cache_module.MarketCandles = candles.MarketCandles  # type: ignore[misc]  # back as shipped


def main() -> int:
    events = trades()
    r = {}
    for _ in range(2):  # interleaved, so a busy moment of the machine hits both
        r["trades_per_s"] = max(r.get("trades_per_s", 0.0), with_bars(True, lambda: into_cache(events)))
        r["trades_bare_per_s"] = max(r.get("trades_bare_per_s", 0.0), with_bars(False, lambda: into_cache(events)))
        r["pipeline_per_s"] = max(r.get("pipeline_per_s", 0.0), with_bars(True, pipeline))
        r["pipeline_bare_per_s"] = max(r.get("pipeline_bare_per_s", 0.0), with_bars(False, pipeline))
    print("building chart bars, best of the runs")
    print(f"  trades into the cache   {r['trades_per_s']:>12,.0f}/s   without bars {r['trades_bare_per_s']:>12,.0f}/s"
          f"   {r['trades_per_s'] / r['trades_bare_per_s']:.2f}x")
    print(f"  sim -> bus -> cache     {r['pipeline_per_s']:>12,.0f}/s   without bars {r['pipeline_bare_per_s']:>12,.0f}/s"
          f"   {r['pipeline_per_s'] / r['pipeline_bare_per_s']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
