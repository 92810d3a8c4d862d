"""One SSH trader's trading, as ``quantdesk run`` gives a terminal its own:
their journal (in their folder, the workspace's outbox beside it), a risk
engine from the server's ``[risk]`` limits with their own kill switch, and
their own paper account in each shared simulated venue, all restored from
their journal. Their orders, fills and positions reach only their console.

A console opened while the same trader already trades in another shows
market data only: two consoles on one journal would keep two diverging
copies of one account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from quantdesk.trading.desk import Desk, Notice

if TYPE_CHECKING:
    from quantdesk.config.settings import Settings
    from quantdesk.trading.journal import Journal
    from quantdesk.venues.session import Session
    from quantdesk.wiring.trading import PaperTrading


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

    def close(self) -> None:
        """Recorder and journal closed, resting orders off the shared book (the
        dead-man's cancel, if configured, ran as the console stopped)."""
        if self.trading is not None:
            self.trading.close()
            self.trading = None


def open_trader_desk(
    session: Session, user: str, journal: Journal, settings: Settings | None, *, trades: bool = True
) -> TraderDesk:
    """``user``'s desk on ``session`` (their console's mirror of the shared one).
    Raises ``ProblemsError`` for bad ``[risk]`` limits."""
    if not trades:
        return TraderDesk(Desk(session.cache, opening=[elsewhere_notice(user)]))
    from quantdesk.venues.registry import Trader
    from quantdesk.wiring.trading import open_paper_trading

    limits = settings.risk.limits() if settings is not None else None
    trading = open_paper_trading(session, journal, limits, trader=Trader(user))
    trading.dead_man = bool(settings.dead_man.enabled) if settings is not None else False
    desk = Desk(session.cache, trading.router, dead_man=trading.dead_man)
    return TraderDesk(desk, trading)
