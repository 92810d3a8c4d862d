"""The News pane on the real App: headlines from the local news server,
newest first with source, age, assets and votes; Enter opens one; f and
NEWS filter by asset; a hanging feed never holds up the keys.

After an intended change: ``pytest tests/news/test_news_pane.py --snapshot-update``
and review the SVG in __snapshots__."""

from __future__ import annotations

from quantdesk.console.news_detail import NewsDetailScreen
from quantdesk.console.pane_screen import PaneScreen
from quantdesk.console.panes.news import NewsPane

from support.app import pane_lines
from support.news_app import SIZE, hold_position, news_app, polled, serve_feeds


def test_news_pane_snapshot(snap_compare, tmp_path, news_server, timers):
    app = news_app(tmp_path, serve_feeds(news_server), timers)

    async def run_before(pilot) -> None:
        await polled(app, pilot, timers, news_server)
        hold_position(app)  # a SOL position: SOL headlines are highlighted
        app.query_one(NewsPane).focus()
        app.frame()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


async def test_enter_opens_a_headline_and_f_and_news_filter_by_asset(tmp_path, news_server, timers):
    app = news_app(tmp_path, serve_feeds(news_server), timers)
    async with app.run_test(size=SIZE) as pilot:
        await polled(app, pilot, timers, news_server)
        pane = app.query_one(NewsPane)
        pane.focus()
        text = "\n".join(pane_lines(pane))
        assert "7 headlines" in text
        first = [line for line in pane_lines(pane) if "Solana" in line][0]
        assert "SOL" in first and "coindesk+1" in first
        assert "+7 -1" in text  # CryptoPanic's votes on the Drift story
        await pilot.press("down", "enter")  # as a burst: the second headline
        await pilot.pause()
        assert isinstance(app.screen, NewsDetailScreen)
        opened = app.screen.headline
        assert opened.title == pane.rows()[1].title
        shown = str(app.screen.query_one("#news-detail").render())
        await pilot.press("escape", "f")
        await pilot.pause()
        assert not isinstance(app.screen, NewsDetailScreen)
        assert pane.symbol == opened.symbols[0] and all(opened.symbols[0] in h.symbols for h in pane.rows())
        await pilot.press("f")
        assert pane.symbol is None
        await pilot.press("colon", *"NEWS btc", "enter")
        await pilot.pause()
        assert pane.symbol == "BTC" and [h.title for h in pane.rows()] == ["Bitcoin Holds $97K Ahead of Fed Minutes"]
        await pilot.press("colon", *"ETH-PERP NEWS", "enter", "colon", *"NEWS ALL", "enter")
        await pilot.pause()
        assert pane.symbol is None and len(pane.rows()) == 7
    assert shown  # the detail drew


async def test_detail_shows_summary_link_sources_and_votes(tmp_path, news_server, timers):
    app = news_app(tmp_path, serve_feeds(news_server), timers)
    async with app.run_test(size=SIZE) as pilot:
        await polled(app, pilot, timers, news_server)
        pane = app.query_one(NewsPane)
        pane.focus()
        drift = next(i for i, h in enumerate(pane.rows()) if h.title.startswith("Drift"))
        await pilot.press(*["down"] * drift, "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, NewsDetailScreen)
        text = "\n".join(line.text for line in screen.query_one("#news-detail").render_lines(screen.query_one("#news-detail").region.reset_offset))
        assert "Drift Protocol Lists New SOL Perp Markets" in text
        assert "cryptopanic" in text and "bullish (+7 -1 votes)" in text
        assert "https://cryptopanic.com/news/20871345/" in text
        assert "2026-11-18 10:20:11 UTC" in text


async def test_news_over_a_layout_without_the_pane_and_bad_assets_say_what_to_type(tmp_path, news_server, timers):
    app = news_app(tmp_path, serve_feeds(news_server), timers, panes=("depth", "funding"))
    async with app.run_test(size=SIZE) as pilot:
        await polled(app, pilot, timers, news_server)
        await pilot.press("colon", *"NEWS SOL", "enter")
        await pilot.pause()
        assert isinstance(app.screen, PaneScreen) and app.screen.pane.symbol == "SOL"
        assert all("SOL" in h.symbols for h in app.screen.pane.rows()) and app.screen.pane.rows()
        await pilot.press("escape", "colon", *"NEWS DOGE", "enter")
        await pilot.pause()
        from quantdesk.console.command_line import CommandLine

        error = app.query_one(CommandLine).error
        assert not isinstance(app.screen, PaneScreen)
        assert error is not None and error.message.startswith("unknown asset 'DOGE': expected a listed asset such as SOL")


async def test_a_hanging_feed_never_holds_up_the_keys(tmp_path, news_server, timers):
    news_server.add("/hang", b"", hang=True)
    config = serve_feeds(news_server) + f'[[news.sources]]\nkind = "rss"\nurl = "{news_server.url("/hang")}"\nname = "slow"\n'
    app = news_app(tmp_path, config, timers)
    async with app.run_test(size=SIZE) as pilot:
        await app.session_started.wait()
        for route in news_server.routes.values():
            if route.gate is not None:
                route.gate.set()
        board = app.session.cache.news
        await timers.advance_until(lambda: board.statuses["cryptopanic"].state == "ok", 0, "the other feeds")
        assert board.statuses["slow"].state == "waiting" and len(news_server.hits("/hang")) == 1
        pane = app.query_one(NewsPane)
        pane.focus()
        app.frame()
        # The cursor follows a headline, not an index: it stays on the one it
        # met first, whichever feed answered first.
        start = pane.cursor.pick([h.key for h in pane.rows()])
        assert start is not None
        rows = pane.rows()
        # two or more rows away from it, down if there is one, else up
        away = [i for i in range(len(rows)) if rows[i].symbols and abs(i - start) >= 2]
        to = min(away, key=lambda i: (i < start, abs(i - start)))
        target = rows[to]
        keys = ["down"] * (to - start) if to > start else ["up"] * (start - to)
        await pilot.press(*keys, "f")  # answered while the slow feed's request is open
        assert len(news_server.hits("/hang")) == 1 and board.statuses["slow"].state == "waiting"
        assert pane.symbol == target.symbols[0]  # every down and the filter key were handled
        await timers.advance_until(lambda: board.statuses["slow"].state == "error", 10, "the hanging feed to time out")
        app.frame()
        await pilot.pause()
        assert any("slow: error: no answer within 10 s" in line for line in pane_lines(pane))
