"""``--metrics-port``: the terminal's and the feed's ``/metrics`` on their own
port, scraped over HTTP and parsed with prometheus-client's parser."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from quantdesk import cli
from quantdesk.serve.metrics_port import MetricsPortError, start_metrics_server
from support.app import START_NS, paused_session

SOL = "SOL-PERP"


def parse(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def book_msgs(m: dict) -> float:
    return m[("quantdesk_bus_messages_total", (("kind", "book"), ("market", SOL), ("venue", "sim-drift")))]


async def test_metrics_port_counts_messages_as_the_feed_runs_and_ages_books_on_the_clock():
    session = paused_session()
    await session.start()
    now = [START_NS]
    server = start_metrics_server(0, session.cache, session.bus, lambda: now[0])
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as http:
            session.advance(500)
            first = parse((await http.get("/metrics")).text)
            session.advance(2_000)
            now[0] = START_NS + 60 * 10**9
            second = parse((await http.get("/metrics")).text)
    finally:
        server.stop()
        await session.stop()
    assert book_msgs(second) > book_msgs(first) > 0
    stale = ("quantdesk_book_staleness_seconds", (("market", SOL), ("venue", "sim-drift")))
    assert second[stale] > first[stale]


async def test_a_taken_metrics_port_is_a_message_naming_it():
    session = paused_session()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(MetricsPortError, match=f"--metrics-port {port}: .*choose a free port"):
            start_metrics_server(port, session.cache, session.bus, lambda: START_NS)


def test_run_refuses_a_port_out_of_range(capfd):
    assert cli.main(["--metrics-port", "70000"]) == 2
    assert "between 1 and 65535" in capfd.readouterr().err


def test_feed_metrics_port_serves_bus_and_feed_counters(redis_url, ns):
    proc = subprocess.Popen(
        [sys.executable, "-m", "quantdesk.cli", "feed", "--redis", redis_url, "--namespace", ns, "--rate", "2000",
         "--duration", "20", "--quiet", "--metrics-port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stderr.readline()  # "quantdesk feed: metrics on http://127.0.0.1:PORT/metrics"
        assert "/metrics" in line, line
        url = line.split("metrics on ", 1)[1].strip()
        deadline = time.monotonic() + 15  # a separate process: wait for its feed to publish
        while True:
            m = parse(httpx.get(url, timeout=5).text)
            if m.get(("quantdesk_feed_events_total", ()), 0) > 100:
                break
            assert time.monotonic() < deadline, m
            time.sleep(0.2)
        assert book_msgs(m) > 0
        assert ("quantdesk_feed_dropped_total", ()) in m
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


def registry_of(*collectors) -> dict:
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    for c in collectors:
        registry.register(c)
    return parse(generate_latest(registry).decode())


def test_venue_feed_counters_show_decode_errors_by_kind_reconnects_and_rpc_latency():
    from types import SimpleNamespace

    from quantdesk.serve.session_metrics import VenueHealthCollector
    from quantdesk.venues.drift.health import FeedHealth

    health = FeedHealth(malformed=3, unknown_market=2, reconnects=4, failovers=1, rpc_latency_ms=250.0)
    venues = {"drift": SimpleNamespace(health=health), "sim-drift": SimpleNamespace(health=None)}
    m = registry_of(VenueHealthCollector(lambda: venues))
    assert m[("quantdesk_venue_decode_errors_total", (("kind", "malformed"), ("venue", "drift")))] == 3
    assert m[("quantdesk_venue_decode_errors_total", (("kind", "unknown_market"), ("venue", "drift")))] == 2
    assert m[("quantdesk_venue_reconnects_total", (("venue", "drift"),))] == 4
    assert m[("quantdesk_venue_failovers_total", (("venue", "drift"),))] == 1
    assert m[("quantdesk_venue_rpc_latency_seconds", (("venue", "drift"),))] == 0.25
    assert not any(("venue", "sim-drift") in labels for _, labels in m)  # a sim venue keeps no feed counters
    health.reconnects += 1  # read when scraped, not copied at start
    assert registry_of(VenueHealthCollector(lambda: venues))[("quantdesk_venue_reconnects_total", (("venue", "drift"),))] == 5


async def test_terminal_metrics_time_frames_and_order_round_trips(tmp_path):
    from quantdesk.commands.metrics_option import terminal_timing
    from quantdesk.console.cmdline import parse as parse_command
    from quantdesk.serve.session_metrics import BusCollector
    from support.paper_app import make_app, start

    app, trading = make_app(tmp_path)
    collectors = terminal_timing(app, trading.router)
    try:
        async with app.run_test(size=(200, 50)) as pilot:
            await start(app, pilot)
            assert await app.execute(parse_command("SOL-PERP BUY 1 MKT", app.command_context()))
            assert await app.execute(parse_command("SOL-PERP BUY 1 @ 100 POST", app.command_context()))
            frames_before = app.frames
            app.frame()
            m = registry_of(*collectors, BusCollector(app.session.bus))
    finally:
        trading.close()
    place = (("op", "place"), ("venue", "sim-drift"))
    assert m[("quantdesk_order_round_trip_seconds_count", place)] == 2
    assert m[("quantdesk_frame_render_seconds_count", ())] >= app.frames - frames_before >= 1
    assert m[("quantdesk_bus_published_total", ())] > 0


async def test_rpc_round_trips_are_a_histogram_per_venue_and_endpoint_on_metrics():
    """A Drift deployment's real RPC client against two local JSON-RPC nodes:
    each answered round trip lands in its endpoint's histogram, which /metrics
    renders through the venue's health."""
    from types import SimpleNamespace

    from quantdesk.serve.session_metrics import VenueHealthCollector
    from quantdesk.venues.drift.config import DriftDeployment, default_deployment
    from quantdesk.venues.drift.health import FeedHealth
    from quantdesk.venues.drift.rpc_link import rpc_for
    from support.solana_rpc import RpcNode

    first, second = RpcNode(lambda method, params: 7).start(), RpcNode(lambda method, params: 8).start()
    health = FeedHealth()
    deployment = DriftDeployment(**{**default_deployment("drift").model_dump(), "rpc_urls": [first.url, second.url]})
    rpc = rpc_for(deployment, health)
    try:
        for _ in range(3):
            assert await rpc.get_slot() == 7
        first.status = 503  # fails over: the second endpoint answers from now on
        assert await rpc.get_slot() == 8
    finally:
        await rpc.close()
        first.stop()
        second.stop()
    m = registry_of(VenueHealthCollector(lambda: {"drift": SimpleNamespace(health=health)}))
    count = {labels: v for (name, labels), v in m.items() if name == "quantdesk_rpc_latency_seconds_count"}
    assert count == {(("endpoint", first.url.rstrip("/")), ("venue", "drift")): 3,
                     (("endpoint", second.url.rstrip("/")), ("venue", "drift")): 1}, count
    inf = [v for (name, labels), v in m.items() if name == "quantdesk_rpc_latency_seconds_bucket" and ("le", "+Inf") in labels]
    assert sum(inf) == 4
