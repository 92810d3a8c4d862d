"""``serve web``: by default each tab runs its own venues and trades, as
``quantdesk run`` does; with --shared-feed every tab reads the one feed the
server publishes to the configured Redis, and the server says they are
watch-only."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from quantdesk.commands.serve_ssh import console_settings
from quantdesk.commands.serve_web import tab_command
from quantdesk.serve.web.feed import plan_tab_feed
from support.feed_rig import FeedRig
from support.web_desk import BOOT_S, browser, open_tab, read_until


def team_config(tmp_path, redis_url: str, ns: str) -> str:
    path = tmp_path / "desk.toml"
    path.write_text(f'[redis]\nurl = "{redis_url}"\nteam = "{ns}"\n')
    return str(path)


async def test_two_tabs_read_the_one_feed_the_server_publishes(serve, tmp_path, redis_url, ns):
    config = team_config(tmp_path, redis_url, ns)
    feed = plan_tab_feed(console_settings("test", config), "sim", shared_feed=True)
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
        feed = plan_tab_feed(console_settings("test", team_config(tmp_path, redis_url, ns)), "auto", shared_feed=True)
        said = await feed.start()
        assert "already publishes" in said and ns in said and "orders are not available in this mode" in said
        assert feed.running is None and feed.tab_source == "feed"
        await feed.stop()
    finally:
        await other.close()


async def serve_web_says(*args: str, tab: bytes = b"") -> tuple[str, list[str]]:
    """What ``quantdesk serve web`` prints until it shows the URL to open, and
    (``tab``: a tab opened at that URL until its screen shows this) the tab's
    console command line; then the server is stopped."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "QUANTDESK_REDIS_URL"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "quantdesk.cli", "serve", "web", "--listen", "127.0.0.1:0", *args,
        stderr=asyncio.subprocess.PIPE, env=env,
    )
    said, argv = b"", []
    try:
        async with asyncio.timeout(BOOT_S):
            while b"open http://" not in said:
                line = await proc.stderr.readline()
                assert line, said.decode()
                said += line
        if tab:
            url = said.decode().rsplit("open ", 1)[1].split()[0]
            async with browser() as http:
                async with http.get(url) as r:
                    assert r.status == 200
                ws = await http.ws_connect(url.split("/?")[0] + "/ws?width=160&height=48")
                await read_until(ws, tab)
                (console,) = children_of(proc.pid)
                argv = Path(f"/proc/{console}/cmdline").read_bytes().decode().split("\0")[:-1]
                await ws.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(BOOT_S):
            await proc.wait()
    assert proc.returncode == 0, said.decode()
    return said.decode(), argv


def children_of(pid: int) -> list[int]:
    return [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]


async def test_without_redis_each_tab_trades_on_its_own_venues_and_the_server_says_what_sharing_needs():
    said, _ = await serve_web_says()
    assert "each tab runs its own venues (--source auto) and trades on them" in said
    assert "--shared-feed runs one feed for every tab, watch-only (it needs a Redis: set [redis] url" in said


async def test_by_default_each_tab_trades_as_quantdesk_run_does_a_redis_being_there(tmp_path, redis_url, ns):
    config = team_config(tmp_path, redis_url, ns)
    said, argv = await serve_web_says("--config", config, tab=b"sim-drift connected")
    assert "each tab runs its own venues (--source auto) and trades on them" in said
    assert "published" not in said and "it needs a Redis" not in said
    assert argv[1:] == ["-m", "quantdesk.cli", "run", "--source", "auto", "--config", config]


async def test_with_shared_feed_the_server_runs_one_feed_and_says_tabs_are_watch_only(tmp_path, redis_url, ns):
    said, _ = await serve_web_says("--shared-feed", "--config", team_config(tmp_path, redis_url, ns))
    assert f"one feed for every tab: sim-drift, sim-jup published to {redis_url} namespace {ns}" in said
    assert "Tabs are watch-only: orders are not available in this mode" in said
    assert "start serve web without --shared-feed" in said


def test_shared_feed_without_redis_is_refused_with_what_to_configure(capsys, monkeypatch):
    from quantdesk.cli import main

    monkeypatch.delenv("QUANTDESK_REDIS_URL", raising=False)
    assert main(["serve", "web", "--shared-feed"]) == 2
    err = capsys.readouterr().err
    assert "--shared-feed publishes one feed for every tab through a Redis, and none is configured" in err
    assert "set [redis] url in the config or $QUANTDESK_REDIS_URL" in err


def test_a_feed_source_without_redis_is_refused_with_what_to_do(capsys, monkeypatch):
    from quantdesk.cli import main

    monkeypatch.delenv("QUANTDESK_REDIS_URL", raising=False)
    assert main(["serve", "web", "--source", "feed"]) == 2
    assert "set [redis] url in the config or $QUANTDESK_REDIS_URL" in capsys.readouterr().err


def test_the_server_and_its_tabs_find_the_same_redis(tmp_path, monkeypatch):
    """$QUANTDESK_REDIS_URL before [redis] url, for the feed the server
    publishes and for the tabs' --source feed, which inherit its environment."""
    from quantdesk.wiring.sources import build_session

    monkeypatch.setenv("QUANTDESK_REDIS_URL", "redis://:s3cret@127.0.0.1:6390/2")
    settings = console_settings("test", team_config(tmp_path, "redis://127.0.0.1:6391/0", "desk"))
    feed = plan_tab_feed(settings, "auto", shared_feed=True)
    assert feed.url == "redis://:s3cret@127.0.0.1:6390/2" and feed.namespace == "desk"
    assert "s3cret" not in repr(feed) and "s3cret" not in tab_command(feed.tab_source, None)
    (tab_venue,) = build_session(settings, source="feed").venues.values()
    assert tab_venue.url == feed.url and tab_venue.keys.namespace == "desk"
