"""On any input, the command grammar raises only ``ParseError`` and the
configuration loader only ``ProblemsError``: a typo, a paste or a hostile file
gets a message, never a traceback."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from quantdesk.config.settings import Settings, load_config
from quantdesk.console.cmdline import CommandContext, ParseError, parse
from quantdesk.core.problems import ProblemsError

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CTX = CommandContext(
    markets=["SOL-PERP", "BTC-PERP", "ETH-PERP"],
    venues=["sim-drift", "sim-jup"],
    layouts=["overview", "scalper"],
    themes=["dark", "amber"],
    order_ids=["ord-1"],
)
WORDS = ["SOL-PERP", "BTC-PERP", "BUY", "SELL", "@", "MKT", "POST", "IOC", "STOP", "TP", "USD", "CANCEL", "ALL",
         "WATCH", "ADD", "DEL", "ALERT", "ABOVE", "BELOW", "NOTE", "LAYOUT", "SAVE", "THEME", "VENUE", "KILL", "OFF",
         "HELP", "QUIT", "DEPTH", "FUND", "SPRD", "POS", "ORD", "FILLS", "TRADES", "2", "145.20", "-1", "0", "1e999999",
         "NaN", "Infinity", "1_000", "0x10", "１２", "²", "..", "ord-1", "overview", "amber", "sim-drift", '"', "\x00"]
commands = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=6)), max_size=9).map(" ".join),
)


@SETTINGS
@given(commands, st.sampled_from([CTX, CommandContext()]))
@example("SOL-PERP BUY 1e999999 @ 1e999999", CTX)
@example("BUY ²", CTX)
@example("SOL-PERP BUY １２ @ 145", CTX)
def test_the_command_grammar_raises_only_parse_error(text, ctx):
    try:
        parse(text, ctx)
    except ParseError as exc:
        assert str(exc)  # a message for the trader


# -- configuration from arbitrary TOML -------------------------------------------

def _section_fields() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, field in Settings.model_fields.items():
        model = field.annotation
        fields = getattr(model, "model_fields", None)
        out[name] = list(fields) if fields else []
    out["venues.drift"] = ["enabled", "dlob_url", "rpc_urls", "max_slot_lead", "silence_s", "markets"]
    return out


SECTIONS = _section_fields()
toml_scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(["1e999999", "-1e999999", "NaN", "²", "０", "redis://:p#w@h/0", "/nonexistent/x", ""]),
)
toml_values = st.recursive(toml_scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=8)


def _toml_key(key: str) -> str:
    return json.dumps(key)  # a basic string: any key, escaped


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    return "[" + ", ".join(_toml_value(x) for x in v) + "]"


@st.composite
def toml_documents(draw) -> str:
    lines = []
    for section in draw(st.lists(st.sampled_from([*SECTIONS, "nope", "ui.extra"]), max_size=4, unique=True)):
        lines.append(f"[{section}]")
        known = SECTIONS.get(section) or ["x"]
        odd = st.sampled_from(["²", "１", "0", "-1", "x.y", ""])  # keys that look numeric or nested
        keys = draw(st.lists(st.one_of(st.sampled_from(known), odd, st.text(max_size=4)), max_size=5, unique=True))
        for key in keys:
            lines.append(f"{_toml_key(key)} = {_toml_value(draw(toml_values))}")
    return "\n".join(lines) + "\n"


def _load(text: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "config.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_config(path, environ={})
        except ProblemsError as exc:
            assert exc.problems  # every problem named, with where it is


@SETTINGS
@given(st.one_of(toml_documents(), st.text(max_size=200)))
@example('[sim]\nrate = "1e999999"\n')
@example("[ui]\nfps = nan\n")
@example('[ui]\n"²" = 1\n')
def test_config_loading_raises_only_problems_error(text):
    _load(text)
