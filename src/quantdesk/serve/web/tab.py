"""One browser tab's console process: started, fed, and ended for sure.

textual-serve's ``AppService`` asks the process to quit when its tab closes
and waits for its output to end, but never for the process itself: a console
that does not answer (hung, stopped, or blocked writing to a pipe nobody
reads once the tab's socket is gone) keeps running, and its tab's slot is
never given back. ``TabProcess`` keeps textual-serve's protocol and adds:

- the console runs without a shell, leading a process group of its own, so
  a signal reaches it (and anything it started) and not the server;
- its output is read until the end even after the tab has gone, so it never
  blocks on a full pipe while it exits;
- ``stop()`` ends it: SIGTERM (the console exits as on quit), SIGKILL after
  ``grace_s``, then waits for it, so it is reaped, never left a zombie.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import signal
from asyncio.subprocess import Process
from typing import Any

from textual_serve.app_service import AppService

log = logging.getLogger(__name__)

DEFAULT_GRACE_S = 5.0


class TabProcess(AppService):
    """textual-serve's app service with a bounded, reaping end."""

    def __init__(self, command: str, *, grace_s: float = DEFAULT_GRACE_S, **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self.grace_s = grace_s
        self._ending: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def returncode(self) -> int | None:
        return self._process.returncode if self._process is not None else None

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Process:
        # exec, not a shell: the pid signalled is the console's own
        self._process = process = await asyncio.create_subprocess_exec(
            *shlex.split(self.command),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width=width, height=height),
            start_new_session=True,  # its own group: the server's Ctrl-C is not the console's
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    async def on_data(self, payload: bytes) -> None:
        # A closed tab must not stop the reading: the console's last frames
        # would fill the pipe and hold it from exiting.
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            await self.remote_write_bytes(payload)

    async def stop(self) -> None:
        """End the console and reap it; safe to call more than once, at once."""
        if self._ending is None:
            self._ending = asyncio.create_task(self._end(), name=f"end-tab-{self.pid}")
        await asyncio.shield(self._ending)

    async def _end(self) -> None:
        await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
        process = self._process
        if process is not None:
            if process.returncode is None:
                self._signal(signal.SIGTERM)
                if not await self._exited_within(process, self.grace_s):
                    log.warning("web: tab console %s did not end within %.1f s of SIGTERM; killing it",
                                process.pid, self.grace_s)
                    self._signal(signal.SIGKILL)
            await process.wait()  # reaps it
            if self._stdin is not None:
                self._stdin.close()
        if self._task is not None:
            # the output ends with the process; a child of its own that kept the
            # pipe open was in its group and got the same signal
            try:
                await asyncio.wait_for(self._task, self.grace_s)
            except TimeoutError:
                pass  # wait_for has cancelled the reader
            self._task = None

    def _signal(self, sig: signal.Signals) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return  # reaped: its pid may be someone else's now
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass  # it ended between the check and the signal

    @staticmethod
    async def _exited_within(process: Process, seconds: float) -> bool:
        try:
            await asyncio.wait_for(process.wait(), seconds)
        except TimeoutError:
            return False
        return True
