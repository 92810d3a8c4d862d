"""Borrow-rate, fee, PnL and liquidation math: worked examples by hand, then the fixture's
derived values within their tolerance."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from support.jupiter_fixtures import LONG_POSITION, SOL_CUSTODY, data, lines

from quantdesk.venues.jupiter import borrow, position_math
from quantdesk.venues.jupiter.accounts import decoder
from quantdesk.venues.jupiter.derived import custody_derived, position_derived
from quantdesk.venues.jupiter.quotes import ladder_levels, quote_ladder
from quantdesk.venues.jupiter.views import CustodyView, JumpRate, PositionView, PriceImpactBuffer

USD = 1_000_000
CURVE = JumpRate(min_rate_bps=1000, max_rate_bps=15000, target_rate_bps=3500, target_utilization=800_000_000)


def sol_custody() -> CustodyView:
    return CustodyView.from_fields(decoder().decode(data(SOL_CUSTODY)).fields, SOL_CUSTODY)


def long_position() -> PositionView:
    return PositionView.from_fields(decoder().decode(data(LONG_POSITION)).fields, LONG_POSITION)


def expect(pubkey: str) -> tuple[dict, dict]:
    line = next(x for x in lines() if x["pubkey"] == pubkey)
    return line["expect"], line.get("tolerance", {})


# -- by hand -------------------------------------------------------------------------------------


def test_utilization_counts_borrow_lend_debt_on_both_sides():
    # 1,000 owned, 400 locked, 250 borrowed out (debt 300e9 of which 50e9 is interest): (400+250)/(1000+250)
    debt = borrow.debt_in_tokens(300 * 10**9, 50 * 10**9)
    assert debt == 250
    assert borrow.utilization(1000, 400, debt) == Decimal(650) / 1250 == Decimal("0.52")
    assert borrow.utilization(1000, 400) == Decimal("0.4")
    assert borrow.utilization(0, 0) == 0


def test_jump_rate_curve_by_hand():
    # below the kink: 10% + (35% - 10%) * 0.4 / 0.8 = 22.5% a year = 2250 bps
    assert borrow.jump_rate_apr_bps(Decimal("0.4"), CURVE) == 2250
    assert borrow.jump_rate_apr_bps(Decimal("0.8"), CURVE) == 3500
    # above: 35% + (150% - 35%) * (0.9 - 0.8) / 0.2 = 92.5%
    assert borrow.jump_rate_apr_bps(Decimal("0.9"), CURVE) == 9250
    assert borrow.jump_rate_apr_bps(Decimal(1), CURVE) == 15000
    assert borrow.jump_rate_apr_bps(Decimal(0), CURVE) == 1000


def test_linear_curve_by_hand():
    # 100 dbps = 0.1% an hour at full use; at 50% utilization 0.05% an hour = 438% a year
    hourly = borrow.linear_hourly_rate(100, Decimal("0.5"))
    assert hourly == Decimal("0.0005")
    assert borrow.apr_percent(hourly) == Decimal("438")


def test_custody_without_a_jump_curve_uses_the_linear_rate():
    c = replace(sol_custody(), jump_rate=JumpRate(0, 0, 0, 0), hourly_funding_dbps=100, owned=1000, locked=250)
    assert not borrow.uses_jump_rate(c)
    assert borrow.hourly_borrow_rate(c) == Decimal("0.00025")


def test_borrow_fee_owed_by_hand():
    # the cumulative rate moved 0.01% (100_000 at 1e9) on a $10,000 position: $1.000000
    assert borrow.borrow_fee_owed(1_000_100_000, 1_000_000_000, 10_000 * USD) == 1 * USD
    assert borrow.borrow_fee_owed(5, 10, 10_000 * USD) == 0  # a snapshot ahead of the custody owes nothing


def test_cumulative_rate_accrues_the_current_rate_since_the_last_update():
    c = sol_custody()
    per_hour = borrow.rate_ppb(borrow.hourly_borrow_rate(c))
    assert borrow.cumulative_rate_at(c, c.funding_last_update) == c.cumulative_interest_rate
    assert borrow.cumulative_rate_at(c, c.funding_last_update + 7200) == c.cumulative_interest_rate + 2 * per_hour


def test_fees_pnl_leverage_and_liquidation_by_hand():
    size, collateral, entry = 10_000 * USD, 1_000 * USD, 100 * USD  # 10x long at $100
    assert position_math.leverage(size, collateral) == 10
    assert position_math.leverage(size, 0) is None
    # 6 bps base + impact size^2/scalar: 10,000^2 * 1e12 / 1e15 = $0.1 impact
    assert position_math.close_fee_usd(size, 6, 10**15) == 6 * USD + 100_000
    assert position_math.pnl_usd("long", entry, 110 * USD, size) == 1_000 * USD
    assert position_math.pnl_usd("short", entry, 110 * USD, size) == -1_000 * USD
    assert position_math.pnl_after_fees_usd(1_000 * USD, 6 * USD, 2 * USD) == 992 * USD
    # max loss = 10,000 / 100x + $6 close + $4 borrow = $110; margin $1,000 -> $890 of room = 8.9% -> $91.10
    liq = position_math.liquidation_price("long", entry, size, collateral, 1_000_000, 6 * USD, 4 * USD)
    assert liq == 91_100_000
    assert position_math.liquidation_price("short", entry, size, collateral, 1_000_000, 6 * USD, 4 * USD) == 108_900_000
    assert position_math.liquidation_price("long", entry, 0, 0, 1_000_000, 0, 0) is None
    # fees above the margin: a long is already past its liquidation price
    assert position_math.liquidation_price("long", entry, size, 5 * USD, 1_000_000, 6 * USD, 4 * USD) > entry


def test_quote_ladder_by_hand():
    c = replace(sol_custody(), increase_position_bps=6, trade_impact_fee_scalar=10**15, max_position_size_usd=0)
    (rung,) = quote_ladder(c, 100 * USD, (10_000 * USD,))
    assert rung.open_fee_usd == 6 * USD and rung.long_impact_fee_usd == rung.short_impact_fee_usd == 100_000
    assert rung.size_base == 100 * 10**9  # 100 SOL at $100
    assert rung.long_price == 100 * USD + 61_000  # $6.1 over 100 units
    assert rung.short_price == 100 * USD - 61_000
    assert rung.fee_bps == Decimal("6.1")
    bigger = quote_ladder(c, 100 * USD, (1_000 * USD, 1_000_000 * USD))
    assert bigger[1].fee_bps > bigger[0].fee_bps  # impact grows with size
    bids, asks = ladder_levels(bigger)
    assert asks[0][0] < asks[1][0] and bids[0][0] > bids[1][0]
    # sizes add up from the touch: through the second level is the $1M rung's 10,000 SOL
    assert [n for _, n in asks] == [10 * 10**9, 9_990 * 10**9] == [n for _, n in bids]
    assert quote_ladder(c, 0, (1_000 * USD,)) == []


def _buffer(slots: dict[int, int], last_updated: int, **kw) -> PriceImpactBuffer:
    oi = [0] * 60
    for i, v in slots.items():
        oi[i] = v
    base = dict(fee_factor=2, exponent=Decimal(2), threshold_usd=1_000_000 * USD, max_fee_bps=50)
    base.update(kw)
    return PriceImpactBuffer(tuple(oi), last_updated, **base)


def test_the_minute_imbalance_counts_only_the_last_sixty_seconds():
    # updated at second 1_000_020 (slot 0... 1_000_020 % 60 == 0): slot 0 is that second, slot 59 the one before it,
    # slot 1 is 59 seconds before it
    buf = _buffer({0: 300_000 * USD, 59: -100_000 * USD, 1: 50_000 * USD}, 1_000_020)
    assert 1_000_020 % 60 == 0
    assert position_math.minute_imbalance(buf, 1_000_020) == 250_000 * USD
    assert position_math.minute_imbalance(buf, 1_000_021) == 200_000 * USD  # slot 1's second is now a minute old
    assert position_math.minute_imbalance(buf, 1_000_079) == 300_000 * USD  # only the newest second remains
    assert position_math.minute_imbalance(buf, 1_000_080) == 0
    assert position_math.minute_imbalance(buf, 999_000) == 250_000 * USD  # a clock behind the chain: as of the update
    assert position_math.minute_imbalance(_buffer({}, 0), 5) == 0


def test_the_additive_impact_fee_by_hand_and_its_cap():
    buf = _buffer({0: 300_000 * USD}, 1_000_020)
    size = 900_000 * USD
    linear = position_math.linear_impact_fee_usd(size, 10**17)  # 900,000^2 * 1e12 / 1e17 = $8.10
    assert linear == 8_100_000
    # a long: imbalance 300k + 900k = 1.2M over the 1M threshold: 2 * 1.2^2 = 2.88 bps = $259.20 more
    assert position_math.additive_impact_bps(buf, 1_200_000 * USD) == Decimal("2.88")
    long_fee = position_math.price_impact_fee_usd(size, 10**17, buf, 1_000_020, position_math.impact_delta("long", True, size))
    assert long_fee == linear + 259_200_000
    # a short brings the minute to -600k: under the threshold, the linear part alone
    short_fee = position_math.price_impact_fee_usd(size, 10**17, buf, 1_000_020, position_math.impact_delta("short", True, size))
    assert short_fee == linear
    # closing a short adds to the long side like opening a long
    assert position_math.impact_delta("short", False, size) == size
    # the whole impact fee ($267.30 here) is capped at max_fee_bps: 2 bps of $900k = $180
    capped = _buffer({0: 300_000 * USD}, 1_000_020, max_fee_bps=2)
    assert position_math.price_impact_fee_usd(size, 10**17, capped, 1_000_020, size) == 180 * USD
    assert position_math.price_impact_fee_usd(size, 10**17) == linear  # no buffer: linear only


def test_the_ladder_prices_the_imbalance_a_long_or_a_short_would_add():
    buf = _buffer({0: 300_000 * USD}, 1_000_020)
    c = replace(sol_custody(), increase_position_bps=6, trade_impact_fee_scalar=10**17, max_position_size_usd=0,
                price_impact=buf)  # fmt: skip
    (rung,) = quote_ladder(c, 100 * USD, (900_000 * USD,), now_s=1_000_020)
    assert rung.long_impact_fee_usd == 8_100_000 + 259_200_000 and rung.short_impact_fee_usd == 8_100_000
    assert rung.long_price - 100 * USD > 100 * USD - rung.short_price  # a long pays more here
    later = quote_ladder(c, 100 * USD, (900_000 * USD,), now_s=1_000_080)[0]  # a minute on: balanced again
    assert later.long_impact_fee_usd == later.short_impact_fee_usd == 8_100_000


def test_the_fixture_custodys_impact_buffer_decodes():
    buf = sol_custody().price_impact
    assert (buf.fee_factor, buf.exponent, buf.max_fee_bps) == (1, Decimal(1), 50)
    assert buf.threshold_usd == 1_500_000 * USD and len(buf.open_interest) == 60
    assert buf.last_updated == 1790272200


def test_ladder_leaves_out_sizes_over_the_custody_limit():
    c = replace(sol_custody(), max_position_size_usd=50_000 * USD)
    assert [r.size_usd for r in quote_ladder(c, 150 * USD)] == [1_000 * USD, 10_000 * USD, 50_000 * USD]


# -- against the fixture ------------------------------------------------------------------------


def test_custody_derived_matches_the_fixture():
    want, tol = expect(SOL_CUSTODY)
    got = custody_derived(sol_custody())
    assert abs(got["utilization"] - Decimal(str(want["derived.utilization"]))) <= Decimal(str(tol["derived.utilization"]))
    assert abs(got["borrow_apr"] - Decimal(str(want["derived.borrow_apr"]))) <= Decimal(str(tol["derived.borrow_apr"]))
    assert got["borrow_curve"] == "jump_rate"
    assert got["borrow_rate_hourly"] * 8760 == pytest.approx(got["borrow_apr"], rel=Decimal("1e-6"))
    assert got["max_leverage"] == 500


def test_position_derived_matches_the_fixture():
    want, tol = expect(LONG_POSITION)
    got = position_derived(long_position(), {SOL_CUSTODY: sol_custody()})
    assert got["side"] == "long"
    assert abs(got["borrow_fee_owed_usd"] - Decimal(str(want["derived.borrow_fee_owed_usd"]))) <= Decimal("1e-6")
    rel = Decimal(tol["derived.liquidation_price"].rstrip("%")) / 100
    want_liq = Decimal(str(want["derived.liquidation_price"]))
    assert abs(got["liquidation_price"] - want_liq) <= want_liq * rel
    assert got["leverage"] == pytest.approx(Decimal("27.44"), abs=Decimal("0.01"))


def test_position_without_its_custodies_says_which_are_needed():
    got = position_derived(long_position(), {})
    assert got["needs"] == [SOL_CUSTODY] and "liquidation_price" not in got
