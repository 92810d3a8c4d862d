"""The Trades pane: the tape of one market from every venue's trade stream."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from quantdesk.console.app import QuantDeskApp
from quantdesk.console.panes.trades import TradesPane
from quantdesk.core.cache import MINUTE_NS
from quantdesk.core.model import Trade

from support.app import pane_lines, row_styles, start

SIZE = (200, 50)
SOL = "SOL-PERP"


def tape_rows(pane: TradesPane) -> list[list[str]]:
    """The trade rows on screen (below the volume line and the header), split into cells."""
    lines = pane_lines(pane)
    header = next(i for i, line in enumerate(lines) if line.lstrip().startswith("Time"))
    return [line.split() for line in lines[header + 1 :] if line.strip()]


def shown_row(cells: list[str]) -> tuple[str, str, Decimal, Decimal]:
    _time, venue, side, price, size = cells[:5]
    return venue, side, Decimal(price.replace(",", "")), Decimal(size.replace(",", ""))


def expected_row(trade: Trade, market, shown: tuple[str, str, Decimal, Decimal]) -> tuple[str, str, Decimal, Decimal]:
    """The trade's exact values, rounded to the places the row shows them with."""

    def at(value: Decimal, like: Decimal) -> Decimal:
        return value.quantize(like, rounding=ROUND_HALF_EVEN)

    side = "BUY" if trade.side == "buy" else "SELL"
    return trade.venue, side, at(market.price(trade.price), shown[2]), at(market.size(trade.size), shown[3])


def volume_line(pane: TradesPane) -> str:
    return next(line for line in pane_lines(pane) if line.startswith("vol/min"))


async def test_tape_rows_are_the_published_trades_of_the_market_newest_first(session):
    app = QuantDeskApp(session, panes=["trades", "depth"])
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot, events=0)
        published: list[Trade] = []
        session.bus.subscribe(f"trade.*.{SOL}", lambda _topic, ev: published.append(ev))
        session.advance(3_000)
        app.frame()
        pane = app.query_one(TradesPane)
        assert pane.market == SOL and pane.venue is None
        assert pane.border_title == "TRADES SOL-PERP @ all venues"
        assert len({t.venue for t in published}) == 2, "both simulated venues traded SOL-PERP"
        rows = tape_rows(pane)
        assert len(rows) > 20
        newest = sorted(enumerate(published), key=lambda it: (-it[1].ts, -it[0]))[: len(rows)]
        markets = session.cache.markets
        shown = [shown_row(r) for r in rows]
        assert shown == [expected_row(t, markets[(t.venue, t.market)], row) for (_i, t), row in zip(newest, shown)]
        assert all(r[5] == "taker" for r in rows)  # the simulated venues know the aggressor


async def test_the_tape_repaints_only_when_its_market_trades(session):
    app = QuantDeskApp(session, panes=["trades"])
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot, events=0)
        pane = app.query_one(TradesPane)
        now = session.clock()
        assert not pane.tick(now)
        session.bus.publish("trade.sim-drift.BTC-PERP", Trade("sim-drift", "BTC-PERP", now, 90_000_000_000, 10**9, "buy"))
        assert not pane.tick(now), "another market's print costs no redraw"
        session.bus.publish(f"trade.sim-jup.{SOL}", Trade("sim-jup", SOL, now, 145_000_000, 2 * 10**9, "sell"))
        assert pane.tick(now)
        assert shown_row(tape_rows(pane)[0]) == ("sim-jup", "SELL", Decimal("145"), Decimal("2"))


async def test_bigger_prints_are_drawn_bolder_and_makers_are_marked(session):
    app = QuantDeskApp(session, panes=["trades"])
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot, events=0)
        now = session.clock()
        sizes = [1, 1, 1, 1, 1, 1, 1, 1, 4, 30]  # average 4.2 SOL
        for i, base in enumerate(sizes):
            side = "buy" if i % 2 else "sell"
            liquidity = "maker" if base == 4 else "taker"
            trade = Trade("sim-drift", SOL, now + i, 145_000_000 + i * 1_000, base * 10**9, side, liquidity)
            session.bus.publish(f"trade.sim-drift.{SOL}", trade)
        app.frame()
        pane = app.query_one(TradesPane)
        rows = tape_rows(pane)
        assert [shown_row(r)[3] for r in rows] == [Decimal(b) for b in reversed(sizes)]
        assert rows[1][5] == "maker" and rows[0][5] == "taker"
        header = next(y for y, line in enumerate(pane_lines(pane)) if line.lstrip().startswith("Time"))

        def price_style(y: int):
            return next(style for text, style in row_styles(pane, y) if "145.0" in text)

        block, normal, small = (price_style(header + n) for n in (1, 2, 3))
        background = pane.rich_style.bgcolor
        assert block.bold and block.bgcolor != background  # 30 SOL: seven times the average
        assert not normal.bold and normal.bgcolor == background  # 4 SOL: about the average
        assert not small.bold and small.color != normal.color  # 1 SOL: dimmed


async def test_volume_line_sums_each_clock_minute_newest_first(session):
    app = QuantDeskApp(session, panes=["trades"])
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot, events=0)
        clock = session.clock
        minute_start = (clock() // MINUTE_NS + 1) * MINUTE_NS
        clock.advance(minute_start - clock())
        for venue, base, side in (("sim-drift", 3, "buy"), ("sim-jup", 1, "sell")):
            session.bus.publish(f"trade.{venue}.{SOL}", Trade(venue, SOL, clock(), 100_000_000, base * 10**9, side))
        clock.advance(MINUTE_NS)
        session.bus.publish(f"trade.sim-drift.{SOL}", Trade("sim-drift", SOL, clock(), 100_000_000, 10**9, "sell"))
        app.frame()
        pane = app.query_one(TradesPane)
        line = volume_line(pane)
        this_minute = clock() // MINUTE_NS * MINUTE_NS
        hhmm = lambda ns: f"{ns // 3_600_000_000_000 % 24:02d}:{ns // MINUTE_NS % 60:02d}"  # noqa: E731
        assert line.startswith(f"vol/min  {hhmm(this_minute)} 1.00 $100.0 buy 0%  {hhmm(this_minute - MINUTE_NS)} 4.00")
        clock.advance(MINUTE_NS)  # a quiet minute: the line moves on without a trade
        app.frame()
        assert volume_line(pane).startswith(f"vol/min  {hhmm(this_minute + MINUTE_NS)} 0.00 $0.00  {hhmm(this_minute)} 1.00")


async def test_market_and_venue_keys_move_the_focused_tape(session):
    app = QuantDeskApp(session, panes=["trades", "depth"])
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        pane = app.query_one(TradesPane)
        pane.focus()
        await pilot.press("right_square_bracket")
        assert pane.market == "BTC-PERP"
        assert app.query_one("DepthPane").market == SOL, "the focused pane moves, not the ladder"
        await pilot.press("left_square_bracket")
        assert pane.market == SOL
        venues = []
        for _ in range(3):
            await pilot.press("right_curly_bracket")
            venues.append(pane.venue)
        assert venues == ["sim-drift", "sim-jup", None]
        await pilot.press("right_curly_bracket")
        app.frame()
        assert pane.border_title == "TRADES SOL-PERP @ sim-drift"
        assert {r[1] for r in tape_rows(pane)} == {"sim-drift"}


async def test_a_market_typed_on_the_command_line_keeps_every_venue_on_the_tape(session):
    app = QuantDeskApp(session, panes=["trades", "depth"])
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        pane = app.query_one(TradesPane)
        pane.focus()
        from quantdesk.console.cmdline import SelectMarket

        assert await app.execute(SelectMarket("ETH-PERP"))
        assert (pane.market, pane.venue) == ("ETH-PERP", None)
