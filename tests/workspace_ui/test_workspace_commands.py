"""The workspace commands in the command-line grammar: what parses, what a
mistake says, what completes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quantdesk.console.cmdline import (
    AddAlert,
    ListAlerts,
    AddNote,
    CommandContext,
    DeleteAlert,
    ParseError,
    WatchAdd,
    WatchDel,
    complete,
    parse,
    parse_script,
)

from quantdesk.core.alerts import Rule

CTX = CommandContext(markets=["SOL-PERP", "BTC-PERP", "ETH-PERP"], venues=["sim-drift", "sim-jup"],
                     alert_ids=["a1b2c3d4"], watchlists=["majors"])  # fmt: skip


def price(market: str, op: str, level: str) -> Rule:
    return Rule("price", op, Decimal(level), market)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text, command",
    [
        ("WATCH ADD SOL-PERP", WatchAdd("SOL-PERP", "main")),
        ("watch add sol-perp majors", WatchAdd("SOL-PERP", "majors")),
        ("WATCH DEL BTC-PERP", WatchDel("BTC-PERP", "main")),
        ("WATCH DEL BTC-PERP alts_2", WatchDel("BTC-PERP", "alts_2")),
        ("ALERT SOL-PERP ABOVE 150", AddAlert(price("SOL-PERP", ">", "150"))),
        ("ALERT SOL-PERP ABOVE 150.25 breakout, size up", AddAlert(price("SOL-PERP", ">", "150.25"), "breakout, size up")),
        ("alert eth-perp below 140", AddAlert(price("ETH-PERP", "<", "140"))),
        ("ALERT SOL-PERP PRICE > 180 breakout", AddAlert(price("SOL-PERP", ">", "180"), "breakout")),
        ("ALERT LOCAL SPREAD SOL-PERP sim-drift sim-jup > 20BPS",
         AddAlert(Rule("spread", ">", Decimal(20), "SOL-PERP", ("sim-drift", "sim-jup")), scope="local")),
        ("ALERT TEAM PNL < -500 ON sim-drift", AddAlert(Rule("pnl", "<", Decimal(-500), "", ("sim-drift",)), scope="team")),
        ("ALERT DEL a1b2c3d4", DeleteAlert("a1b2c3d4")),
        ("alerts", ListAlerts()),
        ("NOTE funding flips  at 09:00 @ 2x", AddNote("funding flips  at 09:00 @ 2x")),
    ],
)
def test_parses(text, command):
    assert parse(text, CTX) == command


@pytest.mark.parametrize(
    "command",
    [WatchAdd("SOL-PERP", "majors"), WatchDel("SOL-PERP", "main"), AddAlert(price("BTC-PERP", "<", "60000.5"), "stop"),
     AddAlert(price("SOL-PERP", ">", "150")), AddAlert(Rule("stale", ">", Decimal(10), "", ("sim-jup",)), scope="local"),
     DeleteAlert("a1b2c3d4"), ListAlerts(), AddNote("hello desk")],
)
def test_to_text_parses_back(command):
    assert parse(command.to_text(), CTX) == command


@pytest.mark.parametrize(
    "text, message, word",
    [
        ("WATCH", "WATCH needs ADD or DEL", ""),
        ("WATCH PUT SOL-PERP", "WATCH needs ADD or DEL", "PUT"),
        ("WATCH ADD", "missing market", ""),
        ("WATCH ADD DOGE-PERP", "unknown market 'DOGE-PERP'", "DOGE-PERP"),
        ("WATCH ADD SOL-PERP my list", "unexpected 'list'", "list"),
        ("ALERT SOL-PERP", "missing what to watch on SOL-PERP", ""),
        ("ALERT SOL-PERP OVER 150", "'OVER' is not something to alert on", "OVER"),
        ("ALERT SOL-PERP ABOVE", "missing price", ""),
        ("ALERT SOL-PERP ABOVE -5", "price must be more than 0", "-5"),
        ("ALERT SOL-PERP BELOW 0", "price must be more than 0", "0"),
        ("ALERT SOL-PERP PRICE >180x", "'180x' is not a price", "180x"),
        ("ALERT SPREAD SOL-PERP sim-drift kraken > 5BPS", "unknown venue 'kraken'", "kraken"),
        ("ALERT DOGE-PERP PRICE > 1", "unknown market or alert kind 'DOGE-PERP'", "DOGE-PERP"),
        ("ALERT DEL", "missing alert id", ""),
        ("NOTE", "missing note text", ""),
        ("NOTE   ", "missing note text", ""),
    ],
)
def test_mistakes_point_at_the_word_and_say_what_to_do(text, message, word):
    with pytest.raises(ParseError) as info:
        parse(text, CTX)
    err = info.value
    assert message in err.message
    assert text[err.start : err.end] == word
    if text.startswith("ALERT ") and "DEL" not in text:
        assert "e.g. ALERT " in err.message  # a rule mistake comes with a complete example


def test_completion_offers_the_next_words():
    assert complete("WATCH ", CTX) == ["ADD", "DEL"]
    assert complete("WATCH ADD S", CTX) == ["SOL-PERP"]
    assert complete("WATCH ADD SOL-PERP ", CTX) == ["majors"]
    assert complete("ALERT ", CTX)[:2] == ["DEL", "SOL-PERP"]
    assert {"SPREAD", "POSITION", "FEED", "PNL", "LOCAL", "TEAM"} <= set(complete("ALERT ", CTX))
    assert complete("ALERT SOL-PERP ", CTX) == ["PRICE", "ABOVE", "BELOW", "FUNDING", "IMBALANCE"]
    assert complete("ALERT POSITION SOL-PERP ", CTX) == ["LIQ"]
    assert complete("ALERT SOL-PERP F", CTX) == ["FUNDING"]
    assert complete("ALERT SOL-PERP PRICE ", CTX) == [">", "<", ">=", "<="]
    assert complete("ALERT SPREAD SOL-PERP ", CTX) == ["sim-drift", "sim-jup"]
    assert complete("ALERT SOL-PERP PRICE > 180 ", CTX) == ["ON", "COOLDOWN", "HYST"]
    assert complete("ALERT DEL ", CTX) == ["a1b2c3d4"]
    assert {"WATCH", "ALERT", "NOTE"} <= set(complete("", CTX))


def test_a_startup_script_may_set_alerts_before_the_venues_are_up():
    script = "WATCH ADD SOL-PERP\nALERT SOL-PERP BELOW 140 check funding\n# a comment\nNOTE desk open\n"
    cmds = [c for _, c in parse_script(script, CommandContext())]
    assert cmds == [WatchAdd("SOL-PERP"), AddAlert(price("SOL-PERP", "<", "140"), "check funding"), AddNote("desk open")]


def test_a_bare_alert_says_every_form():
    with pytest.raises(ParseError) as info:
        parse("ALERT", CTX)
    assert "ALERT SOL-PERP PRICE > 180" in info.value.message and "ALERT DEL <id>" in info.value.message
    assert "ALERTS" in info.value.message
    assert info.value.expected[:2] == ("DEL", "SOL-PERP")
