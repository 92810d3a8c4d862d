"""Command palette providers: every action as ``category: action``, every pane
of the catalogue, markets, venues, layouts and themes by name, and any command-line command typed in full.

Every hit runs through the App's ``execute`` (a parsed command) or
``run_action_id`` (a binding id), the same paths keys and the command line use.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from quantdesk.core import actions
from quantdesk.console.keymap import display_key
from quantdesk.console.cmdline import CommandContext, ParseError, SelectMarket, SetLayout, SetTheme, SetVenue, ShowPane, parse
from quantdesk.console.panes import catalogue

if TYPE_CHECKING:
    from textual.app import App

    from quantdesk.console.app import QuantDeskApp

Entry = tuple[str, str, Callable[[], object]]  # name, help, callback


def _desk_app(app: App[object]) -> QuantDeskApp:
    # The providers are registered by QuantDeskApp alone (its COMMANDS).
    return cast("QuantDeskApp", app)


def palette_entries(app: QuantDeskApp) -> list[Entry]:
    """Everything the palette lists, in the order it lists it with no query."""
    out: list[Entry] = []
    run_action = app.run_action_id
    execute = app.execute
    for a in actions.ACTIONS:
        keys = app.keymap_model.keys_for(a.id)
        shown = ", ".join(display_key(k) for k in keys) if keys else "no key"
        out.append((a.palette_name, f"{a.id} · key {shown}", partial(run_action, a.id)))
    for entry in catalogue.entries():
        out.append((f"pane: {entry.id}", f"{entry.help} · {entry.word}", partial(execute, ShowPane(entry.id))))
    ctx: CommandContext = app.command_context()
    for m in ctx.markets:
        out.append((f"market: {m}", "show it in the focused pane", partial(execute, SelectMarket(m))))
    for v in ctx.venues:
        out.append((f"venue: {v}", "show it in the focused pane", partial(execute, SetVenue(v))))
    for name in ctx.layouts:
        out.append((f"layout: {name}", "switch to this layout", partial(execute, SetLayout(name))))
    for name in ctx.team_layouts:
        out.append((f"layout: {name} (team)", "switch to this layout from the team workspace", partial(execute, SetLayout(name))))
    out.append(
        ("layout: save the current layout as…", "LAYOUT SAVE <name> on the command line",
         partial(app.action_open_command_line, "LAYOUT SAVE "))
    )
    for name in ctx.themes:
        out.append((f"theme: {name}", "switch to this theme (remembered)", partial(execute, SetTheme(name))))
    return out


class ConsoleCommands(Provider):
    """Actions, markets, venues, layouts and themes, fuzzy-matched."""

    async def startup(self) -> None:
        self._entries = palette_entries(_desk_app(self.app))

    async def discover(self) -> Hits:
        for name, help_text, callback in self._entries:
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._entries:
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, text=name, help=help_text)


class CommandLineCommands(Provider):
    """A full command-line command typed into the palette runs as it would on
    the command line (``SOL-PERP BUY 2 @ 145.20 POST``)."""

    async def search(self, query: str) -> Hits:
        if not query.strip():
            return
        app = _desk_app(self.app)
        try:
            command = parse(query, app.command_context())
        except ParseError:
            return
        text = command.to_text()
        yield Hit(1.0, f"run: {text}", partial(app.execute, command), text=f"run: {text}", help="command line")
