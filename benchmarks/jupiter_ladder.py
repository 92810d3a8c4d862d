"""Jupiter quote ladder: how many seven-rung ladders a second the feed can price.

A ladder is rebuilt on every custody or oracle change (a few a second per
market). Since the price-impact fee reads the custody's last minute of
open-interest imbalance (summed once per ladder from the 60-second buffer),
each rung prices a long and a short apart. Beside it, in the same run, the same ladder with no impact
buffer (the linear fee only): the baseline the buffer's cost is judged by.
The custody is the real mainnet SOL custody of tests/fixtures/jupiter, priced
at its own last update (so the whole minute counts).

    python benchmarks/jupiter_ladder.py [--json]
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from quantdesk.venues.jupiter.accounts import decoder  # noqa: E402
from quantdesk.venues.jupiter.quotes import DEFAULT_LADDER_USD, quote_ladder  # noqa: E402
from quantdesk.venues.jupiter.views import NO_IMPACT_BUFFER, CustodyView  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "jupiter" / "mainnet_accounts.jsonl"
SOL_CUSTODY = "7xS2gz2bTp3fwCC7knJvUWTEU9Tycczu6VhJYKgi1wdz"


def custody() -> CustodyView:
    line = next(json.loads(x) for x in FIXTURE.read_text().splitlines() if SOL_CUSTODY in x)
    return CustodyView.from_fields(decoder().decode(base64.b64decode(line["data_b64"])).fields, SOL_CUSTODY)


def rate(c: CustodyView, now_s: int, seconds: float) -> float:
    n = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for _ in range(100):
            quote_ladder(c, 118_000_000, DEFAULT_LADDER_USD, 9, now_s)
        n += 100
    return n / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    c = custody()
    now = c.price_impact.last_updated
    linear = rate(replace(c, price_impact=NO_IMPACT_BUFFER), now, args.seconds)
    with_buffer = rate(c, now, args.seconds)
    result = {"ladders_per_s_linear_only": round(linear), "ladders_per_s_with_imbalance": round(with_buffer),
              "ratio": round(with_buffer / linear, 3)}
    if args.json:
        print(json.dumps(result))
        return
    print(f"7-rung ladder, linear fee only (baseline): {linear:,.0f} /s")
    print(f"7-rung ladder, with the minute imbalance:  {with_buffer:,.0f} /s ({with_buffer / linear:.2f}x)")


if __name__ == "__main__":
    main()
