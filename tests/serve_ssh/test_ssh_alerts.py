"""A trader's alert rules over SSH are their own and outlast the connection:
kept in ``alerts.toml`` of their folder on the server, loaded when they
connect again, never seen by another trader; a second console of theirs
watches the rules but leaves the file to the first. Team alerts (Redis) are
shared between traders as on local terminals."""

from __future__ import annotations

from quantdesk.config.alert_rules import RulesFile, rule_id
from quantdesk.config.settings import load_config
from quantdesk.core.alerts import parse_rule
from support.ssh_client import Terminal
from support.ssh_desk import close_desk, open_desk
from support.wait import until

RULE = "SOL-PERP PRICE > 1000"
RID = rule_id(parse_rule(RULE).rule)


def consoles(desk, who: str) -> list:
    return [ch.console for ch in desk.server.channels if ch.user == who and ch.console is not None]


async def connect(desk, who: str) -> Terminal:
    before = len(consoles(desk, who))
    t = await Terminal.open(desk.port, desk.keys[who])
    desk.terminals.append(t)
    await t.shows("POSITIONS")
    await until(lambda: len(consoles(desk, who)) > before and all(c.app.session_started.is_set()
                                                                   for c in consoles(desk, who)),
                what=f"{who}'s console to start")
    return t


async def leave(desk, t: Terminal) -> None:
    desk.terminals.remove(t)
    n = len(desk.server.channels)
    await t.close()
    await until(lambda: len(desk.server.channels) == n - 1, what="the console to close")


def rules_file(desk, who: str) -> RulesFile:
    return RulesFile(desk.tmp / "ssh" / "traders" / who / "alerts.toml")


def ids(desk, who: str) -> list[list[str]]:
    return [c.app.alerts.ids() for c in consoles(desk, who)]


async def test_an_alert_added_over_ssh_is_there_on_reconnect_and_only_for_its_trader(desk):
    alice = await connect(desk, "alice")
    alice.send(f":ALERT {RULE} breakout\r")
    await alice.shows(f"Alert {RID} set")
    assert [(r.id, r.note) for r in rules_file(desk, "alice").load()[0]] == [(RID, "breakout")]
    await leave(desk, alice)

    alice = await connect(desk, "alice")
    assert ids(desk, "alice") == [[RID]]
    alice.send(":ALERTS\r")
    await alice.shows(RULE)
    assert RID in alice.line_with(RULE) and "armed" in alice.line_with(RULE)
    assert [r.note for r in consoles(desk, "alice")[0].app.alerts.desk.rows()] == ["breakout"]

    bob = await connect(desk, "bob")
    assert ids(desk, "bob") == [[]]
    bob.send(f":ALERT DEL {RID}\r")
    await bob.shows(f"No alert {RID}")
    bob.send(":ALERTS\r")
    await bob.shows("Esc closes")
    assert RULE not in bob.text()
    assert not rules_file(desk, "bob").path.exists()
    assert [r.id for r in rules_file(desk, "alice").load()[0]] == [RID]


async def test_a_second_console_watches_the_rules_and_leaves_the_file_to_the_first(desk):
    first = await connect(desk, "alice")
    second = await connect(desk, "alice")
    first.send(f":ALERT {RULE}\r")
    await first.shows(f"Alert {RID} set")
    # The read-only console picks the new rule up from the file.
    await until(lambda: ids(desk, "alice") == [[RID], [RID]], what="both of alice's consoles watching the rule")
    before = rules_file(desk, "alice").path.read_text()
    second.send(":ALERT SOL-PERP PRICE > 2000\r")
    await second.shows("PRICE > 2000: this console only watches")
    second.send(f":ALERT DEL {RID}\r")
    await second.shows(f"ALERT DEL {RID}: this console only watches")
    assert rules_file(desk, "alice").path.read_text() == before
    # The trading console still edits them, and the other follows.
    first.send(f":ALERT DEL {RID}\r")
    await first.shows(f"Alert {RID} removed")
    await until(lambda: ids(desk, "alice") == [[], []], what="the rule gone from both consoles")


async def test_team_alerts_are_shared_and_local_ones_stay_private(tmp_path, redis_url, ns, monkeypatch):
    monkeypatch.setenv("QUANTDESK_REDIS__URL", redis_url)
    monkeypatch.setenv("QUANTDESK_REDIS__TEAM", ns)
    desk = await open_desk(tmp_path, settings=load_config(None))
    try:
        alice = await connect(desk, "alice")
        await connect(desk, "bob")
        alice.send(f":ALERT LOCAL {RULE}\r")
        await alice.shows(f"Alert {RID} set")
        alice.send(":ALERT TEAM SOL-PERP PRICE > 3000 team level\r")
        await until(lambda: len(ids(desk, "alice")[0]) == 2, what="alice's team alert")
        team_ids = [i for i in ids(desk, "alice")[0] if i != RID]
        assert [consoles(desk, "alice")[0].app.alerts.desk.scope_of(i) for i in team_ids] == ["team"]
        await until(lambda: ids(desk, "bob") == [team_ids], what="the team alert reaching bob's console")
        assert not rules_file(desk, "bob").path.exists()
        assert [r.id for r in rules_file(desk, "alice").load()[0]] == [RID]
    finally:
        await close_desk(desk)
