"""The terminal under test: a paused, seeded simulated session on a manual
clock (every run shows the same market), and reading what the App shows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest
from rich.style import Style

from quantdesk.console.app import QuantDeskApp
from quantdesk.console.panes.base import Pane
from quantdesk.console.panes.depth import FADE_NS
from quantdesk.venues.session import Session, simulated_session
from quantdesk.venues.sim.clock import ManualClock

START_NS = 1_795_000_000_000_000_000  # 2026-11-18 11:06:40 UTC
SEED = 7
WARMUP_EVENTS = 3_000


def paused_session(seed: int = SEED) -> Session:
    return simulated_session(seed=seed, clock=ManualClock(START_NS), paused=True)


@pytest.fixture
def session() -> Session:
    return paused_session()


@pytest.fixture
def user_dirs(tmp_path, monkeypatch):
    """A fresh user config, data and state directory: a developer's own theme,
    keymap, layouts or journal must not change what a test sees."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path


async def start(app: QuantDeskApp, pilot, events: int = WARMUP_EVENTS) -> None:
    """Wait for the app to start its session, drive the sim ``events`` events,
    draw a frame, then let the clock pass the depth highlights' fade so the
    screen is at rest."""
    await app.session_started.wait()
    if events:
        app.session.advance(events)
    app.frame()
    app.session.clock.advance(FADE_NS)
    app.frame()
    await pilot.pause()


async def settle(app: QuantDeskApp, pilot) -> None:
    """Let submitted orders finish and the next frame draw."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.frame()
    await pilot.pause()


async def until_shown(
    app: QuantDeskApp,
    pilot,
    cond: Callable[[], object],
    what: str,
    timeout: float = 8.0,
    advance: Callable[[], Awaitable[object]] | None = None,
) -> None:
    """Draw frames until ``cond()`` holds, for an App fed by real servers;
    ``advance`` (e.g. moving manual timers on) runs before each frame."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if advance is not None:
            await advance()
        app.frame()
        await pilot.pause()
        if cond():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def pane_lines(pane: Pane) -> list[str]:
    """What the pane shows now, one string per row."""
    return [pane.render_line(y).text.rstrip() for y in range(pane.size.height)]


def pane_text(pane) -> str:
    return "\n".join(pane.render_line(y).text.rstrip() for y in range(pane.size.height))


def row_styles(pane: Pane, y: int) -> list[tuple[str, Style | None]]:
    return [(seg.text, seg.style) for seg in pane.render_line(y)]


def status_text(app: QuantDeskApp) -> str:
    from quantdesk.console.statusbar import StatusBar

    return app.query_one(StatusBar).render().plain


def notes(app: QuantDeskApp) -> list[str]:
    return [n.message for n in app._notifications]
