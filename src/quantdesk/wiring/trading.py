"""Trading for a session: journal, risk engine and router in one.

Each venue trades through the capability its registered package offers
(``VenueSpec.trading``): simulated venues on paper, live venues through their
signer path (risk check, transaction preview, sign, send). A venue whose
package offers none, or that cannot trade here, stays read-only.

``open_paper_trading`` is what ``quantdesk run`` (and the tests) use to turn a
simulated session into a tradable one: it opens the journal, builds the risk
engine from the configured limits, attaches paper accounts restored from the
journal, and shows the restored orders, fills and positions in the cache so the
panes have them from the first frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from quantdesk.config.paths import default_journal_path
from quantdesk.core.model import topic_for
from quantdesk.core.venue import OrderHistory, SharesVenue, TradingVenue
from quantdesk.trading.journal import Journal
from quantdesk.trading.risk import RiskEngine, RiskLimits
from quantdesk.trading.router import JournalRecorder, OrderRouter
from quantdesk.venues import registry
from quantdesk.venues.mirror import shared_venue

if TYPE_CHECKING:
    from quantdesk.config.settings import Settings
    from quantdesk.venues.session import Session

RESTORED_FILLS_SHOWN = 200


@dataclass
class PaperTrading:
    router: OrderRouter
    recorder: JournalRecorder
    journal: Journal
    dead_man: bool = False  # the [dead_man] setting: cancel resting orders when the terminal goes away

    def close(self) -> None:
        self.recorder.close()
        for ex in self.router.executors.values():
            if isinstance(ex, SharesVenue):  # a served console's account in the shared venue
                ex.detach()
        self.journal.close()


def history(journal: Journal, venue_id: str) -> OrderHistory:
    """What the journal remembers of one venue, oldest first."""
    payments = sorted(journal.funding_payments(venue_id), key=lambda p: p.ts)
    return OrderHistory(
        fills=tuple(reversed(journal.fills(venue=venue_id))),
        payments=tuple(payments),
        open_orders=tuple(journal.open_orders(venue_id)),
    )


def trading_venues(
    session: Session, journal: Journal, limits: RiskLimits | None = None, trader: registry.Trader | None = None
) -> dict[str, TradingVenue]:
    """The trading capability of every venue of ``session`` that has one, each
    restored from the journal. A mirrored venue (a served console's) trades in
    the shared venue behind it, as ``trader``, its events on ``session``'s bus."""
    ctx = registry.TradingContext(
        cache=session.cache, bus=session.bus, clock=session.clock, limits=limits, trader=trader
    )
    out: dict[str, TradingVenue] = {}
    for venue_id, venue in session.venues.items():
        capability = registry.trading_for(shared_venue(venue), ctx)
        if capability is not None:
            capability.restore(history(journal, venue_id))
            out[venue_id] = capability
    return out


def session_router(
    session: Session, journal: Journal, risk: RiskEngine, trader: registry.Trader | None = None
) -> tuple[OrderRouter, JournalRecorder]:
    """An OrderRouter over ``session``'s tradable venues, and the recorder that
    journals what they publish."""
    recorder = JournalRecorder(journal, session.bus)  # before the restore: restored orders may fill at once
    try:
        venues = trading_venues(session, journal, risk.limits, trader)
    except BaseException:
        recorder.close()
        raise
    return OrderRouter(session.cache, risk, journal, venues, session.clock), recorder


def open_paper_trading(
    session: Session, journal_path: str | Path | Journal | None = None, limits: RiskLimits | None = None,
    trader: registry.Trader | None = None,
) -> PaperTrading:
    """Trading on ``session``'s venues (paper on the simulated ones), restored
    from the journal at ``journal_path`` (an open one, or the default journal
    when None), as ``trader`` for a served console."""
    if isinstance(journal_path, Journal):
        journal = journal_path
    else:
        journal = Journal.open(journal_path if journal_path is not None else default_journal_path())
    try:
        risk = RiskEngine(limits)
        restore_kill_switch(risk, journal)  # before the restore: nothing new may start while halted
        router, recorder = session_router(session, journal, risk, trader)
        show_restored_state(session, router, journal)
    except BaseException:
        journal.close()
        raise
    return PaperTrading(router, recorder, journal)


def paper_trading_from_settings(session: Session, settings: Settings | None = None) -> PaperTrading:
    """Paper trading as the configuration says: ``[journal] path``, ``[risk]``
    limits and ``[dead_man] enabled`` (the config is loaded when not given).
    Raises ``ProblemsError`` for a bad config, ``JournalError`` for a journal
    that cannot be opened; both carry a message saying what to do."""
    if settings is None:
        from quantdesk.config.settings import load_config

        settings = load_config()
    trading = open_paper_trading(session, settings.journal.resolved_path, settings.risk.limits())
    trading.dead_man = bool(settings.dead_man.enabled)
    return trading


def restore_kill_switch(risk: RiskEngine, journal: Journal) -> None:
    """A terminal that was halted starts halted: the journal's last kill
    switch change decides, until the trader releases it."""
    last = journal.kill_switch()
    if last is not None and last.engaged:
        risk.engage_kill_switch(f"{last.reason}, at {halted_at(last.ts)}; still on after the restart")


def halted_at(ts: int) -> str:
    return datetime.fromtimestamp(ts // 1_000_000_000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def show_restored_state(session: Session, router: OrderRouter, journal: Journal) -> None:
    """Put what the paper accounts restored into the cache (not onto the bus:
    it is already journaled) - open orders, recent fills, positions, accounts."""
    cache = session.cache
    now = session.clock()
    for venue_id, ex in router.executors.items():
        for order in ex.open_orders():
            cache.on_event(topic_for(order), order)
        journaled = list(reversed(journal.fills(RESTORED_FILLS_SHOWN, venue=venue_id)))  # oldest first
        ids = {(f.venue, f.fill_id) for f in journaled}
        # Restored orders that filled during the restore are in the cache already: show each fill once.
        kept = [f for f in cache.fills if (f.venue, f.fill_id) not in ids]
        if len(kept) != len(cache.fills):
            cache.fills.clear()
            cache.fills.extend(kept)
        for fill in journaled:  # newest ends on top
            cache.on_event(topic_for(fill), fill)
        for ev in ex.account_events(now):
            cache.on_event(topic_for(ev), ev)
