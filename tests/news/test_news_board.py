"""The pure news core: one story across sources, newest first, tagged with the listed assets."""

from __future__ import annotations

from quantdesk.core.model import Market
from quantdesk.core.news import NewsBoard, RawHeadline, SymbolMatcher, asset_of, sentiment_of, title_key, url_key

S = 1_000_000_000
T0 = 1_796_000_000 * S


def market(symbol: str, base: str) -> Market:
    return Market("drift", symbol, base, "USD", "perp", 100, 1_000_000)


MARKETS = [market("SOL-PERP", "SOL"), market("BTC-PERP", "BTC"), market("ETH-PERP", "ETH"),
           market("1MBONK-PERP", "1MBONK"), market("W-PERP", "W")]  # fmt: skip


def test_symbols_match_as_whole_words_in_the_tickers_case():
    m = SymbolMatcher(MARKETS)
    assert m.mentions("SOL rallies 6%") == ("SOL",)
    assert m.mentions("A new SOLUTION for settlement") == ()
    assert m.mentions("console output, solid gains, sol") == ()
    assert m.mentions("$SOL and SOL-PERP") == ("SOL",)
    assert m.mentions("ETH/SOL ratio climbs as Bitcoin stalls") == ("ETH", "SOL", "BTC")
    assert m.mentions("Solana's ETF; Ether hits a high; ethereal") == ("SOL", "ETH")


def test_short_tickers_need_a_dollar_or_the_market_and_size_prefixes_match_the_asset():
    m = SymbolMatcher(MARKETS)
    assert m.mentions("W TOKEN UP AS I SAY W") == ()
    assert m.mentions("$W pumps; W-PERP funding flips") == ("W",)
    assert m.mentions("BONK surges after listing") == ("1MBONK",)


def test_a_sources_own_tags_count_only_for_listed_assets():
    m = SymbolMatcher(MARKETS)
    assert m.mentions("Weekly wrap", ["sol", "BONK", "DOGE"]) == ("SOL", "1MBONK")


def test_asset_of_reads_markets_tickers_and_bases():
    assert asset_of("sol", MARKETS) == "SOL"
    assert asset_of("SOL-PERP", MARKETS) == "SOL"
    assert asset_of("bonk", MARKETS) == "1MBONK"
    assert asset_of("DOGE", MARKETS) is None
    assert asset_of("SOL-PERP") == "SOL"  # no markets known yet: shaped right is enough


def test_keys_ignore_tracking_case_punctuation_and_labels():
    assert url_key("https://www.coindesk.com/a/b/?utm_source=rss&utm_medium=x#top") == "coindesk.com/a/b"
    assert url_key("http://coindesk.com/a/b?id=2") == "coindesk.com/a/b?id=2"
    assert title_key("Breaking: Solana’s SOL Jumps 6%!") == title_key("solana's sol jumps 6")
    assert title_key("Update") == ""  # too short to identify a story


def test_one_story_from_two_sources_is_one_headline_with_both_sources():
    board = NewsBoard(MARKETS)
    board.ingest("coindesk", [RawHeadline("Bitcoin Holds $97K Ahead of Fed Minutes", "https://coindesk.com/btc?utm_source=rss",
                                          published_ns=T0)], T0 + S)  # fmt: skip
    board.ingest("cryptopanic", [RawHeadline("Bitcoin holds $97K ahead of Fed minutes", "https://cryptopanic.com/news/1",
                                             published_ns=T0 + 90 * S, currencies=("BTC",), votes_positive=1,
                                             votes_negative=4)], T0 + 2 * S)  # fmt: skip
    board.ingest("coindesk", [RawHeadline("Another title", "https://coindesk.com/btc")], T0 + 3 * S)  # same link
    [h] = board.headlines()
    assert h.sources == ("coindesk", "cryptopanic")
    assert h.published_ns == T0  # the first source's time stays
    assert h.symbols == ("BTC",) and h.sentiment == "bearish"
    assert h.seen_ns == T0 + S


def test_newest_first_by_published_time_else_when_seen_and_filter_by_symbol():
    board = NewsBoard(MARKETS)
    board.ingest("a", [RawHeadline("Old SOL story from the morning", published_ns=T0 - 3600 * S),
                       RawHeadline("Undated ETH story arrives now"),
                       RawHeadline("Newest SOL and BTC story of all", published_ns=T0 - 60 * S)], T0)  # fmt: skip
    assert [h.title for h in board.headlines()] == [
        "Undated ETH story arrives now", "Newest SOL and BTC story of all", "Old SOL story from the morning"]
    assert [h.title for h in board.headlines("SOL")] == ["Newest SOL and BTC story of all", "Old SOL story from the morning"]
    assert board.headlines("DOGE") == []


def test_a_sources_first_poll_is_backlog_and_later_ones_are_fresh_for_a_minute():
    board = NewsBoard(MARKETS)
    board.ingest("a", [RawHeadline("SOL backlog headline from before start")], T0)
    assert board.fresh_count("SOL", T0) == 0
    board.ingest("a", [RawHeadline("SOL breaking headline just in now")], T0 + 10 * S)
    assert board.fresh_count("SOL", T0 + 10 * S) == 1
    assert board.fresh_count("BTC", T0 + 10 * S) == 0
    assert board.fresh_count("SOL", T0 + 71 * S) == 0  # a minute later it is no longer just in


def test_tags_follow_the_listed_markets_and_the_board_stays_bounded():
    board = NewsBoard(kept=3)
    board.ingest("a", [RawHeadline(f"SOL headline number {i:02d}", published_ns=T0 + i * S) for i in range(5)], T0)
    assert len(board) == 3 and board.headlines()[0].title == "SOL headline number 04"
    assert board.headlines()[0].symbols == ()  # no markets known yet
    rev = board.rev
    board.set_markets(MARKETS)
    assert board.rev > rev and [h.symbols for h in board.headlines()] == [("SOL",)] * 3
    board.ingest("a", [RawHeadline("SOL headline number 00", published_ns=T0)], T0)  # trimmed away: back as new
    assert len(board) == 3


def test_sentiment_from_votes():
    assert sentiment_of(None, None) == ""
    assert sentiment_of(7, 1) == "bullish" and sentiment_of(0, 2) == "bearish" and sentiment_of(0, 0) == "neutral"
