"""The paper account: fills with fees, funding, borrow fees, margin events and
liquidation, with hand-computed amounts (price 1e6, base 1e9, quote 1e6)."""

from quantdesk.core.model import Funding, Market
from quantdesk.trading.paper_account import (
    JUPITER_MARGIN_PARAMS,
    LIQUIDATION_ORDER_ID,
    SIM_JUP_FEES,
    FeeSchedule,
    PaperAccount,
)

SOL = 10**9
USD = 10**6
HOUR = 3600 * 10**9
NO_FEES = FeeSchedule(0, 0)


def account(collateral=10_000 * USD, fees=None, **kw):
    a = PaperAccount("sim-drift", collateral, **({"fees": fees} if fees else {}), **kw)
    a.add_markets([Market("sim-drift", "SOL-PERP", "SOL", "USDC", "clob", 1_000, 10_000_000)])
    a.set_oracle("SOL-PERP", 100 * USD)
    return a


def test_fills_fees_and_realized_pnl():
    a = account()
    # buy 10 SOL @ $100 as taker: 3.5 bps of $1,000 = $0.35
    f = a.fill("SOL-PERP", "o1", "buy", 100 * USD, 10 * SOL, "taker", ts=1)
    assert f.fee == 350_000 and f.venue == "sim-drift" and f.fill_id
    assert a.collateral == 9_999_650_000
    # oracle to $110: unrealized +$100
    a.set_oracle("SOL-PERP", 110 * USD)
    assert a.equity() == 10_099_650_000
    # sell 5 @ $110 as maker: rebate 0.25 bp of $550 = $0.01375; realizes 5 * $10 = $50
    f = a.fill("SOL-PERP", "o2", "sell", 110 * USD, 5 * SOL, "maker", ts=2)
    assert f.fee == -13_750
    assert a.collateral == 9_999_650_000 + 50 * USD + 13_750
    p = a.position_event("SOL-PERP", ts=3)
    assert (p.base, p.entry_price, p.unrealized_pnl) == (5 * SOL, 100 * USD, 50 * USD)
    assert p.realized_pnl == 50 * USD - 350_000 + 13_750
    assert p.mark_price == 110 * USD


def test_margin_events_at_ten_x():
    # $100 collateral, long 10 SOL @ $100 (fees off for round numbers): see test_math_margin
    a = account(100 * USD, NO_FEES)
    a.fill("SOL-PERP", "o1", "buy", 100 * USD, 10 * SOL, "taker", ts=1)
    acct = a.account_event(ts=2)
    assert (acct.collateral, acct.equity, acct.free_collateral) == (100 * USD, 100 * USD, 50 * USD)
    assert (acct.margin_requirement, acct.health, acct.leverage_bps) == (50 * USD, 70, 100_000)
    pos = a.position_event("SOL-PERP", ts=2)
    assert pos.liquidation_price == 92_783_506
    assert (pos.margin, pos.leverage_bps) == (50 * USD, 100_000)
    events = a.events(ts=2)
    assert [type(e).__name__ for e in events] == ["Position", "AccountState"]


def test_liquidation_when_maintenance_is_breached():
    a = account(100 * USD, NO_FEES)
    a.fill("SOL-PERP", "o1", "buy", 100 * USD, 10 * SOL, "taker", ts=1)
    a.set_oracle("SOL-PERP", 92_783_506)  # the liquidation price itself: still safe
    assert a.liquidate_if_needed(ts=2) == []
    # $92.78: total collateral 100 - 72.2 = 27.8 < maintenance 3 % of 927.8 = 27.834
    a.set_oracle("SOL-PERP", 92_780_000)
    [(fill, liq)] = a.liquidate_if_needed(ts=3)
    # closed at the oracle; fee 0.75 % of $927.80 = $6.9585
    assert (fill.order_id, fill.side, fill.price, fill.size, fill.fee) == (
        LIQUIDATION_ORDER_ID, "sell", 92_780_000, 10 * SOL, 6_958_500
    )
    assert (liq.base, liq.price, liq.fee) == (-10 * SOL, 92_780_000, 6_958_500)
    assert "maintenance margin breached" in liq.reason
    assert a.positions["SOL-PERP"].base == 0
    assert a.collateral == 100 * USD - 72_200_000 - 6_958_500
    assert a.account_event(ts=4).health == 100


def test_liquidation_closes_the_biggest_requirement_first():
    a = account(300 * USD, NO_FEES)
    a.add_markets([Market("sim-drift", "ETH-PERP", "ETH", "USDC", "clob", 10_000, 1_000_000)])
    a.set_oracle("ETH-PERP", 3000 * USD)
    a.fill("SOL-PERP", "o1", "buy", 100 * USD, 10 * SOL, "taker", ts=1)  # $1,000, maint 3 %
    a.fill("ETH-PERP", "o2", "buy", 3000 * USD, SOL, "taker", ts=1)  # $3,000, maint 2 %: $60
    a.set_oracle("ETH-PERP", 2800 * USD)  # -$200: TC 100 vs maintenance 30 + 56 = 86: safe
    assert a.liquidate_if_needed(ts=2) == []
    a.set_oracle("ETH-PERP", 2780 * USD)  # -$220: TC 80 vs 30 + 55.6 = 85.6: breached
    closed = a.liquidate_if_needed(ts=3)
    assert [f.market for f, _ in closed] == ["ETH-PERP"]  # $55.60 > $30
    assert a.positions["SOL-PERP"].base == 10 * SOL


def test_funding_longs_pay_shorts_when_positive():
    long_, short = account(fees=NO_FEES), account(fees=NO_FEES)
    long_.fill("SOL-PERP", "o", "buy", 100 * USD, 10 * SOL, "taker", ts=1)
    short.fill("SOL-PERP", "o", "sell", 100 * USD, 10 * SOL, "taker", ts=1)
    # 0.01 % of $100 = $0.01 per SOL: 10 SOL -> $0.10
    [p] = long_.settle_funding("SOL-PERP", 100_000, ts=2)
    assert (p.amount, p.kind, p.rate) == (-100_000, "funding", 100_000)
    assert short.settle_funding("SOL-PERP", 100_000, ts=2)[0].amount == 100_000
    assert long_.settle_funding("SOL-PERP", -100_000, ts=3)[0].amount == 100_000
    assert long_.collateral == 10_000 * USD
    assert long_.positions["SOL-PERP"].realized_pnl == 0


def test_funding_is_settled_when_the_venue_hour_turns():
    a = account(fees=NO_FEES)
    a.fill("SOL-PERP", "o", "buy", 100 * USD, 10 * SOL, "taker", ts=1)

    def ev(ts, next_ts, rate=100_000):
        return Funding("sim-drift", "SOL-PERP", ts, rate, rate, 3600, next_ts)

    assert a.on_funding(ev(1, HOUR)) == []  # first sight: nothing settled yet
    assert a.on_funding(ev(2, HOUR)) == []  # same hour
    assert a.on_funding(Funding("sim-jup", "SOL-PERP", 3, 1, 1, 3600, 5 * HOUR)) == []  # other venue
    [p] = a.on_funding(ev(HOUR, 2 * HOUR))
    assert p.amount == -100_000
    [p] = a.on_funding(ev(3 * HOUR, 4 * HOUR))  # two hours passed (the session was paused)
    assert p.amount == -200_000


def test_flip_starts_funding_afresh():
    a = account(fees=NO_FEES)
    a.fill("SOL-PERP", "o", "buy", 100 * USD, 10 * SOL, "taker", ts=1)
    a.settle_funding("SOL-PERP", 100_000, ts=2)
    a.fill("SOL-PERP", "o", "sell", 100 * USD, 20 * SOL, "taker", ts=3)  # now short 10
    [p] = a.settle_funding("SOL-PERP", 100_000, ts=4)
    assert p.amount == 100_000  # only this hour, received by the short


def test_borrow_fee_on_the_pool_venue():
    a = PaperAccount("sim-jup", fees=SIM_JUP_FEES, params={}, default_params=JUPITER_MARGIN_PARAMS)
    a.set_oracle("SOL-PERP", 100 * USD)
    f = a.fill("SOL-PERP", "o", "sell", 100 * USD, 10 * SOL, "taker", ts=1)
    assert f.fee == 600_000  # 6 bps of $1,000
    # 0.005 % an hour (50,000 ppb) of $1,000 = $0.05, paid by a short as by a long
    ev = Funding("sim-jup", "SOL-PERP", 1, 50_000, 50_000, 3600, HOUR, kind="borrow")
    assert a.on_funding(ev) == []
    [p] = a.on_funding(Funding("sim-jup", "SOL-PERP", HOUR, 50_000, 50_000, 3600, 2 * HOUR, kind="borrow"))
    assert (p.amount, p.kind) == (-50_000, "borrow")
    assert a.collateral == 10_000 * USD - 600_000 - 50_000


def test_order_margin_shortfall():
    a = account(100 * USD, NO_FEES)
    # 20 SOL at $100 needs 5 % of $2,000 = $100: fits; 21 SOL needs $105: $5 short
    assert a.order_margin_shortfall("SOL-PERP", "buy", 20 * SOL) == 0
    assert a.order_margin_shortfall("SOL-PERP", "buy", 21 * SOL) == 5 * USD
    a.fill("SOL-PERP", "o", "buy", 100 * USD, 20 * SOL, "taker", ts=1)
    assert a.order_margin_shortfall("SOL-PERP", "sell", 20 * SOL) == 0  # only reduces
    assert a.order_margin_shortfall("SOL-PERP", "buy", SOL) == 5 * USD
    # resting asks of 30 could leave a short of 10; 20 more could leave a short of 30, which
    # needs $150 of margin against $100: $50 short. (A short 20 would weigh as the long 20 does.)
    a.set_open_orders("SOL-PERP", 0, 30 * SOL)
    assert a.order_margin_shortfall("SOL-PERP", "sell", 10 * SOL) == 0
    assert a.order_margin_shortfall("SOL-PERP", "sell", 20 * SOL) == 50 * USD


def test_preview_does_not_touch_the_account():
    a = account(100 * USD)
    before = (a.collateral, dict(a.positions))
    pv = a.preview_fill("SOL-PERP", "buy", 10 * SOL, 100 * USD)
    # fee $0.35 -> collateral 99.65, maintenance free 69.65; 100 - 69.65 / 9.7 = 92.8195876...
    assert (pv.fee, pv.base, pv.entry_price) == (350_000, 10 * SOL, 100 * USD)
    assert pv.liquidation_price == 92_819_588
    assert pv.leverage_bps == 100_351  # $1,000 / $99.65
    assert pv.free_collateral == 49_650_000
    assert (a.collateral, a.positions) == before
    assert a.positions.get("SOL-PERP") is None or a.positions["SOL-PERP"].base == 0


def test_restore_by_replaying_fills_and_payments():
    a = account()
    fills = [
        a.fill("SOL-PERP", "o1", "buy", 100 * USD, 10 * SOL, "taker", ts=1),
        a.fill("SOL-PERP", "o2", "sell", 104 * USD, 4 * SOL, "maker", ts=2),
    ]
    payments = a.settle_funding("SOL-PERP", 250_000, ts=3)
    fills.append(a.fill("SOL-PERP", "o3", "sell", 97 * USD, 10 * SOL, "taker", ts=4))
    b = account()
    for f in fills[:2]:
        b.apply_fill(f)
    for p in payments:
        b.apply_payment(p)
    b.apply_fill(fills[2])
    assert b.collateral == a.collateral
    fields = ("base", "quote_entry", "realized_pnl", "fees", "funding")
    pa, pb = a.positions["SOL-PERP"], b.positions["SOL-PERP"]
    assert [getattr(pb, k) for k in fields] == [getattr(pa, k) for k in fields]
    assert b.position_event("SOL-PERP", 5) == a.position_event("SOL-PERP", 5)


def test_position_events_carry_the_fees_and_funding_of_what_is_held():
    a = account()
    a.fill("SOL-PERP", "o1", "buy", 100 * USD, 10 * SOL, "taker", ts=1)  # fee $0.35
    a.fill("SOL-PERP", "o2", "buy", 100 * USD, 10 * SOL, "taker", ts=2)  # fee $0.35 more
    a.settle_funding("SOL-PERP", 100_000, ts=3)  # 20 SOL long pays $0.20
    p = a.position_event("SOL-PERP", 4)
    assert (p.fees, p.funding) == (700_000, -200_000)
    # selling half keeps half of each: what the 10 SOL still held cost
    a.fill("SOL-PERP", "o3", "sell", 100 * USD, 10 * SOL, "taker", ts=5)
    p = a.position_event("SOL-PERP", 6)
    assert (p.fees, p.funding) == (350_000, -100_000)
    # flipping to a 10 SOL short: the new position paid half of the 20 SOL fill's $0.70
    a.fill("SOL-PERP", "o4", "sell", 100 * USD, 20 * SOL, "taker", ts=7)
    p = a.position_event("SOL-PERP", 8)
    assert (p.base, p.fees, p.funding) == (-10 * SOL, 350_000, 0)
    a.fill("SOL-PERP", "o5", "buy", 100 * USD, 10 * SOL, "taker", ts=9)
    p = a.position_event("SOL-PERP", 10)
    assert (p.base, p.fees, p.funding) == (0, 0, 0)
    # the account's lifetime totals are untouched by what is held
    assert a.positions["SOL-PERP"].fees == 350_000 * 2 + 350_000 + 700_000 + 350_000
