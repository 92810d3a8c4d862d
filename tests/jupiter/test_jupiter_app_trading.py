"""Trading Jupiter Perps from the terminal against a local Solana node: the
ticket's market order passes the risk engine, the terminal shows the decoded
position request and signs only when told, and the Orders pane follows the
request: pending, open, then filled by a keeper, cancelled from the pane, or
expired after the pool's window."""

from __future__ import annotations

import pytest
from solders.transaction import VersionedTransaction

from quantdesk.console.app import QuantDeskApp
from quantdesk.console.cmdline import parse
from quantdesk.console.confirm import ConfirmScreen
from quantdesk.console.ticket import TicketScreen
from quantdesk.trading.desk import Desk
from quantdesk.trading.risk import RiskLimits
from quantdesk.venues.session import Session
from quantdesk.wiring.trading import open_paper_trading

from support.app import pane_text, until_shown
from support.jupiter_trade_rig import SOL_PRICE, TradeRig

SIZE = (200, 50)


@pytest.fixture
async def rig():
    r = TradeRig()
    await r.start()
    yield r
    await r.stop()


def tradable_app(rig: TradeRig, tmp_path):
    venue = rig.venue()
    session = Session([venue], rig.clock, signer=rig.signer)
    trading = open_paper_trading(session, tmp_path / "journal.sqlite3", RiskLimits(max_leverage=20))
    app = QuantDeskApp(session, desk=Desk(session.cache, trading.router))
    app.configure_console(layout="overview")
    return app, trading, venue


async def loaded(app, pilot, venue) -> None:
    feed = venue.feed
    await until_shown(app, pilot, lambda: feed.account.loaded and feed.account.wallet is not None and feed.pool is not None
                      and app.session.cache.book("jupiter", "SOL-PERP") is not None, "the market and the wallet")  # fmt: skip


KEY_NAMES = {" ": "space", ":": "colon", "-": "minus", ".": "full_stop"}


def keys(text: str) -> list[str]:
    """A command as the key names a terminal sends, ending with enter."""
    return [KEY_NAMES.get(ch, ch) for ch in text] + ["enter"]


def orders(app) -> str:
    return pane_text(app.pane_of_type("orders"))


async def test_a_ticket_order_is_previewed_signed_and_followed_to_its_execution(rig, tmp_path):
    app, trading, venue = tradable_app(rig, tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await loaded(app, pilot, venue)
            await pilot.press("b")
            await until_shown(app, pilot, lambda: isinstance(app.screen, TicketScreen), "the ticket")
            await pilot.press("1", "shift+tab", "left", "enter")  # size 1, a market order
            await until_shown(app, pilot, lambda: isinstance(app.screen, ConfirmScreen), "the transaction preview")
            detail = str(app.screen.query_one("#confirm-detail").render())
            assert "Transaction preview: place on jupiter" in detail
            assert "create_increase_position_market_request" in detail and "posts 0.5 SOL ($59.00)" in detail
            assert rig.node.http.sent == []  # nothing is signed before the trader answers
            await pilot.press("y")
            await until_shown(app, pilot, lambda: rig.node.http.sent != [], "the signed request at the RPC")
            (tx,) = [VersionedTransaction.from_bytes(b) for b in rig.node.http.sent]
            assert tx.verify_with_results() == [True]
            # pending while the transaction is in flight, open once the request is on chain
            await until_shown(app, pilot, lambda: "pending" in orders(app), "pending in Orders")
            await rig.program.land()
            await until_shown(app, pilot, lambda: "1 open order" in orders(app) and " open" in orders(app), "open")
            assert "SOL-PERP" in orders(app) and "1.0000" in orders(app) and "118.59" in orders(app)  # worst price
            await rig.keeper.execute(rig.program.request("create_increase_position_market_request"), SOL_PRICE)
            await until_shown(app, pilot, lambda: "0 open orders" in orders(app) and "filled" in orders(app),
                              "filled in Orders")  # fmt: skip
            assert "Ended" in orders(app)
            await until_shown(app, pilot, lambda: "LONG" in pane_text(app.pane_of_type("positions")), "the position")
    finally:
        trading.close()


async def test_cancelled_from_the_orders_pane_and_expired_requests_say_so(rig, tmp_path):
    app, trading, venue = tradable_app(rig, tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await loaded(app, pilot, venue)
            assert await app.execute(parse("SOL-PERP BUY 1 MKT", app.command_context()))
            await rig.program.land()
            await until_shown(app, pilot, lambda: "1 open order" in orders(app), "open")
            app.pane_of_type("orders").focus()
            await pilot.press("c")
            await until_shown(app, pilot, lambda: len(rig.node.http.sent) == 2, "the cancel sent")
            await rig.program.land()
            await until_shown(app, pilot, lambda: "cancelled by the trader" in orders(app), "cancelled in Orders")

            assert await app.execute(parse("SOL-PERP SELL 1 MKT", app.command_context()))
            await rig.program.land()
            await until_shown(app, pilot, lambda: "1 open order" in orders(app), "the short's request open")
            rig.clock.advance(55)  # no keeper came within the pool's 45 s
            await until_shown(app, pilot, lambda: "expired: no keeper executed it within 45s" in orders(app),
                              "expired in Orders")  # fmt: skip
            assert "0 open orders" in orders(app)
            assert {o.status for o in trading.journal.orders() if o.venue == "jupiter"} == {"cancelled"}
    finally:
        trading.close()


async def test_collateral_added_from_the_command_line_is_followed_like_an_order(rig, tmp_path):
    app, trading, venue = tradable_app(rig, tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await loaded(app, pilot, venue)
            assert await app.execute(parse("SOL-PERP BUY 2 MKT", app.command_context()))
            await rig.program.land()
            await rig.keeper.execute(rig.program.request("create_increase_position_market_request"), SOL_PRICE)
            await until_shown(app, pilot, lambda: "LONG" in pane_text(app.pane_of_type("positions")), "the long")
            await pilot.press(*keys(":SOL-PERP COLLATERAL ADD 59"))  # typed as one burst
            await until_shown(app, pilot, lambda: len(rig.node.http.sent) == 2, "the deposit sent")
            await until_shown(app, pilot, lambda: "pending" in orders(app), "the deposit pending in Orders")
            await rig.program.land()
            await rig.keeper.execute(rig.program.request("create_increase_position_market_request"), SOL_PRICE)
            await until_shown(app, pilot, lambda: "filled: deposit collateral $59.00" in orders(app), "deposited")
            await pilot.press(*keys(":SOL-PERP COLLATERAL REMOVE 500"))  # more than the position holds
            await until_shown(app, pilot, lambda: any("would take all of the position's" in m for m in
                                                      [n.message for n in app._notifications]), "the refusal")  # fmt: skip
            assert len(rig.node.http.sent) == 2
    finally:
        trading.close()
