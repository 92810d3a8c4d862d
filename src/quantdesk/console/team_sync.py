"""The App's link to the team: the shared workspace (Redis) and the journal's
Postgres syncer.

``TeamSyncActions`` is mixed into the App. ``attach_team(desk, db_sync)``
(before ``run``) hands it a :class:`~quantdesk.sync.team_desk.TeamDesk` and/or
a ``PostgresSync``; on mount it starts them, watches alerts a few times a
second, and on exit stops them. Workspace commands (WATCH, ALERT, NOTE) arrive
from the console through ``workspace_command``; the status bar reads
``sync_segments``. Nothing here ever shows a URL or DSN.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from quantdesk.console.cmdline import AddAlert, AddNote, DeleteAlert, WatchAdd, WatchDel
from quantdesk.sync.team_desk import TeamDesk, market_price, venue_for
from quantdesk.sync.workspace import Alert

log = logging.getLogger(__name__)

ALERT_CHECK_S = 0.1
DB_STATE_EVERY_NS = 500_000_000  # the syncer's state costs a SQLite count: twice a second is enough
SYNC_STYLE = {"ok": "connected", "behind": "stale", "down": "down"}


class TeamSyncActions:
    team_desk: TeamDesk | None = None
    db_sync: Any = None  # quantdesk.sync.postgres.PostgresSync
    _db_segment: tuple[int, tuple[str, str]] | None = None

    def attach_team(self, desk: TeamDesk | None = None, db_sync: Any = None) -> None:
        self.team_desk = desk
        self.db_sync = db_sync

    async def on_mount(self) -> None:
        if self.team_desk is not None:
            self.team_desk.on_triggered = self._alert_fired
            self.run_worker(self._start_team_desk(), name="team-desk", group="team", exit_on_error=False)  # type: ignore[attr-defined]
            self.set_interval(ALERT_CHECK_S, self._check_alerts, name="alerts")  # type: ignore[attr-defined]
        if self.db_sync is not None:
            try:
                self.db_sync.start()
            except Exception:
                log.exception("could not start the journal sync")
                self.db_sync = None

    async def _start_team_desk(self) -> None:
        await self.team_desk.start()  # type: ignore[union-attr]

    async def on_unmount(self) -> None:
        desk, self.team_desk = self.team_desk, None
        if desk is not None:
            try:
                await desk.stop()
            except Exception:
                log.exception("error while closing the team workspace")
        sync, self.db_sync = self.db_sync, None
        if sync is not None:
            sync.stop()

    # -- alerts ------------------------------------------------------------
    def _check_alerts(self) -> None:
        desk = self.team_desk
        if desk is None:
            return
        cache = self.session.cache  # type: ignore[attr-defined]
        desk.check_alerts(lambda venue, market: market_price(cache, venue, market))

    def _alert_fired(self, alert: Alert) -> None:
        cond = "above" if alert.condition == "above" else "below"
        now = f" at {alert.triggered_price.normalize():f}" if alert.triggered_price is not None else ""
        note = f": {alert.note}" if alert.note else ""
        self.notify(  # type: ignore[attr-defined]
            f"{alert.market} on {alert.venue} crossed {cond} {alert.price.normalize():f}{now}{note} (alert {alert.id} by {alert.user})",
            title="Alert triggered",
            severity="warning",
            timeout=15,
        )

    # -- commands ----------------------------------------------------------
    async def workspace_command(self, command: object) -> bool:
        desk = self.team_desk
        if desk is None:
            self.notify(  # type: ignore[attr-defined]
                f"{command.to_text()}: no team workspace; set [redis] url in the config to share "  # type: ignore[attr-defined]
                "watchlists, alerts and notes.",
                severity="warning",
            )
            return False
        sent = True
        if isinstance(command, WatchAdd):
            sent = await desk.watch_add(command.market, command.watchlist)
        elif isinstance(command, WatchDel):
            if command.market not in desk.watchlists.get(command.watchlist, []):
                self.notify(f"{command.market} is not on watchlist {command.watchlist}.", severity="warning")  # type: ignore[attr-defined]
                return False
            sent = await desk.watch_del(command.market, command.watchlist)
        elif isinstance(command, AddAlert):
            focused = getattr(self.focused, "venue", None)  # type: ignore[attr-defined]
            venue = venue_for(self.session.cache, command.market, focused if isinstance(focused, str) else None)  # type: ignore[attr-defined]
            if venue is None:
                self.notify(f"No venue lists {command.market}.", severity="error")  # type: ignore[attr-defined]
                return False
            alert = await desk.add_alert(command.market, venue, command.condition, command.price, command.note)
            self.notify(f"Alert {alert.id} set: {alert.market} on {venue} {alert.condition} {alert.price.normalize():f}.")  # type: ignore[attr-defined]
        elif isinstance(command, DeleteAlert):
            if not await desk.remove_alert(command.alert_id):
                self.notify(f"No alert {command.alert_id}; the workspace pane lists the ids.", severity="warning")  # type: ignore[attr-defined]
                return False
        elif isinstance(command, AddNote):
            await desk.add_note(command.text)
        if not sent:
            self.notify("Redis is down: the change is kept here and sent when it is back.", severity="warning")  # type: ignore[attr-defined]
        return True

    async def share_layout(self, name: str, toml_text: str) -> None:
        """A saved layout goes to the team workspace too (queued while Redis is down)."""
        if self.team_desk is not None:
            await self.team_desk.save_layout(name, toml_text)

    def team_layout_text(self, name: str) -> str | None:
        """The team workspace's copy of layout ``name`` (None: the team has none)."""
        return self.team_desk.layout_texts.get(name) if self.team_desk is not None else None

    def team_layout_names(self) -> list[str]:
        return sorted(self.team_desk.layout_texts) if self.team_desk is not None else []

    # -- status ------------------------------------------------------------
    def sync_segments(self) -> list[tuple[str, str]]:
        """(text, state) for the status bar: the Redis workspace, then the database."""
        out = []
        if self.team_desk is not None:
            out.append(self.team_desk.status())
        if self.db_sync is not None:
            now = time.monotonic_ns()
            cached = self._db_segment
            if cached is None or now - cached[0] >= DB_STATE_EVERY_NS:
                state = self.db_sync.state
                cached = self._db_segment = (now, (state.describe(), SYNC_STYLE.get(state.status, "connecting")))
            out.append(cached[1])
        return out
