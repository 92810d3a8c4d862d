"""The terminal with paper trading: a paused, seeded simulated session on a
manual clock, a journal in a temporary directory, and the App with the
trading panes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quantdesk.wiring.trading import PaperTrading, open_paper_trading
from quantdesk.trading.risk import RiskLimits
from quantdesk.venues.session import Session, simulated_session
from quantdesk.console.app import QuantDeskApp
from quantdesk.venues.sim.clock import ManualClock

START_NS = 1_795_000_000_000_000_000
SIZE = (200, 50)
PANES = ("depth", "orders", "fills", "positions")
WARMUP_EVENTS = 3_000


def paused_session(seed: int = 7) -> Session:
    return simulated_session(seed=seed, clock=ManualClock(START_NS), paused=True)


def make_app(
    tmp_path, *, limits: RiskLimits | None = None, dead_man: bool = False, session: Session | None = None
) -> tuple[QuantDeskApp, PaperTrading]:
    session = session or paused_session()
    trading = open_paper_trading(session, tmp_path / "journal.sqlite3", limits)
    app = QuantDeskApp(session, panes=PANES, router=trading.router, dead_man=dead_man)
    return app, trading


async def start(app: QuantDeskApp, pilot, events: int = WARMUP_EVENTS) -> None:
    await app.session_started.wait()
    if events:
        app.session.advance(events)
    await settle(app, pilot)


async def settle(app: QuantDeskApp, pilot) -> None:
    """Let submitted orders finish and the next frame draw."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.frame()
    await pilot.pause()


def pane_text(pane) -> str:
    return "\n".join(pane.render_line(y).text.rstrip() for y in range(pane.size.height))


def status_text(app) -> str:
    from quantdesk.console.statusbar import StatusBar

    return app.query_one(StatusBar).render().plain


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


@pytest.fixture
def tight_limits() -> RiskLimits:
    return RiskLimits(max_order_notional=Decimal(100))
