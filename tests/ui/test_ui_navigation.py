"""Pilot tests: the keys a trader uses to move around the terminal."""

from __future__ import annotations

from quantdesk.console import format as fmt
from quantdesk.console.app import QuantDeskApp
from quantdesk.console.panes.depth import DepthPane
from quantdesk.console.panes.funding import FundingPane
from quantdesk.console.panes.positions import PositionsPane
from quantdesk.console.panes.spreads import SpreadsPane

from support.app import pane_lines, pane_text, start

SIZE = (200, 50)


async def test_default_screen_has_four_panes_and_depth_of_sol_on_the_book_venue(session):
    app = QuantDeskApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        kinds = [type(p) for p in app.panes]
        assert kinds == [DepthPane, FundingPane, SpreadsPane, PositionsPane]
        depth = app.query_one(DepthPane)
        assert app.focused is depth
        assert (depth.venue, depth.market) == ("sim-drift", "SOL-PERP")
        assert "SOL-PERP @ sim-drift" in str(depth.border_title)
        assert pane_lines(depth)[0].startswith("SOL-PERP sim-drift CLOB")


async def test_market_and_venue_keys_choose_what_depth_shows(session):
    app = QuantDeskApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        depth = app.query_one(DepthPane)
        seen = []
        for key in ["right_square_bracket", "right_square_bracket", "right_square_bracket"]:
            await pilot.press(key)
            seen.append(depth.market)
            assert pane_lines(depth)[0].startswith(f"{depth.market} sim-drift")
        # The venues' own order (SOL, BTC, ETH), wrapping around.
        assert seen == ["BTC-PERP", "ETH-PERP", "SOL-PERP"]

        await pilot.press("left_square_bracket")
        assert depth.market == "ETH-PERP"

        await pilot.press("right_curly_bracket")
        assert (depth.venue, depth.market) == ("sim-jup", "ETH-PERP")
        text = pane_text(depth)
        assert text.startswith("ETH-PERP sim-jup POOL")
        assert "Synthetic pool depth" in text
        assert "ETH-PERP @ sim-jup" in str(depth.border_title)

        await pilot.press("left_curly_bracket")
        assert (depth.venue, depth.market) == ("sim-drift", "ETH-PERP")


async def test_focus_keys_move_between_panes_and_market_keys_still_reach_depth(session):
    app = QuantDeskApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("2")
        assert isinstance(app.focused, FundingPane)
        await pilot.press("tab")
        assert isinstance(app.focused, SpreadsPane)
        await pilot.press("tab")
        assert isinstance(app.focused, PositionsPane)
        await pilot.press("shift+tab")
        assert isinstance(app.focused, SpreadsPane)
        await pilot.press("3", "4")
        assert isinstance(app.focused, PositionsPane)
        # Market keys act on the depth pane wherever the focus is.
        await pilot.press("right_square_bracket")
        assert app.query_one(DepthPane).market == "BTC-PERP"
        await pilot.press("1")
        assert isinstance(app.focused, DepthPane)


async def test_depth_ladder_shows_the_books_best_levels_around_the_mid_line(session):
    app = QuantDeskApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        depth = app.query_one(DepthPane)
        market = session.cache.markets[("sim-drift", "SOL-PERP")]
        book = session.cache.book("sim-drift", "SOL-PERP")
        lines = pane_lines(depth)
        mid_row = next(i for i, line in enumerate(lines) if line.startswith("──"))
        best_ask = lines[mid_row - 1].split()
        best_bid = lines[mid_row + 1].split()
        assert best_ask[0] == fmt.price(book.best_ask()[0], market)
        assert best_ask[1] == fmt.size(book.best_ask()[1], market)
        assert best_bid[0] == fmt.price(book.best_bid()[0], market)
        assert best_bid[1] == fmt.size(book.best_bid()[1], market)
        # Cumulative size grows away from the touch on both sides.
        second_bid = lines[mid_row + 2].split()
        assert best_bid[2] == best_bid[1]
        cum = book.depth("bid", 2)[1].cumulative
        assert second_bid[2] == fmt.size(cum, market)
        assert fmt.price(book.mid(), market, extra=1) in lines[mid_row]


async def test_unknown_pane_key_says_so_instead_of_failing(session):
    app = QuantDeskApp(session, panes=["depth", "funding"])
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot, events=0)
        await pilot.press("4")
        await pilot.pause()
        assert isinstance(app.focused, DepthPane)
        assert any("no positions pane" in str(n.message) for n in app._notifications)


async def test_a_depth_pane_given_only_a_market_picks_a_venue_that_lists_it(session):
    from quantdesk.core.model import Market

    session.cache.add_markets([Market("sim-jup", "JUP-PERP", "JUP", "USDC", "pool", 1, 1_000_000, index=24)])
    app = QuantDeskApp(session, panes=["funding"])
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot, events=0)
        depth = DepthPane(session, market="JUP-PERP")  # as a saved layout creates it
        await app.screen.mount(depth, before=app.query_one("#panes"))
        await pilot.pause()
        app.frame()
        assert (depth.venue, depth.market) == ("sim-jup", "JUP-PERP")
        assert "Waiting for the first JUP-PERP book" in pane_text(depth)
