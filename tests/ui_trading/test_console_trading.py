"""Trading from the command line and the palette: order commands dispatch to
the trading controller and its desk; palette actions run the same bindings
the keys do."""

from __future__ import annotations

from quantdesk.console.cmdline import parse
from quantdesk.wiring.trading import open_paper_trading
from quantdesk.console.app import QuantDeskApp
from quantdesk.trading.desk import Desk

from support.paper_app import PANES, SIZE, start
from support.app import notes, paused_session, settle, status_text


async def test_command_line_orders_cancel_and_kill(tmp_path):
    session = paused_session()
    trading = open_paper_trading(session, tmp_path / "journal.sqlite3")
    app = QuantDeskApp(session, panes=PANES, desk=Desk(session.cache, trading.router))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            ctx = app.command_context()
            assert await app.execute(parse("SOL-PERP BUY 1 @ 140 POST", ctx))
            assert await app.execute(parse("ETH-PERP SELL 100 USD MKT", ctx))
            await settle(app, pilot)
            (order,) = session.cache.orders.values()
            assert (order.market, order.price, order.post_only) == ("SOL-PERP", 140_000_000, True)
            eth = session.cache.positions[("sim-drift", "ETH-PERP")]
            assert eth.base < 0 and abs(eth.base) * eth.entry_price // 10**9 <= 100_000_000

            assert not await app.execute(parse("BUY 1.005 @ 140", app.command_context()))
            await pilot.pause()
            assert any("not a multiple of the lot" in n and "Nothing was sent" in n for n in notes(app))

            assert await app.execute(parse(f"CANCEL {order.order_id}", app.command_context()))
            assert session.cache.orders == {}

            assert await app.execute(parse("BUY 1 @ 140", app.command_context()))
            await app.run_action_id("risk.kill_switch")  # the palette's "risk: kill switch ..."
            await settle(app, pilot)
            assert session.cache.orders == {} and "KILL SWITCH ON" in status_text(app)
            assert await app.execute(parse("KILL OFF", app.command_context()))
            await settle(app, pilot)
            assert "KILL SWITCH" not in status_text(app)
    finally:
        trading.close()
