"""ALERT NEWS SOL: fires on a new headline about SOL, never on the backlog of a
source's first poll, once per burst, and again after a quiet minute."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quantdesk.config.settings import load_config
from quantdesk.console.app import QuantDeskApp
from quantdesk.core.alerts import AlertEngine, RuleError, parse_rule, rule_text
from quantdesk.core.cache import MarketCache
from quantdesk.core.model import Market
from quantdesk.core.news import RawHeadline
from quantdesk.news.desk import NewsDesk
from quantdesk.trading.journal import Journal
from quantdesk.wiring.alert_desk import alert_desk_from_settings
from quantdesk.wiring.news import news_sources

from support.alerts_app import fired_toasts
from support.app import paused_session
from support.news_server import fixture

S = 1_000_000_000
T0 = 1_795_000_000 * S
MARKETS = ["SOL-PERP", "BTC-PERP"]


def test_the_rule_reads_an_asset_or_a_market_and_says_what_is_wrong():
    assert parse_rule("ALERT NEWS sol", MARKETS).rule.market == "SOL"
    rule = parse_rule("NEWS BTC-PERP COOLDOWN 0S", MARKETS).rule
    assert rule_text(rule) == "NEWS BTC COOLDOWN 0S"
    with pytest.raises(RuleError, match=r"unknown asset 'DOGE': expected a listed one \(SOL, BTC\); e.g. ALERT NEWS SOL"):
        parse_rule("ALERT NEWS DOGE", MARKETS)
    with pytest.raises(RuleError, match="missing asset"):
        parse_rule("ALERT NEWS", MARKETS)


def test_fires_once_per_burst_of_new_sol_headlines_and_rearms_after_a_quiet_minute():
    now = [T0]
    cache = MarketCache()
    cache.add_markets([Market("drift", s, s.split("-")[0], "USD", "perp", 1, 1) for s in MARKETS])
    cache.news.set_markets(cache.markets.values())
    fired: list[tuple[str, Decimal, str]] = []
    engine = AlertEngine(cache, lambda: now[0], lambda w, t: fired.append((t.event, t.value, t.venue)), cooldown_s=0)
    engine.put("n1", parse_rule("ALERT NEWS SOL", MARKETS).rule)
    cache.news.ingest("coindesk", [RawHeadline("SOL backlog story from this morning")], now[0])
    engine.tick()
    assert fired == []  # a source's first poll is backlog
    now[0] += 30 * S
    cache.news.ingest("coindesk", [RawHeadline("BTC only story arrives first"), RawHeadline("SOL breaks out above resistance")], now[0])
    cache.news.ingest("decrypt", [RawHeadline("SOL breaks out above resistance!")], now[0])  # its backlog, and the same story
    engine.tick()
    now[0] += 5 * S
    cache.news.ingest("coindesk", [RawHeadline("Second SOL story in the same burst")], now[0])
    engine.tick()
    assert fired == [("fired", Decimal(1), "coindesk")]  # once for the burst
    now[0] += 61 * S
    engine.tick()
    assert fired[-1][0] == "rearmed"
    cache.news.ingest("coindesk", [RawHeadline("A third SOL headline after the lull")], now[0])
    engine.tick()
    assert [e for e, _, _ in fired] == ["fired", "rearmed", "fired"]


async def test_alert_news_from_the_command_line_fires_on_the_next_poll(tmp_path, news_server, timers):
    route = news_server.add("/rss", fixture("decrypt_atom.xml"), "application/atom+xml")
    path = tmp_path / "config.toml"
    path.write_text(f'[[news.sources]]\nkind = "rss"\nurl = "{news_server.url("/rss")}"\nname = "decrypt"\npoll_s = 30\n')
    settings = load_config(path, environ={})
    session = paused_session()
    cache = session.cache
    desk = NewsDesk(cache.news, news_sources(settings, {}), session.clock, markets=lambda: cache.markets.values(),
                    sleep=timers.sleep, deadline=timers.timeout)  # fmt: skip
    journal = Journal.open(tmp_path / "journal.sqlite3", clock=session.clock)
    app = QuantDeskApp(session, panes=("depth", "news"), news=desk, alerts=alert_desk_from_settings(settings, session, journal))
    async with app.run_test(size=(160, 40)) as pilot:
        await app.session_started.wait()
        await timers.advance_until(lambda: cache.news.statuses["decrypt"].state == "ok", 0, "the first poll")
        await pilot.press("colon", *"ALERT NEWS SOL", "enter")
        await pilot.pause()
        app.alerts.desk.tick()
        assert fired_toasts(app) == []  # the feed's backlog mentions SOL, but it is not news
        body = fixture("decrypt_atom.xml").replace(b"<entry>", (
            b"<entry><title>Solana validators ship a fee market upgrade</title>"
            b"<link href='https://decrypt.co/301200/solana-fee-market'/><id>p301200</id>"
            b"<updated>2026-11-18T11:06:00Z</updated></entry><entry>"), 1)  # fmt: skip
        route.body, route.etag = body, '"v2"'
        await timers.advance_until(lambda: len(cache.news) == 4, 30, "the second poll")
        app.alerts.desk.tick()
        await pilot.pause()
        toasts = fired_toasts(app)
        assert len(toasts) == 1 and toasts[0].startswith("NEWS SOL: 1 on decrypt")
    journal.close()
