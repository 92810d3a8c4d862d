"""One ``quantdesk feed`` fanning out through Redis to 50 headless terminals,
beside the same feed serving one terminal alone, in the same run.

Each headless terminal is a Session over the Redis feed (the relay venues a
``quantdesk --source redis://...`` terminal opens), without the screen. The
terminals run in a few worker processes (10 each). Every book and trade event
carries the time the simulated venue made it (``ts``, wall clock, the same
machine), so a terminal's added latency per event is its receive time minus
``ts``: the feed's bus, its Redis writes, Redis, and the terminal's read and
decode. The feed's CPU is its process's user+system time over the window, in
% of one core.

    python benchmarks/feed_fanout.py [--json] [--redis URL] [--rate 2000] [--seconds 8]

On a 2-core machine the 50 terminals share the cores with the feed and Redis,
so the 50-terminal latency also counts time waiting for a core. Figures of
one run there (200 ev/s): 1 terminal p50 0.62 ms, p99 4.5 ms, feed CPU 7.6 %;
50 terminals p50 6.4 ms, p99 47 ms, feed CPU 7.0 %. At 2,000 ev/s the 50
terminals need more than the 2 cores and fall seconds behind; the feed's CPU
does not grow with the number of terminals.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
PER_WORKER = 10


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def _consume(url: str, namespace: str, terminals: int, warmup: float, seconds: float) -> list[float]:
    sys.path.insert(0, str(SRC))
    from quantdesk.venues import registry
    from quantdesk.venues.session import Session

    reader = registry.source_for(url)
    assert reader is not None
    lat_ms: list[float] = []
    measuring = [False]

    def on_event(topic: str, ev: object) -> None:
        ts = getattr(ev, "ts", 0)
        if measuring[0] and ts:
            lat_ms.append((time.time_ns() - ts) / 1e6)

    sessions = [Session(reader.open(url, registry.SourceOptions(namespace=namespace)), time.time_ns) for _ in range(terminals)]
    for s in sessions:
        s.bus.subscribe("book.>", on_event)
        s.bus.subscribe("trades.>", on_event)
        await s.start()
    await asyncio.sleep(warmup)
    measuring[0] = True
    await asyncio.sleep(seconds)
    measuring[0] = False
    for s in sessions:
        await s.stop()
    return lat_ms


def worker_main(args: argparse.Namespace) -> int:
    lat = asyncio.run(_consume(args.redis, args.namespace, args.worker, args.warmup, args.seconds))
    json.dump(lat, sys.stdout)
    return 0


def _drop_namespace(redis_url: str, namespace: str) -> None:
    import redis

    r = redis.Redis.from_url(redis_url)
    try:
        keys = list(r.scan_iter(match=f"qd:{namespace}:*", count=1000))
        if keys:
            r.delete(*keys)
    finally:
        r.close()


def scenario(redis_url: str, terminals: int, rate: float, seconds: float) -> dict[str, float]:
    namespace = f"bench-fanout-{os.getpid()}-{terminals}"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    feed = subprocess.Popen(
        [sys.executable, "-m", "quantdesk.cli", "feed", "--redis", redis_url, "--namespace", namespace,
         "--rate", str(rate), "--duration", str(seconds + 20), "--quiet"],
        env=env, stderr=subprocess.PIPE, text=True,
    )
    warmup = 3.0
    workers = []
    try:
        time.sleep(1.5)  # the feed writes its markets before terminals open
        left = terminals
        while left:
            n = min(PER_WORKER, left)
            left -= n
            workers.append(subprocess.Popen(
                [sys.executable, __file__, "--worker", str(n), "--redis", redis_url, "--namespace", namespace,
                 "--warmup", str(warmup), "--seconds", str(seconds)],
                env=env, stdout=subprocess.PIPE, text=True,
            ))
        time.sleep(warmup)
        cpu0, t0 = _cpu_s(feed.pid), time.monotonic()
        time.sleep(seconds)
        cpu1, t1 = _cpu_s(feed.pid), time.monotonic()
        lat: list[float] = []
        for w in workers:
            out, _ = w.communicate(timeout=seconds + 60)
            lat += json.loads(out)
    finally:
        feed.terminate()
        feed.communicate(timeout=30)
        for w in workers:
            if w.poll() is None:
                w.kill()
        _drop_namespace(redis_url, namespace)
    return {
        "terminals": terminals,
        "events_received": len(lat),
        "events_per_terminal_per_s": len(lat) / terminals / seconds,
        "latency_p50_ms": _pct(lat, 0.50),
        "latency_p99_ms": _pct(lat, 0.99),
        "latency_mean_ms": statistics.fmean(lat) if lat else float("nan"),
        "feed_cpu_pct": 100 * (cpu1 - cpu0) / (t1 - t0),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--redis", default=os.environ.get("QUANTDESK_REDIS_URL", "redis://127.0.0.1:6379/0"))
    p.add_argument("--rate", type=float, default=2000.0, help="simulated events per second the feed ingests")
    p.add_argument("--seconds", type=float, default=8.0, help="measured window per scenario")
    p.add_argument("--terminals", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.add_argument("--worker", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--namespace", default="", help=argparse.SUPPRESS)
    p.add_argument("--warmup", type=float, default=3.0, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker_main(args)
    results = [scenario(args.redis, 1, args.rate, args.seconds), scenario(args.redis, args.terminals, args.rate, args.seconds)]
    if args.json:
        print(json.dumps({"baseline_one_terminal": results[0], "fanout": results[1]}, indent=2))
        return 0
    print(f"feed at {args.rate:,.0f} ev/s, {args.seconds:.0f} s window, {os.cpu_count()} cores")
    print(f"{'terminals':>9} {'ev/s/term':>10} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'feed CPU %':>10}")
    for r in results:
        print(f"{r['terminals']:>9} {r['events_per_terminal_per_s']:>10,.0f} {r['latency_p50_ms']:>8.2f} "
              f"{r['latency_p99_ms']:>8.2f} {r['latency_mean_ms']:>8.2f} {r['feed_cpu_pct']:>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
