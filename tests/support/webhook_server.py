"""A local incoming-webhook server, as Slack and Discord run them: POST a JSON
body to a secret path; Slack answers 200 "ok", Discord 204. The test scripts
what it answers next (an HTTP status, or hanging without an answer) and reads
what it received. A real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

SECRET_PATH = "/services/T0SECRET/B0SECRET/xoxTOKENdoNotShow123"


class WebhookServer:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []  # bodies of every request, answered or not
        self.content_types: list[str] = []
        self.answers: list[int | str] = []  # scripted: a status, or "hang"; then 200 for ever
        self.release = asyncio.Event()  # set: every hanging request answers 200
        self.url = ""

    async def _hook(self, request: web.Request) -> web.Response:
        self.content_types.append(request.headers.get("Content-Type", ""))
        self.received.append(json.loads(await request.read()))
        answer = self.answers.pop(0) if self.answers else 200
        if answer == "hang":
            await self.release.wait()
            answer = 200
        if answer == 429:
            return web.Response(status=429, text="slow down", headers={"Retry-After": "2"})
        return web.Response(status=int(answer), text="ok" if answer == 200 else "error")

    @property
    def texts(self) -> list[str]:
        return [b["text"] for b in self.received]


@asynccontextmanager
async def webhook_server() -> AsyncIterator[WebhookServer]:
    srv = WebhookServer()
    app = web.Application()
    app.router.add_post(SECRET_PATH, srv._hook)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)  # the server's log is not the terminal's
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # started just above
    srv.url = f"http://127.0.0.1:{port}{SECRET_PATH}"
    try:
        yield srv
    finally:
        srv.release.set()
        await runner.cleanup()
