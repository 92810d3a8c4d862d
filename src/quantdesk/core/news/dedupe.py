"""When two headlines are one story: the same link, or the same words.

Sources syndicate: the same article arrives from an RSS feed and a JSON API
with tracking parameters on its link, or under a slightly different title
(case, punctuation, a "Breaking:" label). A story has up to two keys, its
normalized link and its normalized title; headlines sharing either are one.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit

_WORDS = re.compile(r"[^\w]+", re.UNICODE)
_LABEL = re.compile(r"^(breaking|update|updated|just in|exclusive)\s*[:|-]\s*", re.I)
_TRACKING = ("utm_", "ref", "source", "fbclid", "gclid", "mc_")
_MIN_TITLE_CHARS = 12  # shorter titles ("Update", "Markets") are too common to merge on


def title_key(title: str) -> str:
    """Lower case, accents and punctuation gone, spaces collapsed, a leading
    "Breaking:"-style label dropped ("" when too short to identify a story)."""
    text = unicodedata.normalize("NFKD", _LABEL.sub("", title.strip()))
    text = "".join(c for c in text if not unicodedata.combining(c))
    key = " ".join(_WORDS.sub(" ", text.lower()).split())
    return key if len(key) >= _MIN_TITLE_CHARS else ""


def url_key(url: str) -> str:
    """The link without scheme, ``www.``, fragment, tracking parameters or a
    trailing slash ("" for no link)."""
    url = url.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url if "://" in url else "//" + url)
    except ValueError:
        return url.lower()
    host = (parts.hostname or "").lower().removeprefix("www.")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.lower().startswith(_TRACKING)]
    path = parts.path.rstrip("/")
    return host + path + ("?" + urlencode(sorted(query)) if query else "")


def story_keys(title: str, url: str) -> tuple[str, ...]:
    """The keys a headline is known by, link first."""
    return tuple(k for k in (f"u:{url_key(url)}" if url_key(url) else "", f"t:{title_key(title)}" if title_key(title) else "") if k)
