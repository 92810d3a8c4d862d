"""A console that ends is given back to the server's process: once the trader
quits or disconnects, nothing the shared session, the server or Textual keeps
still reaches their App, so a server running all day does not grow by every
session it served, and the shared feed stops delivering to the gone console."""

from __future__ import annotations

import logging
import weakref

from quantdesk.serve.ssh.reclaim import Reclaimer
from support.ssh_client import Terminal
from support.wait import until
from test_ssh_trading import console, rest_a_sell, trader


class Gone:
    """Weak references to what one console was made of."""

    def __init__(self, desk, who: str) -> None:
        (channel,) = [ch for ch in desk.server.channels if ch.user == who]
        c = channel.console
        self.refs = {
            "channel": weakref.ref(channel), "console": weakref.ref(c), "app": weakref.ref(c.app),
            "session": weakref.ref(c.session), "driver": weakref.ref(c.driver),
        }
        trading = c.trader.trading if c.trader is not None else None
        for vid, ex in (trading.router.executors.items() if trading is not None else ()):
            self.refs[f"account in {vid}"] = weakref.ref(ex)  # the trader's paper account in the shared venue

    def alive(self) -> list[str]:
        return [name for name, ref in self.refs.items() if ref() is not None]


def shared_subscriptions(desk) -> int:
    return len(desk.shared.bus._subs)


async def given_back(desk, *gone: Gone) -> None:
    """The server collects on its own after consoles end, and again while one is
    still held: each stopped Textual timer holds its App until its time comes."""
    await until(lambda: not desk.server.channels, what="the consoles to end")
    await until(lambda: not any(g.alive() for g in gone), timeout=30, what="the server to give the consoles back")
    assert not desk.server.reclaimer.scheduled  # nothing left to collect for


async def test_a_console_that_quits_leaves_nothing_behind(desk):
    before = shared_subscriptions(desk)
    alice = await Terminal.open(desk.port, desk.keys["alice"])
    desk.terminals.append(alice)
    await alice.shows("DEPTH")
    gone = Gone(desk, "alice")
    alice.send("\x1b[1;5A")  # a key sequence Textual's parser caches, then the quit key
    alice.send("q")
    assert shared_subscriptions(desk) > before  # the console's mirror follows the shared feed
    assert await alice.ended() == 0
    await given_back(desk, gone)
    assert shared_subscriptions(desk) == before  # the shared feed delivers to no one gone


async def test_a_trading_console_leaves_nothing_behind_in_the_shared_venue(desk):
    before = shared_subscriptions(desk)
    alice = await trader(desk, "alice")
    alice.send(":SOL-PERP BUY 1 MKT\r")
    await until(lambda: console(desk, "alice").session.cache.positions.get(("sim-drift", "SOL-PERP")) is not None,
                what="alice's fill")
    await rest_a_sell(desk, alice)
    gone = Gone(desk, "alice")
    alice.send("qy")  # quit, confirming the open position
    assert await alice.ended() == 0
    await given_back(desk, gone)  # its fills' notifications, still showing, are let go of too
    assert shared_subscriptions(desk) == before
    engine = desk.shared.venues["sim-drift"].books["SOL-PERP"].engine
    assert not [o for o in engine.orders.values() if o.owner == "alice"]


async def test_consoles_connecting_and_leaving_all_day_are_all_given_back(desk):
    before = shared_subscriptions(desk)
    gone: list[Gone] = []
    for i in range(5):
        t = await Terminal.open(desk.port, desk.keys["alice"])
        await t.shows("DEPTH")
        await until(lambda: (c := console(desk, "alice")) is not None and c.app.session_started.is_set(),
                    what="the console to start")
        gone.append(Gone(desk, "alice"))
        if i % 2:
            await t.close()  # the trader's connection drops
        else:
            t.send("qy")
            assert await t.ended() == 0
            await t.close()
        await until(lambda: not desk.server.channels, what="the console to end")
    await given_back(desk, *gone)
    assert shared_subscriptions(desk) == before


class App:
    """Stands for an ended console's App."""


async def test_the_server_stops_collecting_once_every_ended_console_is_given_back():
    collections = []
    reclaimer = Reclaimer(lambda: collections.append(1))
    app = App()
    reclaimer.ended("bob", app)
    assert reclaimer.scheduled
    del app
    reclaimer.run()
    assert collections == [1] and reclaimer.held() == [] and not reclaimer.scheduled


async def test_a_console_held_past_every_try_is_logged_and_no_longer_collected_for(caplog):
    collections = []
    reclaimer = Reclaimer(lambda: collections.append(1), tries_s=(0.01, 0.01, 0.01))
    app = App()  # something other than a timer keeps it
    with caplog.at_level(logging.WARNING, logger="quantdesk.serve.ssh.reclaim"):
        reclaimer.ended("alice", app)
        await until(lambda: not reclaimer.scheduled, what="the last try")
    assert "ended consoles of alice are still in memory" in caplog.text
    assert collections and reclaimer.held() == []
