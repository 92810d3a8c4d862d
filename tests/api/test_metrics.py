"""``/metrics`` of the API server, scraped and parsed as Prometheus does,
its counters moving as the simulated feed runs and clients call."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from support.api_server import StreamReader

SOL = "SOL-PERP"


async def scrape(rig) -> dict[tuple[str, tuple], float]:
    r = await rig.http.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    out = {}
    for fam in text_string_to_metric_families(r.text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def book_msgs(m) -> float:
    return m[("quantdesk_bus_messages_total", (("kind", "book"), ("market", SOL), ("venue", "sim-drift")))]


async def test_metrics_count_feed_messages_requests_and_stream_clients(api_rig):
    before = await scrape(api_rig)
    api_rig.session.advance(1_000)
    assert (await api_rig.get("/v1/markets")).status_code == 200
    assert (await api_rig.http.get("/v1/markets")).status_code == 401
    async with connect(api_rig.ws_url, additional_headers=api_rig.bearer()) as ws:
        r = StreamReader(ws)
        await r.send({"op": "subscribe", "topics": ["book.sim-drift.SOL-PERP"]})
        await r.until(lambda: r.snapshots)
        during = await scrape(api_rig)
    after = await scrape(api_rig)

    assert book_msgs(during) > book_msgs(before) > 0
    assert during[("quantdesk_api_requests_total", (("route", "/v1/markets"), ("status", "200")))] == 1
    assert during[("quantdesk_api_requests_total", (("route", "/v1/markets"), ("status", "401")))] == 1
    assert during[("quantdesk_api_requests_total", (("route", "/v1/stream"), ("status", "101")))] == 1
    assert during[("quantdesk_api_stream_clients", ())] == 1
    assert ("quantdesk_api_stream_dropped_deltas_total", ()) in after
    stale = during[("quantdesk_book_staleness_seconds", (("market", SOL), ("venue", "sim-drift")))]
    assert stale >= 0
