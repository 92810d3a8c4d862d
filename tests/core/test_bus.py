"""Bus: topic matching, fan-out order, failure isolation, counters, conflation."""

from __future__ import annotations

import logging

import pytest

from quantdesk.core.bus import Bus, ConflatingSubscriber, topic_matches


@pytest.mark.parametrize(
    ("pattern", "topic", "matches"),
    [
        ("book.sim-drift.SOL-PERP", "book.sim-drift.SOL-PERP", True),
        ("book.sim-drift.SOL-PERP", "book.sim-drift.BTC-PERP", False),
        ("book.*.SOL-PERP", "book.sim-jup.SOL-PERP", True),
        ("book.*.SOL-PERP", "book.sim-jup.BTC-PERP", False),
        ("book.*", "book.sim-drift.SOL-PERP", False),  # * is exactly one segment
        ("*.sim-drift.*", "trade.sim-drift.ETH-PERP", True),
        ("book.>", "book.sim-drift.SOL-PERP", True),
        ("book.>", "book.sim-drift", True),
        ("book.>", "book", False),  # > needs at least one more segment
        ("book.>", "trade.sim-drift.SOL-PERP", False),
        ("account.>", "account.sim-drift", True),
        ("#", "anything.at.all", True),
        ("#", "status", True),
        ("book.sim-drift", "book.sim-drift.SOL-PERP", False),  # no implicit prefix match
    ],
)
def test_topic_matches(pattern, topic, matches):
    assert topic_matches(pattern, topic) is matches


def test_wildcard_subscribers_receive_exactly_their_topics():
    bus = Bus()
    got: dict[str, list[str]] = {"exact": [], "star": [], "tail": [], "all": []}
    bus.subscribe("book.sim-drift.SOL-PERP", lambda t, m: got["exact"].append(t))
    bus.subscribe("book.*.SOL-PERP", lambda t, m: got["star"].append(t))
    bus.subscribe("book.>", lambda t, m: got["tail"].append(t))
    bus.subscribe("#", lambda t, m: got["all"].append(t))
    for t in ("book.sim-drift.SOL-PERP", "book.sim-jup.SOL-PERP", "book.sim-drift.BTC-PERP", "funding.sim-drift.SOL-PERP"):
        bus.publish(t, None)
    assert got["exact"] == ["book.sim-drift.SOL-PERP"]
    assert got["star"] == ["book.sim-drift.SOL-PERP", "book.sim-jup.SOL-PERP"]
    assert got["tail"] == ["book.sim-drift.SOL-PERP", "book.sim-jup.SOL-PERP", "book.sim-drift.BTC-PERP"]
    assert len(got["all"]) == 4


def test_fan_out_is_synchronous_and_in_subscription_order():
    bus = Bus()
    order: list[tuple[str, object]] = []
    bus.subscribe("#", lambda t, m: order.append(("first", m)))
    bus.subscribe("trade.>", lambda t, m: order.append(("second", m)))
    bus.subscribe("trade.sim-drift.SOL-PERP", lambda t, m: order.append(("third", m)))
    bus.publish("trade.sim-drift.SOL-PERP", 1)
    assert order == [("first", 1), ("second", 1), ("third", 1)]  # before publish returned
    bus.publish("trade.sim-drift.SOL-PERP", 2)
    assert [m for _, m in order] == [1, 1, 1, 2, 2, 2]


def test_raising_subscriber_is_counted_and_does_not_stop_the_others(caplog):
    bus = Bus()
    got = []

    def broken(topic, msg):
        raise ValueError("boom")

    bus.subscribe("#", lambda t, m: got.append(("before", m)))
    bus.subscribe("#", broken)
    bus.subscribe("#", lambda t, m: got.append(("after", m)))
    with caplog.at_level(logging.ERROR, logger="quantdesk.core.bus"):
        bus.publish("x.y", 1)
        bus.publish("x.y", 2)
    assert got == [("before", 1), ("after", 1), ("before", 2), ("after", 2)]
    assert bus.errors == 2
    assert bus.dropped == 2
    assert "x.y" in caplog.text and "boom" in caplog.text


def test_counters_published_delivered_dropped_and_per_topic():
    bus = Bus()
    bus.subscribe("book.>", lambda t, m: None)
    bus.subscribe("#", lambda t, m: None)
    for _ in range(3):
        bus.publish("book.a.X", None)
    bus.publish("trade.a.X", None)
    assert bus.published == 4
    assert bus.delivered == 3 * 2 + 1
    assert bus.dropped == 0
    assert bus.topic_counts() == {"book.a.X": 3, "trade.a.X": 1}

    lonely = Bus()
    lonely.subscribe("book.>", lambda t, m: None)
    lonely.publish("oracle.a.X", None)  # nobody listens
    assert lonely.dropped == 1
    assert lonely.delivered == 0


def test_rates_are_per_second_since_the_previous_call(monkeypatch):
    import quantdesk.core.bus as busmod

    now = [1000.0]
    monkeypatch.setattr(busmod.time, "monotonic", lambda: now[0])
    bus = Bus()
    for _ in range(50):
        bus.publish("book.a.X", None)
    now[0] += 2.0
    assert bus.rates() == {"book.a.X": pytest.approx(25.0)}
    for _ in range(10):
        bus.publish("book.a.X", None)
    now[0] += 1.0
    assert bus.rates() == {"book.a.X": pytest.approx(10.0)}


def test_unsubscribe_stops_delivery_and_late_subscribers_join_existing_topics():
    bus = Bus()
    a, b = [], []
    sub_a = bus.subscribe("#", lambda t, m: a.append(m))
    bus.publish("book.a.X", 1)  # the topic's route is resolved and cached here
    sub_b = bus.subscribe("book.a.X", lambda t, m: b.append(m))
    bus.publish("book.a.X", 2)
    sub_a.close()
    bus.publish("book.a.X", 3)
    bus.unsubscribe(sub_b)
    bus.publish("book.a.X", 4)
    bus.unsubscribe(sub_b)  # twice is harmless
    assert a == [1, 2]
    assert b == [2, 3]


def test_counters_keep_history_across_unsubscribe():
    bus = Bus()
    sub = bus.subscribe("#", lambda t, m: None)
    bus.publish("book.a.X", 1)
    bus.publish("book.a.X", 2)
    sub.close()
    bus.publish("book.a.X", 3)  # reaches nobody
    assert bus.delivered == 2
    assert bus.dropped == 1


def test_conflating_subscriber_keeps_latest_per_topic_and_counts_replaced():
    bus = Bus()
    ui = ConflatingSubscriber()
    bus.subscribe("funding.>", ui)
    for i in range(5):
        bus.publish("funding.sim-drift.SOL-PERP", i)
    bus.publish("funding.sim-jup.SOL-PERP", "jup")
    assert len(ui) == 2
    assert ui.received == 6
    assert ui.conflated == 4
    assert ui.drain() == [("funding.sim-drift.SOL-PERP", 4), ("funding.sim-jup.SOL-PERP", "jup")]
    assert len(ui) == 0 and ui.drain() == []
    bus.publish("funding.sim-drift.SOL-PERP", 5)  # after a drain nothing is conflated
    assert ui.conflated == 4
    assert ui.drain() == [("funding.sim-drift.SOL-PERP", 5)]


def test_conflating_subscriber_with_a_custom_key():
    by_market = ConflatingSubscriber(key=lambda topic, msg: topic.rsplit(".", 1)[-1])
    by_market("book.sim-drift.SOL-PERP", "a")
    by_market("book.sim-jup.SOL-PERP", "b")
    by_market("book.sim-jup.BTC-PERP", "c")
    assert by_market.drain() == [("book.sim-jup.SOL-PERP", "b"), ("book.sim-jup.BTC-PERP", "c")]
    assert by_market.conflated == 1
