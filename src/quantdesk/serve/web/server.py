"""The console in a browser tab: textual-serve's page and WebSocket, behind a
token, with a limit on tabs.

Every request must carry the token, in the URL (``?token=...``, as printed
at start) or in the cookie the first page sets (HttpOnly, SameSite=Strict,
so a page on another site cannot open a console with it). Without it the
answer is 403 and nothing starts. Each tab's WebSocket runs its own console
process (textual-serve's design); past ``max_tabs`` a new tab is refused with
503 until one closes. No access log is written: URLs carry the token.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server

log = logging.getLogger(__name__)

COOKIE = "quantdesk_token"
DEFAULT_MAX_TABS = 8
TOKEN_BYTES = 24

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


@dataclass
class WebOptions:
    command: str  # the console command each tab runs
    token: str = field(repr=False)
    max_tabs: int = DEFAULT_MAX_TABS
    title: str = "QuantDesk"


class WebDesk:
    """The aiohttp application and its running site."""

    def __init__(self, options: WebOptions) -> None:
        self.options = options
        self.tabs = 0
        self.refused_full = 0
        self._serve = Server(options.command, title=options.title)
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._require_token])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self._serve.templates_path))
        app.add_routes([
            web.get("/", self._serve.handle_index, name="index"),
            web.get("/ws", self._tab, name="websocket"),
            web.static("/static", self._serve.statics_path, name="static"),
        ])
        return app

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (0: a free port); returns the port."""
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = int(self._runner.addresses[0][1])  # the port asked for as 0 included
        shown = f"[{host}]" if ":" in host else host
        self._serve.public_url = f"http://{shown}:{bound}"  # the page builds its WebSocket URL from it
        return bound

    def url(self) -> str:
        return f"{self._serve.public_url}/?token={self.options.token}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- the token -------------------------------------------------------------
    def _allowed(self, request: web.Request) -> tuple[bool, bool]:
        """(allowed, came in the URL)."""
        wanted = self.options.token.encode()
        given = request.query.get("token")
        if given is not None and hmac.compare_digest(given.encode(), wanted):
            return True, True
        cookie = request.cookies.get(COOKIE)
        return cookie is not None and hmac.compare_digest(cookie.encode(), wanted), False

    @web.middleware
    async def _require_token(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        allowed, in_url = self._allowed(request)
        if not allowed:
            log.warning("web: %s %s refused: no valid token", request.remote, request.path)
            return web.Response(status=403, text="QuantDesk: open the URL printed by `quantdesk serve web` "
                                "(it carries the token).\n")
        response = await handler(request)
        if in_url and not response.prepared:
            response.set_cookie(COOKIE, self.options.token, httponly=True, samesite="Strict", path="/")
        return response

    # -- tabs ------------------------------------------------------------------
    async def _tab(self, request: web.Request) -> web.StreamResponse:
        if self.tabs >= self.options.max_tabs:
            self.refused_full += 1
            return web.Response(status=503, text=f"QuantDesk is serving its limit of {self.options.max_tabs} tabs; "
                                "close one or ask for --max-tabs to be raised.\n")
        self.tabs += 1
        try:
            response: Any = await self._serve.handle_websocket(request)
            return response
        finally:
            self.tabs -= 1
