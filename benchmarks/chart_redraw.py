"""Chart redraw time at 120x36: the Chart pane against its budget and two baselines.

    python benchmarks/chart_redraw.py          a readable table
    python benchmarks/chart_redraw.py --json   one JSON object

Measured in one run, best of several repeats, on a headless App:

  chart_redraw_ms      the Chart pane drawing 1,000 hourly bars (the newest ~105
                       shown) with volume, mark, oracle, entry and liquidation
                       lines into 120x36 cells: ``build`` (the lines) and the
                       Line API strips Textual paints, every line new
  plain_redraw_ms      (floor) 36 lines of 120 plain characters turned into
                       strips the same way: the least any pane redraw costs
  plotext_redraw_ms    (baseline) plotext drawing the same bars as a candlestick
                       chart over a volume bar chart at 120x36, its ANSI output
                       parsed into Rich text and rendered, which is what the
                       textual-plotext widget does each refresh; skipped when
                       plotext is not installed (pip install '.[bench]')

Budget: chart_redraw_ms under 20 ms, so a chart never holds a frame back.
Exit status 1 when it is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(os.environ.get("QUANTDESK_BENCH_SRC") or ROOT / "src")))

from quantdesk.core.model import Candle, MarkPrice, OraclePrice, Position, topic_for  # noqa: E402

WIDTH, HEIGHT = 120, 36
BUDGET_MS = 20.0
BARS = 1_000
REPEATS = 30
START_NS = 1_795_000_000_000_000_000
HOUR_NS = 3_600_000_000_000


def bars(venue: str, market: str, n: int = BARS, seed: int = 16) -> list[Candle]:
    """Hourly bars of a random walk around 150 USD, at 1e6 price and 1e9 size precision."""
    rng = random.Random(seed)
    out = []
    price = 150_000_000
    start = START_NS - START_NS % HOUR_NS - n * HOUR_NS
    for i in range(n):
        o = price
        c = max(1_000_000, o + int(rng.gauss(0, 900_000)))
        h = max(o, c) + abs(int(rng.gauss(0, 400_000)))
        lo = max(1, min(o, c) - abs(int(rng.gauss(0, 400_000))))
        v = int(rng.uniform(2_000, 40_000) * 1e9)
        out.append(Candle(venue, market, "1h", start + i * HOUR_NS, o, h, lo, c, v, v * (o + c) // 2 // 10**9))
        price = c
    return out


def best_ms(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1000


async def measure_panes() -> dict[str, float]:
    from rich.text import Text

    from quantdesk.console.app import QuantDeskApp
    from quantdesk.venues.session import simulated_session
    from quantdesk.venues.sim.clock import ManualClock

    session = simulated_session(seed=7, clock=ManualClock(START_NS), paused=True)
    app = QuantDeskApp(session, panes=["chart"])
    async with app.run_test(size=(WIDTH + 3, HEIGHT + 3)) as pilot:
        await app.session_started.wait()
        session.advance(500)
        venue, market = "sim-drift", "SOL-PERP"
        series = bars(venue, market)
        last = series[-1].close
        events = [*series, MarkPrice(venue, market, START_NS, last + 150_000), OraclePrice(venue, market, START_NS, last - 90_000),
                  Position(venue, market, 2_000_000_000, -2 * (last - 3_000_000), last - 3_000_000, liquidation_price=last - 25_000_000)]
        for ev in events:
            session.bus.publish(topic_for(ev), ev)
        pane = app.pane_of_type("chart")
        pane.select(venue=venue, market=market)
        pane.set_timeframe("1h")
        await pilot.pause()
        now = session.clock()
        lines = pane.build(now, WIDTH, HEIGHT)
        assert len(lines) == HEIGHT, len(lines)

        def chart() -> None:
            pane._texts, pane._strips = [], []  # every line drawn anew
            pane._show(pane.build(now, WIDTH, HEIGHT), WIDTH, HEIGHT)

        plain_lines = [Text("x" * WIDTH) for _ in range(HEIGHT)]

        def plain() -> None:
            pane._texts, pane._strips = [], []
            pane._show([t.copy() for t in plain_lines], WIDTH, HEIGHT)

        out = {"chart_redraw_ms": best_ms(chart), "plain_redraw_ms": best_ms(plain)}
        out["plotext_redraw_ms"] = plotext_ms(series[-(WIDTH - 15):], pane, app.console)
        return out


def plotext_ms(series: list[Candle], pane: object, console: object) -> float | None:
    try:
        import plotext as plt
    except ImportError:
        return None
    from rich.text import Text

    xs = list(range(len(series)))
    data = {
        "Open": [c.open / 1e6 for c in series], "Close": [c.close / 1e6 for c in series],
        "High": [c.high / 1e6 for c in series], "Low": [c.low / 1e6 for c in series],
    }
    volumes = [c.volume / 1e9 for c in series]
    levels = [series[-1].close / 1e6 + d for d in (0.15, -0.09, -3.0)]

    def once() -> None:
        plt.clf()
        plt.plotsize(WIDTH, HEIGHT)
        plt.subplots(2, 1)
        plt.subplot(1, 1)
        plt.candlestick(xs, data)
        for y in levels:
            plt.hline(y)
        plt.subplot(2, 1)
        plt.bar(xs, volumes)
        texts = Text.from_ansi(plt.build()).split("\n")
        pane._texts, pane._strips = [], []  # type: ignore[attr-defined]
        pane._show(list(texts)[:HEIGHT], WIDTH, HEIGHT)  # type: ignore[attr-defined]

    return best_ms(once, repeats=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    r: dict[str, object] = dict(asyncio.run(measure_panes()))
    r["budget_ms"] = BUDGET_MS
    r["ok"] = float(r["chart_redraw_ms"]) < BUDGET_MS  # type: ignore[arg-type]
    if args.json:
        print(json.dumps(r))
    else:
        plotext = r["plotext_redraw_ms"]
        print(f"chart redraw at {WIDTH}x{HEIGHT}, best of {REPEATS}")
        print(f"  Chart pane (Line API)   {r['chart_redraw_ms']:8.2f} ms   budget < {BUDGET_MS:g} ms   {'ok' if r['ok'] else 'MISSED'}")
        print(f"  plain text (floor)      {r['plain_redraw_ms']:8.2f} ms")
        if plotext is None:
            print("  plotext (baseline)      not installed: pip install '.[bench]' to compare")
        else:
            print(f"  plotext (baseline)      {plotext:8.2f} ms   ({float(plotext) / float(r['chart_redraw_ms']):.0f}x the Chart pane)")  # type: ignore[arg-type]
    return 0 if r["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
