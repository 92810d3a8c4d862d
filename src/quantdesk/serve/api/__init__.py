"""``quantdesk serve api``: the read-only data API over a session's cache and bus.

``auth`` checks bearer tokens and rate limits, ``views`` turns the cache into
JSON-ready data, ``stream`` fans bus events out to WebSocket clients,
``openapi`` describes it all and ``app`` puts them together as a Starlette app.
"""
