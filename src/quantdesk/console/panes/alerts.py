"""Every alert rule with its state: armed, or when it fired and at what figure.

Reads the App's alert desk (``wiring.alert_desk.AlertDesk``): the trader's
own rules (``alerts.toml``) and the team's. ``ALERTS`` focuses this pane when
the layout has one and opens it over the layout when it has not. It redraws
when a rule or its state changes, or a figure it shows moves by what it
shows (two decimals of a price, a tenth of a bps).
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from rich.text import Text

from quantdesk.console.panes.base import Column, Pane, PaneSession, Table

if TYPE_CHECKING:
    from quantdesk.wiring.alert_desk import AlertDesk, AlertRow

TABLE = Table([
    Column("Alert", 8, "left"), Column("Scope", 5, "left"), Column("Rule", 46, "left", min_width=22),
    Column("Now", 12), Column("Venue", 10, "left", drop=2), Column("State", 26, "left"),
    Column("Note", 24, "left", drop=1),
])  # fmt: skip
EMPTY = "No alerts: ALERT SOL-PERP PRICE > 180 [note] adds one (alerts.toml in the config directory keeps them)."
HINT = "ALERT <rule> [note] adds one, ALERT DEL <id> removes one."


def _hms(ns: int) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(ns // 1_000_000_000))


def state_text(row: AlertRow, now_ns: int) -> str:
    """``armed``; ``fired 11:06:40 at 181.25``; ``armed, quiet until 11:11:40``."""
    if not row.armed and row.fired_ts is not None:
        return f"fired {_hms(row.fired_ts)} at {row.fired_value}"
    if row.cooling_until is not None and row.cooling_until > now_ns:
        return f"armed, quiet until {_hms(row.cooling_until)}"
    return "armed"


class AlertsPane(Pane):
    pane_type = "alerts"

    def __init__(self, session: PaneSession, **kw: Any) -> None:
        super().__init__(session, **kw)

    @property
    def desk(self) -> AlertDesk | None:
        link = getattr(self.app, "alerts", None)  # the App's AlertsLink
        return link.desk if link is not None else None

    def state_key(self, now_ns: int) -> Hashable:
        desk = self.desk
        if desk is None:
            return None
        rows = desk.rows()
        # A cooldown ending changes what the state column says.
        quiet = tuple(r.cooling_until is not None and r.cooling_until > now_ns for r in rows)
        return (desk.rev, tuple(rows), quiet, len(desk.problems))

    def build(self, now_ns: int, width: int, height: int) -> list[Text]:
        desk = self.desk
        if desk is None:
            return self.message(["No alert desk in this terminal."])
        s = self.style
        table = TABLE.fit(width - 1)
        lines = [table.header(s("pane--header"))]
        rows = desk.rows()
        if not rows:
            lines.append(Text(EMPTY, s("pane--dim"), no_wrap=True, end=""))
        for r in rows:
            state = state_text(r, now_ns)
            fired = not r.armed
            note = f"{r.note} ({r.user})" if r.user and r.note else r.note or (f"by {r.user}" if r.user else "")
            lines.append(table.row([
                (r.id, s("pane--label")), (r.scope, s("pane--dim")), (r.rule, s("pane--title")),
                (r.value, s("pane--mid")), (r.venue or "—", s("pane--dim")),
                (state, s("pane--warn") if fired else s("pane--gain")), note,
            ]))  # fmt: skip
        for p in desk.problems[: max(0, height - len(lines) - 2)]:
            lines.append(Text(str(p), s("pane--warn"), no_wrap=True, overflow="ellipsis", end=""))
        if rows and len(lines) < height:
            lines.append(Text(HINT, s("pane--dim"), no_wrap=True, end=""))
        return lines
