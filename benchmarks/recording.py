"""What ``--record FILE`` costs the feed, and how fast a recording plays back,
each beside a baseline measured in the same run.

A paused simulated session is driven by ``Session.advance`` (simulated venues
-> bus -> MarketCache, the pipeline figure of ``run.py``):

  pipeline_per_s           the session alone (the baseline)
  pipeline_recorded_per_s  the same with a SessionRecorder on the bus, its
                           writer flushing in the same thread after each
                           batch (stamp, queue, scrub, track, encode, zstd,
                           write): the whole cost, none of it hidden in a thread
  bus_side_ns              (information) the recorder's bus callback alone
                           (stamp and queue), ns per event
  bytes_per_event          the recording's size per event
  replay_per_s             the recording played back as fast as it goes
                           (ReplaySource at max speed -> bus -> MarketCache)

    python benchmarks/recording.py [--json] [--events 200000]

The ratios ``pipeline_recorded / pipeline`` and ``replay / pipeline`` are the
figures to watch; absolute rates move with machine load.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from quantdesk.core.model import Trade  # noqa: E402
from quantdesk.venues.replay.source import ReplaySource  # noqa: E402
from quantdesk.venues.session import Session, simulated_session  # noqa: E402
from quantdesk.venues.sim.clock import ManualClock  # noqa: E402
from quantdesk.wiring.recorder import SessionRecorder  # noqa: E402

START_NS = 1_795_000_000_000_000_000
BATCH = 5_000  # events between two flushes: a 10k ev/s feed's half-second
REPEATS = 3


async def drive(events: int, record: Path | None) -> tuple[float, int]:
    """Events per second through a paused session (and a recorder), and the recording's size."""
    s = simulated_session(seed=7, clock=ManualClock(START_NS), paused=True)
    recorder = SessionRecorder(s, record) if record is not None else None
    if recorder is not None:
        recorder.attach()
    await s.start()
    s.advance(2_000)  # warm: books built, first part opened
    if recorder is not None:
        recorder.flush()
    gc.collect()
    before = s.cache.events
    t0 = time.perf_counter()
    done = 0
    while done < events:
        s.advance(BATCH)
        done += BATCH
        if recorder is not None:
            recorder.flush()
    elapsed = time.perf_counter() - t0
    n = s.cache.events - before
    size = 0
    if recorder is not None:
        recorder.close()
        size = recorder.bytes_written
    await s.stop()
    return n / elapsed, size


async def replay(path: Path) -> tuple[float, int]:
    source = ReplaySource(path, speed=0.0)
    s = Session([source], source.clock)
    gc.collect()
    t0 = time.perf_counter()
    await s.start()
    while not source.progress().finished:
        await asyncio.sleep(0)
    elapsed = time.perf_counter() - t0
    played = source.played
    await s.stop()
    return played / elapsed, played


def bus_side_ns(n: int = 200_000) -> float:
    s = simulated_session(seed=7, clock=ManualClock(START_NS), paused=True)
    d = Path(tempfile.mkdtemp())
    try:
        recorder = SessionRecorder(s, d / "bus.qdrec")
        trade = Trade("sim-drift", "SOL-PERP", START_NS, 145_000_000, 10**9, "buy")
        on_event = recorder._on_event
        best = float("inf")
        for _ in range(REPEATS):
            recorder._queue.clear()
            t0 = time.perf_counter()
            for _ in range(n):
                on_event("trade.sim-drift.SOL-PERP", trade)
            best = min(best, (time.perf_counter() - t0) / n * 1e9)
        recorder._queue.clear()
        recorder.close()
        return best
    finally:
        shutil.rmtree(d, ignore_errors=True)


async def main_async(events: int) -> dict[str, float]:
    d = Path(tempfile.mkdtemp())
    try:
        base = rec = 0.0
        size = played = 0
        rate = 0.0
        for i in range(REPEATS):
            base = max(base, (await drive(events, None))[0])
            path = d / f"run{i}.qdrec"
            r, size = await drive(events, path)
            rec = max(rec, r)
            rp, played = await replay(path)
            rate = max(rate, rp)
        return {
            "pipeline_per_s": base,
            "pipeline_recorded_per_s": rec,
            "recorded_ratio": rec / base,
            "bus_side_ns": bus_side_ns(),
            "bytes_per_event": size / max(played, 1),
            "replay_per_s": rate,
            "replay_ratio": rate / base,
        }
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--events", type=int, default=200_000)
    args = ap.parse_args()
    r = asyncio.run(main_async(args.events))
    if args.json:
        print(json.dumps(r))
        return 0
    print(f"pipeline, no recorder      {r['pipeline_per_s']:>12,.0f} events/s  (baseline)")
    print(f"pipeline, recording        {r['pipeline_recorded_per_s']:>12,.0f} events/s  ({r['recorded_ratio']:.2f}x the baseline)")
    print(f"recorder bus callback      {r['bus_side_ns']:>12,.0f} ns/event")
    print(f"recording size             {r['bytes_per_event']:>12,.1f} bytes/event")
    print(f"replay at max speed        {r['replay_per_s']:>12,.0f} events/s  ({r['replay_ratio']:.2f}x the baseline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
