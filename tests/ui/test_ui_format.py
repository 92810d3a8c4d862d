"""Display strings from fixed-point integers: what a trader reads must be exact."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quantdesk.core.model import Market
from quantdesk.console import format as fmt

SOL = Market("sim-drift", "SOL-PERP", "SOL", "USD", "clob", tick_size=1_000, lot_size=10_000_000)
BTC = Market("sim-drift", "BTC-PERP", "BTC", "USD", "clob", tick_size=100_000, lot_size=100_000)
POOL = Market("sim-jup", "BTC-PERP", "BTC", "USDC", "pool", tick_size=1, lot_size=1_000_000)


def test_prices_show_exactly_the_tick_precision_with_separators():
    assert fmt.price(145_200_000, SOL) == "145.200"
    assert fmt.price(95_412_300_000, BTC) == "95,412.3"
    assert fmt.price(Decimal(145_200_500), SOL, extra=1) == "145.2005"  # a mid between two ticks
    assert fmt.size(12_340_000_000, SOL) == "12.34"
    assert fmt.size(100_000, BTC) == "0.0001"
    assert fmt.price(None, SOL) == "—"


def test_prices_without_a_tick_get_seven_significant_digits():
    assert fmt.price(95_401_465_123, POOL) == "95,401.47"
    assert fmt.price(145_123_456, POOL.__class__("v", "SOL", "SOL", "USD", "pool", 1, 1)) == "145.1235"
    assert fmt.price(999_999, POOL) == "0.999999"


def test_rounding_is_half_even_never_float_noise():
    assert fmt.fixed(2_675, 3, 2) == "2.68"
    assert fmt.fixed(2_665, 3, 2) == "2.66"
    assert fmt.fixed(1, 9, 9) == "0.000000001"


@pytest.mark.parametrize(
    ("ppb", "text"),
    [(125_000, "+0.0125%"), (-9_000, "-0.0009%"), (0, "+0.0000%")],
)
def test_rates_in_percent(ppb, text):
    assert fmt.rate_pct(ppb) == text


def test_annualized_and_borrow_rates():
    assert fmt.apr_pct(76_500_000) == "+7.65%"
    assert fmt.apr_pct(548_600_000, sign=False) == "54.86%"


def test_compact_magnitudes():
    assert fmt.compact(276_400_000_000_000, 9) == "276K"
    assert fmt.compact(1_160_000_000_000_000, 9) == "1.16M"
    assert fmt.compact(80_100_000_000_000, 6, prefix="$") == "$80.1M"
    assert fmt.compact(-12_345, 0) == "-12.3K"
    assert fmt.compact(419_500_000_000, 9) == "419.5"


def test_countdown_age_and_clock():
    assert fmt.countdown(61 * 10**9) == "01:01"
    assert fmt.countdown(3_725 * 10**9) == "1:02:05"
    assert fmt.countdown(-5) == "00:00"
    assert fmt.age(0.04) == "0.0s"
    assert fmt.age(14.2) == "14s"
    assert fmt.age(600) == "10m"
    assert fmt.age(None) == "—"
    assert fmt.clock(1_795_000_000 * 10**9) == "2026-11-18 11:06:40 UTC"


def test_bars_have_eighth_cell_resolution_and_fixed_width():
    assert fmt.bar(1.0, 4) == "████"
    assert fmt.bar(0.5, 4) == "██  "
    assert fmt.bar(1 / 32, 4) == "▏   "
    assert fmt.bar(0.0, 3) == "   "
    assert fmt.bar(2.0, 2) == "██"


def test_bps_and_leverage():
    assert fmt.bps(fmt.ratio_bps(7, 145_260)) == "0.48"
    assert fmt.bps(Decimal("-3.514"), sign=True) == "-3.51"
    assert fmt.ratio_bps(1, 0) is None
    assert fmt.leverage(50_000) == "5.00x"
