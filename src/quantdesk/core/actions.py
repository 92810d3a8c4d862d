"""The catalogue of trader actions: one id per thing a key, the palette or the
command line can do.

The id is the Textual ``Binding.id`` and the key of a keymap entry; ``group``
orders the help screen and is the palette category (``focus: next pane``).
``key`` is the default in Textual key syntax, the value ``keymaps/default.toml``
ships; the keymap loader checks both agree on the set of ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Action:
    id: str
    group: str
    description: str
    key: str
    scope: str = "app"  # keys clash only within one scope
    # "replay": offered (key, help, palette) only while a recording plays back
    requires: str = ""

    @property
    def palette_name(self) -> str:
        return f"{self.group}: {self.description}"


ACTIONS: tuple[Action, ...] = (
    Action("focus.next", "focus", "next pane", "tab"),
    Action("focus.prev", "focus", "previous pane", "shift+tab"),
    Action("focus.depth", "focus", "depth pane", "1"),
    Action("focus.funding", "focus", "funding pane", "2"),
    Action("focus.spreads", "focus", "spreads pane", "3"),
    Action("focus.positions", "focus", "positions pane", "4"),
    Action("focus.orders", "focus", "orders pane", "5"),
    Action("market.next", "market", "next market", "]"),
    Action("market.prev", "market", "previous market", "["),
    Action("venue.next", "venue", "next venue", "}"),
    Action("venue.prev", "venue", "previous venue", "{"),
    Action("app.palette", "app", "command palette", "ctrl+p"),
    Action("app.command_line", "app", "command line", ":"),
    Action("app.help", "app", "help: active keys", "?"),
    Action("app.quit", "app", "quit", "q"),
    Action("order.buy", "order", "buy the focused market", "b"),
    Action("order.sell", "order", "sell the focused market", "s"),
    Action("orders.cancel_all", "orders", "cancel all orders", "ctrl+x"),
    Action("orders.cancel", "orders", "cancel the selected order", "c", scope="orders"),
    Action("orders.modify", "orders", "modify the selected order's price or size", "m", scope="orders"),
    Action("positions.close", "positions", "close the selected position", "c", scope="positions"),
    Action("positions.close_all", "positions", "close all positions", "C", scope="positions"),
    Action("chart.timeframe_up", "chart", "longer timeframe (1m 5m 15m 1h 4h 1d)", "+", scope="chart"),
    Action("chart.timeframe_down", "chart", "shorter timeframe", "-", scope="chart"),
    Action("news.open", "news", "open the selected headline: summary and link", "enter", scope="news"),
    Action("news.filter", "news", "filter by the selected headline's asset, or clear it", "f", scope="news"),
    Action("risk.kill_switch", "risk", "kill switch: cancel all and block new orders", "ctrl+k"),
    Action("layout.next", "layout", "next layout", "ctrl+l"),
    Action("theme.next", "theme", "next theme", "ctrl+t"),
    Action("replay.pause", "replay", "pause or resume the replay", "space", requires="replay"),
    Action("replay.step", "replay", "step one event (pauses)", ".", requires="replay"),
    Action("replay.faster", "replay", "replay twice as fast", "+", requires="replay"),
    Action("replay.slower", "replay", "replay half as fast", "-", requires="replay"),
)

BY_ID: dict[str, Action] = {a.id: a for a in ACTIONS}

# Help screen and palette order.
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(a.group for a in ACTIONS))


def default_keymap() -> dict[str, str]:
    """Binding id -> default key, as ``App.set_keymap`` takes it."""
    return {a.id: a.key for a in ACTIONS}


def flatten_bindings(table: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    """``{"focus": {"next": "tab"}}`` -> ``{"focus.next": "tab"}`` so unquoted
    dotted TOML keys work as binding ids (the config and the keymap files both read them)."""
    out: dict[str, object] = {}
    for k, v in table.items():
        full = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, Mapping):
            out.update(flatten_bindings(v, full))
        else:
            out[full] = v
    return out
