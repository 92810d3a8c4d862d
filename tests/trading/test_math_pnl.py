"""Position accounting against worked examples (prices 1e6, base 1e9, quote 1e6)."""

import pytest

from quantdesk.core.math.fees import bps_to_ppm, fee, fill_fee
from quantdesk.core.math.fixed import div_ceil, div_round, div_trunc
from quantdesk.core.math.pnl import apply_fill, entry_price, fill_quote_delta, notional, unrealized_pnl

SOL = 10**9
USD = 10**6


def test_rounding_rules():
    assert div_trunc(-7, 2) == -3 and div_trunc(7, 2) == 3 and div_trunc(7, -2) == -3
    assert div_ceil(7, 2) == 4 and div_ceil(-7, 2) == -3
    assert div_round(5, 2) == 3 and div_round(-5, 2) == -3 and div_round(4, 3) == 1


def test_fill_quote_rounds_against_the_account():
    # 0.333333333 SOL at $150: exact value $49.99999995 -> a buy pays $50.000000,
    # a sell receives $49.999999
    size, price = 333_333_333, 150 * USD
    assert fill_quote_delta("buy", size, price) == -50_000_000
    assert fill_quote_delta("sell", size, price) == 49_999_999
    assert fill_quote_delta("sell", 2 * SOL, 150 * USD) == 300 * USD  # exact amounts are not rounded


def test_open_increase_average_entry():
    # buy 2 SOL @ 100 -> entry -200; buy 1 SOL @ 130 -> entry -330 over 3 SOL = 110 avg
    u = apply_fill(0, 0, 2 * SOL, fill_quote_delta("buy", 2 * SOL, 100 * USD))
    assert u == (2 * SOL, -200 * USD, 0, "open")
    u = apply_fill(u.base, u.quote_entry, SOL, fill_quote_delta("buy", SOL, 130 * USD))
    assert u == (3 * SOL, -330 * USD, 0, "increase")
    assert entry_price(u.base, u.quote_entry) == 110 * USD


def test_reduce_realizes_pro_rata():
    # long 3 SOL entry -330 (avg 110); sell 1 SOL @ 120: closed part cost 110, fetched 120 -> +10
    u = apply_fill(3 * SOL, -330 * USD, -SOL, fill_quote_delta("sell", SOL, 120 * USD))
    assert u == (2 * SOL, -220 * USD, 10 * USD, "reduce")
    assert entry_price(u.base, u.quote_entry) == 110 * USD  # reducing keeps the average


def test_close_short_at_a_loss():
    # short 2 SOL @ 100 (entry +200); buy back 2 @ 105: pays 210 -> -10
    u = apply_fill(-2 * SOL, 200 * USD, 2 * SOL, fill_quote_delta("buy", 2 * SOL, 105 * USD))
    assert u == (0, 0, -10 * USD, "close")


def test_flip_closes_then_opens_at_fill_price():
    # long 1 SOL @ 100; sell 3 @ 90 (receives 270): 1 closes for 90 (-10), 2 open short @ 90
    u = apply_fill(SOL, -100 * USD, -3 * SOL, fill_quote_delta("sell", 3 * SOL, 90 * USD))
    assert u == (-2 * SOL, 180 * USD, -10 * USD, "flip")
    assert entry_price(u.base, u.quote_entry) == 90 * USD


def test_unrealized_pnl():
    # long 2 SOL avg 110 marked at 125 -> +30; short 2 @ 90 marked at 95 -> -10
    assert unrealized_pnl(2 * SOL, -220 * USD, 125 * USD) == 30 * USD
    assert unrealized_pnl(-2 * SOL, 180 * USD, 95 * USD) == -10 * USD
    assert unrealized_pnl(0, 0, 95 * USD) == 0
    assert notional(-2 * SOL, 95 * USD) == 190 * USD


def test_fees_in_ppm_round_against_trader():
    assert bps_to_ppm("3.5") == 350 and bps_to_ppm(10) == 1000
    with pytest.raises(ValueError, match="two decimals"):
        bps_to_ppm("0.001")
    # $1,000 notional: taker 3.5 bps = $0.35; maker rebate -0.25 bp = -$0.025
    assert fee(1000 * USD, 350) == 350_000
    assert fee(1000 * USD, -25) == -25_000
    # $0.001 notional: 3.5 bps = 0.35 micro-USD -> charged 1; the 0.025 rebate rounds to 0
    assert fee(1_000, 350) == 1 and fee(1_000, -25) == 0
    assert fill_fee(2000 * USD, "taker", 350, -25) == 700_000
    assert fill_fee(2000 * USD, "maker", 350, -25) == -50_000
