"""The end of a terminal session: the dead-man's switch on quit and on a lost
terminal (SIGHUP), and a restart on the same journal."""

from __future__ import annotations

import os
import signal

from quantdesk.trading.ticket import TicketInput, build_plan
from quantdesk.console.panes.fills import FillsPane
from quantdesk.console.panes.orders import OrdersPane
from quantdesk.console.panes.positions import PositionsPane

from support.paper_app import SIZE, make_app, start
from support.app import pane_text, settle
from support.wait import wait_until


async def place_resting_and_bracketed(app, pilot) -> tuple[str, str]:
    """A resting limit buy, and a filled market buy carrying a stop-loss and a take-profit."""
    cache = app.session.cache
    market = cache.markets[("sim-drift", "SOL-PERP")]
    book = cache.book("sim-drift", "SOL-PERP")
    limit = build_plan(TicketInput("buy", "limit", size="1", price="140"), market, book)
    assert await app.trading.submit_plan(limit)
    ask = book.best_ask()[0]
    bracket = build_plan(
        TicketInput("buy", "market", size="1", take_profit=str(market.price(ask + 5_000_000)),
                    stop_loss=str(market.price(ask - 5_000_000))),
        market, book,
    )
    assert bracket.take_profit and bracket.stop_loss
    assert await app.trading.submit_plan(bracket)
    await settle(app, pilot)
    orders = {o.order_id: o for o in cache.orders.values()}
    (limit_id,) = [i for i, o in orders.items() if o.type == "limit"]
    (entry_id,) = {i.rsplit("-", 1)[0] for i, o in orders.items() if o.reduce_only}
    assert {o.type for o in orders.values()} == {"limit", "stop_market", "take_profit_market"}
    return limit_id, entry_id


async def test_dead_mans_switch_on_quit_cancels_resting_orders_and_keeps_protective_stops(tmp_path):
    app, trading = make_app(tmp_path, dead_man=True)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            limit_id, entry_id = await place_resting_and_bracketed(app, pilot)
            await pilot.press("q")
            await pilot.pause()
        left = trading.router.executors["sim-drift"].open_orders()
        assert sorted(o.order_id for o in left) == [f"{entry_id}-sl", f"{entry_id}-tp"]
        journaled = {o.order_id for o in trading.journal.open_orders("sim-drift")}
        assert journaled == {f"{entry_id}-sl", f"{entry_id}-tp"}
        assert trading.journal.order("sim-drift", limit_id).status == "cancelled"
    finally:
        trading.close()


async def test_dead_mans_switch_runs_when_the_terminal_hangs_up(tmp_path):
    app, trading = make_app(tmp_path, dead_man=True)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            limit_id, entry_id = await place_resting_and_bracketed(app, pilot)
            os.kill(os.getpid(), signal.SIGHUP)  # what losing the SSH session sends
            await wait_until(lambda: not app.is_running, 10)
        left = {o.order_id for o in trading.router.executors["sim-drift"].open_orders()}
        assert left == {f"{entry_id}-sl", f"{entry_id}-tp"}
    finally:
        trading.close()


async def test_without_the_dead_mans_switch_orders_stay_open_after_quit(tmp_path):
    app, trading = make_app(tmp_path, dead_man=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            limit_id, _ = await place_resting_and_bracketed(app, pilot)
            await pilot.press("q")
            await pilot.pause()
        assert limit_id in {o.order_id for o in trading.journal.open_orders("sim-drift")}
    finally:
        trading.close()


async def test_restart_on_the_same_journal_shows_orders_fills_and_position(tmp_path):
    app, trading = make_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            limit_id, entry_id = await place_resting_and_bracketed(app, pilot)
            fills_before = [f.fill_id for f in app.session.cache.fills]
            position = app.session.cache.positions[("sim-drift", "SOL-PERP")]
    finally:
        trading.close()

    app, trading = make_app(tmp_path)  # a new session and router on the same journal
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot, events=0)
            cache = app.session.cache
            assert set(cache.orders) == {limit_id, f"{entry_id}-sl", f"{entry_id}-tp"}
            orders_text = pane_text(app.query_one(OrdersPane))
            assert "3 open orders" in orders_text and limit_id in orders_text
            restored = cache.positions[("sim-drift", "SOL-PERP")]
            assert (restored.base, restored.entry_price) == (position.base, position.entry_price)
            assert "LONG" in pane_text(app.query_one(PositionsPane))
            assert [f.fill_id for f in cache.fills] == fills_before
            assert "BUY" in pane_text(app.query_one(FillsPane))
            # the restored order is live: the router can cancel it
            app.query_one(OrdersPane).cursor.key = limit_id
            app.query_one(OrdersPane).focus()
            await pilot.press("c")
            await settle(app, pilot)
            assert limit_id not in cache.orders
    finally:
        trading.close()
