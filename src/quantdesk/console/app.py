"""The QuantDesk App: panes in a grid, a frame timer, a status bar.

The App is thin on purpose. It holds an injected Session (venues, bus, cache,
clock), composes panes by type name, and once per frame asks each pane to
repaint if the cache state it reads moved. Bus messages never reach the App:
the cache absorbs them, so a fast feed costs the UI nothing but one look at a
few counters per frame.
"""

from __future__ import annotations

import gc

import asyncio
import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid

from quantdesk.core import actions
from quantdesk.console.keymap import display_key, normalize_key
from quantdesk.console.console import ConsoleApp
from quantdesk.console.panes import catalogue
from quantdesk.console.panes.base import Pane
from quantdesk.console.panes.catalogue import DEFAULT_PANES, pane_class
from quantdesk.console.panes.depth import DepthPane
from quantdesk.console.statusbar import StatusBar
from quantdesk.console.team_sync import TeamSyncActions
from quantdesk.console.trading import TradingActions, trading_bindings

log = logging.getLogger(__name__)

DEFAULT_FPS = 20.0

# Colours panes use beyond Textual's own theme variables. A theme may define
# them; these are the fallbacks when it does not.
THEME_DEFAULTS = {
    "bid": "#2ebd85",
    "ask": "#f6465d",
    "up": "#2ebd85",
    "down": "#f6465d",
    "stale": "#8a8f98",
    "gain": "#2ebd85",
    "loss": "#f6465d",
    "warn": "#f0b90b",
    "flash": "#f0b90b",
}

# Binding id -> Textual action. Keys and descriptions come from the action
# catalogue, so keymaps, help and palette agree with what the keys do.
APP_ACTIONS = {
    "focus.next": "focus_next",
    "focus.prev": "focus_previous",
    **{e.focus_action: f"focus_pane({e.id!r})" for e in catalogue.entries() if e.focus_action},
    "market.next": "market(1)",
    "market.prev": "market(-1)",
    "venue.next": "venue(1)",
    "venue.prev": "venue(-1)",
    "app.quit": "quit",
}

# What the status bar advertises: (label, binding ids whose keys are shown).
HINTS = (
    ("panes", ("focus.depth", "focus.positions")),
    ("market", ("market.prev", "market.next")),
    ("venue", ("venue.prev", "venue.next")),
    ("command", ("app.command_line",)),
    ("help", ("app.help",)),
    ("quit", ("app.quit",)),
)


def catalogue_bindings(ids: Iterable[str]) -> list[Binding]:
    out = []
    for binding_id in ids:
        a = actions.BY_ID[binding_id]
        out.append(
            Binding(
                normalize_key(a.key),
                APP_ACTIONS[binding_id],
                a.description,
                key_display=a.key,
                show=False,
                id=binding_id,
            )
        )
    return out


class QuantDeskApp(TeamSyncActions, TradingActions, ConsoleApp):
    # In code rather than a .tcss file so an installed wheel needs no package data.
    CSS = """
    Screen {
        layout: vertical;
        overflow: hidden;
    }
    #panes {
        height: 1fr;
        grid-gutter: 0;
        grid-rows: 5fr 2fr;  /* the depth ladder (top left) gets the extra rows */
    }
    """
    TITLE = "QuantDesk"
    BINDINGS = catalogue_bindings(APP_ACTIONS) + trading_bindings()

    def __init__(
        self,
        session: object,
        *,
        panes: Sequence[str] = DEFAULT_PANES,
        columns: int = 2,
        fps: float = DEFAULT_FPS,
        log_path: Path | None = None,
        router: object | None = None,  # OrderRouter; None: read-only market data
        dead_man: bool = False,  # cancel resting orders when the terminal quits or hangs up
    ) -> None:
        super().__init__()
        if fps <= 0:
            raise ValueError("fps must be above 0")
        self.session = session
        self.pane_types = list(panes)
        self.columns = max(1, columns)
        self.fps = fps
        self.log_path = log_path
        self.router = router
        self.dead_man = dead_man
        self.frames = 0
        self.session_started = asyncio.Event()
        self._session_running = False
        self.pane_classes = [pane_class(t) for t in self.pane_types]  # unknown names fail here, clearly

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(THEME_DEFAULTS)

    # -- composition -------------------------------------------------------
    def compose(self) -> ComposeResult:
        grid = Grid(id="panes")
        grid.styles.grid_size_columns = min(self.columns, len(self.pane_types)) or 1
        grid.styles.grid_size_rows = max(1, math.ceil(len(self.pane_types) / self.columns))
        with grid:
            seen: dict[str, int] = {}
            for type_name, cls in zip(self.pane_types, self.pane_classes):
                n = seen[type_name] = seen.get(type_name, 0) + 1
                yield cls(self.session, id=type_name if n == 1 else f"{type_name}-{n}")
        yield StatusBar(self.session, hints=self.key_hints(), id="status")

    @property
    def panes(self) -> list[Pane]:
        return list(self.query(Pane))

    # -- lifecycle ---------------------------------------------------------
    def on_mount(self) -> None:
        self.frame_timer = self.set_interval(1 / self.fps, self.frame, name="frame")
        self.attach_transaction_preview()
        self.announce_halt()
        self.watch_journal()
        panes = self.panes
        if panes:
            panes[0].focus()
        self.run_worker(self._start_session(), name="session", group="session", exit_on_error=False)

    async def _start_session(self) -> None:
        try:
            await self.session.start()  # type: ignore[attr-defined]
            self._session_running = True
        except Exception as exc:
            log.exception("could not start the session")
            where = f"; details in {self.log_path}" if self.log_path else ""
            for bar in self.query(StatusBar):
                bar.error = f"Could not start the venues ({exc}). Check the venue settings and restart{where}."
        finally:
            self.session_started.set()
            self.frame()
            # Tens of thousands of long-lived widget, style and market objects exist
            # by now; leaving them out of full collections keeps a 50k msg/s feed's
            # collections from stalling a keystroke by tens of milliseconds.
            gc.freeze()

    async def on_unmount(self) -> None:
        self.frame_timer.stop()
        if self._session_running:
            self._session_running = False
            try:
                await self.session.stop()  # type: ignore[attr-defined]
            except Exception:
                log.exception("error while stopping the session")

    def frame(self) -> None:
        """One frame: every pane repaints only if what it shows changed."""
        now = self.session.clock()  # type: ignore[attr-defined]
        self.frames += 1
        # query, not query_one: during shutdown the widgets may already be gone.
        for pane in self.query(Pane):
            pane.tick(now)
        for bar in self.query(StatusBar):
            bar.tick(now)

    def _fatal_error(self) -> None:
        # Textual would print a traceback on exit; a trader gets one sentence and
        # the traceback goes to the log file.
        exc = self._exception
        log.error("QuantDesk stopped after an unexpected error", exc_info=exc)
        where = f"The details are in {self.log_path}; please report them." if self.log_path else ""
        self._exit_renderables.append(
            Text(f"QuantDesk stopped after an unexpected error ({type(exc).__name__}: {exc}). {where}", "bold red")
        )
        self._close_messages_no_wait()

    # -- keys --------------------------------------------------------------
    def set_keymap(self, keymap: dict[str, str]) -> None:
        super().set_keymap(keymap)
        for bar in self.query(StatusBar):
            bar.hints = self.key_hints()

    def key_for(self, binding_id: str) -> str:
        """The key now bound to ``binding_id``, as a trader types it."""
        keys = self._keymap.get(binding_id) if self._keymap else None
        if keys is None:
            return actions.BY_ID[binding_id].key
        return display_key(keys.split(",")[0].strip())

    def key_hints(self) -> list[tuple[str, str]]:
        hints = []
        for label, ids in HINTS:
            keys = [self.key_for(i) for i in ids]
            hints.append(("-".join(keys) if label == "panes" else " ".join(keys), label))
        return hints

    def depth_target(self) -> Pane | None:
        """The pane market and venue keys act on: the focused one if it shows one
        market (depth, trades), else the first depth pane."""
        if isinstance(self.focused, Pane) and hasattr(self.focused, "cycle_market"):
            return self.focused
        return next(iter(self.query(DepthPane)), None)

    def action_focus_pane(self, type_name: str) -> None:
        pane = next((p for p in self.query(Pane) if p.pane_type == type_name), None)
        if pane is None:
            self.notify(f"This layout has no {type_name} pane.", severity="warning")
            return
        pane.focus()

    def action_market(self, step: int) -> None:
        pane = self.depth_target()
        if pane is not None:
            pane.cycle_market(step)  # type: ignore[attr-defined]  # checked by depth_target
            self.frame()

    def action_venue(self, step: int) -> None:
        pane = self.depth_target()
        if pane is not None:
            pane.cycle_venue(step)  # type: ignore[attr-defined]  # checked by depth_target
            self.frame()
