"""The team workspace in Supabase, reached through its REST API as the trader.

The same watchlists, alerts, layouts and notes a Redis workspace keeps, one
row each in ``public.workspace_items`` (migration 005): ``kind``, ``name`` and
a JSON ``body`` (the same JSON the Redis hashes hold), shared with the team
``team_id`` or, without one, the trader's alone. Row-level security lets team
members read and change their team's rows and nothing else.

Writes are upserts on (scope, kind, name), idempotent like the Redis ones, so
:class:`~quantdesk.sync.team_desk.TeamDesk` replays its outbox here unchanged.
Teammates' changes arrive by polling, every ``poll_s`` (shown in the status
bar): a light read of each row's kind, name and ``updated_at``, and when that
changed, a ``resync`` that makes the desk read everything again. With
``realtime`` they arrive by Supabase Realtime instead
(:mod:`quantdesk.sync.supabase_realtime`); polling then only checks in every
``LIVE_POLL_EVERY`` ticks, and takes over fully while Realtime is away.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec

from quantdesk.sync.supabase_api import is_unreachable
from quantdesk.sync.supabase_journal import token_rejected
from quantdesk.sync.supabase_session import SessionUnavailable, SupabaseAuthError, TraderSession
from quantdesk.sync.workspace import (
    MAX_NAME, MAX_TEXT, Alert, Change, ChangeCallback, Note, WorkspaceError, WorkspaceSnapshot,
    WorkspaceSubscription, _check_name, check_layout, check_watchlist, deliver_change,
)
from quantdesk.venues.timers import LOOP_TIMERS, Timers

if TYPE_CHECKING:
    from postgrest import AsyncPostgrestClient
    from supabase import AsyncClient

    from quantdesk.sync.supabase_realtime import RealtimeLink

log = logging.getLogger(__name__)

TABLE = "workspace_items"
LIVE_POLL_EVERY = 12  # with Realtime joined, poll once per this many ticks (a safety net)
Fingerprint = frozenset[tuple[str, str, str]]


class SupabaseWorkspace:
    """The workspace of ``team_id`` (or the trader's own) in ``session``'s project."""

    label = "supabase"

    def __init__(
        self,
        session: TraderSession,
        user: str,
        *,
        team_id: str | None = None,
        poll_s: float = 5.0,
        realtime: bool = False,
        timers: Timers = LOOP_TIMERS,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.session = session
        self.project = session.project
        self.user = _check_name("user", user)
        self.team_id = team_id
        self.team = f"supabase-{team_id or session.user_id}"  # names this workspace's outbox queue
        self.poll_s = poll_s
        self.realtime = realtime
        self.link: RealtimeLink | None = None  # while subscribed with realtime on
        self.timers = timers
        self.clock = clock
        self.client_id = secrets.token_hex(6)
        self.state = "connecting"
        self.last_error = ""
        self._client: AsyncClient | None = None
        self._subs: list[WorkspaceSubscription] = []
        self._alert_dec = msgspec.json.Decoder(Alert)
        self._note_dec = msgspec.json.Decoder(Note)
        self._list_dec = msgspec.json.Decoder(list[str])

    def __repr__(self) -> str:
        return f"SupabaseWorkspace({self.project.url!r}, team={self.team_id}, user={self.user!r})"

    def status_detail(self) -> str:
        """How teammates' changes arrive, for the status bar."""
        return "live" if self.link is not None and self.link.live else f"poll {self.poll_s:g}s"

    # -- requests ------------------------------------------------------------

    async def _token(self) -> str:
        if self.session.needs_refresh():  # a refresh is a blocking HTTP call: not on the loop
            return await asyncio.to_thread(self.session.access_token)
        return self.session.access_token()

    async def _rest(self, token: str) -> AsyncPostgrestClient:
        if self._client is None:
            self._client = await self.project.async_client()
        rest = self._client.postgrest
        rest.auth(token)
        return rest

    def _scoped(self, query: Any) -> Any:
        """``query`` narrowed to this workspace's rows (a filter builder)."""
        return query.eq("team_id", self.team_id) if self.team_id else query.is_("team_id", "null")

    async def _call(self, what: str, fn: Callable[[AsyncPostgrestClient], Awaitable[Any]]) -> Any:
        from postgrest.exceptions import APIError

        try:
            token = await self._token()
            try:
                out = await fn(await self._rest(token))
            except APIError as exc:
                if not token_rejected(exc) or not self.session.refreshable:
                    raise
                token = await asyncio.to_thread(self.session.refresh, token)
                out = await fn(await self._rest(token))
        except (SupabaseAuthError, SessionUnavailable) as exc:
            self.state, self.last_error = "down", str(exc)
            raise WorkspaceError(f"{what}: {exc}") from None
        except Exception as exc:
            if not (isinstance(exc, APIError) or is_unreachable(exc)):
                raise
            self.state, self.last_error = "down", self.project.describe_error(exc)
            raise WorkspaceError(f"{what}: {self.last_error}") from None
        self.state, self.last_error = "connected", ""
        return out

    async def _put(self, kind: str, name: str, body: Any) -> None:
        from postgrest.types import ReturnMethod

        row = {"team_id": self.team_id, "kind": kind, "name": name, "body": body}

        async def run(rest: AsyncPostgrestClient) -> None:
            await rest.from_(TABLE).upsert(row, on_conflict="scope,kind,name", returning=ReturnMethod.minimal).execute()

        await self._call(f"{kind} {name!r} was not saved", run)

    async def _delete(self, kind: str, name: str) -> bool:
        async def run(rest: AsyncPostgrestClient) -> Any:
            return await self._scoped(rest.from_(TABLE).delete().eq("kind", kind).eq("name", name)).execute()

        answer = await self._call(f"{kind} {name!r} was not deleted", run)
        return bool(answer.data)

    async def _rows(self, what: str, kind: str | None = None, name: str | None = None,
                    columns: str = "kind,name,body") -> list[dict[str, Any]]:
        async def run(rest: AsyncPostgrestClient) -> Any:
            q = self._scoped(rest.from_(TABLE).select(columns))
            if kind is not None:
                q = q.eq("kind", kind)
            if name is not None:
                q = q.eq("name", name)
            return await q.order("name").execute()

        answer = await self._call(what, run)
        return [r for r in answer.data if isinstance(r, dict)]

    def _decode(self, what: str, decoder: msgspec.json.Decoder[Any], body: Any) -> Any | None:
        """A body another program mangled is logged and skipped, not fatal."""
        try:
            return decoder.decode(msgspec.json.encode(body))
        except (msgspec.DecodeError, msgspec.ValidationError):
            log.warning("workspace %s: skipped an unreadable %s", self.team, what)
            return None

    # -- watchlists --------------------------------------------------------
    async def set_watchlist(self, name: str, symbols: list[str]) -> list[str]:
        name, syms = check_watchlist(name, symbols)
        await self._put("watchlist", name, syms)
        return syms

    async def get_watchlist(self, name: str) -> list[str] | None:
        rows = await self._rows("reading watchlist", "watchlist", name)
        return self._decode("watchlist", self._list_dec, rows[0]["body"]) if rows else None

    async def watchlists(self) -> dict[str, list[str]]:
        return (await self.snapshot()).watchlists

    async def delete_watchlist(self, name: str) -> None:
        await self._delete("watchlist", name)

    # -- alerts ------------------------------------------------------------
    async def put_alert(self, alert: Alert) -> None:
        _check_name("alert id", alert.id)
        await self._put("alert", alert.id, msgspec.to_builtins(alert))

    async def remove_alert(self, alert_id: str) -> bool:
        return await self._delete("alert", alert_id)

    async def alerts(self) -> list[Alert]:
        rows = await self._rows("reading alerts", "alert")
        found = [self._decode("alert", self._alert_dec, r["body"]) for r in rows]
        return sorted((a for a in found if a is not None), key=lambda a: (a.created_ts, a.id))

    # -- layouts -----------------------------------------------------------
    async def save_layout(self, name: str, toml_text: str) -> None:
        name = check_layout(name, toml_text)
        await self._put("layout", name, {"toml": toml_text})

    async def get_layout(self, name: str) -> str | None:
        rows = await self._rows("reading layout", "layout", name)
        body = rows[0]["body"] if rows else None
        return body.get("toml") if isinstance(body, dict) and isinstance(body.get("toml"), str) else None

    async def layouts(self) -> list[str]:
        return sorted((await self.snapshot()).layouts)

    async def delete_layout(self, name: str) -> None:
        await self._delete("layout", name)

    # -- notes -------------------------------------------------------------
    async def put_note(self, note: Note) -> None:
        _check_name("note id", note.id)
        if len(note.text) > MAX_TEXT:
            raise ValueError(f"a note holds at most {MAX_TEXT} characters")
        await self._put("note", note.id, msgspec.to_builtins(note))

    async def delete_note(self, note_id: str) -> None:
        await self._delete("note", note_id)

    async def notes(self) -> list[Note]:
        return (await self.snapshot()).notes

    # -- everything at once ----------------------------------------------------
    async def snapshot(self) -> WorkspaceSnapshot:
        """The whole workspace in one request."""
        snap = WorkspaceSnapshot()
        for r in await self._rows("reading the workspace"):
            kind, name, body = r.get("kind"), str(r.get("name", ""))[:MAX_NAME], r.get("body")
            if kind == "watchlist":
                syms = self._decode("watchlist", self._list_dec, body)
                if syms is not None:
                    snap.watchlists[name] = syms
            elif kind == "alert":
                alert = self._decode("alert", self._alert_dec, body)
                if alert is not None:
                    snap.alerts[alert.id] = alert
            elif kind == "note":
                note = self._decode("note", self._note_dec, body)
                if note is not None:
                    snap.notes.append(note)
            elif kind == "layout" and isinstance(body, dict) and isinstance(body.get("toml"), str):
                snap.layouts[name] = body["toml"]
        snap.notes.sort(key=lambda n: (n.ts, n.id))
        return snap

    async def fingerprint(self) -> Fingerprint:
        """Each row's kind, name and last change: a cheap "did anything change?"."""
        rows = await self._rows("polling the workspace", columns="kind,name,updated_at")
        return frozenset((str(r.get("kind")), str(r.get("name")), str(r.get("updated_at"))) for r in rows)

    # -- teammates' changes ---------------------------------------------------
    async def subscribe(self, callback: ChangeCallback, wait: float = 2.0) -> WorkspaceSubscription:
        """Call ``callback`` with a ``resync`` change whenever the workspace
        changed (seen by polling, or told by Realtime).
        Returns once the first read is done, or after ``wait`` seconds if the
        project does not answer (it keeps trying and sends ``resync`` when it does)."""
        ready = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(self._poll(callback, ready), name=f"supabase-workspace:{self.team}")
        try:
            async with asyncio.timeout(wait):
                await asyncio.shield(ready)
        except TimeoutError:
            pass
        sub = WorkspaceSubscription(task)
        self._subs.append(sub)
        return sub

    def _resync(self) -> Change:
        return Change("resync", "resync", "", ts=self.clock())

    async def _poll(self, callback: ChangeCallback, ready: asyncio.Future[None]) -> None:
        if self.realtime:
            from quantdesk.sync.supabase_realtime import RealtimeLink

            self.link = RealtimeLink(self, lambda: self._deliver(callback, self._resync()))
        try:
            await self._ticks(callback, ready)
        finally:
            if self.link is not None:
                await self.link.close()
                self.link = None

    async def _keep_link(self) -> None:
        if self.link is None:
            return
        try:
            token = await self._token()
        except SupabaseAuthError:
            return  # the REST calls report it
        await self.link.ensure(token)

    async def _ticks(self, callback: ChangeCallback, ready: asyncio.Future[None]) -> None:
        last: Fingerprint | None = None
        was_down = False
        tick = 0
        while True:
            await self._keep_link()
            live = self.link is not None and self.link.live
            if live and last is not None and not was_down and tick % LIVE_POLL_EVERY:
                tick += 1
                await self.timers.sleep(self.poll_s)
                continue
            tick += 1
            try:
                now = await self.fingerprint()
            except WorkspaceError as exc:
                if not was_down:
                    log.warning("team workspace: %s; retrying every %gs", exc, self.poll_s)
                was_down = True
            else:
                if not ready.done():
                    ready.set_result(None)
                if last is not None and (now != last or was_down):
                    await self._deliver(callback, self._resync())
                last, was_down = now, False
            await self.timers.sleep(self.poll_s)

    async def _deliver(self, callback: ChangeCallback, change: Change) -> None:
        await deliver_change(callback, change, self.team)

    async def close(self) -> None:
        for sub in self._subs:
            await sub.close()
        self._subs.clear()
        if self._client is not None:
            client, self._client = self._client, None
            http = client.options.httpx_client
            if http is not None:
                await http.aclose()
