"""Each pre-trade check with inputs just inside and just outside its limit."""

from decimal import Decimal

import pytest

from quantdesk.core.model import OrderIntent
from quantdesk.trading.risk import RiskContext, RiskEngine, RiskLimits

SOL = 10**9
USD = 10**6
S = 1_000_000_000  # ns


def intent(side="buy", size=SOL, price=0, type="limit", **kw):
    if type == "limit" and price == 0:
        price = 100 * USD
    return OrderIntent("sim-drift", "SOL-PERP", side, type, size, price=price, **kw)


def ctx(**kw):
    base = dict(ts=0, oracle_price=100 * USD, best_bid=99_900_000, best_ask=100_100_000, equity=100_000 * USD)
    base.update(kw)
    return RiskContext(**base)


def engine(**limits):
    defaults = dict(
        max_order_notional=1_000, max_position_notional=2_000, max_leverage=5, price_band_bps=500,
        max_open_orders=3, max_orders_per_second=1_000,
    )
    defaults.update(limits)
    return RiskEngine(RiskLimits(**defaults))


def test_defaults_and_config_validation():
    limits = RiskLimits()
    assert limits.max_leverage == Decimal(10) and limits.kill_switch is False
    assert RiskLimits(max_order_notional="2500.5").max_order_notional == Decimal("2500.5")
    with pytest.raises(TypeError, match="max_leverge"):
        RiskLimits(max_leverge=3)  # a typo is reported, not ignored
    with pytest.raises(ValueError, match="max_leverage"):
        RiskLimits(max_leverage=0)
    with pytest.raises(ValueError, match="max_leverage must be from 0.01 to 1000"):
        RiskLimits(max_leverage="1e999999")  # would overflow every check
    with pytest.raises(ValueError, match="self_trade"):
        RiskLimits(self_trade="sometimes")


def test_max_order_notional():
    e = engine()
    assert e.check(intent(size=10 * SOL), ctx()).accepted  # $1,000.00 == limit
    d = e.check(intent(size=10 * SOL + 100_000), ctx())  # 10.0001 SOL @ $100 = $1,000.01
    assert not d.accepted and d.check == "max_order_notional"
    assert d.message == "order notional $1,000.01 exceeds the max order notional $1,000.00 by $0.01"


def test_market_order_valued_at_the_touch():
    e = engine()
    # 9.99 SOL at the $100.10 ask = $999.999 -> inside; 10 SOL = $1,001 -> outside by $1.00
    assert e.check(intent(type="market", size=9_990_000_000), ctx()).accepted
    d = e.check(intent(type="market", size=10 * SOL), ctx())
    assert d.check == "max_order_notional" and d.message.endswith("by $1.00")


def test_max_position_notional_per_market():
    e = engine(max_order_notional=10_000)
    assert e.check(intent(size=5 * SOL), ctx(position_base=15 * SOL)).accepted  # 20 SOL = $2,000
    d = e.check(intent(size=5 * SOL + 100_000), ctx(position_base=15 * SOL))
    assert d.check == "max_position_notional"
    assert d.message == (
        "position in SOL-PERP would be $2,000.01, over the max position notional $2,000.00 by $0.01"
    )
    # already over the cap: reducing is still allowed
    assert e.check(intent(side="sell", size=SOL), ctx(position_base=25 * SOL)).accepted
    # a per-market override replaces the default
    e2 = engine(max_order_notional=10_000, max_position_notional_per_market={"SOL-PERP": 2_500})
    assert e2.check(intent(size=25 * SOL), ctx()).accepted
    assert e2.check(intent(size=25 * SOL + 100_000), ctx()).check == "max_position_notional"


def test_max_leverage_after_the_order():
    e = engine(max_order_notional=10**6, max_position_notional=10**6)
    # equity $1,000, $3,000 elsewhere; buying 20 SOL ($2,000) makes $5,000 = 5.00x: inside
    c = ctx(equity=1_000 * USD, account_notional=3_000 * USD)
    assert e.check(intent(size=20 * SOL), c).accepted
    assert e.check(intent(size=20 * SOL + 100_000), c).check == "max_leverage"
    d = e.check(intent(size=21 * SOL), c)
    assert d.message == "account leverage would be 5.10x, over the max leverage 5.00x by 0.10x"
    # no equity: nothing that adds exposure
    d = e.check(intent(size=SOL), ctx(equity=0))
    assert d.check == "max_leverage" and "deposit collateral" in d.message
    # a reducing order passes even when over the limit
    over = ctx(equity=1_000 * USD, position_base=80 * SOL, account_notional=8_000 * USD)
    assert e.check(intent(side="sell", size=SOL), over).accepted


def test_price_band_vs_oracle():
    e = engine(max_order_notional=10**6, max_position_notional=10**6)
    assert e.check(intent(price=105 * USD), ctx()).accepted  # exactly +5.00 %
    d = e.check(intent(price=105 * USD + 1), ctx())
    assert d.check == "price_band"
    assert d.message.startswith("limit price $105.00 is 5.00% above the oracle $100.00; the band is 5.00%")
    assert e.check(intent(side="sell", price=95 * USD), ctx()).accepted
    assert e.check(intent(side="sell", price=95 * USD - 1), ctx()).check == "price_band"
    # far from the market on the harmless side is a resting order, not a fat finger
    assert e.check(intent(price=50 * USD), ctx()).accepted
    d = e.check(intent(price=120 * USD), ctx())
    assert d.message.endswith("exceeded by 15.00%")
    # a market order is judged at the touch it would take
    assert e.check(intent(type="market"), ctx(best_ask=105 * USD)).accepted
    d = e.check(intent(type="market"), ctx(best_ask=106 * USD))
    assert d.check == "price_band" and d.message.startswith("best ask $106.00 is 6.00% above")
    assert e.check(intent(), ctx(oracle_price=0)).check == "price_band"


def test_max_open_orders():
    e = engine()
    assert e.check(intent(), ctx(open_orders=2)).accepted  # becomes the 3rd
    d = e.check(intent(), ctx(open_orders=3))
    assert d.check == "max_open_orders"
    assert d.message == "3 orders are open; one more exceeds the max open orders 3 by 1"
    # orders that never rest are not counted
    assert e.check(intent(type="market"), ctx(open_orders=3)).accepted
    assert e.check(intent(ioc=True), ctx(open_orders=3)).accepted
    assert not e.check(intent(type="stop_market", trigger_price=90 * USD), ctx(open_orders=3)).accepted


def test_max_orders_per_second_sliding_window():
    e = engine(max_orders_per_second=2)
    assert e.check(intent(), ctx(ts=0)).accepted
    assert e.check(intent(), ctx(ts=S // 2)).accepted
    d = e.check(intent(), ctx(ts=S - 1))  # both still inside the last second
    assert d.check == "max_orders_per_second"
    assert d.message == "2 orders in the last second; one more exceeds the max orders per second 2 by 1"
    assert e.check(intent(), ctx(ts=S)).accepted  # the order at 0 has left the window
    # rejections do not use up the budget: at 1.5 s the window holds 0.5 s and 1.0 s
    assert not e.check(intent(), ctx(ts=S + S // 4)).accepted
    assert e.check(intent(), ctx(ts=S + S // 2)).accepted


def test_reduce_only_must_reduce_and_not_flip():
    e = engine()
    long2 = ctx(position_base=2 * SOL)
    assert e.check(intent(side="sell", size=2 * SOL, reduce_only=True), long2).accepted
    d = e.check(intent(side="sell", size=2 * SOL + 1, reduce_only=True), long2)
    assert d.check == "reduce_only"
    assert d.message == (
        "reduce-only sell of 2.000000001 would flip the long of 2; it exceeds the position by 0.000000001"
    )
    d = e.check(intent(side="buy", size=SOL, reduce_only=True), long2)
    assert d.check == "reduce_only" and "cannot reduce a long of 2" in d.message
    d = e.check(intent(side="sell", size=SOL, reduce_only=True), ctx())
    assert d.check == "reduce_only" and "cannot reduce no position" in d.message
    assert e.check(intent(side="buy", size=SOL, reduce_only=True), ctx(position_base=-SOL)).accepted


def test_kill_switch_halts_everything_until_released():
    e = engine()
    e.engage_kill_switch("drawdown")
    assert e.kill_switch_engaged
    d = e.check(intent(side="sell", reduce_only=True), ctx(position_base=SOL))
    assert d.check == "kill_switch" and "drawdown" in d.message and "release" in d.message
    e.release_kill_switch()
    assert e.check(intent(), ctx()).accepted
    assert RiskEngine(RiskLimits(kill_switch=True)).check(intent(), ctx()).check == "kill_switch"


def test_order_params():
    e = engine()
    assert e.check(intent(size=0), ctx()).check == "order_size"
    d = e.check(OrderIntent("sim-drift", "SOL-PERP", "buy", "stop_limit", SOL, trigger_price=USD), ctx())
    assert d.check == "order_params" and "limit price" in d.message
    d = e.check(OrderIntent("sim-drift", "SOL-PERP", "buy", "stop_market", SOL), ctx())
    assert d.check == "order_params" and "trigger price" in d.message


def test_decision_carries_client_id_and_time():
    d = engine().check(intent(client_id="abc"), ctx(ts=42))
    assert (d.accepted, d.check, d.client_id, d.ts) == (True, "", "abc", 42)


def test_rejections_carry_exact_limit_and_excess_for_the_journal():
    e = engine()
    d = e.check(intent(size=10 * SOL + 100_000), ctx())
    assert (d.limit_value, d.excess) == ("1000", "0.01")
    d = e.check(intent(price=120 * USD), ctx())
    assert (d.check, d.limit_value, d.excess) == ("price_band", "500", "1500")  # bps
    e2 = engine(max_order_notional=10**6, max_position_notional=10**6)
    d = e2.check(intent(size=21 * SOL), ctx(equity=1_000 * USD, account_notional=3_000 * USD))
    assert (d.limit_value, d.excess) == ("5", "0.1")
    d = e.check(intent(side="sell", size=3 * SOL, reduce_only=True), ctx(position_base=2 * SOL))
    assert (d.limit_value, d.excess) == ("2", "1")


def test_stop_limit_price_is_banded_against_its_trigger():
    e = engine(max_order_notional=10**6, max_position_notional=10**6)
    # oracle $100, stop buy triggers at $110 with a limit of $115.50 (+5 % of the trigger): inside
    inside = OrderIntent("sim-drift", "SOL-PERP", "buy", "stop_limit", SOL, price=115_500_000, trigger_price=110 * USD)
    assert e.check(inside, ctx()).accepted
    outside = OrderIntent("sim-drift", "SOL-PERP", "buy", "stop_limit", SOL, price=115_500_001, trigger_price=110 * USD)
    d = e.check(outside, ctx())
    assert d.check == "price_band" and "above the trigger $110.00" in d.message


# ------------------------------------------------ market orders walk the book


def thin_book():
    """A thin ask side: 100 SOL at the touch, then the book thins out fast."""
    from quantdesk.core.book import OrderBook
    from quantdesk.core.model import BookSnapshot

    b = OrderBook("sim-drift", "SOL-PERP")
    asks = [(100_100_000, 100 * SOL), (110 * USD, 100 * SOL), (125 * USD, 400 * SOL)]
    b.apply_snapshot(BookSnapshot("sim-drift", "SOL-PERP", 1, 0, [(99_900_000, 100 * SOL)], asks))
    return b


def test_a_market_order_is_banded_at_its_worst_fill_not_the_touch():
    # $49,999 at the $100.10 touch is 499 SOL: walking the book it fills up to $125, 25 % through the oracle
    e = RiskEngine(RiskLimits())
    d = e.check(intent(type="market", size=499 * SOL), ctx(book=thin_book()))
    assert d.check == "price_band"
    assert d.message == (
        "market buy of 499 would fill up to $125.00, 25.00% above the oracle $100.00 (average fill $117.00); "
        "the band is 5.00%, exceeded by 20.00%; use a limit order or a smaller size"
    )
    assert (d.limit_value, d.excess) == ("500", "2000")  # bps
    # the first level alone is inside the band
    assert e.check(intent(type="market", size=100 * SOL), ctx(book=thin_book())).accepted


def test_a_market_order_is_valued_by_walking_the_book():
    e = RiskEngine(RiskLimits(price_band_bps=3_000, max_position_notional=10**6))
    # 100 x 100.10 + 100 x 110 + 299 x 125 = $58,385
    d = e.check(intent(type="market", size=499 * SOL), ctx(book=thin_book()))
    assert d.check == "max_order_notional"
    assert d.message == (
        "order notional $58,385.00 (walking the book for its size) exceeds the max order notional "
        "$50,000.00 by $8,385.00"
    )
    # what the book cannot fill is valued at the protective limit (oracle + 30 % = $130)
    assert e.order_notional(intent(type="market", size=700 * SOL), ctx(book=thin_book())) == (
        100 * 100_100_000 + 100 * 110 * USD + 400 * 125 * USD + 100 * 130 * USD
    )


def test_market_orders_are_sent_with_a_protective_limit_at_the_band():
    e = RiskEngine(RiskLimits(price_band_bps=500))
    c = ctx(oracle_price=100_123_456, tick_size=10_000)
    assert e.protective_price(intent(type="market"), c) == 105_120_000  # 105.1296... rounded toward the oracle
    assert e.protective_price(intent(side="sell", type="market"), c) == 95_120_000  # 95.1172... up to the tick
    # a tighter protection the trader chose is kept; limit orders keep their price
    assert e.protective_price(intent(type="market", price=101 * USD), c) == 101 * USD
    assert e.protective_price(intent(price=99 * USD), c) == 99 * USD
    # a market order carrying its protective limit still passes the band it was made from
    protected = intent(type="market", price=e.protective_price(intent(type="market"), c))
    assert e.check(protected, c).accepted


# ------------------------------------ resting orders and a ticket's children


def test_position_limit_counts_resting_orders_on_the_same_side():
    e = engine(max_order_notional=10_000)  # $2,000 position cap = 20 SOL at $100
    assert e.check(intent(size=5 * SOL), ctx(position_base=5 * SOL, open_bids=10 * SOL)).accepted  # 20 SOL
    d = e.check(intent(size=6 * SOL), ctx(position_base=5 * SOL, open_bids=10 * SOL))
    assert d.check == "max_position_notional"
    assert d.message == (
        "position in SOL-PERP would be $2,100.00 with the resting orders on that side, over the max position "
        "notional $2,000.00 by $100.00"
    )
    # resting sells do not add to a long's worst case
    assert e.check(intent(size=6 * SOL), ctx(position_base=5 * SOL, open_asks=10 * SOL)).accepted
    # resting sells do add to a new short
    assert e.check(intent(side="sell", size=11 * SOL), ctx(open_asks=10 * SOL)).check == "max_position_notional"


def test_a_scale_ticket_is_checked_as_a_whole_before_any_child_is_sent():
    # five $15k children against a $20k position cap: each alone fits, together they do not
    e = RiskEngine(RiskLimits(max_position_notional=20_000, max_orders_per_second=100))
    children = [intent(size=150 * SOL, price=100 * USD, client_id=f"s-{i}") for i in range(1, 6)]
    assert all(e.check(c, ctx()).accepted for c in children[:1])
    decisions = e.check_batch(children, ctx(ts=S))
    assert [d.accepted for d in decisions] == [False] * 5
    assert {d.check for d in decisions} == {"max_position_notional"}
    assert decisions[1].message.startswith("order 2 of 5 of the ticket: position in SOL-PERP would be $30,000.00")
    assert decisions[1].message.endswith("; nothing was sent")
    assert [d.client_id for d in decisions] == [f"s-{i}" for i in range(1, 6)]
    # a scale that fits is accepted whole, and every child counts toward the rate
    ok = e.check_batch(children[:2], ctx(ts=2 * S, position_base=-100 * SOL))
    assert all(d.accepted for d in ok)
    e2 = RiskEngine(RiskLimits(max_orders_per_second=3, max_position_notional=10**6))
    d = e2.check_batch([intent(size=SOL)] * 4, ctx())
    assert d[3].check == "max_orders_per_second" and d[3].message.startswith("order 4 of 4")
    assert all(x.accepted for x in e2.check_batch([intent(size=SOL)] * 3, ctx()))  # the failed batch used no budget


def test_a_scale_counts_each_child_against_max_open_orders():
    e = engine(max_order_notional=10**6, max_position_notional=10**6, max_open_orders=3)
    d = e.check_batch([intent(size=SOL // 10)] * 3, ctx(open_orders=1))
    assert d[2].check == "max_open_orders" and "3 orders are open" in d[2].message


def test_bracket_legs_count_against_max_open_orders():
    e = engine(max_open_orders=2)
    d = e.check(intent(), ctx(), bracket_legs=2)  # a resting entry and its take-profit and stop-loss
    assert d.check == "max_open_orders"
    assert d.message == (
        "0 orders are open; 3 more (the order and its 2 bracket legs) exceed the max open orders 2 by 1"
    )
    assert e.check(intent(type="market"), ctx(), bracket_legs=2).accepted  # the entry itself never rests
    d = e.check(intent(type="market"), ctx(open_orders=1), bracket_legs=2)
    assert d.check == "max_open_orders" and "its 2 bracket legs exceed" in d.message


# ------------------------------------------------------------- stale data


def test_orders_on_stale_market_data_are_rejected_with_the_age():
    e = RiskEngine(RiskLimits(max_data_age_s=10))
    assert e.check(intent(), ctx(data_age_ns=10 * S)).accepted
    d = e.check(intent(), ctx(data_age_ns=900 * S))
    assert d.check == "max_data_age_s"
    assert d.message == (
        "market data for SOL-PERP is 900.0 s old, over the max data age 10.0 s by 890.0 s; "
        "wait for the venue's data to resume"
    )
    assert (d.limit_value, d.excess) == ("10", "890")
    # even an order that only reduces: its price checks would be judged on old prices
    assert e.check(intent(side="sell", reduce_only=True), ctx(position_base=SOL, data_age_ns=900 * S)).check == (
        "max_data_age_s"
    )


def test_a_collateral_withdrawal_may_not_pass_the_max_leverage_and_a_deposit_always_may():
    # $1,000 of positions on $300 of equity at 5x max: $100 out leaves 5x exactly, $101 is over
    c = ctx(equity=300 * USD, account_notional=1_000 * USD)
    e = engine()
    assert e.check_collateral("SOL-PERP", -100 * USD, c).accepted
    over = e.check_collateral("SOL-PERP", -101 * USD, c)
    assert not over.accepted and over.check == "max_leverage"
    assert "taking out $101.00 would leave account leverage at 5.03x, over the max leverage 5.00x" in over.message  # 1000 / 199
    gone = e.check_collateral("SOL-PERP", -300 * USD, c)
    assert not gone.accepted and "leaves the account equity at $0.00" in gone.message
    e.engage_kill_switch()
    assert e.check_collateral("SOL-PERP", -1 * USD, c).check == "kill_switch"
    assert e.check_collateral("SOL-PERP", 50 * USD, c).accepted  # adding collateral only lowers risk
    stale = ctx(equity=300 * USD, data_age_ns=60 * S)
    assert engine().check_collateral("SOL-PERP", -1 * USD, stale).check == "max_data_age_s"
