"""Trading a live Drift venue from the terminal: the ticket's order passes the
risk engine, then the terminal shows the decoded transaction and signs only
after the trader says so; the local JSON-RPC server receives a transaction
whose signature verifies. Declining sends nothing."""

from __future__ import annotations

import asyncio
import time

from driftpy.addresses import get_user_account_public_key
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from support.app import until_shown
from quantdesk.wiring.trading import open_paper_trading
from quantdesk.trading.desk import Desk
from quantdesk.trading.risk import RiskLimits
from quantdesk.venues.session import Session
from quantdesk.console.app import QuantDeskApp
from quantdesk.console.confirm import ConfirmScreen
from quantdesk.console.ticket import TicketScreen
from quantdesk.venues.drift.config import DRIFT_PROGRAM_ID
from quantdesk.venues.drift.router_executor import DriftRouterExecutor
from quantdesk.venues.drift.venue import DriftVenue
from support.drift_servers import local
from support.drift_chain import LINES, USER_LINE, pk, raw
from support.signer import MemorySigner

SIZE = (200, 50)


def tradable_app(ws, http, tmp_path):
    for n, line in enumerate(LINES):  # the markets the transaction builder reads from chain
        if line["account"] in ("PerpMarket", "SpotMarket"):
            http.accounts[pk(raw(n), 8)] = line["data_b64"]
    signer = MemorySigner()
    user = get_user_account_public_key(Pubkey.from_string(DRIFT_PROGRAM_ID), signer.pubkey, 0)
    http.accounts[str(user)] = LINES[USER_LINE]["data_b64"]
    venue = DriftVenue(local(ws, http), signer=signer)
    session = Session([venue], time.time_ns)
    # the fixture's mainnet account already runs at ~10x: a limit that lets one more SOL through
    trading = open_paper_trading(session, tmp_path / "journal.sqlite3", RiskLimits(max_leverage=50))
    app = QuantDeskApp(session, desk=Desk(session.cache, trading.router))
    app.configure_console(layout="live")
    return app, trading


async def place_limit_buy(app, pilot) -> None:
    await until_shown(app, pilot, lambda: app.session.cache.book("drift", "SOL-PERP") is not None, "the Drift book")
    executor = app.desk.router.executors["drift"]
    await executor.refresh(["SOL-PERP"])  # the trader's account, for the risk engine
    await pilot.press("b")
    await until_shown(app, pilot, lambda: isinstance(app.screen, TicketScreen), "the ticket")
    await pilot.press("1", "tab", "tab", "down", "down")  # size 1, limit a tick under the best bid
    await pilot.press("enter")
    await until_shown(app, pilot, lambda: isinstance(app.screen, ConfirmScreen), "the transaction preview")


async def test_the_terminal_previews_the_transaction_and_signs_only_when_told(servers, tmp_path):
    ws, http = servers
    app, trading = tradable_app(ws, http, tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            assert isinstance(app.desk.router.executors["drift"], DriftRouterExecutor)
            await place_limit_buy(app, pilot)
            detail = str(app.screen.query_one("#confirm-detail").render())
            assert "Transaction preview: place on drift" in detail and "place_perp_order" in detail
            assert http.sent == []  # nothing is signed or sent before the trader answers
            await pilot.press("y")
            await until_shown(app, pilot, lambda: http.sent != [], "the signed transaction at the RPC")
            (tx,) = [VersionedTransaction.from_bytes(b) for b in http.sent]
            tx.verify_and_hash_message()  # raises unless every signature verifies
            await until_shown(app, pilot, lambda: any(o.venue == "drift" for o in trading.journal.orders()), "the journal")
            (intent_risk,) = trading.journal.risk_events()
            assert intent_risk.accepted
    finally:
        trading.close()


async def test_declining_the_preview_sends_nothing(servers, tmp_path):
    ws, http = servers
    app, trading = tradable_app(ws, http, tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await place_limit_buy(app, pilot)
            await pilot.press("n")
            await until_shown(app, pilot, lambda: not isinstance(app.screen, ConfirmScreen), "the dialog to close")
            await asyncio.sleep(0.3)
            assert http.sent == []
            assert not any(o.venue == "drift" and o.status != "rejected" for o in trading.journal.orders())
    finally:
        trading.close()
