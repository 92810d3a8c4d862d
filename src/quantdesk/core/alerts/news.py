"""``ALERT NEWS SOL``: fires when a new headline about SOL arrives.

The figure is how many fresh headlines about the asset the desk first saw in
the last minute (``quantdesk.core.news.FRESH_WINDOW_NS``); headlines from a
source's first poll are backlog, not news, and never count. The rule holds
while that count is above zero, so a burst of stories fires once; it re-arms
after a quiet minute, and the cooldown (``COOLDOWN 0S`` for none) spaces
firings further apart. A market (``SOL-PERP``) names its base asset. The
reading's venue is the source of the newest such headline.
"""

from __future__ import annotations

import re
from decimal import Decimal

from quantdesk.core.alerts.grammar import RuleParser
from quantdesk.core.alerts.rule import Rule
from quantdesk.core.alerts.table import Reading, RuleKind, Unit, register
from quantdesk.core.cache import MarketCache

HEADLINES = Unit("a number of headlines", (), {}, 0)
_ASSET = re.compile(r"^\$?[A-Za-z0-9]{1,16}(-[A-Za-z0-9]+)?$")


def _parse_news(p: RuleParser, market: str, word: str) -> Rule:
    bases = list(dict.fromkeys(m.split("-", 1)[0].upper() for m in p.markets))
    p.want(bases)
    tok = p.need("asset: NEWS followed by a listed asset such as SOL")
    text = tok.upper.lstrip("$")
    if not _ASSET.match(text):
        raise p.fail(f"{tok.text!r} is not an asset: expected one such as SOL", tok)
    asset = text.split("-", 1)[0]
    if bases and asset not in bases:
        raise p.fail(f"unknown asset {tok.text!r}: expected a listed one ({', '.join(bases)})", tok)
    p.i += 1
    return Rule("news", ">", Decimal(0), asset)


def _observe_news(cache: MarketCache, rule: Rule, now: int) -> Reading | None:
    board = cache.news
    count = board.fresh_count(rule.market, now)
    if not count:
        return Decimal(0), ""
    newest = max((h for h in board.headlines(rule.market) if h.fresh), key=lambda h: h.seen_ns)
    return Decimal(count), newest.source


NEWS = RuleKind(
    "news", "NEWS", True, "ALERT NEWS SOL", HEADLINES,
    parse=_parse_news,
    observe=_observe_news,
    topics=lambda r: (),  # headlines arrive from the news desk, not the bus: read on the engine's tick
    band=lambda r: Decimal(0),
    text=lambda r: f"NEWS {r.market}",
    help="new headlines about an asset in the last minute",
)  # fmt: skip

register(NEWS)
