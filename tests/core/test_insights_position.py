"""Per-position insights against hand-computed values: distance to
liquidation (in % and in sigma of realized volatility) and break-even price."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.core.cache import MinuteVolume
from quantdesk.core.insights import (
    break_even_price,
    liquidation_distance,
    liquidation_sigma,
    minute_samples,
    position_risk,
    realized_volatility,
    vwap_samples,
)
from quantdesk.core.model import Position, Trade

P = 1_000_000
S = 1_000_000_000
SEC = 1_000_000_000


def long10(**kw: object) -> Position:
    fields = dict(base=10 * S, quote_entry=-1_000 * P, entry_price=100 * P, mark_price=100 * P, liquidation_price=80 * P)
    fields.update(kw)
    return Position("sim-drift", "SOL-PERP", **fields)  # type: ignore[arg-type]


def short2(**kw: object) -> Position:
    fields = dict(base=-2 * S, quote_entry=200 * P, entry_price=100 * P, mark_price=110 * P, liquidation_price=120 * P)
    fields.update(kw)
    return Position("sim-drift", "SOL-PERP", **fields)  # type: ignore[arg-type]


def test_liquidation_distance_is_the_adverse_move_as_a_fraction_of_the_price():
    assert liquidation_distance(long10()) == Decimal("0.2")  # 100 -> 80
    assert liquidation_distance(long10(), 90 * P) == Decimal(10) / 90
    assert liquidation_distance(short2()) == Decimal(10) / 110  # 110 -> 120
    # already past it: negative, so "LIQ < 5%" holds
    assert liquidation_distance(long10(), 75 * P) == Decimal(-5) / 75


def test_liquidation_distance_unknown_without_a_liquidation_price_or_size():
    assert liquidation_distance(long10(liquidation_price=None)) is None
    assert liquidation_distance(long10(base=0)) is None
    assert liquidation_distance(long10(mark_price=0)) is None


def test_realized_volatility_from_samples():
    # +10 % six times, one second apart: sum r^2 = 0.06 over 6 s
    prices = [100_000_000, 110_000_000, 121_000_000, 133_100_000, 146_410_000, 161_051_000, 177_156_100]
    samples = [(i * SEC, p) for i, p in enumerate(prices)]
    assert realized_volatility(samples, horizon_ns=6 * SEC) == Decimal("0.244948974")  # sqrt(0.06)
    # over a day: sqrt(0.06 * 86400 / 6) = sqrt(864)
    assert realized_volatility(samples) == Decimal("29.393876913")
    assert realized_volatility(samples[:5]) is None  # too few returns
    assert realized_volatility([(0, p) for p in prices]) is None  # no time elapsed


def test_vwap_samples_average_each_second_so_bid_ask_bounce_cancels():
    trades = [
        Trade("v", "m", 100_000_000, 100 * P, 1 * S, "sell"),
        Trade("v", "m", 500_000_000, 102 * P, 3 * S, "buy"),
        Trade("v", "m", 1_200_000_000, 103 * P, 1 * S, "buy"),
    ]
    assert vwap_samples(trades) == [(500_000_000, 101_500_000), (1_200_000_000, 103 * P)]
    m = MinuteVolume(3)
    m.buy_size, m.notional = 2 * S, 2 * S * 150 * P
    assert minute_samples([m, MinuteVolume(4)]) == [(4 * 60 * SEC, 150 * P)]


def test_liquidation_in_sigma():
    assert liquidation_sigma(Decimal("0.2"), Decimal("0.05")) == 4
    assert liquidation_sigma(Decimal("0.2"), None) is None
    assert liquidation_sigma(None, Decimal("0.05")) is None
    assert liquidation_sigma(Decimal("0.2"), Decimal(0)) is None


def test_break_even_price_covers_fees_funding_and_the_closing_fee():
    # 10 SOL long at 100: paid $0.35 fees and $0.65 funding; closing costs 3.5 bp
    # exit * 10 * (1 - 0.00035) = 1000 + 1  ->  100.135047266..., rounded up
    p = long10(fees=350_000, funding=-650_000)
    assert break_even_price(p, 350) == 100_135_048
    assert break_even_price(p) == 100_100_000  # no closing fee: 1001 / 10
    # 10 SOL short at 100, same costs: exit * 10 * 1.00035 = 1000 - 1 -> 99.865047233..., rounded down
    s = Position("v", "m", -10 * S, 1_000 * P, 100 * P, fees=350_000, funding=-650_000)
    assert break_even_price(s, 350) == 99_865_047
    # funding received lowers a long's break-even below its entry
    assert break_even_price(long10(funding=2 * P)) == 99_800_000
    assert break_even_price(long10(base=0)) is None


def test_position_risk_gathers_every_figure():
    prices = [100_000_000, 110_000_000, 121_000_000, 133_100_000, 146_410_000, 161_051_000, 177_156_100]
    samples = [(i * SEC, p) for i, p in enumerate(prices)]
    r = position_risk(long10(fees=350_000), 90 * P, samples, 350)
    assert r.price == 90 * P and r.distance == Decimal(10) / 90
    assert r.volatility == Decimal("29.393876913")
    assert r.sigma == r.distance / r.volatility
    assert r.fees == 350_000 and r.funding == 0
    assert r.break_even == break_even_price(long10(fees=350_000), 350)
    assert position_risk(long10(), None, []).price == 100 * P  # no oracle: the position's mark
