"""Each shipped theme and layout at 200x50 on a seeded, paused session with a
frozen clock, plus the command line showing an error and the help screen.

After an intended change of the screen: ``pytest tests/console/test_console_snapshots.py
--snapshot-update`` and review the SVGs in __snapshots__.
"""

from __future__ import annotations

import pytest

from quantdesk.console.panes.depth import FADE_NS

from support.console_app import make_app
from support.app import paused_session

WARMUP_EVENTS = 3_000


@pytest.fixture(autouse=True)
def user_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


def warm(app, then=None):
    async def run_before(pilot) -> None:
        await app.session_started.wait()
        app.session.advance(WARMUP_EVENTS)
        app.frame()
        app.session.clock.advance(FADE_NS)  # past the change highlights: a screen at rest
        app.frame()
        if then is not None:
            await then(pilot)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("theme", ["dark", "amber", "high-contrast"])
def test_theme(snap_compare, theme):
    app = make_app()
    app.theme = theme
    assert snap_compare(app, terminal_size=(200, 50), run_before=warm(app))


@pytest.mark.parametrize("layout", ["overview", "scalper", "carry"])
def test_layout(snap_compare, layout):
    app = make_app(layout=layout)
    assert snap_compare(app, terminal_size=(200, 50), run_before=warm(app))


def test_command_line_error(snap_compare):
    app = make_app()

    async def typed(pilot):
        await pilot.press("colon", *"SOL-PERP BUY 2 @ 145.20 PSOT", "enter")

    assert snap_compare(app, terminal_size=(200, 50), run_before=warm(app, typed))


def test_help_screen(snap_compare):
    app = make_app()

    async def help_(pilot):
        await pilot.press("question_mark")

    assert snap_compare(app, terminal_size=(200, 50), run_before=warm(app, help_))
