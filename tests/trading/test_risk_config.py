"""The [risk] section: every number bounded, every bad value a Problem with
its key and a fix, and no config that loads can make a risk check raise."""

from __future__ import annotations

import json
import tomllib
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantdesk.config.settings import check_config
from quantdesk.core.book import OrderBook
from quantdesk.core.model import BookSnapshot, OrderIntent
from quantdesk.trading.risk import RiskContext, RiskEngine, RiskLimits

SOL = 10**9
USD = 10**6


@pytest.fixture(autouse=True)
def no_user_config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in list(__import__("os").environ):
        if name.startswith("QUANTDESK_"):
            monkeypatch.delenv(name)


def load(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return check_config(path, environ={})


def test_an_overflowing_leverage_is_a_config_problem_not_an_overflow_later(tmp_path):
    settings, problems = load(tmp_path, '[risk]\nmax_leverage = "1e999999"\n')
    assert settings is None
    [p] = problems
    assert p.key == "risk.max_leverage" and "1000" in p.message and p.fix.startswith("e.g. max_leverage = 10")


@pytest.mark.parametrize(
    "line, key",
    [
        ("max_order_notional = 1e300", "risk.max_order_notional"),
        ('max_position_notional = "NaN"', "risk.max_position_notional"),
        ('max_position_notional = "Infinity"', "risk.max_position_notional"),
        ('max_position_notional_per_market = { "SOL-PERP" = "1e999999" }', "risk.max_position_notional_per_market.SOL-PERP"),
        ("price_band_bps = 0", "risk.price_band_bps"),
        ("max_open_orders = 10000000000000000000000", "risk.max_open_orders"),
        ("max_orders_per_second = 0", "risk.max_orders_per_second"),
        ("max_data_age_s = -1", "risk.max_data_age_s"),
        ('self_trade = "sometimes"', "risk.self_trade"),
    ],
)
def test_every_risk_number_is_bounded(tmp_path, line, key):
    settings, problems = load(tmp_path, f"[risk]\n{line}\n")
    assert settings is None and [p.key for p in problems] == [key]


def test_a_key_that_looks_like_a_number_is_a_problem_not_a_value_error(tmp_path):
    # "²".isdigit() is true and int("²") raises: the key must still be reported
    settings, problems = load(tmp_path, '[ui]\n"²" = 1\n[risk]\nmax_position_notional_per_market = { "³" = "1e999999" }\n')
    assert settings is None
    keys = sorted(p.key for p in problems)
    assert keys == ["risk.max_position_notional_per_market.³", "ui.²"]
    assert any(p.message == "unknown key" for p in problems)


def test_loaded_limits_reach_the_engine(tmp_path):
    settings, problems = load(tmp_path, '[risk]\nmax_leverage = "2.5"\nmax_data_age_s = 3\nself_trade = "cancel_both"\n')
    assert problems == []
    limits = settings.risk.limits()
    assert isinstance(limits, RiskLimits)
    assert (limits.max_leverage, limits.max_data_age_s, limits.self_trade) == (Decimal("2.5"), 3, "cancel_both")


# ---------------------------------------------------------------- properties

FIELDS = (
    "max_order_notional", "max_position_notional", "max_leverage", "price_band_bps",
    "max_open_orders", "max_orders_per_second", "max_data_age_s", "kill_switch", "self_trade",
)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["1e999999", "-1e999999", "1e-999999", "0", "0.01", "1000", "NaN", "sNaN", "²", "", "ten"]),
    st.booleans(),
    st.text(max_size=12),
)
toml_values = st.one_of(numbers, st.lists(numbers, max_size=2), st.dictionaries(st.text(max_size=4), numbers, max_size=2))


def toml_literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml_literal(v) for v in value) + "]"
    return "{ " + ", ".join(f"{toml_literal(k)} = {toml_literal(v)}" for k, v in value.items()) + " }"


def book() -> OrderBook:
    b = OrderBook("sim-drift", "SOL-PERP")
    b.apply_snapshot(BookSnapshot("sim-drift", "SOL-PERP", 1, 0, [(99 * USD, SOL)], [(101 * USD, SOL)]))
    return b


intents = st.builds(
    OrderIntent,
    st.just("sim-drift"), st.just("SOL-PERP"), st.sampled_from(["buy", "sell"]),
    st.sampled_from(["market", "limit", "stop_market", "stop_limit", "take_profit_market", "take_profit_limit"]),
    st.integers(min_value=-(10**20), max_value=10**20),
    price=st.integers(min_value=0, max_value=10**15), trigger_price=st.integers(min_value=0, max_value=10**15),
    reduce_only=st.booleans(), ioc=st.booleans(),
)
contexts = st.builds(
    RiskContext,
    ts=st.integers(min_value=0, max_value=10**19),
    oracle_price=st.integers(min_value=-(10**12), max_value=10**15),
    position_base=st.integers(min_value=-(10**20), max_value=10**20),
    open_orders=st.integers(min_value=0, max_value=10**6),
    equity=st.integers(min_value=-(10**15), max_value=10**15),
    account_notional=st.integers(min_value=0, max_value=10**18),
    open_bids=st.integers(min_value=0, max_value=10**20),
    open_asks=st.integers(min_value=0, max_value=10**20),
    book=st.one_of(st.none(), st.builds(book)),
    data_age_ns=st.one_of(st.none(), st.integers(min_value=0, max_value=10**15)),
    tick_size=st.integers(min_value=1, max_value=10**6),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.dictionaries(st.sampled_from(FIELDS + ("max_position_notional_per_market",)), toml_values, max_size=4),
    intent=intents,
    ctx=contexts,
)
def test_any_risk_value_loads_or_is_a_problem_and_loaded_limits_never_make_a_check_raise(
    tmp_path, values, intent, ctx
):
    text = "[risk]\n" + "".join(f"{k} = {toml_literal(v)}\n" for k, v in values.items())
    tomllib.loads(text)  # the generator writes valid TOML; the values are what is hostile
    settings, problems = load(tmp_path, text)
    if settings is None:
        assert problems and all(p.key.startswith("risk") for p in problems)
        return
    assert problems == []
    engine = RiskEngine(settings.risk.limits())
    decision = engine.check(intent, ctx)
    assert decision.accepted or decision.message
    engine.check_batch([intent, intent], ctx)
    engine.protective_price(intent, ctx)


def _numeric_fields(model, prefix=""):
    """(dotted key, constraints) of every int, float or Decimal in the schema,
    dict and list values included."""
    import types
    import typing

    from pydantic import BaseModel

    for name, info in model.model_fields.items():
        ann = info.annotation
        args = typing.get_args(ann) if typing.get_origin(ann) in (typing.Union, types.UnionType, list, dict) else (ann,)
        for a in args:
            metadata = list(info.metadata)
            if typing.get_origin(a) is typing.Annotated:
                a, *extra = typing.get_args(a)
                metadata = [m for e in extra for m in getattr(e, "metadata", [e])]
            if isinstance(a, type) and issubclass(a, BaseModel):
                yield from _numeric_fields(a, f"{prefix}{name}.")
            elif a in (int, float, Decimal):
                yield f"{prefix}{name}", metadata


def _bounded(metadata) -> bool:
    from annotated_types import Ge, Gt, Le, Lt

    kinds = {type(m) for m in metadata}
    return bool(kinds & {Ge, Gt}) and bool(kinds & {Le, Lt})


def test_every_number_in_the_schema_is_bounded():
    from quantdesk.config.settings import Settings

    fields = dict(_numeric_fields(Settings))
    assert "risk.max_leverage" in fields and "venues.drift.priority_fee_micro_lamports" in fields
    unbounded = [key for key, info in fields.items() if not _bounded(info)]
    assert unbounded == []


def test_an_infinite_drift_period_is_a_problem(tmp_path):
    settings, problems = load(tmp_path, "[venues.drift]\nsilence_s = inf\npriority_fee_micro_lamports = 1000000000000\n")
    assert settings is None
    assert sorted(p.key for p in problems) == ["venues.drift.priority_fee_micro_lamports", "venues.drift.silence_s"]
