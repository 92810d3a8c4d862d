"""``quantdesk serve ssh`` with 1 and with 20 traders connected, in one run:
keystroke-to-screen latency over SSH and the server's memory per session.

The server (this process) runs one simulated feed at --rate events/s and a
real ``DeskServer`` on a free port; the traders are asyncssh clients in a
child process. A sample is one key (``]`` then ``[``, moving the depth
ladder's market) sent on one session, round robin, until that session's
output draws the ladder's new title: what a trader feels. (The clients only
search the bytes: a VT emulator per session would make the client side the
bottleneck.) The baseline, measured in the same
phase with the same connections open, is the console's own part of each
key (from its bytes reaching the PTY to the new frame leaving it: the same
work a local terminal does), so "added by SSH+PTY" is the total minus it;
beside it, the SSH round trip of one byte to an echo channel on the same
server loop, the floor of any SSH session there. Memory is the
server's RSS growth from before the phase's clients connect to when they
all show their first screen, divided by the sessions.

    python benchmarks/ssh_sessions.py [--json] [--rate 200] [--samples 40] [--sessions 20] [--window 60]

Every console runs in the server's one process, so they share one core:
the server paces their repaints to its load (``serve.ssh.pacing``), keeps
their settled objects out of full collections and collects their young ones
in small steps (``console.collector``). Figures of runs on a shared 2-core
machine at 200 ev/s: 1 session key->screen p50 9-14 ms, p99 18-33 ms (the
console's own 7-10 ms, SSH+PTY 2.6-3.7 ms); 20 sessions key->screen p50
12-18 ms, p99 73-108 ms (the console's own p50 8-9 ms), +4.4 MB of server RSS
each. Before the pacing, 20 sessions took p50 2.2 s, p99 3.9 s; with the
pacing but generation-1 passes over all twenty consoles' young objects,
p99 0.2-0.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
sys.path.insert(0, str(SRC))


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


# -- the traders (child process) --------------------------------------------------


async def _traders(port: int, echo_port: int, key_path: str, sessions: int, samples: int, window_s: float) -> None:
    import asyncssh

    key = asyncssh.read_private_key(key_path)
    screens: list[bytearray] = []  # each session's output since its last key
    procs = []
    conns = []

    async def open_one() -> None:
        conn = await asyncssh.connect("127.0.0.1", port, username="t", client_keys=[key], known_hosts=None, agent_path=None)
        proc = await conn.create_process(term_type="xterm-256color", term_size=(120, 40), encoding=None)
        screen = bytearray()

        async def read() -> None:
            while data := await proc.stdout.read(65536):
                screen.extend(data)

        asyncio.create_task(read())
        conns.append(conn)
        procs.append(proc)
        screens.append(screen)

    for _ in range(sessions):
        await open_one()

    async def title_shows(screen: bytearray, text: str, timeout: float = 60.0) -> None:
        deadline = time.perf_counter() + timeout
        mark = text.encode()
        while mark not in screen:
            if time.perf_counter() > deadline:
                raise TimeoutError(text)
            await asyncio.sleep(0.0005)

    await asyncio.gather(*(title_shows(s, "DEPTH SOL-PERP") for s in screens))
    print("READY", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

    key_ms: list[float] = []
    stop_at = time.perf_counter() + window_s  # a saturated server gets fewer samples, not an endless run
    for i in range(samples):
        if time.perf_counter() > stop_at:
            break
        n = i % sessions
        step, want = ("]", "DEPTH BTC-PERP") if (i // sessions) % 2 == 0 else ("[", "DEPTH SOL-PERP")
        screens[n].clear()  # the ladder's title is drawn again only when it changes
        t0 = time.perf_counter()
        procs[n].stdin.write(step.encode())
        try:
            await title_shows(screens[n], want, timeout=max(1.0, stop_at - time.perf_counter() + 30))
        except TimeoutError:
            key_ms.append(float("inf"))
            break
        key_ms.append((time.perf_counter() - t0) * 1000)
        await asyncio.sleep(0.02)

    echo = await asyncssh.connect("127.0.0.1", echo_port, username="t", client_keys=[key], known_hosts=None, agent_path=None)
    eproc = await echo.create_process(encoding=None)
    echo_ms: list[float] = []
    for _ in range(samples):
        t0 = time.perf_counter()
        eproc.stdin.write(b"x")
        await eproc.stdout.readexactly(1)
        echo_ms.append((time.perf_counter() - t0) * 1000)
        await asyncio.sleep(0.02)
    print(json.dumps({"key_ms": key_ms, "echo_ms": echo_ms}), flush=True)
    echo.close()
    for c in conns:
        c.close()


# -- the server (this process) ------------------------------------------------------


def _time_the_console() -> list[float]:
    """Per key: from its bytes reaching the console's PTY to the frame with the
    ladder's new title leaving it (the console's own work, no SSH in it)."""
    from quantdesk.serve.ssh.pty_driver import PtyDriver

    out: list[float] = []
    pending: dict[int, float] = {}
    read, write = PtyDriver._on_readable, PtyDriver.write

    def on_readable(self: PtyDriver) -> None:
        pending.setdefault(id(self), time.perf_counter())
        read(self)

    def on_write(self: PtyDriver, data: str) -> None:
        t = pending.get(id(self))
        if t is not None and ("DEPTH BTC-PERP" in data or "DEPTH SOL-PERP" in data):
            out.append((time.perf_counter() - pending.pop(id(self))) * 1000)
        write(self, data)

    PtyDriver._on_readable = on_readable  # type: ignore[method-assign]
    PtyDriver.write = on_write  # type: ignore[method-assign]
    return out


async def _serve(args: argparse.Namespace) -> dict[str, object]:
    import asyncssh

    from quantdesk.serve.ssh.console import ConsoleOptions
    from quantdesk.serve.ssh.keys import load_authorized_keys, load_or_create_host_key
    from quantdesk.serve.ssh.server import DeskServer, SshOptions
    from quantdesk.venues.session import simulated_session

    tmp = Path(tempfile.mkdtemp(prefix="qd-ssh-bench-"))
    key = asyncssh.generate_private_key("ssh-ed25519", comment="trader")
    key.write_private_key(str(tmp / "id"))
    (tmp / "authorized_keys").write_text(key.export_public_key().decode())
    host_key = load_or_create_host_key(tmp / "host_key")
    shared = simulated_session(seed=7, rate=args.rate)
    await shared.start()
    options = SshOptions(host_key, load_authorized_keys(tmp / "authorized_keys"), ConsoleOptions(None, tmp / "ssh"),
                         max_sessions=max(args.sessions, 1), idle_timeout_s=0)
    server = DeskServer(shared, options)
    port = await server.start("127.0.0.1", 0)
    app_ms = _time_the_console()

    class Echo(asyncssh.SSHServerSession):  # type: ignore[misc]
        def connection_made(self, chan: object) -> None:
            self.chan = chan

        def shell_requested(self) -> bool:
            return True

        def data_received(self, data: bytes, datatype: object) -> None:
            self.chan.write(data)  # type: ignore[attr-defined]

    class EchoServer(asyncssh.SSHServer):  # type: ignore[misc]
        def begin_auth(self, username: str) -> bool:
            return True

        def public_key_auth_supported(self) -> bool:
            return True

        def validate_public_key(self, username: str, k: object) -> bool:
            return True

        def session_requested(self) -> Echo:
            return Echo()

    echo = await asyncssh.create_server(EchoServer, "127.0.0.1", 0, server_host_keys=[host_key.key], encoding=None)
    echo_port = echo.sockets[0].getsockname()[1]
    await asyncio.sleep(1.0)  # the feed warm, the interpreter's caches full
    phases: dict[str, object] = {}
    for n in (1, args.sessions):
        before = _rss_mb()
        child = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--traders", str(n), "--port", str(port), "--echo-port", str(echo_port),
            "--key", str(tmp / "id"), "--samples", str(args.samples), "--window", str(args.window),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )
        assert child.stdout is not None and child.stdin is not None
        line = await asyncio.wait_for(child.stdout.readline(), 300)
        assert line.strip() == b"READY", line
        await asyncio.sleep(1.0)  # every console drawing at the feed's pace
        after = _rss_mb()
        child.stdin.write(b"go\n")
        await child.stdin.drain()
        app_ms.clear()
        result = json.loads(await asyncio.wait_for(child.stdout.readline(), args.window + 120))
        console_ms = list(app_ms)
        await child.wait()
        key_ms, echo_ms = result["key_ms"], result["echo_ms"]
        phases[f"{n}_sessions"] = {
            "keys_measured": len(key_ms),
            "key_to_screen_ms": {"p50": round(_med(key_ms), 2), "p99": round(_pct(key_ms, 0.99), 2)},
            "baseline_ssh_echo_ms": {"p50": round(_med(echo_ms), 2), "p99": round(_pct(echo_ms, 0.99), 2)},
            "console_own_ms": {"p50": round(_med(console_ms), 2), "p99": round(_pct(console_ms, 0.99), 2)},
            "added_by_ssh_ms_p50": round(_med(key_ms) - _med(console_ms), 2),
            "server_rss_mb_per_session": round((after - before) / n, 1),
        }
        while server.channels:
            await asyncio.sleep(0.05)
    echo.close()
    await server.close()
    await shared.stop()
    return {"rate_ev_s": args.rate, "samples": args.samples, **phases}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--samples", type=int, default=40)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--window", type=float, default=60.0, help="seconds of key samples per phase at most")
    ap.add_argument("--traders", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--echo-port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--key", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.traders:
        asyncio.run(_traders(args.port, args.echo_port, args.key, args.traders, args.samples, args.window))
        return
    out = asyncio.run(_serve(args))
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"serve ssh, feed {out['rate_ev_s']:g} ev/s, {out['samples']} keys per phase")
    for name, p in out.items():
        if not name.endswith("_sessions"):
            continue
        assert isinstance(p, dict)
        k, c, e = p["key_to_screen_ms"], p["console_own_ms"], p["baseline_ssh_echo_ms"]
        print(f"  {name.split('_')[0]:>2} sessions ({p['keys_measured']} keys): key->screen p50 {k['p50']} p99 {k['p99']} ms | "
              f"console's own p50 {c['p50']} p99 {c['p99']} ms | added by SSH+PTY p50 {p['added_by_ssh_ms_p50']} ms | "
              f"baseline ssh echo p50 {e['p50']} p99 {e['p99']} ms | server RSS +{p['server_rss_mb_per_session']} MB/session")


if __name__ == "__main__":
    main()
