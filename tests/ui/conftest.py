"""Shared set-up for the terminal's tests: a paused, seeded simulated session
on a manual clock, so every run shows the same market."""

from __future__ import annotations

import pytest
from rich.style import Style

from quantdesk.venues.session import Session, simulated_session
from quantdesk.console.app import QuantDeskApp
from quantdesk.console.panes.base import Pane
from quantdesk.console.panes.depth import FADE_NS
from quantdesk.venues.sim.clock import ManualClock

START_NS = 1_795_000_000_000_000_000  # 2026-11-18 11:06:40 UTC
SEED = 7
WARMUP_EVENTS = 3_000


def paused_session(seed: int = SEED) -> Session:
    return simulated_session(seed=seed, clock=ManualClock(START_NS), paused=True)


@pytest.fixture(autouse=True)
def user_dirs(tmp_path, monkeypatch):
    """A fresh user config and data directory: a developer's own theme, keymap
    or layout choices must not change what these tests see."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path


@pytest.fixture
def session() -> Session:
    return paused_session()


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


def pane_lines(pane: Pane) -> list[str]:
    """What the pane shows now, one string per row."""
    return [pane.render_line(y).text.rstrip() for y in range(pane.size.height)]


def pane_text(pane: Pane) -> str:
    return "\n".join(pane_lines(pane))


def row_styles(pane: Pane, y: int) -> list[tuple[str, Style | None]]:
    return [(seg.text, seg.style) for seg in pane.render_line(y)]
