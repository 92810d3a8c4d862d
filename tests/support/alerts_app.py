"""A terminal with its alerts wired as `quantdesk run` wires them: rules in
alerts.toml of the config directory, state in a real SQLite journal, the
webhook from [alerts.webhook]; and moving a market through a level."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from quantdesk.config.settings import load_config
from quantdesk.console.app import QuantDeskApp
from quantdesk.core.model import BookSnapshot
from quantdesk.trading.journal import Journal
from quantdesk.wiring.alert_desk import alert_desk_from_settings

from support.app import paused_session

SIZE = (160, 45)


def alerts_app(tmp_path: Path, config: str = "", panes: tuple[str, ...] = ("depth", "funding")) -> QuantDeskApp:
    path = tmp_path / "config.toml"
    path.write_text(config)
    settings = load_config(path, environ={})
    session = paused_session()
    journal = Journal.open(tmp_path / "journal.sqlite3", clock=session.clock)
    app = QuantDeskApp(session, panes=panes, alerts=alert_desk_from_settings(settings, session, journal))
    app.configure_console(settings)
    app.journal_for_test = journal  # type: ignore[attr-defined]
    return app


def mid(app: QuantDeskApp, venue: str = "sim-drift", market: str = "SOL-PERP") -> Decimal:
    m = app.session.cache.markets[(venue, market)]
    return app.session.cache.book(venue, market).mid().scaleb(-m.price_decimals)


def move_book(app: QuantDeskApp, bid: Decimal, ask: Decimal, venue: str = "sim-drift", market: str = "SOL-PERP") -> None:
    """The venue's next book, with its touch at ``bid``/``ask``."""
    m = app.session.cache.markets[(venue, market)]
    book = app.session.cache.book(venue, market)
    snap = BookSnapshot(venue, market, book.seq + 1, app.session.clock(),
                        [(m.to_price(bid), 10**9)], [(m.to_price(ask), 10**9)])  # fmt: skip
    app.session.bus.publish(f"book.{venue}.{market}", snap)


def fired_toasts(app: QuantDeskApp) -> list[str]:
    return [str(n.message) for n in app._notifications if n.title == "Alert triggered"]
