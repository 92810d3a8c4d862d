"""QuantDesk's command palette: every action as ``category: action``, every pane
of the catalogue, markets, venues, layouts and themes by name, and any command-line command typed in full.
Textual's own commands (its themes, screenshots, keys panel) are not listed:
quitting, help and themes are QuantDesk actions already.

Every hit runs through the App's ``execute`` (a parsed command) or
``run_action_id`` (a binding id), the same paths keys and the command line use.

``DeskPalette`` ranks the entries in the same turn as the key that changed the
query (they are a few hundred names, fuzzy-matched in well under a frame), so
the list always belongs to the text shown and Enter runs what is highlighted
for it, never a result of an earlier query still on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.command import Command, CommandList, CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

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
        if not app.offers(a):
            continue
        keys = app.keymap_model.keys_for(a.id)
        shown = ", ".join(display_key(k) for k in keys) if keys else "no key"
        out.append((a.palette_name, f"{a.id} · key {shown}", partial(run_action, a.id)))
    for entry in catalogue.entries():
        out.append((f"pane: {entry.id}", f"{entry.help} · {entry.word}", partial(execute, ShowPane(entry.id))))
    ctx: CommandContext = app.command_context()
    # The streamed markets (the watchlists): every other listed one is a command-line word away.
    for m in app.streamed_symbols():
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


def ranked(app: QuantDeskApp, entries: list[Entry], query: str, matcher: Matcher) -> list[Hit | DiscoveryHit]:
    """The hits for ``query``: every entry in order when it is empty, else the
    fuzzy matches best first, then the query run as a command-line command if
    it parses as one."""
    query = query.strip()
    if not query:
        return [DiscoveryHit(name, callback, help=help_text) for name, help_text, callback in entries]
    hits: list[Hit | DiscoveryHit] = []
    for name, help_text, callback in entries:
        score = matcher.match(name)
        if score > 0:
            hits.append(Hit(score, matcher.highlight(name), callback, text=name, help=help_text))
    command = command_line_hit(app, query)
    if command is not None:
        hits.append(command)
    hits.sort(key=lambda h: h.score, reverse=True)
    return hits


def command_line_hit(app: QuantDeskApp, query: str) -> Hit | None:
    try:
        command = parse(query, app.command_context())
    except ParseError:
        return None
    text = command.to_text()
    return Hit(1.0, f"run: {text}", partial(app.execute, command), text=f"run: {text}", help="command line")


class DeskPalette(CommandPalette):
    """The palette with QuantDesk's entries, ranked synchronously per key."""

    def __init__(self) -> None:
        super().__init__(providers=[], id="--command-palette")
        self._entries: list[Entry] | None = None  # read when the palette mounts

    def _gather_commands(self, search_value: str) -> None:  # type: ignore[override]  # Textual's is a worker that batches results every 250 ms; ranking here is synchronous
        app = _desk_app(self.app)
        if self._entries is None:
            self._entries = palette_entries(app)
        match_style = self.get_visual_style("command-palette--highlight", partial=True)
        hits = ranked(app, self._entries, search_value, Matcher(search_value, match_style=match_style))
        help_style = self.get_visual_style("command-palette--help-text")
        commands = []
        for i, hit in enumerate(hits):
            prompt = hit.prompt
            shown = Content.from_rich_text(prompt) if isinstance(prompt, Text) else (
                prompt if isinstance(prompt, Content) else Content(str(prompt))
            )
            if hit.help:
                shown = Content("\n").join([shown, Content(hit.help).stylize_before(help_style)])
            commands.append(Command(shown, hit, id=str(i)))
        command_list = self.query_one(CommandList)
        self._refresh_command_list(command_list, commands, True)
        if not commands:
            self._hit_count = 0
            self._start_no_matches_countdown(search_value)
        self.add_class("-ready")


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
        hit = command_line_hit(_desk_app(self.app), query)
        if hit is not None:
            yield hit
