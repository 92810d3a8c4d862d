"""``serve web``: a closed tab's console ends and is reaped, and its slot is
free for the next tab, whether the tab closed its socket, the console stopped
answering, or the browser went silent."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from support.web_desk import BOOT_S, browser, children, console_pid, open_tab


def gone(pid: int) -> bool:
    """Ended and reaped: no process and no zombie left under this pid."""
    return pid not in children() and not Path(f"/proc/{pid}").exists()


async def tabs_free(desk, n: int = 0) -> None:
    async with asyncio.timeout(BOOT_S):
        await desk.until_tabs(n)


async def test_closing_a_tab_ends_its_console_and_frees_its_slot(serve):
    desk = await serve(max_tabs=1)
    async with browser() as http:
        ws = await open_tab(http, desk)
        pid = console_pid(desk)
        await ws.close()
        await tabs_free(desk)
        assert gone(pid)
        assert desk.consoles == set()
        again = await open_tab(http, desk)  # at the limit of one, the next tab is let in
        assert desk.tabs == 1 and console_pid(desk) != pid
        await again.close()
        await tabs_free(desk)
    assert desk.refused_full == 0


async def test_a_console_that_no_longer_answers_is_killed_after_the_grace(serve):
    desk = await serve(max_tabs=1, grace_s=0.5)
    async with browser() as http:
        ws = await open_tab(http, desk)
        (console,) = desk.consoles
        os.kill(console.pid, signal.SIGSTOP)  # hung: SIGTERM waits, only SIGKILL ends it
        await ws.close()
        await tabs_free(desk)
        assert gone(console.pid)
        assert console.returncode == -signal.SIGKILL
        again = await open_tab(http, desk)
        await again.close()


async def test_a_browser_gone_silent_loses_its_tab_to_the_heartbeat(serve):
    desk = await serve(max_tabs=1, heartbeat_s=0.5)
    async with browser() as http:
        async with http.get(desk.url()) as r:
            assert r.status == 200
        # never answers a ping, as a browser behind a dropped link does not
        ws = await http.ws_connect(desk.base + "/ws", autoping=False)
        async with asyncio.timeout(BOOT_S):
            await desk.until(lambda: any(c.pid for c in desk.consoles))
        pid = console_pid(desk)
        await tabs_free(desk)
        assert gone(pid)
        await ws.close()


async def test_stopping_the_server_ends_every_tab(serve):
    desk = await serve(max_tabs=2)
    async with browser() as http:
        tabs = [await open_tab(http, desk) for _ in range(2)]
        pids = {c.pid for c in desk.consoles}
        assert len(pids) == 2
        await desk.close()
        assert desk.tabs == 0 and all(gone(pid) for pid in pids)
        for ws in tabs:
            await ws.close()
