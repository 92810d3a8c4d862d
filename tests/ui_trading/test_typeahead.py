"""Keys typed as one burst (a fast typist, ``tmux send-keys``, a paste of
keystrokes) all reach the widget they were meant for, in order, even when the
first key moves the focus, opens the command line or pushes the ticket."""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from quantdesk.console.ticket import TicketScreen

from support.app import settle
from support.paper_app import SIZE, make_app, start

NAMED = {" ": ("space", " "), ":": ("colon", ":"), "\r": ("enter", "\r"), "-": ("minus", "-"), ".": ("full_stop", ".")}


async def burst(app, text: str) -> None:
    """Put every key on the App's queue through the driver before any of them
    is handled, as a terminal read of one write does."""
    for ch in text:
        key, char = NAMED.get(ch, (ch, ch))
        event = events.Key(key, char)
        event.set_sender(app)
        await app._post_message(event)  # what the driver's input thread posts, with no pause between keys


async def quiet(app, pilot, rounds: int = 6) -> None:
    for _ in range(rounds):
        await pilot.pause()


async def test_command_typed_as_one_burst_runs(tmp_path):
    app, trading = make_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            await burst(app, ":SOL-PERP BUY 1 MKT\r")
            await quiet(app, pilot)
            await settle(app, pilot)
            pos = app.session.cache.positions.get(("sim-drift", "SOL-PERP"))
            assert pos is not None and pos.base == 10**9, "the burst must place one market buy of 1 SOL"
            assert not app.command_line.is_open
    finally:
        trading.close()


async def test_two_commands_in_one_burst_both_run_in_order(tmp_path):
    app, trading = make_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            await burst(app, ":SOL-PERP BUY 2 MKT\r:SOL-PERP SELL 0.5 MKT\r")
            await quiet(app, pilot)
            await settle(app, pilot)
            pos = app.session.cache.positions[("sim-drift", "SOL-PERP")]
            assert pos.base == 1_500_000_000
    finally:
        trading.close()


async def test_ticket_size_typed_with_the_key_that_opens_it(tmp_path):
    app, trading = make_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            await burst(app, "s2.5")
            await quiet(app, pilot)
            assert isinstance(app.screen, TicketScreen)
            assert app.screen.query_one("#size", Input).value == "2.5"
            assert app.screen.side == "sell"
    finally:
        trading.close()
