"""News headlines beside prices: the model, dedupe, symbol tagging and the board.

Pure: the wire formats (RSS, Atom, JSON APIs) are decoded and fetched in
``quantdesk.news``; here headlines are merged across sources, ordered newest
first, tagged with the listed assets they mention and kept for the News pane,
``quantdesk show news`` and the ``ALERT NEWS`` rule kind.
"""

from __future__ import annotations

from quantdesk.core.news.board import FRESH_WINDOW_NS, NEWS_KEPT, NewsBoard, SourceStatus
from quantdesk.core.news.dedupe import story_keys, title_key, url_key
from quantdesk.core.news.model import Headline, RawHeadline, Sentiment, sentiment_of
from quantdesk.core.news.tagging import SymbolMatcher, asset_of

__all__ = [
    "FRESH_WINDOW_NS",
    "NEWS_KEPT",
    "Headline",
    "NewsBoard",
    "RawHeadline",
    "Sentiment",
    "SourceStatus",
    "SymbolMatcher",
    "asset_of",
    "sentiment_of",
    "story_keys",
    "title_key",
    "url_key",
]
