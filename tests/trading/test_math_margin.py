"""Margin, health, leverage, liquidation price and funding against worked
examples computed by hand (prices 1e6, base 1e9, quote 1e6, ratios 1e4)."""

import pytest

from quantdesk.core.math.funding import borrow_fee, funding_delta_to_rate, funding_payment, rate_to_funding_delta
from quantdesk.core.math.liquidation import liquidation_fee, liquidation_price, position_liquidation_price
from quantdesk.core.math.margin import (
    DRIFT_MARKET_PARAMS,
    MarginCategory,
    MarginParams,
    PerpExposure,
    account_health,
    account_leverage_bps,
    free_collateral,
    health,
    is_liquidatable,
    margin_ratio,
    margin_requirement,
    size_premium_ratio,
    total_collateral,
    worst_case_base,
)

SOL = 10**9
USD = 10**6
SOL_P = DRIFT_MARKET_PARAMS["SOL-PERP"]  # initial 500 (5 %, 20x), maintenance 300 (3 %), imf 50
ETH_P = DRIFT_MARKET_PARAMS["ETH-PERP"]  # initial 500, maintenance 200, imf 250
INIT, MAINT = MarginCategory.INITIAL, MarginCategory.MAINTENANCE


def sol_long(base=10 * SOL, entry=100, oracle=100):
    return PerpExposure(base, -(base // SOL) * entry * USD, oracle * USD, SOL_P)


def test_params_validate():
    with pytest.raises(ValueError, match="maintenance"):
        MarginParams(initial_ratio=300, maintenance_ratio=500)
    assert SOL_P.max_leverage_bps == 200_000  # 20x


def test_size_premium():
    # 10 SOL: isqrt(1e10*10+1) = 316_227; 0.8*500 + 316_227*50 // 1e7 = 400 + 1 -> floor at 500
    assert size_premium_ratio(10 * SOL, 50, 500) == 500
    # 100,000 SOL: isqrt(1e15+1) = 31_622_776; 400 + 158 = 558 (initial), 240 + 158 = 398 (maintenance)
    assert margin_ratio(100_000 * SOL, SOL_P, INIT) == 558
    assert margin_ratio(100_000 * SOL, SOL_P, MAINT) == 398
    assert size_premium_ratio(100_000 * SOL, 0, 500) == 500  # no imf, no premium


def test_one_x_long():
    # $1,000 collateral, long 10 SOL @ $100 = $1,000 notional.
    # initial req = 1000 * 5 % = $50, maintenance = $30, free = $950,
    # health = 100 * (1 - 30/1000) = 97, leverage 1x; a 1x long cannot be liquidated.
    exps = [sol_long()]
    assert margin_requirement(exps, INIT) == 50 * USD
    assert margin_requirement(exps, MAINT) == 30 * USD
    assert free_collateral(1000 * USD, exps) == 950 * USD
    assert account_health(1000 * USD, exps) == 97
    assert account_leverage_bps(1000 * USD, exps) == 10_000
    assert position_liquidation_price(1000 * USD, exps, 0) is None


def test_ten_x_long_liquidation_price():
    # $100 collateral, long 10 SOL @ $100: 10x. Maintenance free collateral 100 - 30 = $70.
    # At price p: total collateral 10p - 900, maintenance 0.3p -> liquidated below p = 900/9.7
    # = $92.7835051..., reported rounded toward the current price: 92.783506.
    exps = [sol_long()]
    assert account_leverage_bps(100 * USD, exps) == 100_000
    assert account_health(100 * USD, exps) == 70
    assert free_collateral(100 * USD, exps) == 50 * USD
    liq = position_liquidation_price(100 * USD, exps, 0)
    assert liq == 92_783_506
    # just above the price: still safe; just below: liquidatable
    assert not is_liquidatable(100 * USD, [sol_long(oracle=100)._replace(oracle_price=liq)])
    assert is_liquidatable(100 * USD, [sol_long()._replace(oracle_price=liq - 2)])


def test_ten_x_short_liquidation_price():
    # $100 collateral, short 10 SOL @ $100 (quote_entry +1000). At price p: total collateral
    # 1100 - 10p, maintenance 0.3p -> p = 1100/10.3 = 106.7961165..., rounded down: 106.796116.
    exps = [PerpExposure(-10 * SOL, 1000 * USD, 100 * USD, SOL_P)]
    assert position_liquidation_price(100 * USD, exps, 0) == 106_796_116
    assert liquidation_price(-10 * SOL, 100 * USD, 70 * USD, 300) == 106_796_116


def test_liquidation_price_uses_the_rest_of_the_account():
    # Add 0.1 ETH long @ $3,000 at the oracle: maintenance 2 % of $300 = $6.
    # SOL: 10p - 900 = 0.3p + 6 -> p = 906/9.7 = 93.4020618... -> 93.402062
    eth = PerpExposure(10**8, -300 * USD, 3000 * USD, ETH_P)
    exps = [sol_long(), eth]
    assert margin_requirement(exps, MAINT) == 36 * USD
    assert position_liquidation_price(100 * USD, exps, 0) == 93_402_062


def test_liquidation_price_preview_of_a_bigger_position():
    # Drift's preview: free collateral today ($70), sensitivity of 20 SOL: (1 - 0.03) * 20 = 19.4/$
    # -> 100 - 70/19.4 = 96.391752... -> 96.391753
    assert position_liquidation_price(100 * USD, [sol_long()], 0, base_change=10 * SOL) == 96_391_753


def test_unrealized_pnl_weights():
    # Drift mainnet counts profits at weight 0 toward initial margin, fully toward maintenance.
    drift_like = MarginParams(500, 300, unrealized_pnl_initial_weight=0)
    winning = PerpExposure(10 * SOL, -1000 * USD, 110 * USD, drift_like)  # +$100
    assert total_collateral(100 * USD, [winning], INIT) == 100 * USD
    assert total_collateral(100 * USD, [winning], MAINT) == 200 * USD
    losing = winning._replace(oracle_price=90 * USD)  # -$100 counts in full
    assert total_collateral(150 * USD, [losing], INIT) == 50 * USD


def test_health_clamps():
    assert health(1000 * USD, 0) == 100
    assert health(1000 * USD, 250 * USD) == 75
    assert health(100 * USD, 150 * USD) == 0
    assert health(0, 10) == 0 and health(-5, 0) == 0


def test_leverage_without_net_assets_is_unbounded():
    exps = [sol_long()._replace(oracle_price=5 * USD)]  # lost $950 of $100 collateral
    assert account_leverage_bps(100 * USD, exps) is None
    assert account_leverage_bps(100 * USD, []) == 0


def test_open_orders_worst_case():
    # long 1 with 3 bid and 6 ask resting: worst case is 1 - 6 = -5 (not 1 + 3 = 4)
    assert worst_case_base(SOL, 3 * SOL, 6 * SOL) == -5 * SOL
    assert worst_case_base(SOL, 3 * SOL, 0) == 4 * SOL
    exp = sol_long(base=SOL)._replace(quote_entry=-100 * USD, open_asks=6 * SOL)
    assert margin_requirement([exp], INIT, include_open_orders=True) == 25 * USD  # 5 * 100 * 5 %
    assert margin_requirement([exp], INIT) == 5 * USD


def test_liquidation_fee():
    # 10 SOL at $92.783506 = $927.83506 * 0.75 % = $6.95876295 -> rounded up 6.958763
    assert liquidation_fee(10 * SOL, 92_783_506, 7_500) == 6_958_763


def test_funding_payment_signs():
    # cumulative funding rose $0.01 per SOL: a 10 SOL long pays $0.10, a short receives it
    assert funding_payment(10 * SOL, 10_000_000, 0) == -100_000
    assert funding_payment(-10 * SOL, 10_000_000, 0) == 100_000
    # negative funding: shorts pay
    assert funding_payment(-10 * SOL, -10_000_000, 0) == -100_000
    assert funding_payment(10 * SOL, 5, 5) == 0


def test_funding_payment_truncates_symmetrically():
    # 0.0000015 SOL, $1 per SOL: 1.5 micro-USD -> 1 either way
    assert funding_payment(1_500, 10**9, 0) == -1
    assert funding_payment(-1_500, 10**9, 0) == 1


def test_rate_conversions():
    # 0.01 % per hour (100,000 ppb) at $100 = $0.01 per SOL (1e9 precision: 10,000,000)
    assert rate_to_funding_delta(100_000, 100 * USD) == 10_000_000
    assert funding_delta_to_rate(10_000_000, 100 * USD) == 100_000
    assert funding_delta_to_rate(10_000_000, 0) == 0
    # negative rates convert symmetrically (truncated toward zero): 1 ppb at $0.999999
    assert rate_to_funding_delta(1, 999_999) == 0 and rate_to_funding_delta(-1, 999_999) == 0


def test_borrow_fee():
    # $10,000 position, cumulative rate moved 0.06 % (600,000 at 1e9): $6
    assert borrow_fee(1_000_000, 400_000, 10_000 * USD) == 6 * USD
    assert borrow_fee(400_000, 400_000, 10_000 * USD) == 0
    # $1 position, 1 ppb: 0.001 micro-USD -> rounded up to 1
    assert borrow_fee(1, 0, USD) == 1
