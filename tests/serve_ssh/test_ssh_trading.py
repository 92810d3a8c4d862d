"""Traders trade from their SSH consoles over one shared simulated venue, each
on their own paper account, journal and kill switch: keys typed as a burst
(the command line, Enter) place orders, each screen shows its own trader's
position only, one trader's resting order fills against another's market
order, and one console closing or halting touches no one else."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.trading.journal import Journal
from support.ssh_client import Terminal
from support.ssh_desk import second_console
from support.wait import until

SOL = 10**9


async def trader(desk, who: str) -> Terminal:
    t = await Terminal.open(desk.port, desk.keys[who])
    desk.terminals.append(t)
    await t.shows("POSITIONS")
    await until(lambda: (c := console(desk, who)) is not None and c.app.session_started.is_set(),
                what=f"{who}'s console to start")
    return t


def console(desk, who: str):
    return next((ch.console for ch in desk.server.channels if ch.user == who and ch.console is not None), None)


def position(desk, who: str) -> int:
    pos = console(desk, who).session.cache.positions.get(("sim-drift", "SOL-PERP"))
    return pos.base if pos is not None else 0


def improved_ask(desk, side: str = "ask") -> tuple[int, str]:
    """One tick inside the shared book's ask (or bid), and how a trader types it."""
    market = desk.shared.cache.markets[("sim-drift", "SOL-PERP")]
    engine = desk.shared.venues["sim-drift"].books["SOL-PERP"].engine
    price = engine.best_ask() - market.tick_size if side == "ask" else engine.best_bid() + market.tick_size
    return price, f"{Decimal(price).scaleb(-6).normalize():f}"


async def rest_a_sell(desk, t: Terminal) -> int:
    """Alice's post-only sell of 1 one tick inside the ask, once it rests in the shared book."""
    price, typed = improved_ask(desk)
    t.send(f":SOL-PERP SELL 1 @ {typed} POST\r")
    engine = desk.shared.venues["sim-drift"].books["SOL-PERP"].engine
    await until(lambda: engine.best_ask() == price, what="the order resting in the shared book")
    return price


def journal_of(desk, who: str) -> Journal:
    return Journal.open(desk.tmp / "ssh" / "traders" / who / "journal.sqlite3")


async def test_each_trader_trades_from_their_console_and_sees_only_their_position(desk):
    alice = await trader(desk, "alice")
    bob = await trader(desk, "bob")
    alice.send(":SOL-PERP BUY 1 MKT\r")
    bob.send(":SOL-PERP SELL 2 MKT\r")
    await until(lambda: position(desk, "alice") == SOL and position(desk, "bob") == -2 * SOL, what="both fills")
    await alice.shows("SOL-PERP LONG      1.00")
    await bob.shows("SOL-PERP SHORT     2.00")
    assert "SHORT" not in alice.line_with("SOL-PERP LONG") and "SOL-PERP SHORT" not in alice.text()
    assert "SOL-PERP LONG" not in bob.text()
    assert not desk.shared.cache.positions  # the shared session holds no one's account


async def test_a_resting_limit_fills_against_another_traders_market_order(desk):
    alice = await trader(desk, "alice")
    bob = await trader(desk, "bob")
    engine = desk.shared.venues["sim-drift"].books["SOL-PERP"].engine
    price = await rest_a_sell(desk, alice)
    (resting,) = [o for o in engine.orders.values() if o.owner == "alice"]
    bob.send(":SOL-PERP BUY 1 MKT\r")
    await until(lambda: position(desk, "alice") == -SOL and position(desk, "bob") == SOL, what="the cross")
    await alice.shows("SOL-PERP SHORT     1.00")
    await bob.shows("SOL-PERP LONG      1.00")
    for t in (alice, bob):  # each quits, confirming the open position
        t.send("qy")
        assert await t.ended() == 0
    with journal_of(desk, "alice") as a, journal_of(desk, "bob") as b:
        (a_fill,) = a.fills()
        (b_fill,) = b.fills()
    assert (a_fill.order_id, a_fill.side, a_fill.liquidity, a_fill.price) == (resting.order_id, "sell", "maker", price)
    assert (b_fill.side, b_fill.liquidity, b_fill.price, b_fill.size) == ("buy", "taker", price, SOL)
    assert b_fill.order_id != resting.order_id


async def test_a_traders_kill_switch_halts_only_them(desk):
    alice = await trader(desk, "alice")
    bob = await trader(desk, "bob")
    _, typed = improved_ask(desk)
    _, bid = improved_ask(desk, "bid")
    alice.send(f":SOL-PERP SELL 1 @ {typed} POST\r")
    bob.send(f":SOL-PERP BUY 1 @ {bid} POST\r")
    engine = desk.shared.venues["sim-drift"].books["SOL-PERP"].engine
    await until(lambda: {o.owner for o in engine.orders.values()} >= {"alice", "bob"}, what="both orders resting")
    alice.send(":KILL\r")
    await alice.shows("KILL SWITCH ON: 1 open order cancelled")
    assert {o.owner for o in engine.orders.values() if o.owner in ("alice", "bob")} == {"bob"}
    alice.send(":SOL-PERP BUY 1 MKT\r")
    bob.send(":SOL-PERP BUY 2 MKT\r")
    await until(lambda: position(desk, "bob") == 2 * SOL, what="bob's order to fill")
    assert position(desk, "alice") == 0
    assert console(desk, "alice").trader.desk.kill_switch_on and not console(desk, "bob").trader.desk.kill_switch_on
    assert "KILL" not in bob.text()


async def test_a_closed_console_takes_its_resting_orders_off_and_leaves_the_others_trading(desk):
    alice = await trader(desk, "alice")
    bob = await trader(desk, "bob")
    engine = desk.shared.venues["sim-drift"].books["SOL-PERP"].engine
    price = await rest_a_sell(desk, alice)
    alice.conn.abort()  # the link dies
    await until(lambda: [ch.user for ch in desk.server.channels] == ["bob"], what="alice's console to end")
    assert engine.best_ask() > price and not [o for o in engine.orders.values() if o.owner == "alice"]
    bob.send(":SOL-PERP BUY 1 MKT\r")
    await until(lambda: position(desk, "bob") == SOL, what="bob's order to fill")
    with journal_of(desk, "alice") as a:
        assert [o.price for o in a.open_orders("sim-drift")] == [price]  # rests again when she is back
        assert not a.fills()


async def test_a_second_console_of_a_trader_shows_market_data_only(desk):
    await trader(desk, "alice")
    second = await second_console(desk, "alice")
    second.send(":SOL-PERP BUY 1 MKT\r")
    await second.shows("Nothing was sent")
    assert position(desk, "alice") == 0


async def test_with_the_dead_mans_switch_a_dropped_link_cancels_only_that_traders_orders(tmp_path, monkeypatch):
    from quantdesk.config.settings import load_config
    from support.ssh_desk import close_desk, open_desk

    monkeypatch.setenv("QUANTDESK_DEAD_MAN__ENABLED", "true")
    desk = await open_desk(tmp_path, settings=load_config(None))
    try:
        alice = await trader(desk, "alice")
        bob = await trader(desk, "bob")
        price = await rest_a_sell(desk, alice)
        _, bid = improved_ask(desk, "bid")
        bob.send(f":SOL-PERP BUY 1 @ {bid} POST\r")
        engine = desk.shared.venues["sim-drift"].books["SOL-PERP"].engine
        await until(lambda: any(o.owner == "bob" for o in engine.orders.values()), what="bob's order resting")
        alice.conn.abort()
        await until(lambda: [ch.user for ch in desk.server.channels] == ["bob"], what="alice's console to end")
        with journal_of(desk, "alice") as a:
            (order,) = a.orders()
        assert (order.price, order.status) == (price, "cancelled")  # not merely off the book: cancelled
        assert [o.owner for o in engine.orders.values() if o.owner in ("alice", "bob")] == ["bob"]
        assert console(desk, "bob").trader.trading.router.executors["sim-drift"].open_orders()
    finally:
        await close_desk(desk)
