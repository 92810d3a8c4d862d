"""The command-line grammar: good commands, every kind of mistake, completion,
scripts, and property tests (only ParseError ever escapes; commands round-trip)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.console.cmdline import (
    PANE_KEYWORD,
    CancelAll,
    CancelOrder,
    ChangeCollateral,
    CommandContext,
    Help,
    Kill,
    ParseError,
    PlaceOrder,
    Quit,
    SaveLayout,
    ScriptError,
    SelectMarket,
    SetLayout,
    SetTheme,
    SetVenue,
    ShowNews,
    ShowPane,
    complete,
    parse,
    parse_script,
)

CTX = CommandContext(
    markets=["SOL-PERP", "BTC-PERP", "ETH-PERP"],
    venues=["sim-drift", "sim-jup"],
    layouts=["overview", "scalper", "carry"],
    themes=["dark", "amber", "high-contrast"],
    order_ids=["ord-1", "ord-22"],
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("SOL-PERP DEPTH", ShowPane("depth", "SOL-PERP")),
        ("btc-perp fund", ShowPane("funding", "BTC-PERP")),
        ("SPRD", ShowPane("spreads")),
        ("SOL-PERP", SelectMarket("SOL-PERP")),
        (
            "SOL-PERP BUY 2 @ 145.20 POST",
            PlaceOrder("SOL-PERP", "buy", Decimal("2"), "base", "limit", Decimal("145.20"), post_only=True),
        ),
        ("ETH-PERP SELL 1000 USD MKT", PlaceOrder("ETH-PERP", "sell", Decimal("1000"), "usd", "market")),
        ("ETH-PERP SELL 0.5 ETH MKT", PlaceOrder("ETH-PERP", "sell", Decimal("0.5"), "base", "market")),
        (
            "SOL-PERP BUY 2 @ 150 STOP 149",
            PlaceOrder("SOL-PERP", "buy", Decimal(2), "base", "stop_limit", Decimal(150), Decimal(149)),
        ),
        (
            "sol-perp sell 2 stop 140 reduce",
            PlaceOrder("SOL-PERP", "sell", Decimal(2), "base", "stop_market", None, Decimal(140), reduce_only=True),
        ),
        (
            "SOL-PERP SELL 1 @ 161 TP 160 IOC",
            PlaceOrder("SOL-PERP", "sell", Decimal(1), "base", "take_profit_limit", Decimal(161), Decimal(160), ioc=True),
        ),
        ("buy 2@145", PlaceOrder(None, "buy", Decimal(2), "base", "limit", Decimal(145))),
        ("CANCEL ALL", CancelAll()),
        ("cancel all eth-perp", CancelAll("ETH-PERP")),
        ("CANCEL ord-22", CancelOrder("ord-22")),
        ("LAYOUT scalper", SetLayout("scalper")),
        ("layout save my-desk", SaveLayout("my-desk")),
        ("THEME AMBER", SetTheme("amber")),
        ("VENUE sim-jup", SetVenue("sim-jup")),
        ("KILL", Kill()),
        ("kill off", Kill(engage=False)),
        ("HELP", Help()),
        ("help layout", Help("LAYOUT")),
        ("QUIT", Quit()),
        ("   SOL-PERP    DEPTH   ", ShowPane("depth", "SOL-PERP")),
        ("SOL-PERP COLLATERAL ADD 50", ChangeCollateral("SOL-PERP", Decimal(50))),
        ("collateral remove 20.5 short", ChangeCollateral(None, Decimal("-20.5"), "short")),
    ],
)
def test_good_commands(text, expected):
    assert parse(text, CTX) == expected


@pytest.mark.parametrize(
    "text, wrong_word, message_part, expected_part",
    [
        ("SOLPERP DEPTH", "SOLPERP", 'did you mean "SOL-PERP"', "SOL-PERP"),
        ("SOL-PERP DEPHT", "DEPHT", 'did you mean "DEPTH"', "DEPTH"),
        ("SOL-PERP BUY x @ 1", "x", "not a size", "<size>"),
        ("SOL-PERP BUY -2 MKT", "-2", "not a size", "<size>"),
        ("SOL-PERP BUY 0 MKT", "0", "more than 0", "<size>"),
        ("SOL-PERP BUY 2 @ 1e3", "1e3", "not a price", "<price>"),
        ("SOL-PERP BUY 2 @ 145 MKT", "MKT", "MKT with a limit price", None),
        ("SOL-PERP BUY 2 MKT POST", "POST", "POST needs a resting limit", None),
        ("SOL-PERP BUY 2 @ 1 POST IOC", "IOC", "contradict", None),
        ("SOL-PERP BUY 2 STOP 1 TP 2", "TP", "one trigger price", None),
        ("THEME pink", "pink", "unknown theme", "amber"),
        ("LAYOUT scalpr", "scalpr", 'did you mean "scalper"', "scalper"),
        ("VENUE drift", "drift", "unknown venue", "sim-jup"),
        ("CANCEL ALL DOGE-PERP", "DOGE-PERP", "unknown market", "SOL-PERP"),
        ("SPRD now", "now", "after a complete command", None),
        ("LAYOUT SAVE ../etc", "../etc", "not a usable layout name", None),
        ("SOL-PERP COLLATERAL PUT 5", "PUT", "COLLATERAL needs ADD or REMOVE", "ADD"),
        ("SOL-PERP COLLATERAL ADD -5", "-5", "not a USD amount", "<USD amount>"),
        ("SOL-PERP COLLATERAL ADD 5 SIDEWAYS", "SIDEWAYS", "after a complete command", None),
    ],
)
def test_errors_point_at_the_wrong_word(text, wrong_word, message_part, expected_part):
    with pytest.raises(ParseError) as info:
        parse(text, CTX)
    e = info.value
    assert text[e.start : e.end] == wrong_word
    assert message_part in e.message
    if expected_part is not None:
        assert expected_part in e.expected
    caret_line = e.pointer(text).splitlines()[1]
    assert caret_line == " " * e.start + "^" * len(wrong_word)


@pytest.mark.parametrize(
    "text, message_part, expected_part",
    [
        ("", "empty command", "HELP"),
        ("SOL-PERP BUY", "missing size", "<size>"),
        ("SOL-PERP BUY 2", "missing price", "@"),
        ("SOL-PERP BUY 2 @", "missing price", "<price>"),
        ("LAYOUT", "missing layout name", "scalper"),
        ("CANCEL", "missing order", "ALL"),
    ],
)
def test_missing_word_points_at_the_end(text, message_part, expected_part):
    with pytest.raises(ParseError) as info:
        parse(text, CTX)
    e = info.value
    assert (e.start, e.end) == (len(text), len(text))
    assert message_part in e.message
    assert expected_part in e.expected


def test_names_are_unchecked_when_the_context_does_not_know_them():
    ctx = CommandContext(markets=["SOL-PERP"])
    assert parse("THEME my-own", ctx) == SetTheme("my-own")
    assert parse("LAYOUT desk2", ctx) == SetLayout("desk2")


@pytest.mark.parametrize(
    "text, candidates",
    [
        ("S", ["SOL-PERP", "SELL", "SPRD"]),  # aliases (SPREADS) parse but are not offered
        ("sol-perp b", ["BUY"]),
        ("THEME a", ["amber"]),
        ("THEME ", ["dark", "amber", "high-contrast"]),
        ("CANCEL ", ["ALL", "ord-1", "ord-22"]),
        ("CANCEL ALL e", ["ETH-PERP"]),
        ("SOL-PERP BUY 2 ", ["USD", "SOL", "@", "MKT", "STOP", "TP", "POST", "IOC", "REDUCE"]),
        ("SOL-PERP BUY 2 @ 3 ", ["STOP", "TP", "POST", "IOC", "REDUCE"]),
        ("SOL-PERP BUY ", []),  # a number comes next: nothing to insert
        ("NOPE ", []),
        ("LAYOUT SAVE ", []),
    ],
)
def test_completion(text, candidates):
    assert complete(text, CTX) == candidates


def test_script_stops_at_the_first_bad_line():
    script = "# morning setup\nTHEME amber\n\nLAYOUT scalper\nSOL-PERP DEPHT\nKILL\n"
    with pytest.raises(ScriptError) as info:
        parse_script(script, CTX, source="morning.qd")
    e = info.value
    assert e.line == 5
    assert str(e).startswith("morning.qd:5:10: ")
    assert "DEPHT" in str(e) and "^^^^^" in str(e)
    assert [c for _, c in parse_script("THEME amber\nLAYOUT scalper\n", CTX)] == [SetTheme("amber"), SetLayout("scalper")]


# ------------------------------------------------------------ properties

_words = st.sampled_from(
    ["SOL-PERP", "sol-perp", "BUY", "SELL", "@", "MKT", "STOP", "TP", "POST", "IOC", "REDUCE", "USD", "CANCEL",
     "ALL", "LAYOUT", "SAVE", "THEME", "VENUE", "KILL", "OFF", "HELP", "DEPTH", "SPRD", "2", "145.20", "0", ".5",
     "1e9", "-1", "NaN", "Infinity", "∞", "é", "\x00", "", "9" * 40]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_words, st.text(max_size=6)), max_size=8), st.sampled_from([" ", "  ", "\t", "@"]))
def test_only_parse_error_escapes(words, sep):
    text = sep.join(words)
    try:
        parse(text, CTX)
    except ParseError as e:
        assert 0 <= e.start <= e.end <= len(text)
    complete(text, CTX)  # never raises at all


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_text_only_parse_error(text):
    try:
        parse(text, CTX)
    except ParseError:
        pass
    complete(text, CTX)


_dec = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1000000"), places=6, allow_nan=False)
_market = st.sampled_from(["SOL-PERP", "BTC-PERP", "ETH-PERP"])


@st.composite
def _orders(draw):
    price = draw(st.none() | _dec)
    trig_kind = draw(st.sampled_from([None, "stop", "take_profit"]))
    trigger = draw(_dec) if trig_kind else None
    if trig_kind:
        kind = f"{trig_kind}_{'limit' if price is not None else 'market'}"
    else:
        kind = "limit" if price is not None else "market"
    post = draw(st.booleans()) if kind == "limit" else False
    ioc = False if post else draw(st.booleans())
    return PlaceOrder(
        draw(st.none() | _market), draw(st.sampled_from(["buy", "sell"])), draw(_dec),
        draw(st.sampled_from(["base", "usd"])), kind, price, trigger, post, ioc, draw(st.booleans()),
    )


_commands = st.one_of(
    _orders(),
    _market.map(SelectMarket),
    st.builds(ShowPane, st.sampled_from(list(PANE_KEYWORD)), st.none() | _market),
    st.builds(CancelAll, st.none() | _market),
    st.sampled_from(["ord-1", "x7", "abc_DEF.9"]).map(CancelOrder),
    st.sampled_from(list(CTX.layouts)).map(SetLayout),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,10}", fullmatch=True).map(SaveLayout),
    st.sampled_from(list(CTX.themes)).map(SetTheme),
    st.sampled_from(list(CTX.venues)).map(SetVenue),
    st.booleans().map(Kill),
    st.builds(ChangeCollateral, st.none() | _market, _dec.map(lambda d: d) | _dec.map(lambda d: -d),
              st.sampled_from([None, "long", "short"])),
    st.just(Help()),
    st.just(Quit()),
    st.builds(ShowNews, st.none() | st.sampled_from(["SOL", "BTC", "ETH"])),
)


def _same(a, b):
    # Decimals compare by value: 145.20 and 145.2 are one price.
    return a == b


@settings(max_examples=300, deadline=None)
@given(_commands, st.sampled_from([str.upper, str.lower, str.title, lambda s: s]), st.sampled_from([" ", "   "]))
def test_round_trip(cmd, case, sep):
    text = sep.join(cmd.to_text().split(" "))
    # Case changes must not touch names that are not keywords (layout names to save).
    if not isinstance(cmd, (SaveLayout, CancelOrder)):
        text = case(text)
    assert _same(parse(text, CTX), cmd)


def test_markets_unchecked_without_a_market_list():
    ctx = CommandContext(layouts=["overview"])
    assert parse("doge-perp depth", ctx) == ShowPane("depth", "DOGE-PERP")
    assert parse("CANCEL ALL wif-perp", ctx) == CancelAll("WIF-PERP")
    with pytest.raises(ParseError, match="unknown command or market 'DEPHT'"):
        parse("DEPHT", ctx)


@settings(max_examples=200, deadline=None)
@given(_commands)
def test_completion_offers_every_keyword_and_name_of_a_valid_command(cmd):
    # Typing a command word by word, each keyword or known name is among the
    # candidates offered at that point (numbers and new names cannot be offered).
    words = cmd.to_text().split(" ")
    offerable = {*CTX.markets, *CTX.venues, *CTX.layouts, *CTX.themes, *CTX.order_ids,
                 "BUY", "SELL", "@", "MKT", "STOP", "TP", "POST", "IOC", "REDUCE", "USD", "SOL", "BTC", "ETH",
                 "CANCEL", "ALL", "LAYOUT", "SAVE", "THEME", "VENUE", "KILL", "OFF", "HELP", "QUIT", *PANE_KEYWORD.values()}
    for i, word in enumerate(words):
        if word not in offerable:
            continue
        prefix = " ".join(words[:i]) + (" " if i else "")
        assert word in complete(prefix, CTX), (prefix, word)
        assert word in complete(prefix + word[0], CTX), (prefix + word[0], word)
