"""The App's link to the team: the shared workspace (Redis or Supabase) and
the journal's syncer (PostgreSQL or Supabase's REST API).

``TeamLink`` is held by the App, which hands it a
:class:`~quantdesk.sync.team_desk.TeamDesk` and/or a journal syncer. It
starts them with the App and stops them on exit. Workspace commands (WATCH,
NOTE) arrive from the command dispatcher; the team's alert rules are watched
by the App's alert desk (``console.alerts_link``); the status bar reads
``sync_segments``. Nothing here ever shows a URL or DSN.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from quantdesk.console.cmdline import AddNote, WatchAdd, WatchDel

if TYPE_CHECKING:  # the workspace client (Redis, Supabase) loads only with a configured workspace
    from quantdesk.sync.team_desk import TeamDesk
    from quantdesk.console.app import QuantDeskApp
    from quantdesk.console.cmdline import Command
    from quantdesk.sync.outbox_sync import OutboxSyncer

log = logging.getLogger(__name__)

DB_STATE_EVERY_NS = 500_000_000  # the syncer's state costs a SQLite count: twice a second is enough
SYNC_STYLE = {"ok": "connected", "behind": "stale", "down": "down"}
NO_WORKSPACE = ("no team workspace; set [redis] url or [sync.supabase] in the config to share watchlists, "
                "alerts and notes.")
QUEUED = "{store} is down: the change is kept here and sent when it is back."


class TeamLink:
    """The team workspace and journal sync of one App (either may be None)."""

    def __init__(self, app: QuantDeskApp, workspace: TeamDesk | None = None, journal_sync: OutboxSyncer | None = None) -> None:
        self.app = app
        self.workspace = workspace
        self.journal_sync = journal_sync
        self._db_segment: tuple[int, tuple[str, str]] | None = None
        self._said_signed_out = ""  # the sign-in problem already shown (once each)

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> None:
        desk = self.workspace
        if desk is not None:
            self.app.run_worker(desk.start(), name="team-desk", group="team", exit_on_error=False)
        if self.journal_sync is not None:
            try:
                self.journal_sync.start()
            except Exception:
                log.exception("could not start the journal sync")
                self.journal_sync = None

    async def stop(self) -> None:
        desk, self.workspace = self.workspace, None
        if desk is not None:
            try:
                await desk.stop()
            except Exception:
                log.exception("error while closing the team workspace")
        sync, self.journal_sync = self.journal_sync, None
        if sync is not None:
            sync.stop()

    # -- commands (one per workspace command class) ----------------------------
    def _desk_or_say(self, command: Command) -> TeamDesk | None:
        if self.workspace is None:
            self.app.notify(f"{command.to_text()}: {NO_WORKSPACE}", severity="warning")
        return self.workspace

    def _sent(self, sent: bool) -> bool:
        if not sent:
            store = self.workspace.ws.label.capitalize() if self.workspace is not None else "The store"
            self.app.notify(QUEUED.format(store=store), severity="warning")
        return True

    async def watch_add(self, command: WatchAdd) -> bool:
        desk = self._desk_or_say(command)
        return desk is not None and self._sent(await desk.watch_add(command.market, command.watchlist))

    async def watch_del(self, command: WatchDel) -> bool:
        desk = self._desk_or_say(command)
        if desk is None:
            return False
        if command.market not in desk.watchlists.get(command.watchlist, []):
            self.app.notify(f"{command.market} is not on watchlist {command.watchlist}.", severity="warning")
            return False
        return self._sent(await desk.watch_del(command.market, command.watchlist))

    async def add_note(self, command: AddNote) -> bool:
        desk = self._desk_or_say(command)
        if desk is None:
            return False
        await desk.add_note(command.text)
        return True

    # -- layouts -------------------------------------------------------------
    async def share_layout(self, name: str, toml_text: str) -> None:
        """A saved layout goes to the team workspace too (queued while the workspace is down)."""
        if self.workspace is not None:
            await self.workspace.save_layout(name, toml_text)

    def layout_text(self, name: str) -> str | None:
        """The team workspace's copy of layout ``name`` (None: the team has none)."""
        return self.workspace.layout_texts.get(name) if self.workspace is not None else None

    def layout_names(self) -> list[str]:
        return sorted(self.workspace.layout_texts) if self.workspace is not None else []

    def watchlists(self) -> list[str]:
        return list(self.workspace.watchlists) if self.workspace is not None else []

    # -- status ------------------------------------------------------------
    def sync_segments(self) -> list[tuple[str, str]]:
        """(text, state) for the status bar: the team workspace, then the database."""
        out = []
        if self.workspace is not None:
            out.append(self.workspace.status())
        if self.journal_sync is not None:
            now = time.monotonic_ns()
            cached = self._db_segment
            if cached is None or now - cached[0] >= DB_STATE_EVERY_NS:
                state = self.journal_sync.state
                cached = self._db_segment = (now, (state.describe(), SYNC_STYLE.get(state.status, "connecting")))
                if state.needs_login and state.last_error != self._said_signed_out:
                    # The trader must act (sign in again); an outage only waits, so it is not announced.
                    self._said_signed_out = state.last_error
                    self.app.notify(f"Journal sync stopped: {state.last_error}. Entries wait in the journal.",
                                    title="Supabase", severity="error", timeout=20)
            out.append(cached[1])
        return out
