"""One SSH trader's trading, as ``quantdesk run`` gives a terminal its own:
their journal (in their folder, the workspace's outbox beside it), a risk
engine from the server's ``[risk]`` limits with their own kill switch, and
their own paper account in each shared simulated venue, all restored from
their journal. Their orders, fills and positions reach only their console.

A console opened while the same trader already trades in another shows
market data only: two consoles on one journal would keep two diverging
copies of one account.

Live venues sign only with the trader's own signer agent, forwarded over
their SSH connection (``ssh -R``) when the server's ``signer`` is
``agent:...``; never with the server's own key. Without one they stay
read-only for that trader, and the console says so once with the line to
connect with.

With the server's ``[db]`` journal sync, each trader's journal syncs as
their own database user (``QUANTDESK_DB__USER_ID`` on their key's line), so
row-level security keeps traders apart; a trader without one is told their
journal stays on the server. With ``[sync.supabase]`` it syncs on the
trader's Supabase session (``serve.ssh.trader_supabase``), which their
console makes and explains the absence of.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from quantdesk.trading.desk import Desk, Notice

if TYPE_CHECKING:
    from quantdesk.config.settings import Settings
    from quantdesk.signing.base import Signer
    from quantdesk.sync.outbox_sync import OutboxSyncer
    from quantdesk.sync.supabase_session import TraderSession
    from quantdesk.trading.journal import Journal
    from quantdesk.trading.router import OrderRouter
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
    signer: Signer | None = None  # the trader's forwarded signer agent
    agent_answered: bool = False  # it gave its public key: their accounts can be read

    async def load_live_accounts(self) -> list[Notice]:
        """Ready the live venues to trade: the trader's public key from their
        agent, then their account on each venue; what went wrong, for the screen.
        The agent's socket is forwarded by this very process, so it is only
        ever asked off the event loop."""
        if self.trading is None or self.signer is None:
            return []
        from quantdesk.core.venue import LoadsAccount, VenueError
        from quantdesk.signing.base import SignerError

        signer = self.signer
        try:
            await asyncio.to_thread(lambda: signer.pubkey)
        except SignerError as exc:
            return [Notice(f"Your signer agent did not answer: {exc}", "Signer agent", "error", 20)]
        self.agent_answered = True
        problems = []
        for vid, ex in self.trading.router.executors.items():
            if isinstance(ex, LoadsAccount):
                try:
                    await ex.refresh()
                except (VenueError, SignerError) as exc:
                    problems.append(Notice(f"{vid}: your account could not be loaded ({exc})", "Account", "error", 20))
        return problems

    async def follow_live_accounts(self) -> None:
        """The trader's positions and margin on the live venues, onto their
        console's bus, until cancelled."""
        if self.trading is None or not self.agent_answered:
            return
        from quantdesk.core.venue import FollowsAccount

        follows = [ex.follow_account() for ex in self.trading.router.executors.values() if isinstance(ex, FollowsAccount)]
        await asyncio.gather(*follows)

    def close(self) -> None:
        """Recorder and journal closed, resting orders off the shared book (the
        dead-man's cancel, if configured, ran as the console stopped; a
        Supabase session's client is the console's to close)."""
        if self.trading is not None:
            self.trading.close()
            self.trading = None


@dataclass(frozen=True)
class SignerAgent:
    """The trader's forwarded signer agent socket (None: not forwarded), and
    the ``ssh -R`` line that forwards it."""

    socket: Path | None
    forward_line: str


def read_only_notice(venues: list[str], why: str) -> Notice:
    names = ", ".join(venues)
    return Notice(f"{names} {'is' if len(venues) == 1 else 'are'} read-only for you: {why}", "Read-only", "warning", 20)


def trader_signer(settings: Settings | None, agent: SignerAgent | None) -> tuple[Signer | None, str]:
    """The trader's signer (their forwarded agent), or None and why not."""
    from quantdesk.signing.spec import SignerSpecError, parse_signer

    try:
        kind = parse_signer(settings.signer if settings is not None else None).kind
    except SignerSpecError:
        kind = "none"
    if kind != "agent":
        return None, ('the server\'s config signs with no signer agent; set signer = "agent:..." there '
                      "for traders to sign with their own")
    if agent is None or agent.socket is None:
        line = agent.forward_line if agent is not None else "ssh -R <agent path>:<your signer agent's socket>"
        return None, f"to trade here, run `quantdesk signer serve` on your machine and connect with `{line}`"
    from quantdesk.signing.agent import AgentSigner

    return AgentSigner(agent.socket), ""


def live_read_only(session: Session, router: OrderRouter) -> tuple[list[str], list[str]]:
    """The live venues of ``session`` that can trade but not for this trader:
    (those that would with the trader's signer, those that cannot sign for a
    served trader at all)."""
    from quantdesk.venues import registry
    from quantdesk.venues.mirror import shared_venue

    signs: list[str] = []
    never: list[str] = []
    for vid, venue in session.venues.items():
        spec = registry.spec_of(shared_venue(venue))
        if spec is not None and spec.trading is not None and not spec.simulated and not router.can_trade(vid):
            (signs if spec.serves_traders else never).append(vid)
    return signs, never


NOT_SERVED = ("QuantDesk cannot sign its orders for a trader served over SSH yet; "
              "trade it with `quantdesk run` on your own machine")


def unsynced_notice(why: str) -> Notice:
    return Notice(f"Your journal is not synced to the team database: {why}", "Journal sync", "warning", 15)


def open_trader_desk(
    session: Session, user: str, journal: Journal, settings: Settings | None, *, trades: bool = True,
    user_id: str = "", agent: SignerAgent | None = None, supabase: TraderSession | None = None,
    opening: Sequence[Notice] = (),
) -> TraderDesk:
    """``user``'s desk on ``session`` (their console's mirror of the shared one),
    their journal syncing as ``user_id`` (through Supabase on ``supabase``, their
    session there, with ``[sync.supabase]``), live venues signing with ``agent``;
    ``opening``: the console's own notices, shown first.
    Raises ``ProblemsError`` for bad ``[risk]`` limits."""
    if not trades:
        return TraderDesk(Desk(session.cache, opening=[*opening, elsewhere_notice(user)]))
    from quantdesk.venues.registry import Trader
    from quantdesk.wiring.trading import open_paper_trading

    limits = settings.risk.limits() if settings is not None else None
    signer, why = trader_signer(settings, agent)
    trading = open_paper_trading(session, journal, limits, trader=Trader(user, signer, why or None))
    trading.dead_man = bool(settings.dead_man.enabled) if settings is not None else False
    try:
        notices = list(opening)
        signs, never = live_read_only(session, trading.router)
        if signs:
            notices.append(read_only_notice(signs, why or "it could not trade with your signer; the server's log says why"))
        if never:
            notices.append(read_only_notice(never, NOT_SERVED))
        sync = None
        if settings is not None:
            try:
                sync = _journal_sync(settings, journal, user, user_id, supabase)
            except _Unsynced as exc:
                log.warning("ssh: %s's journal is not synced: %s", user, exc)
                notices.append(unsynced_notice(str(exc)))
    except BaseException:
        trading.close()  # its paper accounts let go of the shared venues
        raise
    desk = Desk(session.cache, trading.router, dead_man=trading.dead_man, opening=notices)
    return TraderDesk(desk, trading, sync, signer)


class _Unsynced(Exception):
    """Why a trader's journal cannot sync; the message says what to fix."""


def _journal_sync(
    settings: Settings, journal: Journal, user: str, user_id: str, supabase: TraderSession | None
) -> OutboxSyncer | None:
    """The trader's journal syncer as their own user: ``[sync.supabase]`` when
    set (as on a local terminal, it wins over ``[db]``; without a ``supabase``
    session the console has told them why), else ``[db]``."""
    from quantdesk.serve.ssh.trader_supabase import missing_user_id
    from quantdesk.wiring.team import TeamSetupError, supabase_journal_sync, trader_db_sync

    sb = settings.sync.supabase
    if sb is not None:
        return supabase_journal_sync(sb, journal, supabase) if supabase is not None else None
    if settings.db.dsn is None or not settings.db.dsn.get_secret_value():
        return None
    if not user_id:
        raise _Unsynced(missing_user_id(user))
    try:
        return trader_db_sync(settings, journal, user_id)
    except TeamSetupError as exc:
        raise _Unsynced(str(exc)) from None
