"""Keys typed ahead through a real terminal: ``quantdesk`` on a pseudo-terminal,
each command written in one ``write`` (as ``tmux send-keys`` and a fast
typist deliver them) the moment the first frame is on screen. Every key must
reach the command line: the orders land in the journal exactly as typed."""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


class PtyConsole:
    """The terminal in a child process on a 120x35 pty, its output drained on a thread."""

    def __init__(self, config: Path, env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 35, 120, 0, 0))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "quantdesk.cli", "--config", str(config)],
            stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True, close_fds=True,
        )
        os.close(slave)
        self.output = bytearray()
        self._lock = threading.Lock()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self.output += chunk

    def seen(self, text: bytes) -> bool:
        with self._lock:
            return text in self.output

    def write(self, data: bytes) -> None:
        os.write(self.master, data)  # one write: the whole burst arrives at once

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        os.close(self.master)


def orders(journal: Path) -> list[tuple[str, str, int]]:
    if not journal.exists():
        return []
    with sqlite3.connect(journal) as db:
        try:
            rows = db.execute("select payload from orders").fetchall()
        except sqlite3.OperationalError:  # the terminal has not created its tables yet
            return []
    import json

    out = []
    for (data,) in rows:
        o = json.loads(data)
        out.append((o["market"], o["side"], o["size"]))
    return sorted(out)


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout  # a child process on a loaded machine: real time, generous
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_commands_typed_as_one_burst_at_the_first_frame_all_arrive(tmp_path, user_dirs):
    journal = tmp_path / "journal.sqlite3"
    config = tmp_path / "quantdesk.toml"
    config.write_text(f'[journal]\npath = "{journal}"\n')
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "35",
           "QUANTDESK_LOG_DIR": str(tmp_path / "log")}
    console = PtyConsole(config, env)
    try:
        wait_for(lambda: console.seen(b"ORDERS"), 60, "the first frame never arrived")
        console.write(b":SOL-PERP BUY 1 MKT\r")
        console.write(b":ETH-PERP SELL 2 MKT\r:sol buy 3 mkt\r")  # two commands in one write
        wait_for(lambda: len(orders(journal)) >= 3, 60, f"orders in the journal: {orders(journal)}")
        time.sleep(0.5)  # nothing else arrives: no key was read twice either
        assert orders(journal) == [("ETH-PERP", "sell", 2 * 10**9), ("SOL-PERP", "buy", 10**9), ("SOL-PERP", "buy", 3 * 10**9)]
    finally:
        console.close()
