"""The ticket refuses what it cannot send, says why under the fields, and sends nothing."""

from __future__ import annotations

import pytest

from quantdesk.trading.ticket import plain
from quantdesk.console.ticket import TicketScreen

from support.paper_app import SIZE, make_app, start
from support.app import settle


def error_text(ticket: TicketScreen) -> str:
    return str(ticket.query_one("#ticket-error").render())


@pytest.mark.parametrize(
    ("size", "price", "expected"),
    [
        ("0", "140", "size must be greater than zero"),
        ("-1", "140", "size must be greater than zero"),
        ("0.015", "140", "size 0.015 SOL is not a multiple of the lot 0.01 SOL: use 0.01 or 0.02"),
        ("abc", "140", "size 'abc' is not a number"),
        ("1", "140.0005", "price 140.0005 is off the tick 0.001: use 140 or 140.001"),
        ("1", "", "enter a price"),
    ],
)
async def test_bad_input_is_explained_and_nothing_is_sent(tmp_path, size, price, expected):
    app, trading = make_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot, events=1_000)
            await pilot.press("b")
            await pilot.pause()
            ticket = app.screen
            assert isinstance(ticket, TicketScreen)
            await pilot.press(*size, "tab", "tab", *price)
            await pilot.press("enter")
            await settle(app, pilot)
            assert app.screen is ticket  # still open, for the trader to fix
            assert expected in error_text(ticket)
            assert ticket.plan is None
            assert trading.journal.orders() == [] and app.session.cache.orders == {}
            await pilot.press("escape")
            await settle(app, pilot)
            assert not isinstance(app.screen, TicketScreen)
            assert trading.journal.orders() == []
    finally:
        trading.close()


async def test_messages_appear_live_and_clear_when_fixed(tmp_path):
    app, trading = make_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot, events=1_000)
            await pilot.press("s")
            await pilot.pause()
            ticket = app.screen
            assert error_text(ticket) == ""  # nothing typed yet: no scolding
            await pilot.press(*"0.015")
            assert "not a multiple of the lot" in error_text(ticket)
            assert ticket.query_one("#size").has_class("-invalid")
            await pilot.press("backspace")
            await pilot.press("tab", "tab", "up")  # sell: the first step lands on the best ask
            ask = app.session.cache.book("sim-drift", "SOL-PERP").best_ask()[0]
            assert ticket.query_one("#price").value == plain(ticket.market.price(ask))
            await pilot.press("pageup")
            assert ticket.query_one("#price").value == plain(ticket.market.price(ask + 10_000))
            assert error_text(ticket) == "" and ticket.plan is not None
            assert "SHORT 0.01" in str(ticket.query_one("#preview").render())
    finally:
        trading.close()


async def test_post_only_with_ioc_and_bracket_on_the_wrong_side_are_refused(tmp_path):
    app, trading = make_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot, events=1_000)
            await pilot.press("b")
            await pilot.pause()
            ticket = app.screen
            await pilot.press("1", "tab", "tab", "down")
            ticket.query_one("#post_only").value = True
            ticket.query_one("#ioc").value = True
            await pilot.pause()
            assert "post-only and IOC contradict" in error_text(ticket)
            ticket.query_one("#ioc").value = False
            ticket.query_one("#take_profit").value = "100"  # below the entry of a buy
            await pilot.pause()
            assert "take-profit 100 must be above the entry" in error_text(ticket)
            await pilot.press("enter")
            await settle(app, pilot)
            assert app.screen is ticket and trading.journal.orders() == []
    finally:
        trading.close()
