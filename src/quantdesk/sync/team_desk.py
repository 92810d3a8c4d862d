"""A terminal's view of the team workspace: a local mirror, writes, an outbox.

``TeamDesk`` keeps a copy of the team's watchlists, alerts, notes and layout
names that the workspace pane draws from (``rev`` moves whenever it changes).
It listens for changes from every terminal and reloads within a second.
Writes change the mirror at once and go into the outbox in the journal file
(:class:`WorkspaceOutbox`); a background task sends them to the store (Redis,
or Supabase's REST API), in order and idempotently, at once when it can and
when the store is back when it cannot. No keystroke ever waits for the store.

Alerts: the rules live here; the alert engine (``wiring.alert_desk``)
watches them, and the terminal that sees one fire records the firing with
:meth:`trigger`, so every other terminal hears of it and announces it once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec

from quantdesk.sync.redis_url import raise_if_cancelled
from quantdesk.core.cache import MarketCache
from quantdesk.core.spreads import market_price
from quantdesk.sync.workspace import (
    Alert, Change, Note, Workspace, WorkspaceError, WorkspaceSubscription, check_rule,
)
from quantdesk.sync.workspace_outbox import QueuedWrite, WorkspaceOutbox
from quantdesk.sync.workspace_store import WorkspaceStore

log = logging.getLogger(__name__)

RETRY_S = 0.5
STOP_FLUSH_S = 2.0


class _WatchEntry(msgspec.Struct, frozen=True):
    watchlist: str
    symbol: str


class TeamDesk:
    def __init__(self, workspace: WorkspaceStore, outbox: WorkspaceOutbox, *, clock: Callable[[], int] = time.time_ns):
        self.ws = workspace
        self.outbox = outbox
        self.clock = clock
        self.watchlists: dict[str, list[str]] = {}
        self.alerts: dict[str, Alert] = {}
        self.notes: list[Note] = []
        self.layouts: list[str] = []
        self.layout_texts: dict[str, str] = {}  # name -> TOML: what LAYOUT <name> opens
        self.rev = 0
        self.loaded = False
        self._logged = ""  # the last outage reason logged (once per distinct reason)
        self._reload = True
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task | None = None
        self._sub: WorkspaceSubscription | None = None
        self._alert_dec = msgspec.json.Decoder(Alert)
        self._note_dec = msgspec.json.Decoder(Note)
        self._watch_dec = msgspec.json.Decoder(_WatchEntry)

    def __repr__(self) -> str:
        return f"TeamDesk({self.ws!r}, queued={len(self.outbox)})"

    # -- lifecycle ---------------------------------------------------------
    async def start(self, wait: float = 1.0) -> None:
        self._sub = await self.ws.subscribe(self._on_change, wait=wait)
        self._task = asyncio.create_task(self._run(), name=f"team-desk:{self.ws.team}")
        self._wake.set()

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if len(self.outbox) and self.ws.state == "connected":
            # The last keystrokes before quitting: send them now if Redis answers
            # promptly; what is left stays queued for the next start.
            try:
                await asyncio.wait_for(self.flush(), STOP_FLUSH_S)
            except (TimeoutError, WorkspaceError):
                pass
        await self.ws.close()
        self.outbox.close()

    def _on_change(self, change: Change) -> None:
        self._reload = True
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            raise_if_cancelled()  # a cancel a library swallowed still stops this loop
            try:
                async with asyncio.timeout(RETRY_S):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            if len(self.outbox) and not await self.flush():
                continue  # still down: try again shortly
            if self._reload:
                self._reload = False
                try:
                    await self.reload()
                except WorkspaceError:
                    self._reload = True

    # -- state ---------------------------------------------------------------
    @property
    def queued(self) -> int:
        return len(self.outbox)

    def status(self) -> tuple[str, str]:
        """(text, state) for the status bar: ``redis ok``, ``supabase ok (poll 5s)``
        or ``redis down (3 queued)``."""
        n = len(self.outbox)
        name = self.ws.label
        if self.ws.state == "down":
            return f"{name} down ({n} queued)", "down"
        if self.ws.state == "connecting":
            return f"{name} connecting", "connecting"
        if n:
            return f"{name} syncing ({n} queued)", "stale"
        detail = self.ws.status_detail()
        return (f"{name} ok ({detail})" if detail else f"{name} ok"), "connected"

    async def reload(self) -> None:
        """Read the whole workspace (after a change or a reconnect)."""
        snap = await self.ws.snapshot()
        watchlists, alerts, notes, texts = snap.watchlists, snap.alerts, snap.notes, snap.layouts
        layouts = sorted(texts)
        if len(self.outbox):  # a write queued meanwhile is newer than what was read: send it, read again
            self._reload = True
            self._wake.set()
            return
        self.watchlists, self.alerts, self.notes, self.layouts = watchlists, alerts, notes, layouts
        self.layout_texts = texts
        self.loaded = True
        self.rev += 1

    # -- writes ----------------------------------------------------------------
    def _submit(self, key: str, op: str, payload: bytes) -> bool:
        """Queue one write; the background task sends it at once if it can.
        Nothing here waits for Redis, so a slow or absent server never holds up
        a keystroke. False when Redis is known to be down (the write waits)."""
        self.rev += 1
        self.outbox.put(key, op, payload)
        self._wake.set()
        return self.ws.state != "down"

    async def _apply(self, op: str, payload: bytes) -> None:
        ws = self.ws
        if op in ("watch_add", "watch_del"):
            e = self._watch_dec.decode(payload)
            current = await ws.get_watchlist(e.watchlist) or []
            if op == "watch_add" and e.symbol not in current:
                await ws.set_watchlist(e.watchlist, [*current, e.symbol])
            elif op == "watch_del" and e.symbol in current:
                rest = [s for s in current if s != e.symbol]
                await (ws.set_watchlist(e.watchlist, rest) if rest else ws.delete_watchlist(e.watchlist))
        elif op == "alert_put":
            await ws.put_alert(self._alert_dec.decode(payload))
        elif op == "alert_trigger":
            alert = self._alert_dec.decode(payload)
            stored = {a.id: a for a in await ws.alerts()}.get(alert.id)
            # Deleted meanwhile, or a later firing recorded already: leave it.
            if stored is not None and (stored.state == "armed" or stored.triggered_ts < alert.triggered_ts):
                await ws.put_alert(msgspec.structs.replace(
                    stored, state="triggered", triggered_ts=alert.triggered_ts,
                    triggered_price=alert.triggered_price, triggered_by=alert.triggered_by,
                    triggered_venue=alert.triggered_venue,
                ))  # fmt: skip
        elif op == "alert_del":
            await ws.remove_alert(payload.decode())
        elif op == "note_put":
            await ws.put_note(self._note_dec.decode(payload))
        elif op == "layout_put":
            name, _, text = payload.decode().partition("\n")
            await ws.save_layout(name, text)
        else:  # written by a newer QuantDesk: skip rather than block the queue
            log.warning("team workspace: skipped a queued write of unknown kind %r", op)

    async def flush(self) -> bool:
        """Replay queued writes in order; True when the queue is empty."""
        for write in self.outbox.pending():
            try:
                await self._apply(write.op, write.payload)
            except WorkspaceError as exc:
                if self.ws.last_error != self._logged:
                    log.warning("team workspace: %s; %d writes wait for %s", exc, len(self.outbox), self.ws.label)
                    self._logged = self.ws.last_error
                return False
            except (ValueError, msgspec.DecodeError):
                log.warning("team workspace: dropped a queued %s that %s cannot take", write.op, self.ws.label)
            self.outbox.done(write)
        self._reload = True
        return True

    async def watch_add(self, symbol: str, watchlist: str) -> bool:
        syms = self.watchlists.setdefault(watchlist, [])
        if symbol not in syms:
            syms.append(symbol)
        entry = msgspec.json.encode(_WatchEntry(watchlist, symbol))
        return self._submit(f"watch:{watchlist}:{symbol}", "watch_add", entry)

    async def watch_del(self, symbol: str, watchlist: str) -> bool:
        syms = [s for s in self.watchlists.get(watchlist, []) if s != symbol]
        if syms:
            self.watchlists[watchlist] = syms
        else:
            self.watchlists.pop(watchlist, None)
        entry = msgspec.json.encode(_WatchEntry(watchlist, symbol))
        return self._submit(f"watch:{watchlist}:{symbol}", "watch_del", entry)

    async def add_alert(self, rule: str, note: str = "") -> Alert:
        """Share ``rule`` (checked: ValueError says what is wrong) with the team."""
        parsed = check_rule(rule)
        alert = Alert(
            secrets.token_hex(4),
            market=parsed.market,
            venue=parsed.venues[0] if len(parsed.venues) == 1 else "",
            note=note,
            user=self.ws.user,
            created_ts=self.clock(),
            rule=rule,
        )
        self.alerts[alert.id] = alert
        self._submit(f"alert:{alert.id}", "alert_put", msgspec.json.encode(alert))
        return alert

    async def remove_alert(self, alert_id: str) -> bool:
        """False when no alert has that id (as far as this terminal knows)."""
        if self.alerts.pop(alert_id, None) is None:
            return False
        self._submit(f"alert:{alert_id}", "alert_del", alert_id.encode())
        return True

    async def add_note(self, text: str, market: str = "") -> Note:
        if not text.strip():
            raise ValueError("a note needs some text: NOTE followed by what to tell the team")
        note = Note(secrets.token_hex(6), text.strip(), self.ws.user, self.clock(), market)
        self.notes.append(note)
        self._submit(f"note:{note.id}", "note_put", msgspec.json.encode(note))
        return note

    async def save_layout(self, name: str, toml_text: str) -> bool:
        if name not in self.layouts:
            self.layouts = sorted([*self.layouts, name])
        self.layout_texts[name] = toml_text
        return self._submit(f"layout:{name}", "layout_put", f"{name}\n{toml_text}".encode())

    # -- alerts ------------------------------------------------------------------
    def trigger(self, alert_id: str, ts: int, value: Decimal, venue: str = "") -> Alert | None:
        """Record that this terminal saw ``alert_id`` fire at ``ts`` (the shared
        write runs in the background); None when no such alert is known."""
        alert = self.alerts.get(alert_id)
        if alert is None:
            return None
        done = msgspec.structs.replace(
            alert, state="triggered", triggered_ts=ts, triggered_price=value, triggered_by=self.ws.user,
            triggered_venue=venue,
        )
        self.alerts[alert_id] = done
        self._submit(f"alert-fired:{alert_id}", "alert_trigger", msgspec.json.encode(done))
        return done


def venue_for(cache: MarketCache, market: str, preferred: str | None = None) -> str | None:
    """``preferred`` if it lists ``market``, else the first venue that does."""
    listing = sorted(v for v, s in cache.markets if s == market)
    if preferred in listing:
        return preferred
    return listing[0] if listing else None


def open_team_desk(url: str, team: str, user: str, outbox_path: str, **kw: Any) -> TeamDesk:
    """A TeamDesk on ``url`` (not yet started) with its outbox in ``outbox_path``."""
    ws = Workspace(url, team, user, **kw)
    return TeamDesk(ws, WorkspaceOutbox(outbox_path, ws.team), clock=ws.clock)


def desk_on(store: WorkspaceStore, outbox_path: str) -> TeamDesk:
    """A TeamDesk on any workspace store (not yet started), its outbox in ``outbox_path``."""
    return TeamDesk(store, WorkspaceOutbox(outbox_path, store.team), clock=store.clock)


__all__ = ["QueuedWrite", "TeamDesk", "desk_on", "market_price", "open_team_desk", "venue_for"]
