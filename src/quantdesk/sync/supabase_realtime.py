"""Teammates' workspace changes by Supabase Realtime, when ``realtime = true``.

One channel listening to ``postgres_changes`` on ``public.workspace_items``
(filtered to the team, or to the trader's own rows), joined with the trader's
access token so Realtime applies the same row-level security as the REST API.
Every change becomes a "reload" for the desk.

The link is kept by the workspace's poll loop, on its clock: each tick it
(re)connects if needed and hands Realtime a refreshed token. While the link is
down, polling carries on at its normal interval and the status bar says
``poll 5s`` instead of ``live``; when it is back the desk reloads once, since
changes may have been missed meanwhile.
"""

from __future__ import annotations

import logging
import asyncio
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from realtime import AsyncRealtimeChannel, AsyncRealtimeClient

    from quantdesk.sync.supabase_workspace import SupabaseWorkspace

log = logging.getLogger(__name__)

TOPIC = "quantdesk-workspace"


class RealtimeLink:
    """The Realtime channel of one workspace; ``live`` while it is joined."""

    def __init__(self, ws: SupabaseWorkspace, on_change: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.ws = ws
        self.on_change = on_change
        self.live = False
        self.last_error = ""
        self._client: AsyncRealtimeClient | None = None
        self._channel: AsyncRealtimeChannel | None = None
        self._token = ""
        self._joined_before = False
        self._pending: set[asyncio.Task[None]] = set()  # held so they are not collected mid-run

    def _filter(self) -> str:
        return f"team_id=eq.{self.ws.team_id}" if self.ws.team_id else f"owner=eq.{self.ws.session.user_id}"

    async def ensure(self, token: str) -> None:
        """Connect and join if not joined; pass on a refreshed ``token``."""
        if self.live and (self._client is None or not self._client.is_connected):
            # A clean close by the server is not always reported to the channel
            # (the realtime client on websockets 13): noticed here, one tick later.
            self._fail("the connection was closed")
        if self.live and self._client is not None:
            if token != self._token:
                self._token = token
                await self._client.set_auth(token)
            return
        await self._drop()
        from realtime import AsyncRealtimeClient, RealtimePostgresChangesListenEvent

        from quantdesk.sync.supabase_api import scrub_library_logs

        scrub_library_logs("websockets.client", "websockets.protocol", "realtime")
        project = self.ws.project
        url = project.url.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/realtime/v1"
        # Our loop does the retrying (on its injected clock): the client tries once.
        client = AsyncRealtimeClient(url, token=project.anon_key, auto_reconnect=False, max_retries=1,
                                     timeout=max(1, int(project.timeout)))
        await client.set_auth(token)
        channel = client.channel(TOPIC)
        channel.on_postgres_changes(RealtimePostgresChangesListenEvent.All, self._changed, table="workspace_items", schema="public",
                                    filter=self._filter())
        self._client, self._channel, self._token = client, channel, token
        try:
            await channel.subscribe(self._state)
        except Exception as exc:  # refused, unreachable, timed out: polling goes on
            self._fail(project.describe_error(exc))
            await self._drop()

    def _state(self, state: Any, error: Exception | None) -> None:
        from realtime import RealtimeSubscribeStates

        if state == RealtimeSubscribeStates.SUBSCRIBED:
            self.live, self.last_error = True, ""
            if self._joined_before:  # back after a gap: what happened meanwhile is unknown
                self._spawn()
            self._joined_before = True
        else:
            self._fail(self.ws.project.describe_error(error) if error else str(state))

    def _fail(self, why: str) -> None:
        if self.live or why != self.last_error:
            log.warning("workspace %s: Realtime unavailable (%s); polling every %gs", self.ws.team, why, self.ws.poll_s)
        self.live, self.last_error = False, why

    def _changed(self, payload: Any) -> None:
        self._spawn()

    def _spawn(self) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(self.on_change())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _drop(self) -> None:
        client, self._client, self._channel = self._client, None, None
        if client is not None:
            try:
                await client.close()
            except Exception:  # already gone
                pass

    async def close(self) -> None:
        self.live = False
        await self._drop()
