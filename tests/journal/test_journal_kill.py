"""SIGKILL at random instants, 20 times on one journal file, while the
terminal's real order path trades: nothing acknowledged is lost or changed,
no order is over-filled, every order's filled amount is the sum of its fills,
and the positions a restart rebuilds are exactly the journaled fills."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import defaultdict
from pathlib import Path

import msgspec

import quantdesk
from quantdesk.core.model import Fill, Order

WRITER = Path(__file__).with_name("kill_writer.py")
KILLS = 20
HANG_S = 60  # a writer that has not been killed by then is stuck: fail rather than hang


class Writer:
    """One run of the writer; every line it printed before dying is kept."""

    def __init__(self, path: Path, run: int) -> None:
        env = dict(os.environ, PYTHONPATH=str(Path(quantdesk.__file__).parents[1]))
        self.proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(path), str(run)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        self._watchdog = threading.Timer(HANG_S, self.proc.kill)
        self._watchdog.start()
        self.acks: list[list[str]] = []
        self.fills: list[str] = []

    def line(self) -> list[str]:
        text = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not text:
            self.proc.wait()
            raise AssertionError(f"the writer stopped by itself ({self.proc.returncode}): {self.proc.stderr.read()}")  # type: ignore[union-attr]
        return text.split()

    def restored(self) -> dict[tuple[str, str], int]:
        positions = {}
        while (fields := self.line())[0] != "ready":
            assert fields[0] == "restored", fields
            positions[(fields[1], fields[2])] = int(fields[3])
        return {k: v for k, v in positions.items() if v}

    def _take(self, fields: list[str]) -> bool:
        if fields[0] == "ack":
            self.acks.append(fields[1:])
            return True
        assert fields[0] == "fill", fields
        self.fills.append(f"{fields[1]}:{fields[2]}")
        return False

    def run_and_kill(self, rng: random.Random) -> None:
        self.proc.stdin.write("go\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]
        acks_before_kill = rng.randint(0, 60)
        seen = 0
        while seen < acks_before_kill:
            seen += self._take(self.line())
        # A random instant inside whatever the writer is doing now (not for correctness).
        threading.Event().wait(rng.random() * 0.004)
        os.kill(self.proc.pid, signal.SIGKILL)
        for text in self.proc.stdout:  # type: ignore[union-attr]
            # Printed whole before the kill: acknowledged too. A line the kill cut
            # short (no newline) never reached the trader as an acknowledgement.
            if text.endswith("\n") and text.strip():
                self._take(text.split())
        self.proc.wait()
        self._watchdog.cancel()
        assert self.proc.returncode == -signal.SIGKILL, self.proc.stderr.read()  # type: ignore[union-attr]

    def stop(self) -> None:
        self._watchdog.cancel()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            pipe.close()  # type: ignore[union-attr]


def read_journal(path: Path) -> tuple[dict[str, Order], list[Fill]]:
    """Orders and fills as they are on disk (read-only: the writer may be alive)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        orders = {r[0]: msgspec.json.decode(r[1], type=Order) for r in raw.execute("SELECT id, payload FROM orders")}
        fills = [msgspec.json.decode(r[0], type=Fill) for r in raw.execute("SELECT payload FROM fills")]
    return orders, fills


def positions_of(fills: list[Fill]) -> dict[tuple[str, str], int]:
    base: dict[tuple[str, str], int] = defaultdict(int)
    for f in fills:
        base[(f.venue, f.market)] += f.size if f.side == "buy" else -f.size
    return {k: v for k, v in base.items() if v}


def test_sigkill_twenty_times_keeps_every_order_and_fill_consistent(tmp_path):
    path = tmp_path / "journal.sqlite3"
    rng = random.Random(11)
    acked: dict[str, list[str]] = {}  # "venue:order_id" -> side, type, size, price as acknowledged
    shown: set[str] = set()
    fills_total = 0
    for run in range(KILLS + 1):
        writer = Writer(path, run)
        try:
            restored = writer.restored()
            orders, fills = read_journal(path)
            # The restart rebuilt exactly the journaled fills (including any a
            # restored order made during the restore, which are journaled too).
            assert restored == positions_of(fills), f"start {run}"
            if run == KILLS:
                break
            writer.run_and_kill(rng)
        finally:
            writer.stop()

        for venue, order_id, *identity in writer.acks:
            acked[f"{venue}:{order_id}"] = identity
        shown.update(writer.fills)
        orders, fills = read_journal(path)
        fill_ids = {f"{f.venue}:{f.fill_id}" for f in fills}
        assert len(fill_ids) == len(fills)
        missing = [key for key in acked if key not in orders]
        assert missing == [], f"kill {run}: acknowledged orders missing from the journal"
        changed = {
            key: (ident, [o.side, o.type, str(o.size), str(o.price)])
            for key, ident in acked.items()
            if [(o := orders[key]).side, o.type, str(o.size), str(o.price)] != ident
        }
        assert changed == {}, f"kill {run}: acknowledged orders changed in the journal"
        assert sorted(shown - fill_ids) == [], f"kill {run}: fills shown but not journaled"
        by_order: dict[str, int] = defaultdict(int)
        for f in fills:
            by_order[f"{f.venue}:{f.order_id}"] += f.size
        over = {k: (n, orders[k].size) for k, n in by_order.items() if k in orders and n > orders[k].size}
        assert over == {}, f"kill {run}: orders filled beyond their size"
        wrong = {k: (o.filled, by_order.get(k, 0)) for k, o in orders.items() if o.filled != by_order.get(k, 0)}
        assert wrong == {}, f"kill {run}: an order's filled is not the sum of its fills"
        fills_total = len(fills)

    # The run really traded: many orders, fills, kills mid-way.
    assert len(acked) >= 100 and fills_total >= 50
