"""The help screen: every action with the key it has now, by group, the
command-line grammar in brief, and every pane of the catalogue."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from quantdesk.console.keymap import Keymap, display_key
from quantdesk.console.panes import catalogue
from quantdesk.core.actions import Action

COMMANDS_HELP = (
    ("SOL-PERP DEPTH | PANE <type>", "show a pane (for a market); PANES below"),
    ("SOL-PERP BUY 2 @ 145.20 POST", "limit order (POST, IOC, REDUCE; STOP/TP PRICE)"),
    ("ETH-PERP SELL 1000 USD MKT", "market order sized in USD"),
    ("CANCEL ALL | CANCEL <id>", "cancel orders"),
    ("SOL-PERP COLLATERAL ADD 50", "add (REMOVE: take out) USD of a position's collateral"),
    ("LAYOUT <name> | LAYOUT SAVE <name>", "switch layout, save the current one"),
    ("THEME <name> | VENUE <venue>", "switch theme, venue of the focused pane"),
    ("KILL | KILL OFF", "kill switch on / off"),
    ("NEWS SOL | NEWS ALL", "one asset's headlines in the News pane, or every one"),
    ("ALERT SOL-PERP PRICE > 180 [note]", "alert rule; also FUNDING > 50%, IMBALANCE > 0.7, SPREAD M V1 V2 > 20BPS,"),
    ("", "POSITION M LIQ < 5%, FEED V STALE 10S, PNL < -500; ALERT LOCAL / TEAM ... picks where it is kept"),
    ("ALERT DEL <id> | ALERTS", "remove an alert; list them with their state"),
)


def help_table(keymap: Keymap, offered: Callable[[Action], bool] | None = None) -> Group:
    """``offered`` leaves out the actions that do not apply here (the replay keys outside a replay)."""
    keys = Table(box=None, show_header=False, padding=(0, 2), expand=False)
    keys.add_column("key", style="bold", no_wrap=True, min_width=10)
    keys.add_column("action")
    keys.add_column("id", style="dim", no_wrap=True)
    for group, all_rows in keymap.by_group():
        rows = [(a, bound) for a, bound in all_rows if offered is None or offered(a)]
        if not rows:
            continue
        keys.add_row(Text(group.upper(), style="bold underline"), "", "")
        for action, bound in rows:
            shown = ", ".join(display_key(k) for k in bound) or "(no key)"
            keys.add_row(shown, action.description, action.id)
        keys.add_row("", "", "")
    commands = Table(box=None, show_header=False, padding=(0, 2), expand=False)
    commands.add_column("syntax", style="bold", no_wrap=True)
    commands.add_column("what")
    commands.add_row(Text("COMMAND LINE", style="bold underline"), "")
    for syntax, what in COMMANDS_HELP:
        commands.add_row(syntax, what)
    commands.add_row("", "")
    commands.add_row(Text("PANES", style="bold underline"), "")
    for entry in catalogue.entries():
        settings = ", ".join(p.name for p in entry.params)
        commands.add_row(f"{entry.word:<10} {entry.id}", entry.help + (f" (layout: {settings})" if settings else ""))
    return Group(keys, commands)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar = [
        Binding("escape", "dismiss", "close", show=False),
        Binding("q", "dismiss", "close", show=False),
        Binding("question_mark", "dismiss", "close", show=False),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 100;
        max-width: 95%;
        height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen #help-body { width: 100%; height: auto; }
    """

    def __init__(self, keymap: Keymap, offered: Callable[[Action], bool] | None = None) -> None:
        super().__init__()
        self.keymap = keymap
        self.offered = offered

    def compose(self) -> ComposeResult:
        with VerticalScroll() as v:
            v.border_title = "Keys (Esc closes)"
            yield Static(help_table(self.keymap, self.offered), id="help-body")
