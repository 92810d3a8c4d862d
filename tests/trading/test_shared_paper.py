"""Traders served from one process (``quantdesk serve ssh``) each trade their
own paper account in the one shared simulated venue: their orders meet in its
matching engine, each hears only their own orders and fills, and one leaving
takes their resting orders off the book without touching the others."""

from __future__ import annotations

import pytest

from quantdesk.core.model import OrderIntent
from quantdesk.venues.mirror import mirror_session
from quantdesk.venues.registry import Trader
from quantdesk.venues.session import simulated_session
from quantdesk.wiring.trading import open_paper_trading

SOL = 10**9


@pytest.fixture
async def desks(tmp_path):
    shared = simulated_session(seed=7, paused=True)
    await shared.start()
    shared.advance(400)
    opened = []

    async def trader(name: str):
        session = mirror_session(shared)
        await session.start()
        trading = open_paper_trading(session, tmp_path / f"{name}.sqlite3", trader=Trader(name))
        opened.append((session, trading))
        return session, trading

    yield shared, trader
    for session, trading in opened:
        trading.close()
        await session.stop()
    await shared.stop()


def engine(shared):
    return shared.venues["sim-drift"].books["SOL-PERP"].engine


async def test_one_traders_resting_order_fills_against_anothers_market_order(desks):
    shared, trader = desks
    a_session, alice = await trader("alice")
    b_session, bob = await trader("bob")
    book = engine(shared)
    tick = shared.cache.markets[("sim-drift", "SOL-PERP")].tick_size
    ask = book.best_ask() - tick  # alice improves the ask: the next buyer meets her first
    ack = await alice.router.submit(OrderIntent("sim-drift", "SOL-PERP", "sell", "limit", SOL, price=ask, post_only=True))
    assert ack.ok and ack.order.status == "open"
    assert book.orders[ack.order.order_id].owner == "alice"

    taken = await bob.router.submit(OrderIntent("sim-drift", "SOL-PERP", "buy", "market", SOL))
    assert taken.ok and taken.order.status == "filled"

    (a_fill,) = alice.journal.fills()
    (b_fill,) = bob.journal.fills()
    assert (a_fill.side, a_fill.liquidity, a_fill.price, a_fill.order_id) == ("sell", "maker", ask, ack.order.order_id)
    assert (b_fill.side, b_fill.liquidity, b_fill.price, b_fill.order_id) == ("buy", "taker", ask, taken.order.order_id)
    assert a_session.cache.positions[("sim-drift", "SOL-PERP")].base == -SOL
    assert b_session.cache.positions[("sim-drift", "SOL-PERP")].base == SOL
    # each console's cache holds its own trader's orders and fills only, the shared session none
    assert [f.order_id for f in a_session.cache.fills] == [ack.order.order_id]
    assert [f.order_id for f in b_session.cache.fills] == [taken.order.order_id]
    assert not shared.cache.fills and not shared.cache.positions


async def test_self_trade_prevention_sees_only_the_traders_own_orders(desks):
    shared, trader = desks
    _, alice = await trader("alice")
    _, bob = await trader("bob")
    tick = shared.cache.markets[("sim-drift", "SOL-PERP")].tick_size
    ask = engine(shared).best_ask() - tick
    mine = await alice.router.submit(OrderIntent("sim-drift", "SOL-PERP", "sell", "limit", SOL, price=ask, post_only=True))
    own = await alice.router.submit(OrderIntent("sim-drift", "SOL-PERP", "buy", "limit", SOL, price=ask))
    assert own.order.status == "rejected" and "your own resting order" in own.order.reason
    other = await bob.router.submit(OrderIntent("sim-drift", "SOL-PERP", "buy", "limit", SOL, price=ask))
    assert other.order.status == "filled"
    assert alice.router.executors["sim-drift"].order(mine.order.order_id).status == "filled"


async def test_a_trader_leaving_takes_their_resting_orders_off_the_shared_book(desks, tmp_path):
    shared, trader = desks
    _, alice = await trader("alice")
    _, bob = await trader("bob")
    book = engine(shared)
    tick = shared.cache.markets[("sim-drift", "SOL-PERP")].tick_size
    ask = book.best_ask() - tick
    ack = await alice.router.submit(OrderIntent("sim-drift", "SOL-PERP", "sell", "limit", SOL, price=ask, post_only=True))
    listeners = len(shared.venues["sim-drift"].match_listeners)
    alice.close()
    assert ack.order.order_id not in book.orders and book.best_ask() > ask
    assert len(shared.venues["sim-drift"].match_listeners) == listeners - 1
    taken = await bob.router.submit(OrderIntent("sim-drift", "SOL-PERP", "buy", "market", SOL))
    assert taken.ok and bob.journal.fills()[0].price > ask  # bob trades on, with the simulated makers
    # alice's order is still open in her journal and rests again when she comes back
    _, again = await trader("alice")
    assert [o.order_id for o in again.journal.open_orders("sim-drift")] == [ack.order.order_id]
    assert book.orders[ack.order.order_id].owner == "alice"
