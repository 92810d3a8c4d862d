"""alerts.toml: rules read with their notes and ids, added and removed by
editing only their own lines, and every bad entry reported with its line,
what is wrong and an example, without losing the good ones."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.config.alert_rules import RulesFile, rule_id
from quantdesk.core.alerts import Rule, parse_rule

FILE = """\
# my rules
[[alert]]
rule = "SOL-PERP PRICE > 180"
note = "breakout"

# carry watch
[[alert]]
id = "carry"
rule = "ALERT SOL-PERP FUNDING > 50%"

[[alert]]
rule = "FEED drift STALE 10S"
"""


def test_rules_notes_and_ids_are_read(tmp_path):
    path = tmp_path / "alerts.toml"
    path.write_text(FILE)
    rules, problems = RulesFile(path).load()
    assert problems == []
    assert [(r.id, r.rule, r.note, r.line) for r in rules] == [
        (rule_id(Rule("price", ">", Decimal(180), "SOL-PERP")), Rule("price", ">", Decimal(180), "SOL-PERP"), "breakout", 2),
        ("carry", Rule("funding", ">", Decimal(50), "SOL-PERP"), "", 7),
        (rule_id(rules[2].rule), Rule("stale", ">", Decimal(10), "", ("drift",)), "", 11),
    ]


def test_an_id_made_from_the_rule_is_the_same_however_it_is_spelled():
    assert rule_id(parse_rule("sol-perp price >180").rule) == rule_id(parse_rule("ALERT SOL-PERP PRICE > 180.0").rule)
    assert rule_id(parse_rule("SOL-PERP PRICE > 181").rule) != rule_id(parse_rule("SOL-PERP PRICE > 180").rule)


def test_add_appends_and_remove_takes_out_only_that_rule(tmp_path):
    path = tmp_path / "alerts.toml"
    path.write_text(FILE)
    f = RulesFile(path)
    added = f.add(parse_rule("PNL < -500").rule, note='stop "now"')
    rules, problems = f.load()
    assert problems == [] and rules[-1].id == added.id and rules[-1].note == 'stop "now"'
    assert f.remove("carry") is True
    after = path.read_text()
    assert "FUNDING" not in after and "# my rules" in after and "breakout" in after
    assert "# carry watch" in after  # a comment above a removed table is the trader's: kept
    assert [r.id for r in f.load()[0]] == [rules[0].id, rules[2].id, added.id]
    assert f.remove("carry") is False


def test_add_creates_the_file_with_a_header(tmp_path):
    f = RulesFile(tmp_path / "new" / "alerts.toml")
    assert f.load() == ([], [])
    f.add(parse_rule("SOL-PERP PRICE < 100").rule)
    assert f.path.read_text().startswith("# QuantDesk alert rules")
    assert [r.rule.threshold for r in f.load()[0]] == [Decimal(100)]


def test_every_bad_entry_is_reported_with_its_line_and_the_good_ones_are_kept(tmp_path):
    path = tmp_path / "alerts.toml"
    path.write_text("""\
[[alert]]
rule = "SOL-PERP PRICE >> 180"

[[alert]]
rule = "SOL-PERP FUNDING > 50"

[[alert]]
rule = "PNL < -500"
colour = "red"

[[alert]]
note = "no rule"

[[alert]]
rule = "SOL-PERP PRICE > 150"
id = "x"

[[alert]]
rule = "SOL-PERP PRICE > 160"
id = "x"
""")
    before = path.read_text()
    rules, problems = RulesFile(path).load()
    assert [r.rule.threshold for r in rules] == [Decimal(150)]
    text = [str(p) for p in problems]
    assert text[0].startswith(f"{path}:1: alert[1].rule: '>' is not a price") and "e.g. ALERT SOL-PERP PRICE > 180" in text[0]
    assert text[1].startswith(f"{path}:4: alert[2].rule: '50' needs a unit") and "FUNDING > 50%" in text[1]
    assert text[2].startswith(f"{path}:7: alert[3].colour: unknown key")
    assert text[3].startswith(f"{path}:11: alert[4].rule: required")
    assert text[4].startswith(f"{path}:18: alert[6]: id 'x' is used again (first on line 14)")
    assert len(problems) == 5 and path.read_text() == before  # nothing rewritten, nothing lost


def test_a_file_that_is_not_toml_says_so(tmp_path):
    path = tmp_path / "alerts.toml"
    path.write_text("[[alert]\nrule = ")
    rules, problems = RulesFile(path).load()
    assert rules == [] and "not valid TOML" in str(problems[0])
