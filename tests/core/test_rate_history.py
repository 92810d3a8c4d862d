"""Funding and borrow history: one rate an hour, live rates and a venue's history merged."""

from __future__ import annotations

from quantdesk.core.bus import Bus
from quantdesk.core.cache import MarketCache
from quantdesk.core.model import Funding, FundingHistory, topic_for
from quantdesk.core.rate_history import HOUR_NS, RateHistory

H0 = 1_795_003_200 * 1_000_000_000  # 2026-11-18 12:00 UTC


def test_the_last_rate_of_each_hour_is_kept():
    h = RateHistory()
    assert h.record(H0 + 10, 100)
    assert h.record(H0 + 20, 120)
    assert not h.record(H0 + 30, 120)  # nothing new
    assert h.record(H0 + HOUR_NS + 5, -40)
    assert h.points == [(H0, 120), (H0 + HOUR_NS, -40)]


def test_hours_without_an_update_keep_the_rate_before_them():
    h = RateHistory()
    h.record(H0, 100)
    h.record(H0 + 3 * HOUR_NS, -50)
    now = H0 + 4 * HOUR_NS + 1
    assert h.last(6, now) == [None, 100, 100, 100, -50, -50]
    assert h.last(2, now) == [-50, -50]
    assert h.last(0, now) == []


def test_a_venues_history_fills_the_past_and_the_live_rate_of_this_hour_stays():
    h = RateHistory(keep=4)
    h.record(H0 + 2 * HOUR_NS + 7, 999)  # live, this hour
    h.merge([(H0 - HOUR_NS, 1), (H0, 2), (H0 + HOUR_NS, 3), (H0 + 2 * HOUR_NS, 4)])
    assert h.points == [(H0 - HOUR_NS, 1), (H0, 2), (H0 + HOUR_NS, 3), (H0 + 2 * HOUR_NS, 999)]
    h.merge([(H0 - 5 * HOUR_NS, 0)])  # older than the newest four: not kept
    assert h.points[0] == (H0 - HOUR_NS, 1)


def test_the_cache_keeps_hourly_rates_from_funding_events_and_histories():
    bus = Bus()
    cache = MarketCache()
    cache.attach(bus)
    # an 8-hour venue's rate restated per hour: 800 per 8h is 100 an hour
    ev = Funding("v", "SOL-PERP", H0 + 5, 800, 800, 8 * 3_600, H0 + 8 * HOUR_NS)
    bus.publish(topic_for(ev), ev)
    hist = FundingHistory("v", "SOL-PERP", H0, [(H0 - 2 * HOUR_NS, -30), (H0 - HOUR_NS, 20)])
    rev = cache.rev["funding"]
    bus.publish(topic_for(hist), hist)
    assert cache.rev["funding"] == rev + 1
    assert cache.funding_history[("v", "SOL-PERP")].points == [(H0 - 2 * HOUR_NS, -30), (H0 - HOUR_NS, 20), (H0, 100)]
