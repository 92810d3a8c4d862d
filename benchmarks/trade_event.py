"""The ``Trade`` event with its maker and taker accounts, beside the same
event without them, in the same run.

Trades are on the hot path (every venue prints them; the cache keeps the
tape; the feed writes them to Redis). Each figure is measured for the
model's ``Trade`` and for ``TradeWithoutAccounts``, a struct with the fields
``Trade`` had before ``maker``/``taker`` were added:

  construct_per_s      building the event as the simulated venues do (no accounts named)
  construct_named_per_s  building it with both accounts, as the Drift adapter does
  encode_per_s         msgspec JSON encoding of a simulated venue's trade, as the feed publishes it
  encode_named_per_s   the same of a trade naming both accounts (88 more characters)

    python benchmarks/trade_event.py [--json] [--n 200000]

The ratios (Trade / without the fields) are the figures to watch; absolute
rates move with machine load.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from quantdesk.core.model import Side, Trade  # noqa: E402

MAKER = "MaKer111111111111111111111111111111111111111"
TAKER = "TaKer111111111111111111111111111111111111111"


class TradeWithoutAccounts(msgspec.Struct, frozen=True, gc=False, tag="trade", tag_field="event"):
    venue: str
    market: str
    ts: int
    price: int
    size: int
    side: Side
    liquidity: Literal["taker", "maker", ""] = "taker"


def best_rate(fn: Callable[[], int], repeats: int = 5) -> float:
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        n = fn()
        best = max(best, n / (time.perf_counter() - t0))
    return best


def figures(n: int) -> dict[str, float]:
    def construct(cls: type) -> Callable[[], int]:
        def run() -> int:
            for i in range(n):
                cls("drift", "SOL-PERP", i, 176_540_000 + i, 500_000_000, "buy", "taker")
            return n
        return run

    def construct_kw(cls: type, **accounts: str) -> Callable[[], int]:
        def run() -> int:  # every field by keyword, as wire.to_trade builds it
            for i in range(n):
                cls(venue="drift", market="SOL-PERP", ts=i, price=176_540_000 + i, size=500_000_000, side="buy",
                    liquidity="taker", **accounts)
            return n
        return run

    def encode_run(events: list) -> Callable[[], int]:
        enc = msgspec.json.Encoder().encode

        def run() -> int:
            for ev in events:
                enc(ev)
            return len(events)
        return run

    named = [Trade("drift", "SOL-PERP", i * 10**6, 176_540_000, 500_000_000, "buy", "taker", MAKER, TAKER) for i in range(n)]
    plain = [Trade("drift", "SOL-PERP", i * 10**6, 176_540_000, 500_000_000, "buy", "taker") for i in range(n)]
    without = [TradeWithoutAccounts("drift", "SOL-PERP", i * 10**6, 176_540_000, 500_000_000, "buy", "taker") for i in range(n)]
    out: dict[str, float] = {}
    # Interleaved, so both meet the same machine load.
    for name, new, old in (
        ("construct_per_s", construct(Trade), construct(TradeWithoutAccounts)),
        ("construct_named_per_s", construct_kw(Trade, maker=MAKER, taker=TAKER), construct_kw(TradeWithoutAccounts)),
        ("encode_per_s", encode_run(plain), encode_run(without)),
        ("encode_named_per_s", encode_run(named), encode_run(without)),
    ):
        a, b = [], []
        for _ in range(3):
            a.append(best_rate(new, 2))
            b.append(best_rate(old, 2))
        out[name] = max(a)
        out[name.replace("_per_s", "_baseline_per_s")] = max(b)
        out[name.replace("_per_s", "_ratio")] = max(a) / max(b)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--n", type=int, default=200_000)
    args = parser.parse_args()
    r = figures(args.n)
    if args.json:
        print(json.dumps(r))
        return 0
    for name in ("construct", "construct_named", "encode", "encode_named"):
        print(f"{name:<16} Trade {r[name + '_per_s']:>11,.0f}/s   without the fields {r[name + '_baseline_per_s']:>11,.0f}/s"
              f"   ratio {r[name + '_ratio']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
