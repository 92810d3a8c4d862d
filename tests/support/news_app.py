"""A terminal reading news as `quantdesk run` wires it: [[news.sources]] in
the config pointing at the local news server, the desk polling in the
background on manual timers (one poll each until the test moves time on)."""

from __future__ import annotations

import threading
from pathlib import Path

from quantdesk.config.settings import load_config
from quantdesk.console.app import QuantDeskApp
from quantdesk.core.model import Position
from quantdesk.news.desk import NewsDesk
from quantdesk.wiring.news import news_sources

from support.app import paused_session
from support.news_server import NewsServer, fixture
from support.timers import ManualTimers

SIZE = (160, 40)


ORDER = (("coindesk", "/rss"), ("decrypt", "/atom"), ("cryptopanic", "/api/posts/"))


def serve_feeds(server: NewsServer) -> str:
    """The three real-shaped feeds, each answering once its gate opens
    (``polled`` opens them in ``ORDER``), and the config naming them."""
    server.add("/rss", fixture("coindesk_rss.xml"), gate=threading.Event())
    server.add("/atom", fixture("decrypt_atom.xml"), "application/atom+xml", gate=threading.Event())
    server.add("/api/posts/", fixture("cryptopanic_posts.json"), "application/json", gate=threading.Event())
    return (
        f'[[news.sources]]\nkind = "rss"\nurl = "{server.url("/rss")}"\nname = "coindesk"\n'
        f'[[news.sources]]\nkind = "atom"\nurl = "{server.url("/atom")}"\nname = "decrypt"\n'
        f'[[news.sources]]\nkind = "json"\nurl = "{server.url("/api/posts/?public=true")}"\nname = "cryptopanic"\n'
        'api_key_env = "CRYPTOPANIC_TOKEN"\n'
    )


def news_app(tmp_path: Path, config: str, timers: ManualTimers, panes: tuple[str, ...] = ("depth", "news"),
             environ: dict[str, str] | None = None) -> QuantDeskApp:  # fmt: skip
    path = tmp_path / "config.toml"
    path.write_text(config)
    settings = load_config(path, environ={})
    session = paused_session()
    cache = session.cache
    desk = NewsDesk(cache.news, news_sources(settings, environ or {"CRYPTOPANIC_TOKEN": "cp-test-key-123456"}),
                    session.clock, markets=lambda: cache.markets.values(), sleep=timers.sleep, deadline=timers.timeout)  # fmt: skip
    return QuantDeskApp(session, panes=panes, news=desk)  # the App's own grid of ``panes``


def hold_position(app: QuantDeskApp, market: str = "SOL-PERP", venue: str = "sim-drift") -> None:
    m = app.session.cache.markets[(venue, market)]
    price = m.to_price(150)
    app.session.bus.publish(f"position.{venue}", Position(venue, market, 10**9, -price, price, ts=app.session.clock()))


async def polled(app: QuantDeskApp, pilot, timers: ManualTimers, server: NewsServer) -> None:
    """The session up, every source polled once in ``ORDER`` (so a story two
    sources carry is always first seen from the same one), a frame drawn."""
    from quantdesk.console.panes.depth import FADE_NS

    await app.session_started.wait()
    app.session.advance(3_000)
    app.session.clock.advance(FADE_NS)
    board = app.session.cache.news
    for name, path in ORDER:
        gate = server.routes[path].gate
        assert gate is not None
        gate.set()
        await timers.advance_until(lambda: board.statuses[name].state != "waiting", 0, f"{name}'s first poll")
    app.frame()
    await pilot.pause()
