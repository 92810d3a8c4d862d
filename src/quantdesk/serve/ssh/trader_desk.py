"""One SSH trader's trading, as ``quantdesk run`` gives a terminal its own:
their journal (in their folder, the workspace's outbox beside it), a risk
engine from the server's ``[risk]`` limits with their own kill switch, and
their own paper account in each shared simulated venue, all restored from
their journal. Their orders, fills and positions reach only their console.

A console opened while the same trader already trades in another shows
market data only: two consoles on one journal would keep two diverging
copies of one account.

With the server's ``[db]`` journal sync, each trader's journal syncs as
their own database user (``QUANTDESK_DB__USER_ID`` on their key's line), so
row-level security keeps traders apart; a trader without one is told their
journal stays on the server.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from quantdesk.trading.desk import Desk, Notice

if TYPE_CHECKING:
    from quantdesk.config.settings import Settings
    from quantdesk.sync.outbox_sync import OutboxSyncer
    from quantdesk.trading.journal import Journal
    from quantdesk.venues.session import Session
    from quantdesk.wiring.trading import PaperTrading

log = logging.getLogger(__name__)


def elsewhere_notice(user: str) -> Notice:
    return Notice(
        f"{user} already trades in another console: this one shows market data only. "
        "Quit the other console and connect again to trade here.",
        "Read-only", "warning", 15,
    )


@dataclass
class TraderDesk:
    """What a trader's console trades through; ``trading`` None: read-only."""

    desk: Desk
    trading: PaperTrading | None = None
    journal_sync: OutboxSyncer | None = None  # started and stopped by the console's App

    def close(self) -> None:
        """Recorder and journal closed, resting orders off the shared book (the
        dead-man's cancel, if configured, ran as the console stopped)."""
        if self.trading is not None:
            self.trading.close()
            self.trading = None


def unsynced_notice(why: str) -> Notice:
    return Notice(f"Your journal is not synced to the team database: {why}", "Journal sync", "warning", 15)


def open_trader_desk(
    session: Session, user: str, journal: Journal, settings: Settings | None, *, trades: bool = True,
    user_id: str = "",
) -> TraderDesk:
    """``user``'s desk on ``session`` (their console's mirror of the shared one),
    their journal syncing as ``user_id``. Raises ``ProblemsError`` for bad
    ``[risk]`` limits."""
    if not trades:
        return TraderDesk(Desk(session.cache, opening=[elsewhere_notice(user)]))
    from quantdesk.venues.registry import Trader
    from quantdesk.wiring.trading import open_paper_trading

    limits = settings.risk.limits() if settings is not None else None
    trading = open_paper_trading(session, journal, limits, trader=Trader(user))
    trading.dead_man = bool(settings.dead_man.enabled) if settings is not None else False
    opening: list[Notice] = []
    sync = None
    if settings is not None:
        try:
            sync = _journal_sync(settings, journal, user, user_id)
        except _Unsynced as exc:
            log.warning("ssh: %s's journal is not synced: %s", user, exc)
            opening.append(unsynced_notice(str(exc)))
    desk = Desk(session.cache, trading.router, dead_man=trading.dead_man, opening=opening)
    return TraderDesk(desk, trading, sync)


class _Unsynced(Exception):
    """Why a trader's journal cannot sync; the message says what to fix."""


def _journal_sync(settings: Settings, journal: Journal, user: str, user_id: str) -> OutboxSyncer | None:
    from quantdesk.serve.ssh.keys import USER_ID_OPTION
    from quantdesk.wiring.team import TeamSetupError, trader_db_sync

    if settings.db.dsn is None or not settings.db.dsn.get_secret_value():
        return None
    if not user_id:
        raise _Unsynced(f'the server\'s authorized_keys line for your key ({user}) needs '
                        f'environment="{USER_ID_OPTION}=<your Supabase user id>" before the key; '
                        "ask whoever runs the server to add it")
    try:
        return trader_db_sync(settings, journal, user_id)
    except TeamSetupError as exc:
        raise _Unsynced(str(exc)) from None
