"""Notifications: a fill says its price, size and fee; toasts stack where they
cover neither the risk panes (positions, orders) nor the command line's error."""

from __future__ import annotations

from textual.widgets._toast import Toast

from quantdesk.console.cmdline import parse
from quantdesk.console.layouts import load_layout

from support.app import notes, settle
from support.paper_app import SIZE, make_app, start


async def test_fill_toast_gives_size_price_and_fee(tmp_path):
    app, trading = make_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            assert await app.execute(parse("SOL-PERP BUY 1 MKT", app.command_context()))
            await settle(app, pilot)
            (fill,) = [f for f in app.session.cache.fills if f.market == "SOL-PERP"]
            m = next(m for m in app.session.cache.markets.values() if m.symbol == "SOL-PERP" and m.venue == fill.venue)
            price = f"{m.price(fill.price).normalize():f}"
            (note,) = [n for n in notes(app) if "filled at" in n]
            assert f"1 filled at {price}, fee $" in note
    finally:
        trading.close()


def overlaps(a, b) -> bool:
    return a.overlaps(b)


async def test_toasts_cover_no_risk_pane_nor_the_command_error(tmp_path):
    app, trading = make_app(tmp_path)
    app.layout_model = load_layout("overview")
    try:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await start(app, pilot)
            for _ in range(3):
                assert await app.execute(parse("SOL-PERP BUY 1 MKT", app.command_context()))
            await settle(app, pilot)
            await pilot.press("colon", *"SOL-PERP BUYY", "enter")  # a parse error stays in the box
            await pilot.pause()
            toasts = [t.region for t in app.screen.query(Toast)]
            assert toasts, "the orders' toasts are on screen"
            risk = [app.pane_of_type("positions").region, app.pane_of_type("orders").region]
            error = app.command_line.query_one("#cmd-error").region
            assert error.height > 0
            for toast in toasts:
                assert not any(overlaps(toast, r) for r in [*risk, error]), (toast, risk, error)
    finally:
        trading.close()
