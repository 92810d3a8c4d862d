"""Drift adapter throughput on real-shaped DLOB WebSocket frames.

Each frame is what the dlob-server sends on ``orderbook_perp_0_grouped_1``:
``{"channel": ..., "data": "<the L2 book as a JSON string>"}`` with 20 levels
a side, string prices and sizes, ``sources`` per level, string mark and best
prices and the oracle data (tests/fixtures/drift/dlob_l2_sol_perp.json,
deepened to 20 levels). The adapter figure is ``DlobFeed.on_message`` end to
end: envelope, inner book, checks, the snapshot published on a bus with a
MarketCache attached. Beside it, ``json.loads`` of the same frames: the outer
envelope alone, and the envelope plus its inner JSON string (what any Python
client must at least do).

    python benchmarks/drift_frames.py [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from quantdesk.core.bus import Bus  # noqa: E402
from quantdesk.core.cache import MarketCache  # noqa: E402
from quantdesk.venues.drift.config import default_deployment  # noqa: E402
from quantdesk.venues.drift.health import FeedHealth  # noqa: E402
from quantdesk.venues.drift.market_data import DlobFeed  # noqa: E402
from quantdesk.venues.drift.venue import to_market  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "drift" / "dlob_l2_sol_perp.json"
LEVELS = 20


def frames(n_distinct: int = 64) -> list[str]:
    base = json.loads(FIXTURE.read_text())
    for side, step in (("bids", -10_000), ("asks", 10_000)):
        rows = base[side]
        while len(rows) < LEVELS:
            price = int(rows[-1]["price"]) + step
            rows.append({"price": str(price), "size": "2500000000", "sources": {"dlob": "2500000000"}})
    out = []
    for i in range(n_distinct):
        book = copy.deepcopy(base)
        book["slot"] = base["slot"] + i
        book["ts"] = base["ts"] + 400 * i
        out.append(json.dumps({"channel": "orderbook_perp_0_grouped_1", "data": json.dumps(book)}))
    return out


def best_rate(fn, n: int, repeats: int = 5) -> float:
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = max(best, n / (time.perf_counter() - t0))
    return best


async def measure(n: int) -> dict[str, float]:
    raw = frames()
    d = default_deployment("drift")
    fixed_now = json.loads(json.loads(raw[-1])["data"])["ts"] * 1_000_000
    feed = DlobFeed(d, FeedHealth(), clock=lambda: fixed_now)
    bus, cache = Bus(), MarketCache()
    cache.attach(bus)
    cache.add_markets([to_market(d.id, d.quote, m) for m in d.markets])
    feed._bus = bus
    k = len(raw)

    def adapter() -> None:
        on = feed.on_message
        for i in range(n):
            feed.reset_ordering()  # every frame counts as new, however the distinct ones cycle
            on(raw[i % k])

    def loads_outer() -> None:
        loads = json.loads
        for i in range(n):
            loads(raw[i % k])

    def loads_both() -> None:
        loads = json.loads
        for i in range(n):
            loads(loads(raw[i % k])["data"])

    adapter()
    book = cache.book(d.id, "SOL-PERP")
    assert book is not None and len(book.bids) == LEVELS and feed.health.malformed == 0
    return {
        "frame_bytes": float(len(raw[0])),
        "adapter_frames_per_s": best_rate(adapter, n),
        "json_loads_outer_per_s": best_rate(loads_outer, n),
        "json_loads_outer_and_data_per_s": best_rate(loads_both, n),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", action="store_true")
    p.add_argument("-n", type=int, default=20_000, help="frames per run (default 20,000)")
    args = p.parse_args(argv)
    r = asyncio.run(measure(args.n))
    r["ratio_to_loads_outer_and_data"] = r["adapter_frames_per_s"] / r["json_loads_outer_and_data_per_s"]
    if args.json:
        print(json.dumps(r))
    else:
        print(f"frame: {r['frame_bytes']:,.0f} bytes, {LEVELS} levels a side")
        print(f"adapter (on_message -> bus -> cache): {r['adapter_frames_per_s']:,.0f} frames/s")
        print(f"json.loads outer envelope:           {r['json_loads_outer_per_s']:,.0f} frames/s")
        print(f"json.loads envelope + data string:   {r['json_loads_outer_and_data_per_s']:,.0f} frames/s")
        print(f"adapter / (json.loads both):         {r['ratio_to_loads_outer_and_data']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
