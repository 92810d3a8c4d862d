"""The App's link to its alert desk: the ALERT commands, the ALERTS list,
and each firing announced with a toast and the terminal bell.

The desk (``wiring.alert_desk.AlertDesk``) watches the rules on the bus; this
starts it with the App (reading a burst of bus messages once, right after
the burst), ticks it a few times a second and stops it on exit. The bell is
the terminal's own (BEL), so it rings over SSH too.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen

from quantdesk.console.cmdline import AddAlert, DeleteAlert, ListAlerts
from quantdesk.core.problems import Problem

if TYPE_CHECKING:
    from quantdesk.console.app import QuantDeskApp
    from quantdesk.console.panes.alerts import AlertsPane
    from quantdesk.wiring.alert_desk import AlertDesk, AlertFiring

TICK_S = 0.25


class AlertsScreen(ModalScreen[None]):
    """The alerts list over a layout that has no alerts pane."""

    BINDINGS: ClassVar = [Binding("escape", "dismiss", "close", show=False), Binding("q", "dismiss", "close", show=False)]
    DEFAULT_CSS = """
    AlertsScreen { align: center middle; }
    AlertsScreen > AlertsPane { width: 95%; height: 60%; background: $surface; }
    """

    def __init__(self, pane: AlertsPane) -> None:
        super().__init__()
        self.pane = pane

    def compose(self) -> ComposeResult:
        self.pane.border_subtitle = "Esc closes"
        yield self.pane

    def on_mount(self) -> None:
        self.pane.focus()
        self.set_interval(TICK_S, self._tick)
        self.call_after_refresh(self._tick)

    def _tick(self) -> None:
        self.pane.tick(self.app.session.clock())  # type: ignore[attr-defined]  # a QuantDeskApp


class AlertsLink:
    def __init__(self, app: QuantDeskApp, desk: AlertDesk | None = None) -> None:
        self.app = app
        # None: alert rules for this session only. That desk is made at its first
        # use, so a console without rules loads no engine or rule kinds to start.
        self._desk = desk
        self._started = False

    @property
    def desk(self) -> AlertDesk:
        if self._desk is None:
            from quantdesk.wiring.alert_desk import AlertDesk

            self._desk = AlertDesk(self.app.session.cache, self.app.session.clock)
            if self._started:
                self._start(self._desk)
        return self._desk

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> None:
        self._started = True
        if self._desk is not None or self.app.team.workspace is not None:  # the team's rules are watched at once
            self._start(self.desk)

    def _start(self, desk: AlertDesk) -> None:
        desk.on_fire = self._fired
        desk.on_problems = self._problems
        desk.team = self.app.team.workspace
        desk.start(self.app.session.bus, defer=asyncio.get_running_loop().call_soon)
        self.app.set_interval(TICK_S, desk.tick, name="alerts")

    async def stop(self) -> None:
        self._started = False
        if self._desk is not None:
            await self._desk.stop()

    def ids(self) -> list[str]:
        return self._desk.ids() if self._desk is not None else []

    # -- commands ------------------------------------------------------------------
    async def add(self, command: AddAlert) -> bool:
        from quantdesk.core.alerts import rule_text
        from quantdesk.wiring.alert_desk import AlertError

        team = self.app.team.workspace is not None
        scope = command.scope if command.scope != "auto" else ("team" if team else "local")
        try:
            rid = await self.desk.add(command.rule, command.note, scope)
        except AlertError as exc:
            self.app.notify(f"{command.to_text()}: {exc}.", severity="warning", timeout=10)
            return False
        if scope == "team":
            where = "shared with the team"
        elif self.desk.rules is not None:
            where = f"kept in {self.desk.rules.path}"
        else:
            where = "kept for this session"
        self.app.notify(f"Alert {rid} set: {rule_text(command.rule)} ({where}).")
        self.desk.engine.tick()  # it may hold already: say so now, not at the next tick
        return True

    async def delete(self, command: DeleteAlert) -> bool:
        from quantdesk.wiring.alert_desk import AlertError

        try:
            scope = await self.desk.remove(command.alert_id)
        except AlertError as exc:
            self.app.notify(f"{command.to_text()}: {exc}.", severity="error", timeout=10)
            return False
        if scope is None:
            self.app.notify(f"No alert {command.alert_id}; ALERTS lists them.", severity="warning")
            return False
        self.app.notify(f"Alert {command.alert_id} removed.")
        return True

    async def show(self, command: ListAlerts) -> bool:
        pane = self.app.pane_of_type("alerts")
        if pane is not None:
            pane.focus()
        elif not isinstance(self.app.screen, AlertsScreen):
            from quantdesk.console.panes.alerts import AlertsPane

            self.app.push_screen(AlertsScreen(AlertsPane(self.app.session, id="alerts-list")))
        return True

    # -- what the desk reports ---------------------------------------------------------
    def _fired(self, firing: AlertFiring) -> None:
        from quantdesk.wiring.alert_desk import FIRED_TITLE

        self.app.notify(firing.message, title=FIRED_TITLE, severity="warning", timeout=15)
        if self.desk.bell:
            self.app.bell()

    def _problems(self, problems: list[Problem]) -> None:
        text = "\n".join(str(p) for p in problems[:5])
        more = f"\n(and {len(problems) - 5} more)" if len(problems) > 5 else ""
        self.app.notify(f"{text}{more}\nThose rules are not watched until fixed.", title="Alert rules",
                        severity="warning", timeout=20)  # fmt: skip
