"""The console in a browser tab: textual-serve's page and WebSocket, behind a
token, with a limit on tabs.

Every request must carry the token, in the URL (``?token=...``, as printed
at start) or in the cookie the first page sets (HttpOnly, SameSite=Strict,
so a page on another site cannot open a console with it). Without it the
answer is 403 and nothing starts. Each tab's WebSocket runs its own console
process (textual-serve's design, ``quantdesk.serve.web.tab``); past
``max_tabs`` a new tab is refused with 503 until one closes. A tab closes
when its socket does, or when the browser stops answering the heartbeat
(gone without a word: a dropped link, a sleeping laptop); its console is then
ended and reaped, and only then is its slot given back. No access log is
written: URLs carry the token.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server, to_int

from quantdesk.serve.web.tab import DEFAULT_GRACE_S, TabProcess

log = logging.getLogger(__name__)

COOKIE = "quantdesk_token"
DEFAULT_MAX_TABS = 8
DEFAULT_HEARTBEAT_S = 15.0  # a silent browser is dropped after 1.5x this
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
    heartbeat_s: float = DEFAULT_HEARTBEAT_S
    grace_s: float = DEFAULT_GRACE_S  # from SIGTERM to SIGKILL for a console that does not end


class WebDesk:
    """The aiohttp application and its running site."""

    def __init__(self, options: WebOptions) -> None:
        self.options = options
        self.tabs = 0  # slots taken: a tab's console counts from its handshake until it is reaped
        self.refused_full = 0
        self.consoles: set[TabProcess] = set()
        self._tabs_changed = asyncio.Event()
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
        """Stop listening and end every tab's console."""
        await asyncio.gather(*(console.stop() for console in list(self.consoles)))
        if self._runner is not None:
            await self._runner.cleanup()

    async def until(self, done: Callable[[], bool]) -> None:
        """Return once ``done()`` holds, checked whenever a tab opens, its
        console starts, or its slot is given back."""
        while not done():
            self._tabs_changed.clear()
            await self._tabs_changed.wait()

    async def until_tabs(self, n: int) -> None:
        """Return once at most ``n`` slots are taken."""
        await self.until(lambda: self.tabs <= n)

    def _changed(self) -> None:
        self._tabs_changed.set()

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
        self._changed()
        try:
            return await self._run_tab(request)
        finally:
            self.tabs -= 1
            self._changed()

    async def _run_tab(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's WebSocket handler, with a console that is sure to end."""
        websocket = web.WebSocketResponse(heartbeat=self.options.heartbeat_s)
        await websocket.prepare(request)
        console = TabProcess(
            self.options.command, grace_s=self.options.grace_s, write_bytes=websocket.send_bytes,
            write_str=websocket.send_str, close=websocket.close, download_manager=self._serve.download_manager,
        )
        self.consoles.add(console)
        try:
            await console.start(to_int(request.query.get("width", "80"), 80), to_int(request.query.get("height", "24"), 24))
            self._changed()
            await self._serve._process_messages(websocket, console)
        except Exception:
            log.exception("web: a tab's console failed")
        finally:
            # the socket is gone (closed, dropped or silent past the heartbeat)
            # or the server is stopping: either way the console ends here
            await console.stop()
            self.consoles.discard(console)
            await websocket.close()
        return websocket
