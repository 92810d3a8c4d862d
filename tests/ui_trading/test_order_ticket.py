"""The ticket's arithmetic without a screen: sizes, prices, notional sizing,
scale and bracket shapes, and the preview from a real book and paper account."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quantdesk.core.book import OrderBook
from quantdesk.core.model import BookSnapshot, Market
from quantdesk.trading.ticket import TicketError, TicketInput, build_plan, preview, quote_to_base, step_price
from quantdesk.trading.paper_account import PaperAccount

SOL = Market("sim-drift", "SOL-PERP", "SOL", "USDC", "clob", tick_size=1_000, lot_size=10_000_000)
USD = 10**6


def book() -> OrderBook:
    b = OrderBook("sim-drift", "SOL-PERP")
    b.apply(BookSnapshot("sim-drift", "SOL-PERP", 1, 0,
                         bids=[(99_990_000, 5 * 10**9), (99_980_000, 5 * 10**9)],
                         asks=[(100_010_000, 1 * 10**9), (100_020_000, 10 * 10**9)]))
    return b


def error(inp: TicketInput) -> TicketError:
    with pytest.raises(TicketError) as e:
        build_plan(inp, SOL, book(), 100 * USD)
    return e.value


def test_limit_order_plan():
    plan = build_plan(TicketInput("buy", "limit", size="1.5", price="99.5", post_only=True), SOL, book())
    (intent,) = plan.intents
    assert (intent.size, intent.price, intent.post_only, intent.type) == (1_500_000_000, 99_500_000, True, "limit")


def test_size_and_price_must_fit_the_lot_and_tick():
    e = error(TicketInput("buy", "limit", size="1.005", price="99"))
    assert e.field == "size" and "use 1 or 1.01" in e.message
    e = error(TicketInput("buy", "limit", size="1", price="99.0001"))
    assert e.field == "price" and "off the tick 0.001: use 99 or 99.001" in e.message
    assert error(TicketInput("buy", "limit", size="1")).message == "enter a price"
    assert "greater than zero" in error(TicketInput("buy", "market", size="0")).message
    assert error(TicketInput("buy", "stop_market", size="1")).message == "enter a trigger price"
    assert error(TicketInput("buy", "stop_market", size="1")).field == "trigger_price"


def test_quote_notional_becomes_whole_lots_at_the_reference_price():
    # $250 at the best ask 100.01 is 2.4997 SOL: 2.49 in 0.01 lots
    plan = build_plan(TicketInput("buy", "market", size="250", size_in_quote=True), SOL, book())
    assert plan.intents[0].size == 2_490_000_000
    assert quote_to_base(SOL, "1000", 100 * USD) == 10 * 10**9
    e = error(TicketInput("buy", "limit", size="0.5", size_in_quote=True, price="100"))
    assert "less than one lot" in e.message and "at least $1.00" in e.message


def test_flag_combinations_refused():
    assert error(TicketInput("buy", "market", size="1", post_only=True)).field == "post_only"
    assert "contradict" in error(TicketInput("buy", "limit", size="1", price="99", post_only=True, ioc=True)).message


def test_bracket_prices_must_be_on_the_right_side_of_the_entry():
    plan = build_plan(TicketInput("buy", "market", size="1", take_profit="105", stop_loss="95"), SOL, book())
    assert (plan.take_profit, plan.stop_loss) == (105 * USD, 95 * USD)
    assert error(TicketInput("buy", "market", size="1", stop_loss="101")).field == "stop_loss"
    assert error(TicketInput("sell", "limit", size="1", price="101", take_profit="102")).field == "take_profit"
    assert "bracket" in error(TicketInput("buy", "stop_market", size="1", trigger_price="101", take_profit="105")).message


def test_scale_spreads_the_size_over_the_range():
    plan = build_plan(TicketInput("sell", "limit", size="1", price="101", scale_count="3", scale_to="103"), SOL, book())
    assert [(i.price, i.size) for i in plan.intents] == [
        (101 * USD, 340_000_000), (102 * USD, 330_000_000), (103 * USD, 330_000_000)
    ]
    assert error(TicketInput("sell", "limit", size="1", price="101", scale_count="3")).field == "scale_to"
    assert error(TicketInput("sell", "limit", size="1", price="101", scale_count="x", scale_to="103")).field == "scale_count"


def test_preview_walks_the_book_and_asks_the_account():
    account = PaperAccount("sim-drift")
    account.add_markets([SOL])
    account.set_oracle("SOL-PERP", 100 * USD)
    plan = build_plan(TicketInput("buy", "market", size="2"), SOL, book())
    p = preview(plan, SOL, book(), 100 * USD, account)
    # 1 SOL at 100.01 and 1 SOL at 100.02: average 100.015, half a bp through the touch
    assert p.fill_price == 100_015_000 and round(p.slippage_bps, 2) == Decimal("0.50") and p.liquidity == "taker"
    assert p.notional == 200_030_000 and p.unfilled == 0
    assert p.fee == 70_011  # 3.5 bps taker of $200.03, the venue rounds the fee up
    assert p.position_after == 2 * 10**9 and p.entry_after == 100_015_000 and p.leverage_bps > 0

    resting = preview(build_plan(TicketInput("buy", "limit", size="1", price="99"), SOL, book()), SOL, book(), 0, account)
    assert resting.liquidity == "maker" and resting.slippage_bps is None and resting.fee < 0  # rebate

    thin = preview(build_plan(TicketInput("buy", "market", size="20"), SOL, book()), SOL, book())
    assert thin.unfilled == 9 * 10**9 and any("fills only 11" in n for n in thin.notes)


def test_price_steps_by_ticks_from_the_touch():
    assert step_price(SOL, "", 1, 99_990_000) == 99_990_000  # the first step lands on the touch
    assert step_price(SOL, "99.99", -1, 99_990_000) == 99_989_000
    assert step_price(SOL, "99.99", 10, None) == 100_000_000


def test_preview_warns_when_a_trigger_is_already_crossed():
    stop_sell = build_plan(TicketInput("sell", "stop_market", size="1", trigger_price="101"), SOL, book())
    assert any("fires at once" in n for n in preview(stop_sell, SOL, book(), 100 * USD).notes)
    stop_sell_below = build_plan(TicketInput("sell", "stop_market", size="1", trigger_price="99"), SOL, book())
    assert not any("fires at once" in n for n in preview(stop_sell_below, SOL, book(), 100 * USD).notes)
    tp_buy = build_plan(TicketInput("buy", "take_profit_market", size="1", trigger_price="101"), SOL, book())
    assert any("fires at once" in n for n in preview(tp_buy, SOL, book(), 100 * USD).notes)
