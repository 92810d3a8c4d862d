"""The console's cold start loads only what its first frame shows (DESIGN.md:
first full frame within 0.4 s). A fresh interpreter builds the App on the
simulated venues, paints a full frame headless, and lists what it imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

CHILD = r"""
import asyncio, sys
from quantdesk.venues.session import simulated_session
from quantdesk.console.app import QuantDeskApp

async def main():
    app = QuantDeskApp(simulated_session(seed=7, paused=True))
    async with app.run_test(size=(200, 50)):
        await app.session_started.wait()
        while not app.session.cache.has_full_state():
            app.session.advance(50)
        app.frame()
        painted = asyncio.Event()
        app.call_after_refresh(painted.set)
        await painted.wait()
        modules = sorted(sys.modules)
    print("\n".join(modules))

asyncio.run(main())
"""

# Loaded at their first use, never for the first frame of a console on the sims.
LATER = (
    "quantdesk.core.alerts",  # the rule grammar and kinds: the first ALERT
    "quantdesk.wiring.alert_desk",
    "quantdesk.core.insights.engine",  # the ranked report: the Insights pane
    "quantdesk.trading.ticket",  # the first order
    "quantdesk.trading.router",  # only where orders can go
    "quantdesk.signing.policy",
    "quantdesk.sync.team_desk",  # only with a team workspace
    "solders",
    "solana",
    "driftpy",
    "anchorpy",
)


def test_first_frame_loads_nothing_it_does_not_show():
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = set(out.stdout.split())
    assert "quantdesk.console.panes.depth" in loaded  # the child did paint the console
    early = sorted(m for m in loaded if any(m == name or m.startswith(name + ".") for name in LATER))
    assert early == []
