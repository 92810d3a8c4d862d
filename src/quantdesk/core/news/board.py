"""The desk's headlines: merged across sources, newest first, bounded.

``ingest`` takes one poll's headlines from one source. A story already held
(same link or same title, see ``dedupe``) gains the source and anything it
lacked (a summary, votes, currencies); a new one is tagged with the listed
assets it mentions. Headlines from a source's first poll are its backlog:
kept and shown, but not *fresh*, so starting the terminal does not announce
an hour of old news. ``rev`` moves on every change, for the pane's repaint.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import msgspec

from quantdesk.core.model import Market
from quantdesk.core.news.dedupe import story_keys
from quantdesk.core.news.model import Headline, RawHeadline
from quantdesk.core.news.tagging import SymbolMatcher

NEWS_KEPT = 500  # headlines held; the oldest go first
FRESH_WINDOW_NS = 60 * 1_000_000_000  # how long a new headline counts as just in (ALERT NEWS)


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """How one source's polling goes, for the pane and ``show news``."""

    name: str
    state: str = "waiting"  # waiting | ok | unchanged | rate limited | error
    detail: str = ""  # what went wrong and what to do (never a key)
    last_ok_ns: int | None = None  # the last answer, a 304 included
    next_ns: int | None = None  # when it is polled next
    headlines: int = 0  # in its last full answer


class NewsBoard:
    def __init__(self, markets: Iterable[Market] = (), *, kept: int = NEWS_KEPT) -> None:
        self.kept = kept
        self.matcher = SymbolMatcher(markets)
        self.rev = 0
        self.statuses: dict[str, SourceStatus] = {}
        self._items: dict[str, Headline] = {}  # primary key -> headline
        self._alias: dict[str, str] = {}  # every story key -> primary key
        self._polled: set[str] = set()  # sources past their first poll
        self._ordered: list[Headline] | None = None

    # -- input ------------------------------------------------------------------
    def set_markets(self, markets: Iterable[Market]) -> None:
        """Tag against these listed markets from now on (and re-tag what is held)."""
        matcher = SymbolMatcher(markets)
        if matcher == self.matcher:
            return
        self.matcher = matcher
        for key, h in self._items.items():
            self._items[key] = msgspec.structs.replace(h, symbols=matcher.mentions(h.title, h.codes))
        self._changed()

    def ingest(self, source: str, raws: Sequence[RawHeadline], now_ns: int) -> list[Headline]:
        """Add one poll's headlines from ``source``; returns the new stories."""
        fresh = source in self._polled
        self._polled.add(source)
        added: list[Headline] = []
        changed = False
        for raw in raws:
            title = " ".join(raw.title.split())
            if not title:
                continue
            keys = story_keys(title, raw.url)
            primary = next((self._alias[k] for k in keys if k in self._alias), None)
            if primary is not None:
                merged = self._merge(self._items[primary], source, raw)
                if merged is not self._items[primary]:
                    self._items[primary] = merged
                    changed = True
                for k in keys:
                    self._alias.setdefault(k, primary)
                continue
            codes = tuple(dict.fromkeys(c.strip().upper() for c in raw.currencies if c.strip()))
            h = Headline(
                key=keys[0] if keys else f"t:{title.lower()}",
                title=title,
                url=raw.url.strip(),
                sources=(source,),
                seen_ns=now_ns,
                published_ns=raw.published_ns,
                summary=raw.summary.strip(),
                symbols=self.matcher.mentions(title, codes),
                codes=codes,
                votes_positive=raw.votes_positive,
                votes_negative=raw.votes_negative,
                fresh=fresh,
            )
            self._items[h.key] = h
            for k in keys or (h.key,):
                self._alias[k] = h.key
            added.append(h)
            changed = True
        if changed:
            self._trim()
            self._changed()
        return added

    def set_status(self, status: SourceStatus) -> None:
        if self.statuses.get(status.name) != status:
            self.statuses[status.name] = status
            self._changed()

    def _merge(self, h: Headline, source: str, raw: RawHeadline) -> Headline:
        changes: dict[str, object] = {}
        if source not in h.sources:
            changes["sources"] = (*h.sources, source)
        if not h.summary and raw.summary.strip():
            changes["summary"] = raw.summary.strip()
        if not h.url and raw.url.strip():
            changes["url"] = raw.url.strip()
        if h.published_ns is None and raw.published_ns is not None:
            changes["published_ns"] = raw.published_ns
        if raw.votes_positive is not None and raw.votes_positive != h.votes_positive:
            changes["votes_positive"] = raw.votes_positive
        if raw.votes_negative is not None and raw.votes_negative != h.votes_negative:
            changes["votes_negative"] = raw.votes_negative
        codes = tuple(dict.fromkeys((*h.codes, *(c.strip().upper() for c in raw.currencies if c.strip()))))
        if codes != h.codes:
            changes["codes"] = codes
            changes["symbols"] = self.matcher.mentions(h.title, codes)
        return msgspec.structs.replace(h, **changes) if changes else h

    def _trim(self) -> None:
        if len(self._items) <= self.kept:
            return
        for h in sorted(self._items.values(), key=_order)[self.kept :]:
            del self._items[h.key]
        live = set(self._items)
        self._alias = {k: p for k, p in self._alias.items() if p in live}

    def _changed(self) -> None:
        self.rev += 1
        self._ordered = None

    # -- reading ----------------------------------------------------------------
    def headlines(self, symbol: str | None = None, limit: int | None = None) -> list[Headline]:
        """Newest first (by published time, else when first seen); ``symbol``:
        only those mentioning that asset."""
        if self._ordered is None:
            self._ordered = sorted(self._items.values(), key=_order)
        rows = self._ordered if symbol is None else [h for h in self._ordered if symbol in h.symbols]
        return list(rows if limit is None else rows[:limit])

    def get(self, key: str) -> Headline | None:
        return self._items.get(key)

    def __len__(self) -> int:
        return len(self._items)

    def fresh_count(self, symbol: str, now_ns: int, window_ns: int = FRESH_WINDOW_NS) -> int:
        """Fresh headlines mentioning ``symbol`` first seen in the last ``window_ns``."""
        since = now_ns - window_ns
        return sum(1 for h in self._items.values() if h.fresh and h.seen_ns >= since and symbol in h.symbols)

    def assets(self) -> tuple[str, ...]:
        return self.matcher.assets


def _order(h: Headline) -> tuple[int, str]:
    return (-h.ts, h.title)
