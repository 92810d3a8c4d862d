"""The news desk a configuration asks for: one poller per ``[[news.sources]]``
entry, feeding the session's news board (``session.cache.news``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from quantdesk.news.desk import NewsDesk
from quantdesk.news.poller import NewsSource

if TYPE_CHECKING:
    from quantdesk.config.settings import Settings
    from quantdesk.venues.session import Session


def news_sources(settings: Settings, environ: Mapping[str, str] | None = None) -> list[NewsSource]:
    """The configured sources, each with its key read from the environment."""
    env = dict(environ) if environ is not None else None
    return [NewsSource.from_settings(s, env) for s in settings.news.sources]


def news_keys(settings: Settings, environ: Mapping[str, str] | None = None) -> list[str]:
    """The API keys the news sources read from the environment, for log redaction."""
    import os

    env = os.environ if environ is None else environ
    return [env[s.api_key_env] for s in settings.news.sources if s.api_key_env and env.get(s.api_key_env)]


def news_desk(settings: Settings, session: Session, environ: Mapping[str, str] | None = None) -> NewsDesk | None:
    """None when no source is configured. A source whose key variable is not
    set is kept: it shows the trader which variable to set instead of polling."""
    sources = news_sources(settings, environ)
    if not sources:
        return None
    cache = session.cache
    return NewsDesk(cache.news, sources, session.clock, markets=lambda: cache.markets.values())
