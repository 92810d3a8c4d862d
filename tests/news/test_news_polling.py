"""Polling real-shaped feeds from a local HTTP server: RSS, Atom and JSON, 304,
429, malformed XML, a feed that hangs, and an API key that is never shown."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from quantdesk.config.settings import NewsSourceSettings
from quantdesk.core.model import Market
from quantdesk.core.news import NewsBoard
from quantdesk.news.desk import NewsDesk
from quantdesk.news.poller import NewsSource, SourcePoller
from quantdesk.news.wire import FeedError, decode_feed, decode_json
from support.news_server import fixture

S = 1_000_000_000
T0 = 1_796_000_000 * S
KEY = "cp-secret-4f9a1c77e2"
MARKETS = [Market("drift", s, s.split("-")[0], "USD", "perp", 100, 1) for s in ("SOL-PERP", "BTC-PERP", "ETH-PERP")]
MARKETS.append(Market("drift", "1MBONK-PERP", "1MBONK", "USD", "perp", 1, 1))


def source(url: str, kind: str = "rss", **kw) -> NewsSource:
    env = kw.pop("environ", {})
    return NewsSource.from_settings(NewsSourceSettings(kind=kind, url=url, **kw), env)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def test_rss_atom_and_json_bodies_decode_to_headlines():
    rss = decode_feed(fixture("coindesk_rss.xml"))
    assert [h.title for h in rss.headlines][:2] == ["Solana's SOL Jumps 6% as Perp Open Interest Hits Record",
                                                   "Bitcoin Holds $97K Ahead of Fed Minutes"]  # fmt: skip
    assert rss.skipped == 1  # the entry without a title
    first = rss.headlines[0]
    assert first.published_ns == 1_794_997_860 * S  # Wed, 18 Nov 2026 10:31:00 +0000
    assert first.summary.startswith("Open interest in SOL perpetual futures") and "<" not in first.summary
    assert first.currencies == ("SOL",)  # the ticker category, not "Markets"
    atom = decode_feed(fixture("decrypt_atom.xml"))
    assert atom.headlines[0].title == "Solana’s SOL Jumps 6% as Perp Open Interest Hits Record"
    assert atom.headlines[2].published_ns == 1_794_981_600 * S  # no <published>: <updated>
    js = decode_json(fixture("cryptopanic_posts.json"))
    assert js.skipped == 1  # "title": 42
    assert js.headlines[0].currencies == ("SOL",) and (js.headlines[0].votes_positive, js.headlines[0].votes_negative) == (7, 1)
    assert js.headlines[0].published_ns == 1_794_997_211 * S


def test_bodies_that_are_not_feeds_say_so():
    with pytest.raises(FeedError, match="not a readable RSS or Atom feed"):
        decode_feed(b"<?xml version='1.0'?><rss><channel><item><title>Broken</titl></item>")
    with pytest.raises(FeedError, match="not an RSS or Atom feed"):
        decode_feed(b"<html><body>Sign in to continue</body></html>")
    with pytest.raises(FeedError, match="results list"):
        decode_json(b'{"detail": "Invalid token"}')


async def test_three_sources_give_one_board_deduplicated_tagged_newest_first(news_server):
    news_server.add("/rss", fixture("coindesk_rss.xml"))
    news_server.add("/atom", fixture("decrypt_atom.xml"), "application/atom+xml")
    news_server.add("/api/posts/", fixture("cryptopanic_posts.json"), "application/json")
    board = NewsBoard()
    desk = NewsDesk(board, [source(news_server.url("/rss"), name="coindesk"), source(news_server.url("/atom"), name="decrypt"),
                            source(news_server.url("/api/posts/?public=true"), "json", name="cryptopanic")],
                    Clock(), markets=lambda: MARKETS)  # fmt: skip
    try:
        await desk.poll_all()
    finally:
        await desk.stop()
    titles = [h.title for h in board.headlines()]
    assert len(titles) == 7  # 3 + 3 + 3, less the Solana and Bitcoin stories carried twice
    sol = board.headlines()[0]
    assert sol.sources == ("coindesk", "decrypt") or sol.sources == ("decrypt", "coindesk")
    assert sol.symbols == ("SOL",)
    btc = next(h for h in board.headlines() if h.title.startswith("Bitcoin"))
    assert set(btc.sources) == {"coindesk", "cryptopanic"} and btc.symbols == ("BTC",) and btc.sentiment == "bearish"
    assert next(h for h in board.headlines() if "Solution" in h.title).symbols == ()
    assert next(h for h in board.headlines() if h.title.startswith("BONK")).symbols == ("1MBONK",)
    stamps = [h.ts for h in board.headlines()]
    assert stamps == sorted(stamps, reverse=True)
    assert {s.name: s.state for s in board.statuses.values()} == {"coindesk": "ok", "decrypt": "ok", "cryptopanic": "ok"}


async def test_conditional_requests_get_304_and_keep_the_headlines(news_server):
    news_server.add("/rss", fixture("coindesk_rss.xml"))
    async with httpx.AsyncClient() as client:
        poller = SourcePoller(source(news_server.url("/rss")), client)
        first = await poller.poll_once()
        second = await poller.poll_once()
    assert first.state == "ok" and len(first.headlines or []) == 3
    assert second.state == "unchanged" and second.headlines is None
    sent = news_server.hits("/rss")[1].headers
    assert sent["if-none-match"] == '"v1"' and sent["if-modified-since"] == "Wed, 18 Nov 2026 10:40:12 GMT"


async def test_429_waits_as_long_as_asked_and_errors_back_off_until_a_good_answer(news_server):
    route = news_server.add("/rss", fixture("coindesk_rss.xml"))
    route.fail = [(429, {"Retry-After": "90"}), (500, {}), (503, {}), (200, {})][:3]
    async with httpx.AsyncClient() as client:
        poller = SourcePoller(source(news_server.url("/rss"), poll_s=60), client)
        limited = await poller.poll_once()
        e1 = await poller.poll_once()
        e2 = await poller.poll_once()
        ok = await poller.poll_once()
    assert (limited.state, limited.wait_s) == ("rate limited", 90)
    assert "HTTP 429" in limited.detail
    assert (e1.state, e2.state) == ("error", "error") and e2.wait_s > e1.wait_s >= 30
    assert "HTTP 500" in e1.detail
    assert ok.state == "ok" and ok.wait_s == 60 and poller.failures == 0


async def test_malformed_xml_is_an_error_on_its_source_only(news_server):
    news_server.add("/bad", b"<?xml version='1.0'?><rss><channel><item><title>Broken</titl>")
    news_server.add("/good", fixture("decrypt_atom.xml"), "application/atom+xml")
    board = NewsBoard(MARKETS)
    desk = NewsDesk(board, [source(news_server.url("/bad"), name="bad"), source(news_server.url("/good"), name="good")], Clock())
    try:
        await desk.poll_all()
    finally:
        await desk.stop()
    assert board.statuses["bad"].state == "error" and "not a readable RSS or Atom feed" in board.statuses["bad"].detail
    assert board.statuses["good"].state == "ok" and len(board) == 3


async def test_a_feed_that_hangs_times_out_while_the_others_carry_on(news_server, timers):
    news_server.add("/hang", b"", hang=True)
    news_server.add("/rss", fixture("coindesk_rss.xml"))
    board = NewsBoard(MARKETS)
    clock = Clock()
    desk = NewsDesk(board, [source(news_server.url("/hang"), name="slow", timeout_s=10), source(news_server.url("/rss"), name="fast")],
                    clock, sleep=timers.sleep, deadline=timers.timeout)  # fmt: skip
    desk.start()
    try:
        await timers.advance_until(lambda: board.statuses["fast"].state == "ok", 0, "the fast feed's headlines")
        assert board.statuses["slow"].state == "waiting" and len(board) == 3
        await timers.advance_until(lambda: board.statuses["slow"].state == "error", 10, "the hanging feed to time out")
        assert "no answer within 10 s" in board.statuses["slow"].detail
    finally:
        await desk.stop()


async def test_the_api_key_goes_in_the_request_and_nowhere_else(news_server, caplog):
    route = news_server.add("/api/posts/", fixture("cryptopanic_posts.json"), "application/json")
    route.fail = [(403, {})]
    src = source(news_server.url("/api/posts/?public=true"), "json", name="cryptopanic", api_key_env="CP_TOKEN",
                 environ={"CP_TOKEN": KEY})  # fmt: skip
    board = NewsBoard(MARKETS)
    caplog.set_level(logging.DEBUG)
    desk = NewsDesk(board, [src], Clock())
    try:
        await desk.poll_all()
        refused = board.statuses["cryptopanic"]
        await desk.poll_all()
    finally:
        await desk.stop()
    assert [r.query.get("auth_token") for r in news_server.hits("/api/posts/")] == [[KEY], [KEY]]
    assert refused.state == "error" and "HTTP 403" in refused.detail and "CP_TOKEN" in refused.detail
    assert board.statuses["cryptopanic"].state == "ok"
    shown = [repr(src), str(src.address), src.address.shown, repr(desk), repr(board.statuses), caplog.text]
    assert all(KEY not in text for text in shown)
    assert "127.0.0.1" in caplog.text  # httpx did log its request lines, masked


async def test_a_key_in_the_url_placeholder_and_a_missing_key_variable(news_server):
    news_server.add("/v2/posts/", fixture("cryptopanic_posts.json"), "application/json")
    src = source(news_server.url("/v2/posts/?auth_token={api_key}&public=true"), "json", api_key_env="CP_TOKEN",
                 environ={"CP_TOKEN": KEY})  # fmt: skip
    missing = source(news_server.url("/v2/posts/"), "json", name="nokey", api_key_env="CP_TOKEN")
    async with httpx.AsyncClient() as client:
        ok = await SourcePoller(src, client).poll_once()
        no = await SourcePoller(missing, client).poll_once()
    assert ok.state == "ok" and news_server.hits("/v2/posts/")[0].query["auth_token"] == [KEY]
    assert src.address.shown.endswith("auth_token=***&public=true")
    assert no.state == "error" and "set the environment variable CP_TOKEN" in no.detail
    assert len(news_server.hits("/v2/posts/")) == 1  # nothing sent without the key


async def test_the_background_loop_waits_between_polls_on_the_injected_timers(news_server, timers):
    news_server.add("/rss", fixture("coindesk_rss.xml"))
    board = NewsBoard(MARKETS)
    clock = Clock()
    desk = NewsDesk(board, [source(news_server.url("/rss"), name="c", poll_s=60)], clock, sleep=timers.sleep)
    desk.start()
    try:
        await timers.advance_until(lambda: board.statuses["c"].state == "ok", 0, "the first poll")
        await asyncio.sleep(0.05)
        assert len(news_server.hits("/rss")) == 1  # no second poll before the interval
        assert board.statuses["c"].next_ns == T0 + 60 * S
        await timers.advance_until(lambda: board.statuses["c"].state == "unchanged", 60, "the second poll")
        assert len(news_server.hits("/rss")) == 2
    finally:
        await desk.stop()
