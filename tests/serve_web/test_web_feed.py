"""``serve web``: with a Redis configured, every tab reads the one feed the
server publishes there; without one the server says each tab runs its own."""

from __future__ import annotations

import asyncio
import signal
import sys

from quantdesk.commands.serve_ssh import console_settings
from quantdesk.commands.serve_web import tab_command
from quantdesk.serve.web.feed import plan_tab_feed
from support.feed_rig import FeedRig
from support.web_desk import BOOT_S, browser, open_tab


def team_config(tmp_path, redis_url: str, ns: str) -> str:
    path = tmp_path / "desk.toml"
    path.write_text(f'[redis]\nurl = "{redis_url}"\nteam = "{ns}"\n')
    return str(path)


async def test_two_tabs_read_the_one_feed_the_server_publishes(serve, tmp_path, redis_url, ns):
    config = team_config(tmp_path, redis_url, ns)
    feed = plan_tab_feed(console_settings("test", config), "sim")
    assert feed.tab_source == "feed"  # the URL stays out of the tabs' command lines
    said = await feed.start()
    try:
        assert f"published to {redis_url} namespace {ns}" in said
        symbols = sorted({m.symbol.encode() for m in feed.session.markets})
        assert len(symbols) >= 2
        desk = await serve(tab_command(feed.tab_source, config), max_tabs=2)
        async with browser() as http:
            # each tab's status bar names the feed as its source, and its panes the feed's markets
            tabs = [await open_tab(http, desk, b"feed connected", *symbols) for _ in range(2)]
            assert desk.tabs == 2
            for ws in tabs:
                await ws.close()
    finally:
        await feed.stop()


async def test_a_feed_already_publishing_there_is_read_not_doubled(tmp_path, redis_url, ns):
    other = await FeedRig(redis_url, ns).start()  # a `quantdesk feed` the team already runs
    try:
        feed = plan_tab_feed(console_settings("test", team_config(tmp_path, redis_url, ns)), "auto")
        said = await feed.start()
        assert "already publishes" in said and ns in said
        assert feed.running is None and feed.tab_source == "feed"
        await feed.stop()
    finally:
        await other.close()


async def serve_web_says(*args: str, env_drop: str = "QUANTDESK_REDIS_URL") -> str:
    """What ``quantdesk serve web`` prints until it shows the URL to open; then it is stopped."""
    import os

    env = {k: v for k, v in os.environ.items() if k != env_drop}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "quantdesk.cli", "serve", "web", "--listen", "127.0.0.1:0", *args,
        stderr=asyncio.subprocess.PIPE, env=env,
    )
    said = b""
    try:
        async with asyncio.timeout(BOOT_S):
            while b"open http://" not in said:
                line = await proc.stderr.readline()
                assert line, said.decode()
                said += line
    finally:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(BOOT_S):
            await proc.wait()
    assert proc.returncode == 0, said.decode()
    return said.decode()


async def test_without_redis_the_server_says_each_tab_runs_its_own_feed_and_how_to_share():
    said = await serve_web_says()
    assert "each tab runs its own feed" in said
    assert "set [redis] url" in said and "--source redis://" in said


async def test_with_redis_configured_the_server_says_it_runs_one_feed(tmp_path, redis_url, ns):
    said = await serve_web_says("--config", team_config(tmp_path, redis_url, ns))
    assert f"one feed for every tab: sim-drift, sim-jup published to {redis_url} namespace {ns}" in said


def test_a_feed_source_without_redis_is_refused_with_what_to_do(capsys):
    from quantdesk.cli import main

    assert main(["serve", "web", "--source", "feed"]) == 2
    assert "set [redis] url in the config or $QUANTDESK_REDIS_URL" in capsys.readouterr().err


def test_the_server_and_its_tabs_find_the_same_redis(tmp_path, monkeypatch):
    """$QUANTDESK_REDIS_URL before [redis] url, for the feed the server
    publishes and for the tabs' --source feed, which inherit its environment."""
    from quantdesk.wiring.sources import build_session

    monkeypatch.setenv("QUANTDESK_REDIS_URL", "redis://:s3cret@127.0.0.1:6390/2")
    settings = console_settings("test", team_config(tmp_path, "redis://127.0.0.1:6391/0", "desk"))
    feed = plan_tab_feed(settings, "auto")
    assert feed.url == "redis://:s3cret@127.0.0.1:6390/2" and feed.namespace == "desk"
    assert "s3cret" not in repr(feed) and "s3cret" not in tab_command(feed.tab_source, None)
    (tab_venue,) = build_session(settings, source="feed").venues.values()
    assert tab_venue.url == feed.url and tab_venue.keys.namespace == "desk"


async def test_own_feeds_lets_each_tab_trade_on_venues_of_its_own_a_redis_being_there(tmp_path, redis_url, ns):
    settings = console_settings("test", team_config(tmp_path, redis_url, ns))
    feed = plan_tab_feed(settings, "sim", own_feeds=True)
    assert feed.tab_source == "sim" and not feed.shared
    said = await feed.start()
    assert "each tab runs its own feed (--source sim) and trades on it" in said and "(--own-feeds)" in said
    assert feed.running is None
    shared = plan_tab_feed(settings, "sim")
    said = await shared.start()
    try:
        assert "tabs show the market and place no orders" in said
    finally:
        await shared.stop()
