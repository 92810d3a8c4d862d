"""One trader's console: a QuantDesk App on its own PTY, over a mirror of the
server's shared session.

The trader's name (from their SSH key) picks their folder under the server's
data directory: command history, remembered theme, their alert rules
(``alerts.toml``, written by their trading console only) and their journal,
which holds their orders, fills, kill switch, alert states and their
workspace's queued writes. Colour depth follows the client's ``TERM`` (and ``COLORTERM`` when
the client sends it), not the server's (``serve.ssh.colour``).
The team workspace is the server's ``[redis]`` one, or without a ``[redis]
url`` its ``[sync.supabase]`` one, reached as the trader's own Supabase user
on the session their journal sync shares (``serve.ssh.trader_supabase``), so
row-level security applies to them; either way their name is on their entries.
The trader trades from the console as ``quantdesk run`` allows, on their own
paper accounts in the shared simulated venues and, with their signer agent
forwarded, on the live venues that can sign for them (``serve.ssh.trader_desk``);
closing the console closes their trading and no one else's.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from quantdesk.console.app import QuantDeskApp
from quantdesk.serve.ssh.colour import Recolour, colour_system
from quantdesk.serve.ssh.pty_driver import Pty, PtyDriver, driver_for
from quantdesk.serve.ssh.trader_desk import SignerAgent, TraderDesk, open_trader_desk
from quantdesk.serve.ssh.trader_supabase import TraderSupabase, trader_supabase
from quantdesk.trading.journal import Journal
from quantdesk.venues.mirror import mirror_session
from quantdesk.wiring.alert_desk import trader_alert_desk

if TYPE_CHECKING:
    from quantdesk.config.settings import Settings
    from quantdesk.sync.team_desk import TeamDesk
    from quantdesk.venues.session import Session

log = logging.getLogger(__name__)

ALERTS_FILE = "alerts.toml"  # in the trader's folder, as the config directory's is for `quantdesk run`


@dataclass(frozen=True)
class ConsoleOptions:
    settings: Settings | None
    data_dir: Path  # one folder per trader below it
    log_path: Path | None = None


def trader_dir(data_dir: Path, user: str) -> Path:
    return data_dir / "traders" / user


class _Discard:
    """Where the App's console object writes nothing (frames go through the driver)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def _truecolor_console() -> Console:
    """Every console renders 24-bit colour; ``Recolour`` fits it to the client."""
    return Console(
        color_system="truecolor",
        file=_Discard(),  # type: ignore[arg-type]  # a text sink is all rich needs
        markup=True, highlight=False, emoji=False, legacy_windows=False,
        force_terminal=True, safe_box=False, soft_wrap=False,
    )


class TraderConsole:
    """The App of one SSH session and what it opened for the trader."""

    def __init__(
        self,
        shared: Session,
        user: str,
        pty: Pty,
        options: ConsoleOptions,
        *,
        term: str = "xterm-256color",
        env: Mapping[str, str] | None = None,
        on_overflow: Any = None,
        trades: bool = True,  # False: the trader trades in another console already
        user_id: str = "",  # their database user id, for [db] and [sync.supabase] journal sync
        signer_agent: SignerAgent | None = None,  # their forwarded signer agent, or how to forward it
    ) -> None:
        self.user = user
        self.pty = pty
        self.session = mirror_session(shared)
        self.workspace: TeamDesk | None = None
        self.trader: TraderDesk | None = None
        self.supabase: TraderSupabase | None = None
        settings = options.settings
        folder = trader_dir(options.data_dir, user)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.journal: Journal | None = Journal.open(folder / "journal.sqlite3")  # the workspace's outbox too
        try:
            redis_workspace = settings is not None and settings.redis.url is not None
            self.supabase = trader_supabase(settings, user, user_id)
            opening = []
            if self.supabase is not None:
                notice = self.supabase.notice(journal=trades, workspace=not redis_workspace)
                if notice is not None:
                    log.warning("ssh: %s: %s", user, notice.text)
                    opening.append(notice)
            self.trader = open_trader_desk(
                self.session, user, self.journal, settings, trades=trades, user_id=user_id, agent=signer_agent,
                supabase=self.supabase.session if self.supabase is not None else None, opening=opening,
            )
            if redis_workspace:
                assert settings is not None
                self.workspace = self._open_workspace(settings, self.journal)
            elif self.supabase is not None and self.supabase.session is not None:
                self.workspace = self._supabase_workspace(settings, self.supabase, self.journal)
            self.app = self._app(self.trader, options, folder, term, env or {}, on_overflow, trades)
        except BaseException:  # nothing of the trader's may stay open, nor hold on to the shared venues
            self.close()
            raise

    def _app(
        self, trader: TraderDesk, options: ConsoleOptions, folder: Path, term: str, env: Mapping[str, str],
        on_overflow: Any, trades: bool,
    ) -> QuantDeskApp:
        settings = options.settings
        fps = settings.ui.fps if settings is not None else 20.0
        assert self.journal is not None
        # The trading console writes the trader's rules file; a second one only watches it.
        alerts = trader_alert_desk(settings, self.session, self.journal, folder / ALERTS_FILE, writer=trades)
        app = QuantDeskApp(
            self.session, desk=trader.desk, workspace=self.workspace, journal_sync=trader.journal_sync,
            alerts=alerts, fps=fps, log_path=options.log_path, own_process=False,
        )
        recolour = Recolour(colour_system(term, env))
        app.driver_class = driver_for(self.pty, on_overflow=on_overflow, recolour=recolour if recolour.needed else None)
        app.console = _truecolor_console()
        # Textual points sys.stdout and sys.stderr at the running App and puts
        # back what it found when that App ends; with many Apps ending in any
        # order, the process's streams would end up pointing at a closed one.
        # Each console "captures" into the real streams instead.
        app._capture_stdout = sys.stdout  # type: ignore[assignment]  # a text stream is what Textual writes to
        app._capture_stderr = sys.stderr  # type: ignore[assignment]  # likewise
        app.configure_console(settings, history_path=folder / "history", prefs_path=folder / "prefs.json")
        return app

    def _open_workspace(self, settings: Settings, journal: Journal) -> TeamDesk | None:
        """The team's Redis workspace with this trader's name on their entries."""
        from quantdesk.sync.team_desk import open_team_desk

        assert settings.redis.url is not None
        return open_team_desk(settings.redis.url.get_secret_value(), settings.redis.team, self.user, str(journal.path))

    def _supabase_workspace(self, settings: Settings | None, supabase: TraderSupabase, journal: Journal) -> TeamDesk:
        """The team's Supabase workspace as this trader's own user, their name on their entries."""
        from quantdesk.wiring.team import supabase_workspace

        assert settings is not None and settings.sync.supabase is not None and supabase.session is not None
        return supabase_workspace(settings.sync.supabase, supabase.session, self.user, journal)

    @property
    def driver(self) -> PtyDriver | None:
        driver = getattr(self.app, "_driver", None)
        return driver if isinstance(driver, PtyDriver) else None

    def resized(self, columns: int, rows: int) -> None:
        self.pty.set_size(columns, rows)
        driver = self.driver
        if driver is not None:
            driver.resized()

    async def run(self) -> int:
        """Run the console until the trader quits or ``stop`` is called."""
        loading = asyncio.create_task(self._load_live_accounts(), name=f"ssh-accounts:{self.user}")
        try:
            # In a task of its own: Textual leaves context variables naming the App
            # and its screens in the task it runs in, and whatever the caller
            # schedules after (the server's collection) would carry them on.
            await asyncio.create_task(self.app.run_async(), name=f"ssh-app:{self.user}")
        finally:
            loading.cancel()
            await asyncio.gather(loading, return_exceptions=True)
            self.close()
        return self.app.return_code or 0

    async def _load_live_accounts(self) -> None:
        """The trader's accounts on the live venues once the console is up,
        then followed until it closes."""
        await self.app.session_started.wait()
        if self.trader is not None:
            for notice in await self.trader.load_live_accounts():
                self.app.notify(notice.text, title=notice.title, severity=notice.severity, timeout=notice.timeout)
            await self.trader.follow_live_accounts()

    def stop(self) -> None:
        if self.app.is_running:
            self.app.exit()

    def close(self) -> None:
        if self.workspace is not None:
            self.workspace.outbox.close()
            self.workspace = None
        if self.trader is not None:
            self.trader.close()
            self.trader = None
        if self.supabase is not None:
            self.supabase.close()
            self.supabase = None
        if self.journal is not None:
            self.journal.close()
            self.journal = None
