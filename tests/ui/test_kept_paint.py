"""Panes, the status bar and the grid keep their painted lines between frames
and compose only what changed: what a trader's terminal shows after every
frame must be what a full repaint of the screen shows, cell for cell and
colour for colour, through feed steps, focus moves, a theme, a layout, a
toast and a resize."""

from __future__ import annotations

import pyte
import pytest

from quantdesk.console.app import QuantDeskApp
from quantdesk.console.kept_paint import KeptPaint
from quantdesk.console.paint import paint_now
from quantdesk.console.panes.base import Pane

from support.app import start


class Terminal:
    """A VT screen fed with exactly what the App writes for each update."""

    def __init__(self, app: QuantDeskApp, size: tuple[int, int]) -> None:
        self.app = app
        self.screen = pyte.Screen(*size)
        self.stream = pyte.Stream(self.screen)

    def feed(self, update: object) -> None:
        render = getattr(update, "render_segments", None)
        if render is not None:
            self.stream.feed(render(self.app.console))

    def cells(self) -> list[list[tuple]]:
        s = self.screen
        return [[tuple(s.buffer[y][x]) for x in range(s.columns)] for y in range(s.lines)]


def full_repaint(app: QuantDeskApp) -> list[list[tuple]]:
    """The screen as Textual paints it from nothing: every widget's kept lines dropped."""
    for widget in app.screen.walk_children(with_self=True):
        widget.refresh()
    truth = Terminal(app, app.size)
    truth.feed(app.screen._compositor.render_full_update())
    return truth.cells()


def first_difference(shown: list[list[tuple]], truth: list[list[tuple]]) -> str:
    for y, (a, b) in enumerate(zip(shown, truth)):
        for x, (c, d) in enumerate(zip(a, b)):
            if c != d:
                return f"cell ({x}, {y}): shown {c}, a full repaint {d}"
    return ""


async def drive(app: QuantDeskApp, pilot, size: tuple[int, int], steps: int, act=None) -> None:
    term = Terminal(app, size)
    term.feed(app.screen._compositor.render_full_update())
    display = app._display

    def recording(screen, update) -> None:
        display(screen, update)
        if screen is app.screen:
            term.feed(update)

    app._display = recording
    session = app.session
    for step in range(steps):
        session.advance(1 + step % 5)
        session.clock.advance(43_000_000)
        if act is not None:
            await act(step)
        app.frame()
        paint_now(app.screen)
        await pilot.pause()
        if step % 10 == 9:
            app._display = display  # the check's own repaint is not the terminal's
            problem = first_difference(term.cells(), full_repaint(app))
            assert not problem, f"step {step}: {problem}"
            term = Terminal(app, size)  # the full repaint is what the terminal shows now
            term.feed(app.screen._compositor.render_full_update())
            app._display = recording
    app._display = display


@pytest.mark.parametrize("size", [(200, 50), (120, 35), (80, 24)])
async def test_the_terminal_shows_what_a_full_repaint_shows(session, size):
    app = QuantDeskApp(session)
    async with app.run_test(size=size) as pilot:
        await start(app, pilot)
        kept = [w for w in app.screen.walk_children() if isinstance(w, KeptPaint)]
        assert any(isinstance(w, Pane) for w in kept) and len(kept) >= 4

        async def act(step: int) -> None:
            if step % 13 == 4:
                await pilot.press("tab")  # focus moves: two borders change colour
            if step == 22:
                app.notify("Filled 1 SOL-PERP @ 150.00", timeout=30)

        await drive(app, pilot, size, 60, act)


async def test_a_theme_layout_and_resize_are_painted_whole(session):
    app = QuantDeskApp(session)
    async with app.run_test(size=(200, 50)) as pilot:
        await start(app, pilot)
        await drive(app, pilot, (200, 50), 10)
        await pilot.press(*":THEME amber", "enter")
        await pilot.pause()
        await drive(app, pilot, (200, 50), 20)
        await pilot.press(*":LAYOUT scalper", "enter")
        await pilot.pause()
        await drive(app, pilot, (200, 50), 20)
        await pilot.resize_terminal(120, 35)
        await pilot.pause()
        await drive(app, pilot, (120, 35), 20)
