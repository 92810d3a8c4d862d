"""The alert rule grammar: every documented form parses to the rule it says,
reads back from its canonical text, and a mistake names the wrong part and
shows a complete example."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quantdesk.core.alerts import Rule, RuleError, expected_after, parse_rule, rule_text

MARKETS = ["SOL-PERP", "BTC-PERP"]
VENUES = ["drift", "jupiter", "sim-drift"]


def parse(text: str, note: bool = False):
    return parse_rule(text, MARKETS, VENUES, {"SOL": "SOL-PERP"}, note=note)


@pytest.mark.parametrize(
    "text, rule",
    [
        ("ALERT SOL-PERP PRICE > 180", Rule("price", ">", Decimal(180), "SOL-PERP")),
        ("ALERT SOL-PERP FUNDING > 50%", Rule("funding", ">", Decimal(50), "SOL-PERP")),
        ("ALERT SPREAD SOL-PERP drift jupiter > 20BPS", Rule("spread", ">", Decimal(20), "SOL-PERP", ("drift", "jupiter"))),
        ("ALERT SOL-PERP IMBALANCE > 0.7", Rule("imbalance", ">", Decimal("0.7"), "SOL-PERP")),
        ("ALERT POSITION SOL-PERP LIQ < 5%", Rule("liq", "<", Decimal(5), "SOL-PERP")),
        ("ALERT FEED drift STALE 10S", Rule("stale", ">", Decimal(10), "", ("drift",))),
        ("ALERT PNL < -500", Rule("pnl", "<", Decimal(-500))),
        ("sol imbalance < -0.5 on drift", Rule("imbalance", "<", Decimal("-0.5"), "SOL-PERP", ("drift",))),
        ("POSITION btc-perp LIQ <= 2.5% ON jupiter", Rule("liq", "<=", Decimal("2.5"), "BTC-PERP", ("jupiter",))),
        # the spellings a trader types without thinking
        ("alert sol price >180", Rule("price", ">", Decimal(180), "SOL-PERP")),
        ("SOL-PERP ABOVE 150", Rule("price", ">", Decimal(150), "SOL-PERP")),
        ("btc-perp below 60000.5", Rule("price", "<", Decimal("60000.5"), "BTC-PERP")),
        ("SOL-PERP FUNDING <= -10 %", Rule("funding", "<=", Decimal(-10), "SOL-PERP")),
        ("SPREAD SOL-PERP DRIFT Jupiter > 0.2%", Rule("spread", ">", Decimal(20), "SOL-PERP", ("drift", "jupiter"))),
        ("FEED drift STALE 2M", Rule("stale", ">", Decimal(120), "", ("drift",))),
        ("FEED drift STALE > 500MS", Rule("stale", ">", Decimal("0.5"), "", ("drift",))),
        # options
        ("SOL-PERP PRICE > 180 ON drift COOLDOWN 10M HYST 0.5",
         Rule("price", ">", Decimal(180), "SOL-PERP", ("drift",), 600, Decimal("0.5"))),
        ("SPREAD SOL-PERP drift jupiter > 20BPS HYST 5BPS",
         Rule("spread", ">", Decimal(20), "SOL-PERP", ("drift", "jupiter"), band=Decimal(5))),
        ("PNL < -500 COOLDOWN 0S ON sim-drift",
         Rule("pnl", "<", Decimal(-500), "", ("sim-drift",), 0)),
    ],
)
def test_each_form_parses_and_reads_back_from_its_canonical_text(text, rule):
    assert parse(text).rule == rule
    assert parse(rule_text(rule)).rule == rule
    assert parse("ALERT " + rule_text(rule)).rule == rule


def test_the_command_line_keeps_what_follows_the_rule_as_its_note():
    parsed = parse("ALERT SOL-PERP PRICE > 180 breakout, size up", note=True)
    assert parsed.rule == Rule("price", ">", Decimal(180), "SOL-PERP")
    assert parsed.note == "breakout, size up"


@pytest.mark.parametrize(
    "text, message, part",
    [
        ("ALERT SOL-PERP PRICE >> 180", "'>' is not a price", ">"),
        ("ALERT SOL-PERP PRICE = 180", "'=' is not a comparison", "="),
        ("ALERT SOL-PERP PRICE > 18O", "'18O' is not a price", "18O"),
        ("ALERT SOL-PERP PRICE > 0", "price must be more than 0", "0"),
        ("ALERT SOL-PERP FUNDING > 50", "'50' needs a unit", "50"),
        ("ALERT SOL-PERP FUNDING > 50BPS", "does not take 'BPS'", "50BPS"),
        ("ALERT SOL-PERP VOLUME > 5", "'VOLUME' is not something to alert on", "VOLUME"),
        ("ALERT DOGE-PERP PRICE > 1", "unknown market or alert kind 'DOGE-PERP'", "DOGE-PERP"),
        ("ALERT SPREAD SOL-PERP drift > 20BPS", "'>' is not a second venue", ">"),
        ("ALERT SPREAD SOL-PERP drift kraken > 20BPS", "unknown venue 'kraken'", "kraken"),
        ("ALERT SPREAD SOL-PERP drift drift > 20BPS", "two different venues", "drift"),
        ("ALERT FEED drift STALE 10", "'10' needs a unit", "10"),
        ("ALERT SOL-PERP IMBALANCE > 1.5", "imbalance runs from -1", "1.5"),
        ("ALERT SOL-PERP IMBALANCE > 70%", "'70%' is not an imbalance", "70%"),
        ("ALERT POSITION SOL-PERP < 5%", "expected LIQ", "<"),
        ("ALERT POSITION SOL-PERP LIQ < 5", "'5' needs a unit", "5"),
        ("ALERT FEED drift LATE 10S", "expected STALE", "LATE"),
        ("ALERT PNL < lots", "'lots' is not a PnL", "lots"),
        ("ALERT SOL-PERP PRICE > 180 COOLDOWN 1.5S", "whole seconds", "1.5S"),
        ("ALERT SOL-PERP PRICE > 180 HYST -1", "cannot be negative", "-1"),
        ("ALERT SOL-PERP PRICE > 180 soon", "unexpected 'soon' after a complete rule", "soon"),
        ("ALERT PNL < -500 ON kraken", "unknown venue 'kraken'", "kraken"),
    ],
)
def test_a_mistake_names_the_wrong_part_and_gives_an_example(text, message, part):
    with pytest.raises(RuleError) as info:
        parse(text)
    err = info.value
    assert message in err.message
    assert text[err.start : err.end] == part
    assert err.example.startswith("ALERT ") and parse(err.example).rule  # the example itself is a good rule
    assert err.example in str(err)


@pytest.mark.parametrize(
    "text, missing",
    [("ALERT", "missing rule"), ("ALERT SOL-PERP", "missing what to watch on SOL-PERP"),
     ("ALERT SOL-PERP PRICE", "missing comparison"), ("ALERT SOL-PERP PRICE >", "missing price"),
     ("ALERT SPREAD SOL-PERP drift", "missing second venue")],
)  # fmt: skip
def test_a_missing_part_points_at_the_end(text, missing):
    with pytest.raises(RuleError) as info:
        parse(text)
    assert missing in info.value.message
    assert info.value.start == info.value.end == len(text)


def test_each_kind_gives_its_own_example():
    examples = {}
    for text in ("SOL-PERP FUNDING > x", "SPREAD SOL-PERP drift", "FEED drift STALE", "PNL <",
                 "SOL-PERP IMBALANCE", "POSITION SOL-PERP"):
        with pytest.raises(RuleError) as info:
            parse(text)
        examples[text.split()[0 if not text.startswith("SOL") else 1]] = info.value.example
    assert examples == {
        "FUNDING": "ALERT SOL-PERP FUNDING > 50%",
        "SPREAD": "ALERT SPREAD SOL-PERP drift jupiter > 20BPS",
        "FEED": "ALERT FEED drift STALE 10S",
        "PNL": "ALERT PNL < -500",
        "IMBALANCE": "ALERT SOL-PERP IMBALANCE > 0.7",
        "POSITION": "ALERT POSITION SOL-PERP LIQ < 5%",
    }


def test_without_lists_anything_shaped_right_is_taken():
    """A rules file is read before the venues are up: names are checked later."""
    assert parse_rule("SPREAD ETH-PERP kraken binance > 5BPS").rule.venues == ("kraken", "binance")
    assert parse_rule("eth-perp price > 3000").rule.market == "ETH-PERP"


def test_what_may_come_next():
    assert expected_after("SOL-PERP", MARKETS, VENUES) == ["PRICE", "ABOVE", "BELOW", "FUNDING", "IMBALANCE"]
    assert set(expected_after("", MARKETS, VENUES)) == {"ALERT", *MARKETS, "SPREAD", "POSITION", "FEED", "PNL", "NEWS"}
    assert expected_after("SOL-PERP PRICE", MARKETS, VENUES)[:2] == [">", "<"]
    assert expected_after("SOL-PERP PRICE > 180", MARKETS, VENUES) == ["ON", "COOLDOWN", "HYST"]
    assert expected_after("SPREAD SOL-PERP", MARKETS, VENUES) == VENUES
    assert expected_after("SOL-PERP PRICE > oops", MARKETS, VENUES) == []


def test_news_completes_with_the_listed_assets():
    assert expected_after("NEWS", MARKETS, VENUES)[:1] == [MARKETS[0].split("-")[0]]
