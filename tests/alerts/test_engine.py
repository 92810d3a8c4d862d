"""The alert engine on a real bus and cache: each kind fires once when its
figure crosses the line, stays quiet while the figure sits on the line or
inside the cooldown, re-arms only past the hysteresis band, and fires again
once the cooldown is over. Time is the test's clock, never the machine's."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quantdesk.core.alerts import RuleState, parse_rule
from quantdesk.core.model import OraclePrice, VenueStatus

from support.alert_cases import CASES, S, Desk, _price

@pytest.mark.parametrize("name", list(CASES))
def test_each_kind_fires_once_on_a_crossing_and_again_only_after_rearm_and_cooldown(name):
    case = CASES[name]
    d = Desk(cooldown_s=60)
    d.engine.put("a1", parse_rule(case.rule).rule)
    step = lambda v: case.set(d, Decimal(v))  # noqa: E731

    step(case.quiet)
    assert d.events == [] and d.engine.get("a1").state.armed
    step(case.over)
    assert d.events == [("a1", "fired", d.engine.get("a1").state.fired_value)]
    # sitting on the line: over, back inside the band, over again - nothing new
    for v in (case.over, case.wiggle, case.over, case.wiggle, case.over):
        d.clock.now += S
        step(v)
    assert d.fired() == 1 and not d.engine.get("a1").state.armed

    d.clock.now += S
    step(case.clear)  # past the band: armed again
    assert d.events[-1][1] == "rearmed" and d.engine.get("a1").state.armed
    d.clock.now += S
    step(case.over)  # inside the cooldown: held back
    assert d.fired() == 1

    d.clock.now = d.engine.get("a1").cooling_until()
    step(case.over)  # the cooldown is over and it still holds: fires
    assert d.fired() == 2


def test_a_crossing_during_the_cooldown_fires_when_it_ends_if_it_still_holds():
    d = Desk(cooldown_s=60)
    d.engine.put("a1", parse_rule("SOL-PERP PRICE > 180").rule)
    _price(d, Decimal(181))
    _price(d, Decimal(170))
    _price(d, Decimal(182))
    assert d.fired() == 1
    d.clock.now += 59 * S
    d.engine.tick()
    assert d.fired() == 1
    d.clock.now += S
    d.engine.tick()  # no new message: the tick notices the cooldown ended
    assert d.fired() == 2 and d.events[-1][2] == Decimal(182)


def test_a_rule_reads_only_the_topics_that_can_move_it():
    d = Desk()
    d.engine.put("a1", parse_rule("SOL-PERP PRICE > 180 ON jupiter").rule)
    before = d.engine.evaluations
    for _ in range(100):
        _price(d, Decimal(200))  # drift's book: not the venue watched
    assert d.engine.evaluations == before and d.events == []
    d.publish(OraclePrice("jupiter", "SOL-PERP", d.clock(), 181_000_000))
    assert d.fired() == 1 and d.engine.get("a1").state.venue == "jupiter"


def test_without_a_venue_the_order_book_venue_is_the_reference():
    d = Desk()
    d.engine.put("a1", parse_rule("SOL-PERP PRICE < 100").rule)
    _price(d, Decimal(120))
    d.publish(OraclePrice("jupiter", "SOL-PERP", d.clock(), 90_000_000))  # the pool alone would fire
    assert d.events == [] and d.engine.get("a1").state.venue == "drift"


def test_deferred_evaluation_reads_a_burst_once():
    d = Desk()
    queued = []
    d.engine.defer = queued.append
    d.engine.put("a1", parse_rule("SOL-PERP PRICE > 180").rule)
    for v in (150, 190, 170, 175):
        _price(d, Decimal(v))
    assert len(queued) == 1 and d.events == []  # nothing read yet
    queued.pop()()
    assert d.engine.evaluations == 1 and d.events == []  # the state after the burst: 175, below


def test_a_restored_state_is_kept_and_a_changed_rule_starts_armed():
    d = Desk(cooldown_s=60)
    rule = parse_rule("SOL-PERP PRICE > 180").rule
    d.engine.put("a1", rule, RuleState(armed=False, fired_ts=d.clock() - 10 * S, fired_value=Decimal(181)))
    _price(d, Decimal(185))
    assert d.events == []  # fired before the restart and never re-armed
    d.engine.put("a1", rule)  # the same rule again: state kept
    assert not d.engine.get("a1").state.armed
    d.engine.put("a1", parse_rule("SOL-PERP PRICE > 184").rule)  # a new level: a new rule
    _price(d, Decimal(186))
    assert d.fired() == 1


def test_a_team_mates_firing_waits_here_too():
    d = Desk(cooldown_s=60)
    d.engine.put("t1", parse_rule("SOL-PERP PRICE > 180").rule)
    d.engine.mark_fired("t1", d.clock(), Decimal(181))
    _price(d, Decimal(185))
    assert d.events == []


def test_an_on_demand_feed_is_never_stale_and_a_silent_one_is_stale_from_the_start():
    d = Desk()
    d.engine.put("f1", parse_rule("FEED drift STALE 10S").rule)
    d.engine.put("f2", parse_rule("FEED jupiter STALE 10S").rule)
    d.publish(VenueStatus("drift", "connected", d.clock(), on_demand=True))
    d.publish(VenueStatus("jupiter", "connecting", d.clock()))
    d.clock.now += 11 * S
    d.engine.tick()
    assert [e[0] for e in d.events] == ["f2"]


def test_a_failing_handler_is_logged_and_the_engine_goes_on(caplog):
    d = Desk()
    d.engine.on_transition = lambda w, t: 1 / 0
    d.engine.put("a1", parse_rule("SOL-PERP PRICE > 180").rule)
    _price(d, Decimal(181))
    assert not d.engine.get("a1").state.armed and "a1" in caplog.text


def test_rules_on_one_figure_share_one_read_and_each_keeps_its_own_state():
    d = Desk()
    for n, level in enumerate((170, 180, 190)):
        d.engine.put(f"a{n}", parse_rule(f"SOL-PERP PRICE > {level}").rule)
    before = d.engine.evaluations
    _price(d, Decimal(185))
    assert d.engine.evaluations == before + 1
    assert sorted(e[0] for e in d.events) == ["a0", "a1"] and d.engine.get("a2").state.armed
