"""Shared workspace: the watchlists, alerts, layouts and notes a team shares.

Everything lives under ``qd:{team}:ws:`` in Redis (the braces are part of the
name: a hash tag, so on a Redis Cluster the whole workspace is one slot and each
write stays one transaction):

``watchlists``  hash name -> JSON list of symbols
``alerts``      hash id -> JSON :class:`Alert`
``layouts``     hash name -> TOML text
``notes``       hash id -> JSON :class:`Note`
``rev``         counter bumped by every change

Each write is one atomic script that also publishes a :class:`Change` on the
channel ``qd:{team}:ws:changes``, so every other terminal hears of it at once.
A subscriber that loses its connection re-subscribes with backoff and then
hands its callback a ``resync`` change: reload everything, something may have
been missed. Writes are idempotent by name or id, so a queued write can be
replayed safely.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import secrets
import time
import tomllib
from collections.abc import Awaitable, Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from quantdesk.core.alerts import Rule, RuleError, parse_rule, plain, rule_text
from quantdesk.venues.feed_wire import check_namespace, key_prefix, legacy_key_prefix
from quantdesk.sync.redis_url import client, close_quietly, is_cluster, is_sentinel, pubsub_of, describe_error, raise_if_cancelled, redact, validate

if TYPE_CHECKING:
    import redis.asyncio

log = logging.getLogger(__name__)

Condition = Literal["above", "below"]


Kind = Literal["watchlist", "alert", "layout", "note", "resync"]
Op = Literal["set", "delete", "resync"]
MAX_NAME = 64
MAX_TEXT = 64_000


class Alert(msgspec.Struct, frozen=True):
    """An alert rule the team shares (``rule``: the ALERT grammar without the
    word ALERT). Whichever terminal sees it fire records when, the figure
    then and who saw it, so every terminal announces it once per firing."""

    id: str
    market: str = ""  # the rule's market, if it watches one (for lists and filters)
    venue: str = ""  # the rule's venue, if it names one
    # Alerts written before rules had kinds: above / below ``price`` on ``venue``.
    condition: Condition | None = None
    price: Decimal | None = None
    note: str = ""
    user: str = ""
    created_ts: int = 0
    state: Literal["armed", "triggered"] = "armed"  # "triggered" once it has fired at least once
    triggered_ts: int = 0  # the latest firing (ns)
    triggered_price: Decimal | None = None  # the figure at the latest firing
    rule: str = ""
    triggered_by: str = ""  # the user whose terminal saw the latest firing
    triggered_venue: str = ""  # where the figure was read then

    def rule_text(self) -> str:
        """The rule as text, whichever QuantDesk wrote the alert."""
        if self.rule:
            return self.rule
        if self.condition is not None and self.price is not None:
            op = ">" if self.condition == "above" else "<"
            on = f" ON {self.venue}" if self.venue else ""
            return f"{self.market} PRICE {op} {plain(self.price)}{on}"
        return ""


class Note(msgspec.Struct, frozen=True):
    id: str
    text: str
    user: str
    ts: int
    market: str = ""  # empty: a desk-wide note


class Change(msgspec.Struct, frozen=True):
    """One change to the workspace; ``resync`` means reload everything."""

    kind: Kind
    op: Op
    name: str  # watchlist or layout name, alert or note id
    user: str = ""
    client: str = ""  # the Workspace instance that made it (ignore your own echo)
    ts: int = 0


class WorkspaceError(Exception):
    """The shared workspace could not be read or written; says what to do."""


ChangeCallback = Callable[[Change], Awaitable[None] | None]


def _check_name(what: str, name: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise ValueError(f"{what} name {name!r} is not usable: give 1-{MAX_NAME} characters")
    return name.strip()


def check_watchlist(name: str, symbols: Iterable[str]) -> tuple[str, list[str]]:
    """A usable watchlist name and its symbols, in order, without repeats."""
    name = _check_name("watchlist", name)
    syms = [s.strip() for s in symbols]
    bad = [s for s in syms if not s or len(s) > MAX_NAME or " " in s]
    if bad:
        raise ValueError(f"watchlist {name!r}: symbols {bad!r} are not usable: use symbols like SOL-PERP")
    return name, list(dict.fromkeys(syms))


def check_layout(name: str, toml_text: str) -> str:
    """A usable layout name, once its TOML is known to parse."""
    name = _check_name("layout", name)
    if len(toml_text) > MAX_TEXT:
        raise ValueError(f"layout {name!r} is larger than {MAX_TEXT} characters")
    try:
        tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"layout {name!r} is not valid TOML ({exc}): fix it and save again") from None
    return name


class WorkspaceSnapshot(msgspec.Struct):
    """Everything in a workspace at one moment (what a desk mirrors)."""

    watchlists: dict[str, list[str]] = msgspec.field(default_factory=dict)
    alerts: dict[str, Alert] = msgspec.field(default_factory=dict)
    notes: list[Note] = msgspec.field(default_factory=list)
    layouts: dict[str, str] = msgspec.field(default_factory=dict)  # name -> TOML


def check_rule(text: str) -> Rule:
    """The rule ``text`` says; ValueError naming the wrong part and an example."""
    try:
        return parse_rule(text).rule
    except RuleError as exc:
        raise ValueError(f"alert rule {text!r} is not usable: {exc}") from None


class WorkspaceSubscription:
    """A running change listener; ``close()`` stops it."""

    def __init__(self, task: asyncio.Task) -> None:
        self._task = task

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


# A write, its revision bump and its announcement as one script: atomic on a
# single server and on a cluster alike (both keys share the team's hash tag;
# PUBLISH in a script reaches every node's subscribers).
REPLICA_WAIT_MS = 500
_SET = "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]); redis.call('INCR', KEYS[2]); redis.call('PUBLISH', ARGV[3], ARGV[4])"
_DELETE = "redis.call('HDEL', KEYS[1], ARGV[1]); redis.call('INCR', KEYS[2]); redis.call('PUBLISH', ARGV[2], ARGV[3])"


async def deliver_change(callback: ChangeCallback, change: Change, team: str) -> None:
    """Hand ``change`` to a subscriber's callback (plain or async); a failing
    callback is logged, never allowed to stop the listener."""
    try:
        result = callback(change)
        if inspect.isawaitable(result):
            await result
    except Exception:
        log.exception("workspace %s: change callback failed", team)


class Workspace:
    label = "redis"

    def __init__(self, url: str, team: str, user: str, *, clock: Callable[[], int] = time.time_ns) -> None:
        validate(url)
        self.url = url
        self.team = check_namespace(team)
        self.user = _check_name("user", user)
        self.clock = clock
        self.client_id = secrets.token_hex(6)
        p = f"{key_prefix(team)}:ws"
        self._keys = {k: f"{p}:{k}" for k in ("watchlists", "alerts", "layouts", "notes")}
        self._rev_key = f"{p}:rev"
        legacy = f"{legacy_key_prefix(team)}:ws"
        self._legacy = {f"{legacy}:{k}": f"{p}:{k}" for k in (*self._keys, "rev")}
        self._migrated = False
        self._replicated = is_sentinel(url)  # a Sentinel service: a master with replicas to fail over to
        self.channel = f"{p}:changes"
        self.state = "connecting"
        self.last_error = ""
        self._redis: redis.asyncio.Redis | None = None
        self._subs: list[WorkspaceSubscription] = []
        self._alert_dec = msgspec.json.Decoder(Alert)
        self._note_dec = msgspec.json.Decoder(Note)
        self._list_dec = msgspec.json.Decoder(list[str])
        self._change_dec = msgspec.json.Decoder(Change)

    def __repr__(self) -> str:
        return f"Workspace({redact(self.url)!r}, team={self.team!r}, user={self.user!r})"

    def _r(self) -> redis.asyncio.Redis:
        if self._redis is None:
            self._redis = client(self.url)
        return self._redis

    async def _call(self, what: str, fn: Callable[[redis.asyncio.Redis], Awaitable[Any]]) -> Any:
        import redis.exceptions

        try:
            if not self._migrated:
                await self._migrate(self._r())
            out = await fn(self._r())
        except (redis.exceptions.RedisError, OSError) as exc:
            self.state, self.last_error = "down", describe_error(exc, self.url)
            raise WorkspaceError(f"{what}: {self.last_error}") from None
        self.state, self.last_error = "connected", ""
        return out

    async def _migrate(self, r: redis.asyncio.Redis) -> None:
        """Move a workspace saved under the old, untagged key names to the
        hash-tagged ones, once per connection; a key already at its new name is
        never overwritten. (A cluster never held the old names: it is skipped.)"""
        if not is_cluster(r):
            for old, new in self._legacy.items():
                if await r.exists(old) and not await r.exists(new):
                    await r.renamenx(old, new)
        self._migrated = True

    async def _write(self, kind: Kind, name: str, key: str, value: bytes | str | None) -> None:
        change = Change(kind, "set" if value is not None else "delete", name, self.user, self.client_id, self.clock())

        async def run(r: redis.asyncio.Redis) -> None:
            encoded = msgspec.json.encode(change)
            if value is None:
                await r.eval(_DELETE, 2, key, self._rev_key, name, self.channel, encoded)
            else:
                await r.eval(_SET, 2, key, self._rev_key, name, value, self.channel, encoded)
            if self._replicated:
                # Replication is asynchronous: a failover right after this write
                # would lose it unless a replica has it. Wait (briefly) until one does.
                acked = await r.execute_command("WAIT", 1, REPLICA_WAIT_MS)
                if not acked:
                    log.warning("workspace %s: %s %r saved on the master, no replica has it yet", self.team, kind, name)

        await self._call(f"{kind} {name!r} was not saved", run)

    # -- watchlists --------------------------------------------------------
    async def set_watchlist(self, name: str, symbols: Iterable[str]) -> list[str]:
        name, syms = check_watchlist(name, symbols)
        await self._write("watchlist", name, self._keys["watchlists"], msgspec.json.encode(syms))
        return syms

    async def get_watchlist(self, name: str) -> list[str] | None:
        raw = await self._call("reading watchlist", lambda r: r.hget(self._keys["watchlists"], name))
        return None if raw is None else self._list_dec.decode(raw)

    async def watchlists(self) -> dict[str, list[str]]:
        raw = await self._call("reading watchlists", lambda r: r.hgetall(self._keys["watchlists"]))
        out = {}
        for k, v in sorted(raw.items()):
            for symbols in self._readable("watchlist", self._list_dec, [v]):
                out[k.decode()] = symbols
        return out

    async def delete_watchlist(self, name: str) -> None:
        await self._write("watchlist", name, self._keys["watchlists"], None)

    # -- alerts ------------------------------------------------------------
    async def add_alert(self, rule: str, note: str = "", id: str | None = None) -> Alert:
        """Share the rule ``rule`` (``SOL-PERP PRICE > 150``) with the team."""
        parsed = check_rule(rule)
        alert = Alert(
            id or secrets.token_hex(8),
            market=parsed.market,
            venue=parsed.venues[0] if len(parsed.venues) == 1 else "",
            note=note[:MAX_TEXT],
            user=self.user,
            created_ts=self.clock(),
            rule=rule_text(parsed),
        )
        await self._write("alert", alert.id, self._keys["alerts"], msgspec.json.encode(alert))
        return alert

    async def put_alert(self, alert: Alert) -> None:
        """Write ``alert`` as it is (a replayed or re-stated alert: idempotent by id)."""
        _check_name("alert id", alert.id)
        await self._write("alert", alert.id, self._keys["alerts"], msgspec.json.encode(alert))

    async def remove_alert(self, alert_id: str) -> bool:
        exists = await self._call("reading alerts", lambda r: r.hexists(self._keys["alerts"], alert_id))
        if exists:
            await self._write("alert", alert_id, self._keys["alerts"], None)
        return bool(exists)

    async def alerts(self) -> list[Alert]:
        raw = await self._call("reading alerts", lambda r: r.hgetall(self._keys["alerts"]))
        alerts = self._readable("alert", self._alert_dec, raw.values())
        return sorted(alerts, key=lambda a: (a.created_ts, a.id))

    def _readable(self, what: str, decoder: msgspec.json.Decoder, values: Iterable[bytes]) -> list[Any]:
        """Decode what can be decoded; an entry another program mangled is
        logged and skipped rather than hiding the whole list."""
        out = []
        for v in values:
            try:
                out.append(decoder.decode(v))
            except (msgspec.DecodeError, msgspec.ValidationError):
                log.warning("workspace %s: skipped an unreadable %s", self.team, what)
        return out

    # -- layouts -----------------------------------------------------------
    async def save_layout(self, name: str, toml_text: str) -> None:
        name = check_layout(name, toml_text)
        await self._write("layout", name, self._keys["layouts"], toml_text.encode())

    async def get_layout(self, name: str) -> str | None:
        raw = await self._call("reading layout", lambda r: r.hget(self._keys["layouts"], name))
        return None if raw is None else raw.decode()

    async def layouts(self) -> list[str]:
        raw = await self._call("reading layouts", lambda r: r.hkeys(self._keys["layouts"]))
        return sorted(k.decode() for k in raw)

    async def delete_layout(self, name: str) -> None:
        await self._write("layout", name, self._keys["layouts"], None)

    # -- notes -------------------------------------------------------------
    async def set_note(self, text: str, id: str | None = None, market: str = "") -> Note:
        if not text.strip():
            raise ValueError("a note needs some text")
        if len(text) > MAX_TEXT:
            raise ValueError(f"a note holds at most {MAX_TEXT} characters")
        note = Note(id or secrets.token_hex(8), text, self.user, self.clock(), market)
        await self._write("note", note.id, self._keys["notes"], msgspec.json.encode(note))
        return note

    async def put_note(self, note: Note) -> None:
        """Write ``note`` as it is (a replayed note: idempotent by id)."""
        _check_name("note id", note.id)
        await self._write("note", note.id, self._keys["notes"], msgspec.json.encode(note))

    async def delete_note(self, note_id: str) -> None:
        await self._write("note", note_id, self._keys["notes"], None)

    async def notes(self) -> list[Note]:
        raw = await self._call("reading notes", lambda r: r.hgetall(self._keys["notes"]))
        notes = self._readable("note", self._note_dec, raw.values())
        return sorted(notes, key=lambda n: (n.ts, n.id))

    async def snapshot(self) -> WorkspaceSnapshot:
        """Everything, read hash by hash (a layout deleted between reads is left out)."""
        snap = WorkspaceSnapshot(await self.watchlists(), {a.id: a for a in await self.alerts()}, await self.notes())
        for name in await self.layouts():
            text = await self.get_layout(name)
            if text is not None:
                snap.layouts[name] = text
        return snap

    def status_detail(self) -> str:
        return ""  # changes arrive at once by pub/sub

    async def revision(self) -> int:
        raw = await self._call("reading the workspace revision", lambda r: r.get(self._rev_key))
        return int(raw or 0)

    # -- live changes --------------------------------------------------------
    async def subscribe(self, callback: ChangeCallback, wait: float = 2.0) -> WorkspaceSubscription:
        """Call ``callback`` with every change any terminal makes (this one
        included: compare ``change.client`` with ``client_id``). Returns once
        listening, so a change made after this call is never missed; if Redis
        does not answer within ``wait`` seconds it returns anyway, keeps
        retrying, and sends a ``resync`` change when it gets through."""
        ready = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(self._listen(callback, ready), name=f"workspace:{self.team}")
        try:
            async with asyncio.timeout(wait):
                await asyncio.shield(ready)
        except TimeoutError:
            pass  # Redis is down: the listener keeps retrying and sends resync when back
        sub = WorkspaceSubscription(task)
        self._subs.append(sub)
        return sub

    async def _listen(self, callback: ChangeCallback, ready: asyncio.Future) -> None:
        import redis.exceptions

        backoff = 0.1
        first = True
        while True:
            raise_if_cancelled()
            pubsub = None
            try:
                pubsub = await pubsub_of(self._r())
                await pubsub.subscribe(self.channel)
                await self._confirmed(pubsub)
                self.state, self.last_error = "connected", ""
                if not ready.done():
                    ready.set_result(None)
                if not first:  # changes may have been missed while away
                    await self._deliver(callback, Change("resync", "resync", "", ts=self.clock()))
                first = False
                backoff = 0.1
                while True:
                    raise_if_cancelled()
                    msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if msg is None or msg.get("type") != "message":
                        continue
                    try:
                        change = self._change_dec.decode(msg["data"])
                    except msgspec.DecodeError:
                        log.warning("workspace %s: ignored a malformed change message", self.team)
                        continue
                    await self._deliver(callback, change)
            except (redis.exceptions.RedisError, OSError) as exc:
                msg_text = describe_error(exc, self.url)
                if self.last_error != msg_text:
                    log.warning("workspace %s: %s; retrying", self.team, msg_text)
                self.state, self.last_error = "down", msg_text
                first = False
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                if pubsub is not None:
                    await close_quietly(pubsub)

    async def _confirmed(self, pubsub: Any) -> None:
        """Wait for the server's subscribe reply: from then on no change is missed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5.0
        while loop.time() < deadline:
            msg = await pubsub.get_message(timeout=0.5)
            if msg is not None and msg.get("type") == "subscribe":
                return
        raise TimeoutError("no reply to SUBSCRIBE")

    async def _deliver(self, callback: ChangeCallback, change: Change) -> None:
        await deliver_change(callback, change, self.team)

    async def close(self) -> None:
        for sub in self._subs:
            await sub.close()
        self._subs.clear()
        if self._redis is not None:
            r, self._redis = self._redis, None
            await close_quietly(r)
