"""The terminal with paper trading: the paused simulated session, a journal in
a temporary directory, and the App with the trading panes."""

from __future__ import annotations

from quantdesk.console.app import QuantDeskApp
from quantdesk.trading.desk import Desk
from quantdesk.trading.risk import RiskLimits
from quantdesk.venues.session import Session
from quantdesk.wiring.trading import PaperTrading, open_paper_trading
from support.app import WARMUP_EVENTS, paused_session, settle

SIZE = (200, 50)
PANES = ("depth", "orders", "fills", "positions")


def make_app(
    tmp_path, *, limits: RiskLimits | None = None, dead_man: bool = False, session: Session | None = None
) -> tuple[QuantDeskApp, PaperTrading]:
    session = session or paused_session()
    trading = open_paper_trading(session, tmp_path / "journal.sqlite3", limits)
    app = QuantDeskApp(session, panes=PANES, desk=Desk(session.cache, trading.router, dead_man=dead_man))
    return app, trading


async def start(app: QuantDeskApp, pilot, events: int = WARMUP_EVENTS) -> None:
    """Start the session, drive the sim ``events`` events and settle."""
    await app.session_started.wait()
    if events:
        app.session.advance(events)
    await settle(app, pilot)
