"""A real ``serve web`` on a free port, and a browser for it: a cookie-keeping
aiohttp client that opens tabs over the real WebSocket and reads their screens."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp

from quantdesk.commands.serve_web import tab_command
from quantdesk.serve.web.server import WebDesk, WebOptions, new_token

BOOT_S = 60  # a console's cold Python start on a loaded 2-core machine
_CONTROL = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


def visible(screen: bytes) -> bytes:
    """The screen's text without its control sequences (colours, cursor moves)."""
    return _CONTROL.sub(b"", screen)


async def start_desk(command: str | None = None, **options) -> WebDesk:
    desk = WebDesk(WebOptions(command or tab_command("sim", None), new_token(), **options))
    port = await desk.start("127.0.0.1", 0)
    desk.base = f"http://127.0.0.1:{port}"
    return desk


def children() -> list[int]:
    """Process ids of this test process's children, zombies included (Linux /proc)."""
    out: list[int] = []
    for task in Path("/proc/self/task").iterdir():
        try:
            out += [int(pid) for pid in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def browser() -> aiohttp.ClientSession:
    """A client that keeps cookies for 127.0.0.1, as a browser does."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def read_until(ws: aiohttp.ClientWebSocketResponse, *texts: bytes, pong: bool = True) -> bytes:
    """The tab's screen bytes up to the point every one of ``texts`` has shown.
    ``pong``: answer the server's heartbeat pings (a client opened with
    ``autoping=False`` gets them as messages)."""
    screen = b""
    async with asyncio.timeout(BOOT_S):
        while not all(t in visible(screen) for t in texts):
            msg = await ws.receive()
            if msg.type == aiohttp.WSMsgType.PING:
                if pong:
                    await ws.pong(msg.data)
                continue
            assert msg.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT), msg
            if msg.type == aiohttp.WSMsgType.BINARY:
                screen += msg.data
    return screen


async def open_tab(http: aiohttp.ClientSession, desk: WebDesk, *texts: bytes, **ws_options) -> aiohttp.ClientWebSocketResponse:
    """A tab whose console is up: its screen has shown ``texts`` (default: the depth pane)."""
    async with http.get(desk.url()) as r:
        assert r.status == 200
    ws = await http.ws_connect(desk.base + "/ws?width=160&height=48", **ws_options)
    await read_until(ws, *(texts or (b"DEPTH",)), pong=ws_options.get("autoping", True) is not False)
    return ws


def console_pid(desk: WebDesk) -> int:
    """The one running console's process id."""
    (console,) = desk.consoles
    assert console.pid is not None
    return console.pid
