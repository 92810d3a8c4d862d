"""The QuantDesk App: panes in a grid, a frame timer, a status bar, focus and
keys; everything else is done by the services and collaborators it holds.

The App receives its services: the ``Session`` (venues, bus, cache, clock),
the trading ``Desk`` (orders, positions, kill switch; read-only without a
router), the team workspace and journal sync, and the alert desk. It composes panes by type
name and once per frame asks each pane to repaint if the cache state it reads
moved. Bus messages never reach the App: the cache absorbs them, so a fast
feed costs the UI nothing but one look at a few counters per frame.

Collaborators, each with one job: ``TradingController`` (trading keys,
dialogs, the desk's notices), ``TeamLink`` (workspace and journal sync),
``AlertsLink`` (alert commands, toasts and bell), ``NewsLink`` (the news pollers, NEWS),
``LayoutSwitcher`` (the pane grid), ``ViewCommands`` (market, pane, layout,
theme commands), ``CommandDispatcher`` (one table from command class to
handler) and ``StartupScript``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual import events
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer

from quantdesk.console import collector, toasts
from quantdesk.console.alerts_link import AlertsLink
from quantdesk.console.aliases import market_aliases, unknown_aliases
from quantdesk.console.cmdhistory import CommandHistory
from quantdesk.console.cmdline import Command, CommandContext, SetLayout, SetTheme
from quantdesk.console.command_line import CommandLine
from quantdesk.console.confirm import ConfirmScreen
from quantdesk.console.dispatch import CommandDispatcher, command_table
from quantdesk.console.help_screen import HelpScreen
from quantdesk.console.key_buffer import KeyBuffer
from quantdesk.console.paint import paint_now
from quantdesk.console.keymap import Keymap, display_key, load_keymap, normalize_key
from quantdesk.console.kept_paint import DeskScreen
from quantdesk.console.layout_grid import PaneGrid
from quantdesk.console.layout_switcher import LayoutSwitcher
from quantdesk.console.layouts import Layout, layout_names, load_layout
from quantdesk.console.news_link import NewsLink
from quantdesk.console.palette import CommandLineCommands, ConsoleCommands, DeskPalette
from quantdesk.console.panes import catalogue
from quantdesk.console.panes.base import CyclesMarkets, Pane
from quantdesk.console.panes.catalogue import DEFAULT_PANES, pane_class
from quantdesk.console.panes.depth import DepthPane
from quantdesk.console.prefs import load_prefs, save_pref
from quantdesk.console.replay_controls import REPLAY_ACTIONS, ReplayControls
from quantdesk.console.startup_script import StartupScript
from quantdesk.console.statusbar import StatusBar
from quantdesk.console.ticked import TickedWidgets
from quantdesk.console.team_sync import TeamLink
from quantdesk.console.themes import DEFAULT_THEME, load_themes
from quantdesk.console.trading import TRADING_ACTIONS, TradingController
from quantdesk.console.view_commands import ViewCommands
from quantdesk.core import actions
from quantdesk.core.problems import ProblemsError
from quantdesk.trading.desk import Desk

if TYPE_CHECKING:
    from quantdesk.wiring.alert_desk import AlertDesk
    from quantdesk.news.desk import NewsDesk
    from quantdesk.core.model import Market
    from quantdesk.venues.session import Session
    from quantdesk.config.settings import Settings
    from quantdesk.console.cmdline import ScriptError
    from quantdesk.sync.outbox_sync import OutboxSyncer
    from quantdesk.sync.team_desk import TeamDesk
    from quantdesk.wiring.recorder import SessionRecorder

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

# What the keyboard layer does itself: palette, command line, help, cycling.
CONSOLE_ACTIONS = {
    "app.palette": "command_palette",
    "app.command_line": "open_command_line",
    "app.help": "show_help",
    "layout.next": "next_layout",
    "theme.next": "next_theme",
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


def catalogue_bindings(table: Mapping[str, str]) -> list[BindingType]:
    out: list[BindingType] = []
    for binding_id, action in table.items():
        a = actions.BY_ID[binding_id]
        # A mode's keys (a replay's) come before the focused pane's while the mode is on:
        # + in a replay is faster, even with the chart focused, whose + is its timeframe otherwise.
        out.append(Binding(normalize_key(a.key), action, a.description, key_display=a.key, show=False, id=binding_id,
                           priority=bool(a.requires)))
    return out


class QuantDeskApp(App[int]):
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
    """ + toasts.CSS  # notifications stack at the top right, above the risk panes and the command line
    TITLE = "QuantDesk"
    # QuantDesk's commands only: Textual's system commands (its themes, quit,
    # keys panel, screenshot) are not offered beside them.
    COMMANDS: ClassVar = {ConsoleCommands, CommandLineCommands}
    BINDINGS: ClassVar[list[BindingType]] = (
        catalogue_bindings(CONSOLE_ACTIONS)
        + catalogue_bindings(APP_ACTIONS)
        + catalogue_bindings(TRADING_ACTIONS)
        + catalogue_bindings(REPLAY_ACTIONS)
    )

    def __init__(
        self,
        session: Session,
        *,
        desk: Desk | None = None,  # None: read-only market data
        workspace: TeamDesk | None = None,  # the team's shared workspace (Redis)
        journal_sync: OutboxSyncer | None = None,  # the journal's Postgres syncer
        alerts: AlertDesk | None = None,  # None: alert rules for this session only
        news: NewsDesk | None = None,  # the news sources' pollers; None: no news
        panes: Sequence[str] = DEFAULT_PANES,
        columns: int = 2,
        fps: float = DEFAULT_FPS,
        log_path: Path | None = None,
        # False when other consoles share the process (serve ssh): SIGHUP is no
        # single console's hangup
        own_process: bool = True,
    ) -> None:
        super().__init__()
        if fps <= 0:
            raise ValueError("fps must be above 0")
        self.session = session
        self.desk = desk if desk is not None else Desk(session.cache)
        self.pane_types = list(panes)
        self.columns = max(1, columns)
        self.fps = fps
        self.frame_rate = fps  # what the frame timer runs at now: fps, or less when consoles share a core
        self.frame_timer: Timer | None = None
        self.log_path = log_path
        self.own_process = own_process
        self.frames = 0
        self._ticked = TickedWidgets(self, Pane, StatusBar)
        # Told how long each frame's repaint took (seconds): /metrics' frame render time.
        self.on_frame_time: Callable[[float], None] | None = None
        self.session_started = asyncio.Event()
        self._session_running = False
        self.pane_classes = [pane_class(t) for t in self.pane_types]  # unknown names fail here, clearly

        self.trading = TradingController(self, self.desk)
        self.team = TeamLink(self, workspace, journal_sync)
        self.replay = ReplayControls(self)
        self.recorder: SessionRecorder | None = None  # ``--record FILE``: its size shows in the status bar
        self.alerts = AlertsLink(self, alerts)  # None: this session's own rules, on a desk made at first use
        self.news = NewsLink(self, news)
        self.toasts = toasts.ToastStack(self)
        self.layouts = LayoutSwitcher(self, self.team)
        self.view = ViewCommands(self, self.layouts)
        self.commands = CommandDispatcher(
            command_table(self.view, self.trading, self.team, self.alerts, self.news),
            lambda text: self.notify(text, severity="error", timeout=10),
        )
        self.script: StartupScript | None = None  # run once the venues are up
        self.keys = KeyBuffer(self, self._handle_key)
        self.confirm_quit = True  # ask before quitting with positions or orders open
        self.aliases: dict[str, str] = {}  # the configuration's [aliases]: word -> market

        self.keymap_model: Keymap = load_keymap()
        self.history_path: Path | None = None
        self.history_size = 500
        self.prefs_path: Path | None = None
        # Only a configured console (``quantdesk run``) reads and writes the
        # user's history and remembered theme; a bare App touches no files.
        self.configured = False
        themes, self.theme_problems = load_themes()
        for t in themes.values():
            self.register_theme(t)
        self.theme_names = sorted(themes, key=lambda n: (n != DEFAULT_THEME, n))
        # The remembered theme is read by configure_console: a bare App (tests,
        # embedding) always starts the same.
        self.theme = DEFAULT_THEME if DEFAULT_THEME in themes else self.theme

    # -- set-up ------------------------------------------------------------
    def configure_console(
        self,
        settings: Settings | None = None,
        *,
        layout: str | None = None,
        script: tuple[str, str] | None = None,
        history_path: Path | None = None,
        prefs_path: Path | None = None,
    ) -> None:
        """Apply the configuration before ``run()``. Raises ``ProblemsError``
        for a layout that does not exist or does not load."""
        self.configured = True
        self.prefs_path = prefs_path
        self.history_path = history_path
        if settings is not None:
            self.keymap_model = load_keymap(settings.ui.keymap, overrides=settings.keys)
            self.history_size = settings.ui.history_size
            self.confirm_quit = settings.ui.confirm_quit
            self.aliases = dict(settings.aliases)
        name = layout or (settings.ui.layout if settings is not None else None)
        if name is not None:
            self.layouts.model = load_layout(name)
            self.layouts.name = name
        self.theme = self._pick_theme(settings)
        self.script = StartupScript(self, *script) if script is not None else None

    def _pick_theme(self, settings: Settings | None) -> str:
        """A theme set in the configuration wins; else the last one picked; else dark."""
        if settings is not None and "theme" in settings.ui.model_fields_set:
            wanted = settings.ui.theme
        else:
            wanted = load_prefs(self.prefs_path).get("theme") or DEFAULT_THEME
        if wanted not in self.available_themes:
            log.warning("theme %r not found; using %s", wanted, DEFAULT_THEME)
            return DEFAULT_THEME
        return wanted

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(THEME_DEFAULTS)

    @property
    def layout_name(self) -> str:
        return self.layouts.name

    @property
    def layout_model(self) -> Layout | None:
        """The layout shown on mount and since (None: the App's own grid)."""
        return self.layouts.model

    @layout_model.setter
    def layout_model(self, layout: Layout | None) -> None:
        self.layouts.model = layout

    @property
    def script_error(self) -> ScriptError | None:
        return self.script.error if self.script is not None else None

    # -- composition -------------------------------------------------------
    def get_default_screen(self) -> Screen:
        return DeskScreen(id="_default")

    def compose(self) -> ComposeResult:
        grid = PaneGrid(id="panes")
        grid.styles.grid_size_columns = min(self.columns, len(self.pane_types)) or 1
        grid.styles.grid_size_rows = max(1, math.ceil(len(self.pane_types) / self.columns))
        with grid:
            seen: dict[str, int] = {}
            for type_name, cls in zip(self.pane_types, self.pane_classes):
                n = seen[type_name] = seen.get(type_name, 0) + 1
                yield cls(self.session, id=type_name if n == 1 else f"{type_name}-{n}")
        yield StatusBar(
            self.session,
            hints=self.key_hints(),
            kill_switch=lambda: self.desk.kill_switch_on,
            sync_segments=self.status_segments,
            id="status",
        )

    def status_segments(self) -> list[tuple[str, str]]:
        """(text, state) the status bar shows after the venues: team links, the replay."""
        recording = [self.recorder.segment()] if self.recorder is not None else []
        return [*self.team.sync_segments(), *recording, *self.replay.segments()]

    def offers(self, action: actions.Action) -> bool:
        """Whether ``action`` applies to this session (replay keys only in a replay)."""
        return action.requires != "replay" or self.replay.active

    @property
    def panes(self) -> list[Pane]:
        return list(self.query(Pane))

    def pane_of_type(self, pane_type: str) -> Pane | None:
        return next((p for p in self.query(Pane) if p.pane_type == pane_type), None)

    @property
    def command_line(self) -> CommandLine:
        return self.query_one(CommandLine)

    # -- lifecycle ---------------------------------------------------------
    async def on_mount(self) -> None:
        self.frame_timer = self.set_interval(1 / self.frame_rate, self.frame, name="frame")
        self.trading.attach_transaction_preview()
        self.trading.announce()
        self.trading.watch_journal()
        panes = self.panes
        if panes:
            panes[0].focus()
        self.run_worker(self._start_session(), name="session", group="session", exit_on_error=False)
        self.team.start()
        self.alerts.start()
        self.trading.watch_hangup()
        self.set_keymap(self.keymap_model.textual_keymap())
        for p in [*self.keymap_model.problems, *self.theme_problems]:
            self.notify(str(p), title="Keymap / theme", severity="warning", timeout=10)
        history = CommandHistory(self.history_path, self.history_size, persist=self.configured)
        await self.mount(CommandLine(history, context=self.command_context))
        if self.layouts.model is not None:
            try:
                await self.layouts.show(self.layouts.model)
            except ProblemsError as e:
                self.notify(e.render(), title="Layout", severity="error", timeout=15)
        if self.configured:
            self.theme_changed_signal.subscribe(self, lambda theme: save_pref("theme", theme.name, self.prefs_path))
        if self.script is not None:
            self.run_worker(self.script.run_when_ready(), name="script", group="script", exit_on_error=False)

    async def _start_session(self) -> None:
        try:
            await self.session.start()
            self._session_running = True
        except Exception as exc:
            log.exception("could not start the session")
            where = f"; details in {self.log_path}" if self.log_path else ""
            for bar in self.query(StatusBar):
                bar.error = f"Could not start the venues ({exc}). Check the venue settings and restart{where}."
        finally:
            self.session_started.set()
            self.news.start()  # after the venues listed their markets: headlines are tagged against them
            bad = unknown_aliases(self.session.cache.markets.values(), self.aliases)
            if bad and self._session_running:
                self.notify(
                    f"[aliases] names markets no venue lists: {', '.join(bad)}. Fix or remove them in the config.",
                    title="Aliases", severity="warning", timeout=10,
                )
            self.frame()
            collector.settle()

    async def on_unmount(self) -> None:
        if self.frame_timer is not None:
            self.frame_timer.stop()
        if self._session_running:
            self._session_running = False
            try:
                await self.session.stop()
            except Exception:
                log.exception("error while stopping the session")
        await self.alerts.stop()
        await self.news.stop()
        await self.team.stop()
        await self.trading.stop()

    def set_frame_rate(self, fps: float, phase: float = 0.0) -> None:
        """Repaint the feed's changes ``fps`` times a second (at most the
        configured fps); keys still paint as they are handled. ``phase`` (0
        to 1) delays the first frame by that part of an interval, so consoles
        sharing a core take their frames in turn rather than all at once."""
        fps = min(self.fps, fps)
        if fps == self.frame_rate:
            return
        self.frame_rate = fps
        if self.frame_timer is not None:
            # From the App's own loop: a timer runs in the context of the App that made it.
            self.call_later(self._restart_frame_timer, phase % 1.0 / fps)

    def _restart_frame_timer(self, delay: float) -> None:
        if self.frame_timer is None:
            return
        self.frame_timer.stop()
        if delay > 0:
            self.frame_timer = self.set_timer(delay, lambda: self._restart_frame_timer(0.0), name="frame")
        else:
            self.frame_timer = self.set_interval(1 / self.frame_rate, self.frame, name="frame")

    def frame(self) -> None:
        """One frame: every pane repaints only if what it shows changed."""
        now = self.session.clock()
        self.frames += 1
        started = time.perf_counter()
        changed = False
        for widget in self._ticked.current():  # the panes, then the status bar
            changed = widget.tick(now) or changed
        self.replay.tick()
        self.toasts.tick()
        if changed:
            # Painted in this turn, as a key is: Textual's own path takes a
            # message per widget and a second timer wakeup for every frame.
            paint_now(self.screen)
        if self.on_frame_time is not None:
            self.on_frame_time(time.perf_counter() - started)

    def _refresh_notifications(self) -> None:
        # Textual hands the screen's toast rack every notification; the stack hands it those that fit.
        self.toasts.refresh()

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

    # -- commands ----------------------------------------------------------
    def streamed_symbols(self) -> list[str]:
        """The markets streamed now (the watchlists, and any opened since), in the
        venues' order: what the palette lists and ``[``/``]`` step through."""
        symbols: dict[str, None] = {}
        for m in sorted(self.session.cache.markets.values(), key=lambda m: (m.index, m.symbol)):
            symbols[m.symbol] = None
        return list(symbols)

    def _listed(self) -> list[Market]:
        """Every market the venues list, streamed or not (the command line accepts any)."""
        return [*self.session.cache.markets.values(), *self.session.listed.values()]

    def command_context(self) -> CommandContext:
        """The names the parser and palette accept now: the streamed markets
        first, then every other listed one."""
        cache = self.session.cache
        listed = self._listed()
        symbols = dict.fromkeys(self.streamed_symbols())
        for m in sorted(listed, key=lambda m: (m.index, m.symbol)):
            symbols.setdefault(m.symbol, None)
        local = layout_names()
        return CommandContext(
            markets=list(symbols),
            venues=list(cache.venues()),
            layouts=local,
            team_layouts=[n for n in self.team.layout_names() if n not in local],
            # QuantDesk's themes first, then Textual's own (they work too).
            themes=list(dict.fromkeys([*self.theme_names, *self.available_themes])),
            order_ids=list(cache.orders),
            alert_ids=self.alerts.ids(),
            watchlists=self.team.watchlists(),
            aliases=market_aliases(listed, self.aliases),
        )

    async def execute(self, command: Command) -> bool:
        """Carry out one parsed command; False (with a message on screen) if it could not be.
        A command naming a listed market that is not streamed starts streaming it first."""
        market, venue = getattr(command, "market", None), getattr(command, "venue", None)
        if isinstance(market, str) and self.session.can_follow(market, venue if isinstance(venue, str) else None):
            added = await self.session.follow(market, venue if isinstance(venue, str) else None)
            if added:
                self.notify(f"Streaming {market} from {', '.join(m.venue for m in added)} now.", timeout=4)
        return await self.commands.execute(command)

    async def on_command_line_run(self, message: CommandLine.Run) -> None:
        await self.execute(message.command)

    async def run_script(self) -> bool:
        """Run the startup script now (once); True without one."""
        return await self.script.run() if self.script is not None else True

    # -- keys --------------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        # Keys from the terminal go through the type-ahead buffer, one at a time.
        if isinstance(event, events.Key) and not event.is_forwarded:
            await self.keys.key(event)
        else:
            await super().on_event(event)

    async def _handle_key(self, event: events.Key) -> None:
        await super().on_event(event)

    async def _check_bindings(self, key: str, priority: bool = False) -> bool:
        handled = await super()._check_bindings(key, priority)
        if handled:
            # The binding's action has run: paint what it changed now, not at
            # the screen's next update tick (up to 17 ms later).
            paint_now(self.screen)
        return handled

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "replay" and not self.replay.active:
            return False  # the key goes on to whatever else wants it
        return True

    def set_keymap(self, keymap: Mapping[str, str]) -> None:
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

    async def run_action_id(self, binding_id: str) -> None:
        """Run what the key bound to ``binding_id`` does (for the palette)."""
        for active in self.screen.active_bindings.values():
            if active.binding.id == binding_id:
                await self.run_action(active.binding.action, active.node)
                return
        for _key, binding in self._bindings:
            if binding.id == binding_id:
                await self.run_action(binding.action)
                return
        scope = actions.BY_ID[binding_id].scope
        pane = self.pane_of_type(scope) if scope != "app" else None
        if pane is not None:  # a pane's own action: act in that pane
            for _key, binding in pane._bindings:
                if binding.id == binding_id:
                    pane.focus()
                    await self.run_action(binding.action, pane)
                    return
        self.notify(f"{actions.BY_ID[binding_id].palette_name} is not available in this layout.", severity="warning")

    def depth_target(self) -> Pane | None:
        """The pane market and venue keys act on: the focused one if it shows one
        market (depth, trades), else the first depth pane."""
        if isinstance(self.focused, Pane) and hasattr(self.focused, "cycle_market"):
            return self.focused
        return next(iter(self.query(DepthPane)), None)

    # -- actions the bindings name (each one call) -------------------------------
    def action_focus_pane(self, type_name: str) -> None:
        pane = self.pane_of_type(type_name)
        if pane is None:
            self.notify(f"This layout has no {type_name} pane.", severity="warning")
            return
        pane.focus()

    def action_market(self, step: int) -> None:
        pane = self.depth_target()
        if isinstance(pane, CyclesMarkets):
            pane.cycle_market(step)
            pane.tick(self.session.clock())  # this pane now; the others at the next frame

    def action_venue(self, step: int) -> None:
        pane = self.depth_target()
        if isinstance(pane, CyclesMarkets):
            pane.cycle_venue(step)
            pane.tick(self.session.clock())

    async def action_quit(self) -> None:
        """Quit; with positions or orders open, only after the trader says yes."""
        cache = self.session.cache
        positions = sum(1 for p in cache.positions.values() if p.base)
        orders = len(cache.orders)
        if not self.confirm_quit or not (positions or orders):
            self.exit()
            return
        if isinstance(self.screen, ConfirmScreen):
            return
        open_ = " and ".join(
            f"{n} open {what}{'s' if n != 1 else ''}" for n, what in ((positions, "position"), (orders, "order")) if n
        )
        detail = f"You have {open_}. They stay open on the venue after QuantDesk closes."

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(ConfirmScreen("Quit QuantDesk?", detail, yes="quit"), answered)

    def action_command_palette(self) -> None:
        if not isinstance(self.screen, DeskPalette):
            self.push_screen(DeskPalette())

    def action_open_command_line(self, text: str = "") -> None:
        self.command_line.open(text)

    def action_show_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.keymap_model, offered=self.offers))

    async def action_next_layout(self) -> None:
        await self.execute(SetLayout(_next(layout_names(), self.layouts.name)))

    async def action_next_theme(self) -> None:
        await self.execute(SetTheme(_next(self.theme_names, self.theme)))

    def action_replay(self, what: str) -> None:
        self.replay.act(what)

    def action_order_ticket(self, side: str) -> None:
        self.trading.open_ticket("sell" if side == "sell" else "buy")

    async def action_cancel_all_orders(self) -> None:
        await self.trading.cancel_all()

    async def action_kill_switch(self) -> None:
        await self.trading.toggle_kill_switch()


def _next(names: Iterable[str], current: str) -> str:
    ordered = list(names)
    i = ordered.index(current) if current in ordered else -1
    return ordered[(i + 1) % len(ordered)]
