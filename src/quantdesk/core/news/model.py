"""A headline as a source gives it, and as the desk keeps it.

``RawHeadline`` is what a feed decoder returns: the source's own fields, its
timestamps in nanoseconds since the epoch, the currencies it names (a JSON
API's ``currencies``) and its readers' votes when it counts them.
``Headline`` is the merged story: every source that carried it, the listed
assets it mentions, when this desk first saw it and its sentiment.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Sentiment = Literal["bullish", "bearish", "neutral", ""]  # "": the source gives no votes


class RawHeadline(msgspec.Struct, frozen=True):
    title: str
    url: str = ""
    published_ns: int | None = None  # None: the source gave no (readable) date
    summary: str = ""
    currencies: tuple[str, ...] = ()  # asset codes the source tags it with (SOL, BTC)
    votes_positive: int | None = None  # None: the source does not count votes
    votes_negative: int | None = None


class Headline(msgspec.Struct, frozen=True):
    key: str  # the story's identity across sources (its first dedupe key)
    title: str
    url: str
    sources: tuple[str, ...]  # every source that carried it, first seen first
    seen_ns: int  # when this desk first saw it
    published_ns: int | None = None
    summary: str = ""
    symbols: tuple[str, ...] = ()  # listed assets it mentions (SOL, BTC), in order of mention
    codes: tuple[str, ...] = ()  # the currencies its sources tagged it with, as they spell them
    votes_positive: int | None = None
    votes_negative: int | None = None
    fresh: bool = False  # arrived after its source's first poll: news, not backlog

    @property
    def source(self) -> str:
        return self.sources[0] if self.sources else ""

    @property
    def ts(self) -> int:
        """The time it is ordered and aged by: published, else first seen."""
        return self.published_ns if self.published_ns is not None else self.seen_ns

    @property
    def sentiment(self) -> Sentiment:
        return sentiment_of(self.votes_positive, self.votes_negative)


def sentiment_of(positive: int | None, negative: int | None) -> Sentiment:
    """Bullish when readers voted it up more than down, bearish the other way,
    neutral on a tie (or no votes cast); "" when the source counts no votes."""
    if positive is None and negative is None:
        return ""
    up, down = positive or 0, negative or 0
    if up > down:
        return "bullish"
    if down > up:
        return "bearish"
    return "neutral"
