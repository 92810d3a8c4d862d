"""``q`` with a position or an order open asks first; without, it quits at once;
``[ui] confirm_quit = false`` turns the question off."""

from __future__ import annotations

from quantdesk.console.cmdline import parse
from quantdesk.console.confirm import ConfirmScreen

from support.app import settle
from support.paper_app import SIZE, make_app, start


async def test_quit_with_an_open_position_asks_and_n_keeps_the_console(tmp_path):
    app, trading = make_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            assert await app.execute(parse("SOL-PERP BUY 1 MKT", app.command_context()))
            assert await app.execute(parse("SOL-PERP BUY 1 @ 100 POST", app.command_context()))
            await settle(app, pilot)
            await pilot.press("q")
            assert isinstance(app.screen, ConfirmScreen)
            detail = str(app.screen.detail)
            assert "1 open position and 1 open order" in detail
            await pilot.press("n")
            assert not isinstance(app.screen, ConfirmScreen) and app.return_code is None
            await pilot.press("q", "y")
            assert app.return_code == 0
    finally:
        trading.close()


async def test_quit_with_nothing_open_quits_at_once(tmp_path):
    app, trading = make_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            await pilot.press("q")
            assert app.return_code == 0
    finally:
        trading.close()


async def test_confirmation_can_be_turned_off(tmp_path):
    app, trading = make_app(tmp_path)
    app.confirm_quit = False
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            assert await app.execute(parse("SOL-PERP BUY 1 MKT", app.command_context()))
            await settle(app, pilot)
            await pilot.press("q")
            assert app.return_code == 0
    finally:
        trading.close()
