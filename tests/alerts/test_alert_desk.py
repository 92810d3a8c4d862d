"""The alert desk with its real rules file and SQLite journal: rules of every
kind survive a restart with their state (a rule that fired and never re-armed
does not fire again on start, a re-armed one keeps its cooldown), each firing
is a journal line and reaches the announcer and the webhook, and an edit of
alerts.toml takes effect in the running terminal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quantdesk.config.alert_rules import RulesFile
from quantdesk.core.alerts import parse_rule
from quantdesk.sync.webhook import WebhookSender
from quantdesk.trading.journal import Journal
from quantdesk.wiring.alert_desk import AlertDesk, AlertError

from support.alert_cases import CASES, S, Desk, _price
from support.wait import until
from support.webhook_server import webhook_server


class Terminal:
    """One run of a terminal: its market, and an alert desk on the files it shares with the next run."""

    def __init__(self, tmp_path, market: Desk | None = None, webhook: WebhookSender | None = None) -> None:
        self.market = market or Desk()
        self.journal = Journal.open(tmp_path / "journal.sqlite3", clock=self.market.clock)
        self.desk = AlertDesk(self.market.cache, self.market.clock, rules=RulesFile(tmp_path / "alerts.toml"),
                              journal=self.journal, webhook=webhook, cooldown_s=60)  # fmt: skip
        self.fired: list[str] = []
        self.problems: list[str] = []
        self.desk.on_fire = lambda f: self.fired.append(f.message)
        self.desk.on_problems = lambda ps: self.problems.extend(str(p) for p in ps)
        self.market.ticks.append(self.desk.tick)
        self.desk.start(self.market.bus)

    async def close(self) -> None:
        await self.desk.stop()
        self.journal.close()


@pytest.mark.parametrize("name", list(CASES))
async def test_each_kind_survives_a_restart_with_its_state(name, tmp_path):
    case = CASES[name]
    first = Terminal(tmp_path)
    step = lambda t, v: case.set(t.market, Decimal(v))  # noqa: E731
    rid = await first.desk.add(parse_rule(case.rule).rule, note="watch it")
    step(first, case.quiet)
    step(first, case.over)
    assert len(first.fired) == 1 and "watch it" in first.fired[0] and f"(alert {rid})" in first.fired[0]
    await first.close()

    # Restarted while the figure still holds: the rule is back, fired, and quiet.
    again = Terminal(tmp_path, first.market)
    assert again.desk.ids() == [rid]
    first.market.clock.now += 120 * S  # past the cooldown, too
    step(again, case.over)
    again.market.tick()
    (row,) = again.desk.rows()
    assert again.fired == [] and not row.armed and row.fired_ts is not None and row.note == "watch it"
    step(again, case.clear)  # re-armed: journaled too
    step(again, case.over)  # fires: the cooldown has passed
    assert len(again.fired) == 1
    again.market.clock.now += S
    step(again, case.clear)
    await again.close()

    # Restarted re-armed, one second after its last firing: armed, but inside the cooldown.
    third = Terminal(tmp_path, first.market)
    step(third, case.over)
    assert third.fired == [] and third.desk.rows()[0].armed
    first.market.clock.now += 60 * S
    third.market.tick()
    assert len(third.fired) == 1
    events = [e.event for e in reversed(third.journal.alert_events(rid))]
    assert events == ["fired", "rearmed", "fired", "rearmed", "fired"]
    await third.close()


async def test_a_firing_is_a_journal_line_with_the_figure(tmp_path):
    t = Terminal(tmp_path)
    rid = await t.desk.add(parse_rule("SOL-PERP PRICE > 180").rule)
    _price(t.market, Decimal("181.5"))
    (event,) = t.journal.alert_events()
    assert (event.rule_id, event.event, event.rule, Decimal(event.value), event.venue) == (
        rid, "fired", "SOL-PERP PRICE > 180", Decimal("181.5"), "drift")
    assert event.message == t.fired[0] == f"SOL-PERP PRICE > 180: 181.50 on drift (alert {rid})"
    assert [e.table for e in t.journal.pending(sink="nowhere")] == ["alert_events"]  # synced like the rest
    await t.close()


async def test_a_firing_is_posted_to_the_webhook(tmp_path, timers):
    async with webhook_server() as srv:
        t = Terminal(tmp_path, webhook=WebhookSender(srv.url, timers=timers))
        rid = await t.desk.add(parse_rule("PNL < -500").rule, note="cut risk")
        from support.alert_cases import _pnl

        _pnl(t.market, Decimal(-600))
        await until(lambda: t.desk.webhook.delivered == 1, what="the webhook post")
        await t.close()
    assert srv.texts == [f"QuantDesk alert: PNL < -500: -600.00 - cut risk (alert {rid})"]


async def test_the_rules_file_is_the_store_and_an_edit_applies_at_once(tmp_path):
    t = Terminal(tmp_path)
    rid = await t.desk.add(parse_rule("SOL-PERP PRICE > 180").rule)
    text = (tmp_path / "alerts.toml").read_text()
    assert f'id = "{rid}"' in text and 'rule = "SOL-PERP PRICE > 180"' in text
    with pytest.raises(AlertError, match=f"already set as alert {rid}"):
        await t.desk.add(parse_rule("sol-perp price > 180.00").rule)

    (tmp_path / "alerts.toml").write_text(text + '\n[[alert]]\nid = "late"\nrule = "SOL-PERP PRICE < 100"\n'
                                          '\n[[alert]]\nrule = "SOL-PERP PRICE <> 1"\n')  # fmt: skip
    t.market.tick()
    assert t.desk.ids() == [rid, "late"]
    assert len(t.problems) == 1 and "alerts.toml:12: alert[3].rule: '>' is not a price" in t.problems[0]
    assert "e.g. ALERT SOL-PERP PRICE > 180" in t.problems[0]
    t.market.tick()
    assert len(t.problems) == 1  # said once, not every tick

    assert await t.desk.remove(rid) == "local"
    assert rid not in (tmp_path / "alerts.toml").read_text() and t.desk.ids() == ["late"]
    assert await t.desk.remove(rid) is None
    await t.close()


async def test_without_files_rules_last_for_the_session(tmp_path):
    m = Desk()
    desk = AlertDesk(m.cache, m.clock)
    desk.start(m.bus)
    rid = await desk.add(parse_rule("SOL-PERP PRICE > 180").rule)
    assert desk.rows()[0].source == "this session" and desk.scope_of(rid) == "local"
    with pytest.raises(AlertError, match="no team workspace"):
        await desk.add(parse_rule("SOL-PERP PRICE > 190").rule, scope="team")
    await desk.stop()
