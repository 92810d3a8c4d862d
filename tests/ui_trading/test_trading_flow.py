"""Pilot tests of the whole trading flow with the keys a trader presses:
ticket, orders, fills, positions, risk rejections, the kill switch."""

from __future__ import annotations

from quantdesk.console.confirm import ConfirmScreen
from quantdesk.console.modify_order import ModifyOrderScreen
from quantdesk.console.panes.fills import FillsPane
from quantdesk.console.panes.orders import OrdersPane
from quantdesk.console.panes.positions import PositionsPane
from quantdesk.trading.ticket import plain
from quantdesk.console.ticket import TicketScreen

from support.paper_app import SIZE, make_app, start
from support.app import notes, pane_text, settle, status_text

SOL = 10**9


async def open_ticket(app, pilot, side_key: str = "b") -> TicketScreen:
    await pilot.press(side_key)
    await pilot.pause()
    assert isinstance(app.screen, TicketScreen)
    return app.screen


async def test_limit_order_from_the_ticket_rests_shows_in_orders_and_is_cancelled(tmp_path):
    app, trading = make_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            ticket = await open_ticket(app, pilot)
            assert (ticket.market.venue, ticket.market.symbol) == ("sim-drift", "SOL-PERP")
            await pilot.press("2", "tab", "tab")  # size 2, past "size in USD", to the limit price
            assert app.focused.id == "price"
            await pilot.press("down", "down")  # the touch (best bid), then a tick under it
            bid = app.session.cache.book("sim-drift", "SOL-PERP").best_bid()[0]
            assert ticket.query_one("#price").value == plain(ticket.market.price(bid - 1_000))
            preview = str(ticket.query_one("#preview").render())
            assert "rests" in preview and "maker" in preview and "LONG 2.00" in preview
            await pilot.press("enter")
            await settle(app, pilot)
            assert not isinstance(app.screen, TicketScreen)
            assert any("open" in n and "BUY 2 SOL-PERP limit" in n for n in notes(app))

            orders = app.query_one(OrdersPane)
            (order,) = app.session.cache.orders.values()
            text = pane_text(orders)
            assert "1 open order" in text and order.order_id in text and "LIMIT" in text
            assert trading.journal.open_orders("sim-drift")[0].order_id == order.order_id

            orders.focus()
            await pilot.press("c")
            await settle(app, pilot)
            assert app.session.cache.orders == {}
            assert "No open orders" in pane_text(orders)
            assert trading.journal.open_orders("sim-drift") == []
    finally:
        trading.close()


async def test_market_order_fills_shows_position_and_is_closed_with_confirmation(tmp_path):
    app, trading = make_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            ticket = await open_ticket(app, pilot)
            await pilot.press("shift+tab", "left")  # the type field: limit -> market
            assert ticket.order_type == "market"
            assert ticket.query_one("#price-row").has_class("-hidden")
            await pilot.press("tab", "1")
            ask = app.session.cache.book("sim-drift", "SOL-PERP").best_ask()[0]
            preview = str(ticket.query_one("#preview").render())
            assert f"Est. fill {ticket.market.price(ask).normalize()}" in preview and "slippage 0.00 bps" in preview
            assert "Fee $0.05" in preview and "LONG 1.00" in preview and "leverage" in preview and "liq" in preview
            await pilot.press("enter")
            await settle(app, pilot)
            assert any("filled" in n for n in notes(app))

            fills = pane_text(app.query_one(FillsPane))
            assert "BUY" in fills and "SOL-PERP" in fills and "taker" in fills and "1.00" in fills
            positions = app.query_one(PositionsPane)
            assert "LONG" in pane_text(positions)
            assert "equity $" in status_text(app) and "health 100%" in status_text(app)

            positions.focus()
            await pilot.press("c")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("n")  # changed my mind: nothing happens
            await settle(app, pilot)
            assert "LONG" in pane_text(positions)

            await pilot.press("c")
            await pilot.pause()
            await pilot.press("y")
            await settle(app, pilot)
            assert "No open positions" in pane_text(positions)
            sells = [f for f in app.session.cache.fills if f.side == "sell"]
            assert sells and sells[0].size == SOL
            assert trading.journal.positions("sim-drift") == [] or all(
                p.base == 0 for p in trading.journal.positions("sim-drift")
            )
    finally:
        trading.close()


async def test_close_all_positions_after_confirmation(tmp_path):
    app, trading = make_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            await app.execute(_place("SOL-PERP", "buy", "1", kind="market"))
            await app.execute(_place("ETH-PERP", "sell", "0.5", kind="market"))
            await settle(app, pilot)
            positions = app.query_one(PositionsPane)
            text = pane_text(positions)
            assert "SOL-PERP sim-drift LONG" in text and "ETH-PERP sim-drift SHORT" in text
            positions.focus()
            await pilot.press("C")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            assert "Close all 2 positions?" in str(app.screen.query_one("#confirm-title").render())
            await pilot.press("enter")
            await settle(app, pilot)
            assert "No open positions" in pane_text(positions)
    finally:
        trading.close()


def _place(market, side, size, *, kind="limit", price=None, unit="base"):
    from decimal import Decimal

    from quantdesk.console.cmdline import PlaceOrder

    return PlaceOrder(market, side, Decimal(size), unit, kind, Decimal(price) if price else None)


async def test_risk_rejection_names_the_limit_and_the_excess_and_sends_nothing(tmp_path, tight_limits):
    app, trading = make_app(tmp_path, limits=tight_limits)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            await open_ticket(app, pilot)
            await pilot.press("shift+tab", "left", "tab", "2", "enter")  # market buy 2 SOL, ~$290 > $100
            await settle(app, pilot)
            (message,) = [n for n in notes(app) if "Rejected" in n]
            assert "max_order_notional" in message and "exceeds the max order notional $100.00 by $" in message
            assert app.session.cache.orders == {} and list(app.session.cache.fills) == []
            assert trading.journal.orders() == []
            (risk,) = trading.journal.risk_events()
            assert risk.limit_name == "max_order_notional" and not risk.accepted and risk.limit_value == "100"
    finally:
        trading.close()


async def test_kill_switch_cancels_orders_blocks_new_ones_and_releases_after_confirmation(tmp_path):
    app, trading = make_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            await app.execute(_place("SOL-PERP", "buy", "1", price="140"))
            await app.execute(_place("BTC-PERP", "sell", "0.01", price="99000"))
            await settle(app, pilot)
            assert len(app.session.cache.orders) == 2
            assert "KILL SWITCH" not in status_text(app)

            await pilot.press("ctrl+k")
            await settle(app, pilot)
            assert app.session.cache.orders == {}
            assert "KILL SWITCH ON" in status_text(app)
            assert any("KILL SWITCH ON: 2 open orders cancelled" in n for n in notes(app))

            await open_ticket(app, pilot)
            await pilot.press("1", "tab", "tab", "down", "enter")
            await settle(app, pilot)
            assert app.session.cache.orders == {}
            assert any("kill_switch" in n and "new orders are halted" in n for n in notes(app))

            await pilot.press("ctrl+k")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("escape")  # keep it on
            await settle(app, pilot)
            assert "KILL SWITCH ON" in status_text(app)

            await pilot.press("ctrl+k")
            await pilot.pause()
            await pilot.press("y")
            await settle(app, pilot)
            assert "KILL SWITCH" not in status_text(app)
            await app.execute(_place("SOL-PERP", "buy", "1", price="140"))
            await settle(app, pilot)
            assert len(app.session.cache.orders) == 1
    finally:
        trading.close()


async def test_kill_switch_from_the_palette_action_and_the_command_line(tmp_path):
    from quantdesk.console.cmdline import Kill

    app, trading = make_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            await app.execute(_place("SOL-PERP", "buy", "1", price="140"))
            await app.run_action("kill_switch")  # what the palette's "risk: kill switch" runs
            await settle(app, pilot)
            assert app.desk.kill_switch_on and app.session.cache.orders == {}
            assert await app.execute(Kill(engage=False))
            assert not app.desk.kill_switch_on
    finally:
        trading.close()


async def test_modify_the_selected_order_price_and_size(tmp_path):
    app, trading = make_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            await app.execute(_place("SOL-PERP", "buy", "1", price="140"))
            await settle(app, pilot)
            orders = app.query_one(OrdersPane)
            orders.focus()
            await pilot.press("m")
            await pilot.pause()
            assert isinstance(app.screen, ModifyOrderScreen)
            await pilot.press("ctrl+u", *"139.5", "tab", "ctrl+u", "3", "enter")
            await settle(app, pilot)
            (order,) = app.session.cache.orders.values()
            assert (order.price, order.size) == (139_500_000, 3 * SOL)
            assert "139.500" in pane_text(orders)

            await pilot.press("m")
            await pilot.pause()
            await pilot.press("ctrl+u", *"139.5001", "enter")  # off the tick: refused in place
            await pilot.pause()
            assert isinstance(app.screen, ModifyOrderScreen)
            assert "off the tick 0.001" in str(app.screen.query_one("#modify-error").render())
            await pilot.press("escape")
            await settle(app, pilot)
            assert next(iter(app.session.cache.orders.values())).price == 139_500_000
    finally:
        trading.close()


async def test_scale_orders_sized_in_usd_from_the_ticket(tmp_path):
    app, trading = make_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            ticket = await open_ticket(app, pilot)
            await pilot.press(*"$1000")
            assert str(ticket.query_one("#size-label").render()) == "Size USD"
            ticket.query_one("#price").value = "140"
            ticket.query_one("#scale_count").value = "4"
            ticket.query_one("#scale_to").value = "137"
            await pilot.pause()
            assert "4 limit orders" in str(ticket.query_one("#preview").render())
            await pilot.press("enter")
            await settle(app, pilot)
            orders = sorted(app.session.cache.orders.values(), key=lambda o: -o.price)
            assert [o.price for o in orders] == [140_000_000, 139_000_000, 138_000_000, 137_000_000]
            # $1000 at the limit price 140 is 7.14 SOL in 0.01 lots, split 1.79/1.79/1.78/1.78 from the top
            assert [o.size for o in orders] == [1_790_000_000, 1_790_000_000, 1_780_000_000, 1_780_000_000]
            assert "4 open orders" in pane_text(app.query_one(OrdersPane))
    finally:
        trading.close()


async def test_without_a_router_b_says_read_only_and_opens_nothing():
    from quantdesk.console.app import QuantDeskApp

    from support.paper_app import PANES
    from support.app import paused_session

    app = QuantDeskApp(paused_session(), panes=PANES)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("b")
        await pilot.pause()
        assert not isinstance(app.screen, TicketScreen)
        assert any("read-only" in n for n in notes(app))
        await pilot.press("ctrl+k")
        await pilot.pause()
        assert "KILL SWITCH" not in status_text(app)


async def test_stop_and_take_profit_orders_from_the_ticket_wait_for_their_trigger(tmp_path):
    app, trading = make_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            oracle = app.session.cache.oracle[("sim-drift", "SOL-PERP")].price // 1_000 * 1_000  # on the tick
            market = app.session.cache.markets[("sim-drift", "SOL-PERP")]
            ticket = await open_ticket(app, pilot, "s")
            await pilot.press("shift+tab", "right")  # limit -> stop market
            assert ticket.order_type == "stop_market"
            assert not ticket.query_one("#trigger-row").has_class("-hidden")
            assert ticket.query_one("#price-row").has_class("-hidden")
            await pilot.press("tab", "1", "tab", "tab", *plain(market.price(oracle - 5_000_000)))
            assert app.focused.id == "trigger_price"
            assert ticket.error is None, ticket.error
            assert "fills at market when the oracle crosses the trigger" in str(ticket.query_one("#preview").render())
            await pilot.press("enter")
            await settle(app, pilot)

            ticket = await open_ticket(app, pilot, "s")
            await pilot.press("shift+tab", "left", "left")  # limit -> market -> take-profit limit
            assert ticket.order_type == "take_profit_limit"
            ticket.query_one("#size").value = "1"
            ticket.query_one("#price").value = plain(market.price(oracle + 4_000_000))
            ticket.query_one("#trigger_price").value = plain(market.price(oracle + 5_000_000))
            await pilot.pause()
            await pilot.press("enter")
            await settle(app, pilot)

            kinds = sorted((o.type, o.status) for o in app.session.cache.orders.values())
            assert kinds == [("stop_market", "open"), ("take_profit_limit", "open")]
            text = pane_text(app.query_one(OrdersPane))
            assert "STOP" in text and "TP LMT" in text
            assert list(app.session.cache.fills) == []  # nothing fires until the oracle moves through
    finally:
        trading.close()
