"""Response bodies to headlines: RSS and Atom (feedparser) and CryptoPanic-style JSON.

JSON shape read (other fields are ignored, missing ones tolerated)::

    {"results": [{"title": "...", "published_at": "2026-12-02T15:04:05Z",
                  "url": "https://...", "description": "...",
                  "currencies": [{"code": "SOL"}, ...],
                  "votes": {"positive": 3, "negative": 1, ...}}, ...]}

A body that is not a feed at all raises ``FeedError`` saying so; a feed with
some broken entries keeps the readable ones and counts the rest.
"""

from __future__ import annotations

import calendar
import html
import io
import re
from dataclasses import dataclass
from datetime import datetime, timezone

import msgspec

from quantdesk.core.news import RawHeadline

MAX_SUMMARY = 2_000  # characters kept of a summary
_TAG = re.compile(r"<[^>]*>")
NS = 1_000_000_000


class FeedError(ValueError):
    """A response body that holds no feed; the message says what it was."""


@dataclass(frozen=True, slots=True)
class Decoded:
    headlines: list[RawHeadline]
    skipped: int = 0  # entries without a title, or not shaped as documented


def plain_text(text: str) -> str:
    """HTML as one line of text: tags gone, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())[:MAX_SUMMARY]


def decode(kind: str, body: bytes) -> Decoded:
    return decode_json(body) if kind == "json" else decode_feed(body)


# -- RSS and Atom ---------------------------------------------------------------------


def decode_feed(body: bytes) -> Decoded:
    import feedparser  # imported when a feed is first read: it costs start-up time

    # A stream, never a string: feedparser fetches strings that look like URLs.
    parsed = feedparser.parse(io.BytesIO(body), sanitize_html=True, resolve_relative_uris=False)
    entries = list(parsed.get("entries") or ())
    out: list[RawHeadline] = []
    skipped = 0
    for e in entries:
        title = plain_text(str(e.get("title") or ""))
        if not title:
            skipped += 1
            continue
        when = e.get("published_parsed") or e.get("updated_parsed")
        out.append(
            RawHeadline(
                title=title,
                url=str(e.get("link") or ""),
                published_ns=calendar.timegm(when) * NS if when else None,
                summary=plain_text(str(e.get("summary") or "")),
                currencies=tuple(str(t.get("term")) for t in e.get("tags") or () if _ticker(str(t.get("term") or ""))),
            )
        )
    if not out:
        # Broken XML still parses leniently; with nothing readable in it, say what it was.
        if parsed.get("bozo"):
            raise FeedError(f"not a readable RSS or Atom feed ({_reason(parsed.get('bozo_exception'))})")
        if not parsed.get("version"):
            raise FeedError("the answer is not an RSS or Atom feed; check the URL points at the feed itself")
    return Decoded(out, skipped)


def _ticker(term: str) -> bool:
    """A feed category that is an asset code ($SOL, BTC), not a topic ("Markets")."""
    return bool(re.fullmatch(r"\$?[A-Z0-9]{2,10}", term.strip()))


def _reason(exc: object) -> str:
    text = str(exc) if exc is not None else ""
    return text.splitlines()[0][:120] if text else "malformed XML"


# -- CryptoPanic-style JSON -------------------------------------------------------------


class _Currency(msgspec.Struct):
    code: str = ""


class _Votes(msgspec.Struct):
    positive: int = 0
    negative: int = 0


class _Item(msgspec.Struct):
    title: str = ""
    published_at: str | None = None
    url: str | None = None
    original_url: str | None = None
    description: str | None = None
    currencies: list[_Currency] | None = None
    votes: _Votes | None = None


class _Page(msgspec.Struct):
    results: list[msgspec.Raw]


_PAGE = msgspec.json.Decoder(_Page)
_ITEM = msgspec.json.Decoder(_Item)


def decode_json(body: bytes) -> Decoded:
    try:
        page = _PAGE.decode(body)
    except msgspec.DecodeError as exc:
        raise FeedError(f"not the JSON news shape (a results list): {exc}") from None
    out: list[RawHeadline] = []
    skipped = 0
    for raw in page.results:
        try:
            item = _ITEM.decode(raw)
        except msgspec.DecodeError:
            skipped += 1
            continue
        title = plain_text(item.title)
        if not title:
            skipped += 1
            continue
        votes = item.votes
        out.append(
            RawHeadline(
                title=title,
                url=item.original_url or item.url or "",
                published_ns=_iso_ns(item.published_at),
                summary=plain_text(item.description or ""),
                currencies=tuple(c.code for c in item.currencies or () if c.code),
                votes_positive=votes.positive if votes is not None else None,
                votes_negative=votes.negative if votes is not None else None,
            )
        )
    return Decoded(out, skipped)


def _iso_ns(text: str | None) -> int | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return int(when.timestamp()) * NS + when.microsecond * 1_000
