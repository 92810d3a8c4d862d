"""The keyboard-first layer of the App: keymap, themes, layouts, the command
line, the palette, the help screen and startup scripts.

``ConsoleApp`` is the App's base class. It owns no panes: it switches the
layout grid, and it turns parsed commands (``quantdesk.console.cmdline``) into calls
on the panes the App composed. Order commands go to the App's
``order_command(command)`` when the trading layer provides one.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding
from textual.widget import Widget

from quantdesk.core import actions
from quantdesk.console.cmdhistory import CommandHistory
from quantdesk.console.cmdline import (
    CancelAll,
    CancelOrder,
    Command,
    CommandContext,
    Help,
    Kill,
    ParseError,
    PlaceOrder,
    Quit,
    SaveLayout,
    ScriptError,
    SelectMarket,
    SetLayout,
    SetTheme,
    SetVenue,
    ShowPane,
    WORKSPACE_COMMANDS,
    parse,
)
from quantdesk.console.keymap import Keymap, load_keymap, normalize_key
from quantdesk.console.layouts import DEFAULT_LAYOUT, Layout, check_layout, layout_files, layout_names, load_layout, parse_layout_text, save_layout
from quantdesk.console.prefs import load_prefs, save_pref
from quantdesk.core.problems import ProblemsError
from quantdesk.console.themes import DEFAULT_THEME, load_themes
from quantdesk.console.command_line import CommandLine
from quantdesk.console.help_screen import HelpScreen
from quantdesk.console.layout_grid import LayoutGrid
from quantdesk.console.palette import CommandLineCommands, ConsoleCommands

if TYPE_CHECKING:
    from quantdesk.config.settings import Settings

log = logging.getLogger(__name__)

# Binding id -> Textual action for what this layer does itself.
CONSOLE_ACTIONS = {
    "app.palette": "command_palette",
    "app.command_line": "open_command_line",
    "app.help": "show_help",
    "layout.next": "next_layout",
    "theme.next": "next_theme",
}


def console_bindings() -> list[Binding]:
    out = []
    for binding_id, action in CONSOLE_ACTIONS.items():
        a = actions.BY_ID[binding_id]
        out.append(Binding(normalize_key(a.key), action, a.description, key_display=a.key, show=False, id=binding_id))
    return out


class ConsoleApp(App[int]):
    COMMANDS: ClassVar = App.COMMANDS | {ConsoleCommands, CommandLineCommands}
    BINDINGS: ClassVar = console_bindings()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.keymap_model: Keymap = load_keymap()
        self.layout_model: Layout | None = None  # None: the App's own default grid
        self.layout_name = DEFAULT_LAYOUT
        self.script: tuple[str, str] | None = None  # (source name, text) run once the venues are up
        self.script_done = False
        self.history_path: Path | None = None
        self.history_size = 500
        self.prefs_path: Path | None = None
        self.theme_names: list[str] = []
        self.script_error: ScriptError | None = None
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
        name = layout or (settings.ui.layout if settings is not None else None)
        if name is not None:
            self.layout_model = load_layout(name)
            self.layout_name = name
        self.theme = self._pick_theme(settings)
        self.script = script

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

    async def on_mount(self) -> None:
        self.set_keymap(self.keymap_model.textual_keymap())
        for p in [*self.keymap_model.problems, *self.theme_problems]:
            self.notify(str(p), title="Keymap / theme", severity="warning", timeout=10)
        history = CommandHistory(self.history_path, self.history_size, persist=self.configured)
        await self.mount(CommandLine(history))
        if self.layout_model is not None:
            try:
                await self._show_layout(self.layout_model)
            except ProblemsError as e:
                self.notify(e.render(), title="Layout", severity="error", timeout=15)
        if self.configured:
            self.theme_changed_signal.subscribe(self, self._remember_theme)
        if self.script is not None:
            self.run_worker(self._run_script_when_ready(), name="script", group="script", exit_on_error=False)

    def _remember_theme(self, theme: object) -> None:
        save_pref("theme", getattr(theme, "name", str(theme)), self.prefs_path)

    # -- names the parser and palette accept --------------------------------
    def command_context(self) -> CommandContext:
        cache = self.session.cache  # type: ignore[attr-defined]
        symbols: dict[str, None] = {}
        for m in sorted(cache.markets.values(), key=lambda m: (m.index, m.symbol)):
            symbols[m.symbol] = None
        local = layout_names()
        team = getattr(self, "team_layout_names", None)
        return CommandContext(
            markets=list(symbols),
            venues=list(cache.venues()),
            layouts=local,
            team_layouts=[n for n in team() if n not in local] if team is not None else [],
            # QuantDesk's themes first, then Textual's own (they work too).
            themes=list(dict.fromkeys([*self.theme_names, *self.available_themes])),
            order_ids=list(getattr(cache, "orders", {}) or {}),
            alert_ids=list(getattr(getattr(self, "team_desk", None), "alerts", {}) or {}),
            watchlists=list(getattr(getattr(self, "team_desk", None), "watchlists", {}) or {}),
        )

    # -- actions -----------------------------------------------------------
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
        pane = self._pane_of_type(scope) if scope != "app" else None
        if pane is not None:  # a pane's own action: act in that pane
            for _key, binding in pane._bindings:
                if binding.id == binding_id:
                    pane.focus()
                    await self.run_action(binding.action, pane)
                    return
        self.notify(f"{actions.BY_ID[binding_id].palette_name} is not available in this layout.", severity="warning")

    @property
    def command_line(self) -> CommandLine:
        return self.query_one(CommandLine)

    def action_open_command_line(self, text: str = "") -> None:
        self.command_line.open(text)

    def action_show_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.keymap_model))

    async def action_next_layout(self) -> None:
        names = layout_names()
        i = names.index(self.layout_name) if self.layout_name in names else -1
        await self.execute(SetLayout(names[(i + 1) % len(names)]))

    async def action_next_theme(self) -> None:
        names = self.theme_names
        i = names.index(self.theme) if self.theme in names else -1
        await self.execute(SetTheme(names[(i + 1) % len(names)]))

    async def on_command_line_run(self, message: CommandLine.Run) -> None:
        await self.execute(message.command)

    # -- commands ----------------------------------------------------------
    async def execute(self, command: Command) -> bool:
        """Carry out one parsed command; False (with a message on screen) if it could not be."""
        try:
            return await self._execute(command)
        except ProblemsError as e:
            self.notify(e.render(), severity="error", timeout=10)
        except Exception as e:  # a command must never take the terminal down
            log.exception("command %s failed", command)
            self.notify(f"{command.to_text()} failed: {e}", severity="error", timeout=10)
        return False

    async def _execute(self, command: Command) -> bool:
        if isinstance(command, SelectMarket):
            return self._select(market=command.market)
        if isinstance(command, SetVenue):
            return self._select(venue=command.venue)
        if isinstance(command, ShowPane):
            pane = self._pane_of_type(command.pane)
            if pane is None:
                self.notify(f"The {self.layout_name} layout has no {command.pane} pane; try LAYOUT overview.", severity="warning")
                return False
            pane.focus()
            return self._select(market=command.market) if command.market else True
        if isinstance(command, SetLayout):
            layout = self._layout_named(command.name)
            await self._show_layout(layout)
            self.layout_name = command.name
            return True
        if isinstance(command, SaveLayout):
            path = save_layout(self.current_layout(), command.name)
            share = getattr(self, "share_layout", None)
            if share is not None:  # the team workspace gets it too
                await share(command.name, path.read_text(encoding="utf-8"))
            self.layout_name = command.name
            self.notify(f"Layout saved as {command.name} ({path}).")
            return True
        if isinstance(command, SetTheme):
            if command.name not in self.available_themes:
                self.notify(f"No theme named {command.name}.", severity="error")
                return False
            self.theme = command.name
            return True
        if isinstance(command, Help):
            self.action_show_help()
            return True
        if isinstance(command, Quit):
            self.exit()
            return True
        if isinstance(command, (PlaceOrder, CancelAll, CancelOrder, Kill)):
            handler = getattr(self, "order_command", None)
            if handler is None:
                self.notify(f"{command.to_text()}: order entry is not part of this terminal yet; nothing was sent.", severity="warning")
                return False
            result = handler(command)
            if hasattr(result, "__await__"):
                result = await result
            return bool(result) if result is not None else True
        if isinstance(command, WORKSPACE_COMMANDS):  # the team's shared workspace (ui/team_sync.py)
            handler = getattr(self, "workspace_command", None)
            if handler is None:
                self.notify(f"{command.to_text()}: this terminal has no team workspace.", severity="warning")
                return False
            return bool(await handler(command))
        raise AssertionError(f"unhandled command {command!r}")  # pragma: no cover

    def _panes(self) -> list[Widget]:
        from quantdesk.console.panes.base import Pane

        return list(self.query(Pane))

    def _pane_of_type(self, pane_type: str) -> Widget | None:
        return next((p for p in self._panes() if getattr(p, "pane_type", None) == pane_type), None)

    def _selection_target(self) -> Widget | None:
        """The pane market/venue commands act on: the focused one if it shows one market, else the first depth pane."""
        focused = self.focused
        if focused is not None and hasattr(focused, "select"):
            return focused
        return next((p for p in self._panes() if hasattr(p, "select")), None)

    def _select(self, market: str | None = None, venue: str | None = None) -> bool:
        pane = self._selection_target()
        if pane is None:
            self.notify("No pane here shows a single market; try LAYOUT overview.", severity="warning")
            return False
        cache = self.session.cache  # type: ignore[attr-defined]
        current_venue = venue or getattr(pane, "venue", None)
        if market is not None and (current_venue, market) not in cache.markets:
            # Keep the market, move to a venue that lists it.
            listing = [v for (v, s) in cache.markets if s == market]
            if not listing:
                self.notify(f"No venue lists {market}.", severity="error")
                return False
            if venue is not None:
                self.notify(f"{venue} does not list {market}.", severity="error")
                return False
            if current_venue is not None:  # a pane showing every venue (the tape) keeps doing so
                venue = listing[0]
        pane.select(venue=venue, market=market)  # type: ignore[attr-defined]
        frame = getattr(self, "frame", None)
        if callable(frame):
            frame()
        return True

    # -- layouts -----------------------------------------------------------
    def _layout_named(self, name: str) -> Layout:
        """A shipped or saved layout, else the team workspace's one of that name."""
        if name not in layout_files():
            team = getattr(self, "team_layout_text", None)
            text = team(name) if team is not None else None
            if text is not None:
                return parse_layout_text(text, f"team layout {name}", name)
        return load_layout(name)

    async def _show_layout(self, layout: Layout) -> None:
        cache = self.session.cache  # type: ignore[attr-defined]
        if cache.markets:
            markets: dict[str, list[str]] = {}
            for v, s in cache.markets:
                markets.setdefault(v, []).append(s)
            problems = check_layout(layout, markets)
            if problems:
                raise ProblemsError(problems, "layout")
        grid = LayoutGrid(layout, self.session, id="panes")
        old = self.screen.query_children("#panes")
        if old:
            # The new grid takes the old one's place among the screen's children.
            siblings = list(self.screen.children)
            i = siblings.index(old.first())
            after = siblings[i + 1] if i + 1 < len(siblings) else None
            await old.remove()
            await self.screen.mount(grid, before=after) if after is not None else await self.screen.mount(grid)
        else:
            await self.screen.mount(grid, before=0)
        self.layout_model = layout
        panes = self._panes()
        if panes:
            panes[0].focus()
        frame = getattr(self, "frame", None)
        if callable(frame):
            frame()

    def current_layout(self) -> Layout:
        """What is on screen as a Layout (the default grid counts as ``overview``)."""
        grids = self.query(LayoutGrid)
        if grids:
            return grids.first().current_layout()
        layout = load_layout(DEFAULT_LAYOUT)
        # The App's own grid: record what its single-market panes show now.
        specs = list(layout.panes)
        for i, spec in enumerate(specs):
            pane = self._pane_of_type(spec.type)
            if pane is not None:
                upd = {a: getattr(pane, a) for a in ("market", "venue") if isinstance(getattr(pane, a, None), str)}
                specs[i] = spec.model_copy(update=upd)
        return layout.model_copy(update={"panes": specs})

    # -- startup scripts ---------------------------------------------------
    async def _run_script_when_ready(self) -> None:
        started = getattr(self, "session_started", None)
        if started is not None:
            await started.wait()
        await self.run_script()

    async def run_script(self) -> bool:
        """Run the startup script line by line; stop at the first bad line with
        a message naming the file, line and column."""
        if self.script is None or self.script_done:
            return True
        source, text = self.script
        self.script_done = True
        ctx = self.command_context()
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.strip().startswith("#"):
                continue
            try:
                command = parse(line, ctx)
            except ParseError as e:
                err = ScriptError(source, n, line, e)
                self.notify(f"{err}\nThe script stopped here; the lines before it ran.", title="Startup script", severity="error", timeout=30)
                self.script_error = err
                return False
            if not await self.execute(command):
                self.notify(f"{source}:{n}: the script stopped at this line.", title="Startup script", severity="error", timeout=30)
                return False
        return True
