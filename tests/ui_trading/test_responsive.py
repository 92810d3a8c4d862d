"""Panes fit the terminal: at 200x50, 120x35 and 80x24 each shipped layout
keeps a position's size, uPnL and liquidation price and every account's
equity whole, drops low-priority columns in their documented order and never
cuts a header mid-word. One snapshot per layout and size."""

from __future__ import annotations

import re

import pytest

from quantdesk.console.cmdline import parse
from quantdesk.console.layouts import load_layout
from quantdesk.console.panes.base import Pane
from quantdesk.console.panes.depth import FADE_NS

from support.app import pane_lines, settle
from support.paper_app import make_app

SIZES = [(200, 50), (120, 35), (80, 24)]
LAYOUTS = ["overview", "scalper", "carry"]
EQUITY = re.compile(r"\$[\d,]+\.\d\d")


@pytest.fixture(autouse=True)
def fixed_order_ids(monkeypatch):
    """Order ids are random per run; the snapshots need the same ones every time."""
    ids = iter(f"ord{n:09d}" for n in range(1, 10_000))
    monkeypatch.setattr("quantdesk.trading.router.new_order_id", lambda: next(ids))


def trading_app(tmp_path, layout: str):
    app, trading = make_app(tmp_path)
    app.layout_model = load_layout(layout)
    app.layouts.name = layout
    return app, trading


async def open_positions(app, pilot) -> None:
    await app.session_started.wait()
    app.session.advance(3_000)
    for text in ("SOL-PERP BUY 2 MKT", "ETH-PERP SELL 1 MKT", "SOL-PERP BUY 1 @ 100 POST"):
        assert await app.execute(parse(text, app.command_context()))
    await settle(app, pilot)
    app.session.clock.advance(FADE_NS)
    app.frame()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_risk_columns_and_equity_are_never_cut(tmp_path, size):
    app, trading = trading_app(tmp_path, "overview")
    try:
        async with app.run_test(size=size) as pilot:
            await open_positions(app, pilot)
            positions = app.pane_of_type("positions")
            lines = pane_lines(positions)
            width = positions.size.width
            header = next(line for line in lines if "uPnL" in line)
            assert "Liq" in header and "Size" in header
            rows = [line for line in lines if re.search(r"(SOL|ETH)\S* .*(LONG|SHORT|[+-]\d)", line)]
            assert rows, (positions.size, lines)
            assert all(len(line) <= width for line in lines)
            # both paper accounts' equity, whole
            shown = " ".join(lines[:2])
            assert len(EQUITY.findall(shown)) >= 2, shown
            for pane in app.query(Pane):
                for line in pane_lines(pane)[:6]:
                    assert len(line) <= pane.size.width, (pane.pane_type, line)
            # the touch on both sides stays whole; the venue name narrows first
            spreads = pane_lines(app.pane_of_type("spreads"))
            header = next(line for line in spreads if "Bid" in line)
            assert re.search(r"\bBid\b.*\bAsk\b", header), spreads
            assert all(len(re.findall(r"\d[\d,]*\.\d+", line)) >= 2 for line in spreads if "sim-jup" in line), spreads
            orders = pane_lines(app.pane_of_type("orders"))
            assert any("SOL-PERP" in line and "100" in line for line in orders), orders
    finally:
        trading.close()


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_layout_at_size(snap_compare, tmp_path, layout, size):
    app, trading = trading_app(tmp_path, layout)

    async def run_before(pilot) -> None:
        await open_positions(app, pilot)

    try:
        assert snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        trading.close()
