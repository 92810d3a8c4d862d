"""The API's OpenAPI 3.1 description, served at ``/v1/openapi.json``."""

from __future__ import annotations

from typing import Any

from quantdesk import __version__

_DEC = {"type": "string", "description": "decimal number in human units (USD, base asset), exact"}
_ERR = {"description": "bad parameter or unknown venue/market; the message says what to use", "content": {"application/json": {"schema": {"type": "object", "properties": {"error": {"type": "string"}}}}}}
_AUTH = {
    "401": {"description": "no token, a bad one or an expired one (empty body)"},
    "403": {"description": "the token lacks the scope this endpoint needs (empty body)"},
    "429": {"description": "rate limit of the token exceeded; retry after `Retry-After` seconds"},
}


def _get(summary: str, scope: str, params: list[dict[str, Any]] | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {"description": "JSON; prices and sizes as decimal strings"}, **_AUTH}
    if extra:
        responses.update(extra)
    return {"get": {"summary": summary, "security": [{"bearer": [scope]}], "parameters": params or [], "responses": responses}}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def document() -> dict[str, Any]:
    vm = [_path("venue"), _path("market")]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "QuantDesk data API",
            "version": __version__,
            "description": "Read-only market data of a QuantDesk session. Prices and sizes are decimal strings; "
            "rates are fractions per interval_s as decimal strings; ts are integer ns since the Unix epoch. "
            "WebSocket /v1/stream: send {\"op\":\"subscribe\",\"topics\":[\"book.drift.SOL-PERP\",\"trades.*.SOL-PERP\",\"funding\"]}; "
            "you get a snapshot per topic, then deltas with seq = previous seq + 1; after {\"type\":\"gap\"} fresh snapshots follow. "
            "Send {\"op\":\"ping\"} (answered with pong) at least every idle timeout.",
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT (HS256)"}},
            "schemas": {"Decimal": _DEC},
        },
        "paths": {
            "/v1/markets": _get("markets of every venue", "market:read"),
            "/v1/book/{venue}/{market}": _get(
                "order book, best first",
                "market:read",
                vm + [{"name": "depth", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 20}}],
                {"400": _ERR, "404": _ERR},
            ),
            "/v1/trades/{venue}/{market}": _get(
                "recent trades, newest first",
                "market:read",
                vm + [{"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 100}}],
                {"400": _ERR, "404": _ERR},
            ),
            "/v1/funding": _get("funding and borrow rates", "market:read"),
            "/v1/spreads": _get("cross-venue touch, best bid/ask and basis per market", "market:read"),
            "/v1/insights": _get(
                "the Insights report: ranked warnings, opportunities and signals, then carry pairs, impact, carry, "
                "books and basis (?market= one market; position figures only with positions:read)",
                "market:read",
                [{"name": "market", "in": "query", "required": False, "schema": {"type": "string"}}],
            ),
            "/v1/positions": _get("open positions of the session's accounts", "positions:read"),
            "/v1/orders": _get("resting orders of the session's accounts", "positions:read"),
            "/v1/stream": {"get": {"summary": "WebSocket stream (see the description)", "security": [{"bearer": ["market:read"]}], "responses": {"101": {"description": "switching protocols"}, **_AUTH}}},
        },
    }
