"""The local trading journal: a SQLite database that is the source of truth.

Every intent, risk decision, order update, cancel request, fill, funding
payment, liquidation, kill switch change and alert firing is committed (WAL,
``synchronous=FULL``) before the ``record_*`` call returns, so anything the UI
acknowledged survives a crash or a SIGKILL. The paper account is restored from
it on restart (open orders, positions, account collateral), and a terminal
that was halted starts halted.

A fill and its order's new filled amount commit in one transaction: whatever
instant a crash hits, each journaled order's ``filled`` is the sum of its
journaled fills, so a restored order rests only for what is left and its next
fill id is new. A fill id that comes back with different content is refused
(``JournalConflict``), never silently dropped.

Each journal row has a stable id (a uuid, or ``venue:venue_id`` where the venue
names the thing) and, in the same transaction, an outbox entry carrying the
row as flat JSON. Syncers (Postgres, Redis) read the outbox in order with
``pending`` and acknowledge with ``mark_done`` after their remote commit; the
remote side upserts by id, so a replayed entry never duplicates a row.

Secrets never enter the journal: it stores only the model Structs and numbers.
"""

from __future__ import annotations

import csv
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import msgspec

from quantdesk.core.model import (
    PRICE_DECIMALS,
    SIZE_DECIMALS,
    AccountState,
    Fill,
    Order,
    OrderIntent,
    Position,
)

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
OPEN_STATUSES = ("pending", "open", "triggered")
DEFAULT_SINK = "postgres"
EXPORT_KINDS = ("fills", "orders")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS intents (
    id TEXT PRIMARY KEY, ts INTEGER NOT NULL, venue TEXT NOT NULL, market TEXT NOT NULL,
    payload BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS risk_events (
    id TEXT PRIMARY KEY, intent_id TEXT NOT NULL, ts INTEGER NOT NULL, accepted INTEGER NOT NULL,
    reason TEXT NOT NULL, limit_name TEXT NOT NULL, limit_value TEXT NOT NULL, excess TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS risk_events_intent ON risk_events (intent_id);
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, venue TEXT NOT NULL, market TEXT NOT NULL, order_id TEXT NOT NULL,
    status TEXT NOT NULL, ts INTEGER NOT NULL, updated_ts INTEGER NOT NULL, payload BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS orders_status ON orders (status);
CREATE INDEX IF NOT EXISTS orders_order_id ON orders (order_id);
CREATE TABLE IF NOT EXISTS order_history (
    seq INTEGER PRIMARY KEY, order_key TEXT NOT NULL, ts INTEGER NOT NULL, status TEXT NOT NULL,
    filled INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS order_history_key ON order_history (order_key, seq);
CREATE TABLE IF NOT EXISTS cancels (
    id TEXT PRIMARY KEY, ts INTEGER NOT NULL, venue TEXT NOT NULL, order_id TEXT NOT NULL,
    reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fills (
    id TEXT PRIMARY KEY, venue TEXT NOT NULL, market TEXT NOT NULL, order_id TEXT NOT NULL,
    ts INTEGER NOT NULL, payload BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS fills_ts ON fills (ts);
CREATE INDEX IF NOT EXISTS fills_order ON fills (venue, order_id);
CREATE TABLE IF NOT EXISTS funding_payments (
    id TEXT PRIMARY KEY, venue TEXT NOT NULL, market TEXT NOT NULL, amount TEXT NOT NULL,
    rate INTEGER NOT NULL, ts INTEGER NOT NULL, kind TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS liquidations (
    id TEXT PRIMARY KEY, venue TEXT NOT NULL, market TEXT NOT NULL, base TEXT NOT NULL,
    price INTEGER NOT NULL, fee TEXT NOT NULL, ts INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS positions (
    id TEXT PRIMARY KEY, venue TEXT NOT NULL, market TEXT NOT NULL, ts INTEGER NOT NULL,
    payload BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY, ts INTEGER NOT NULL, payload BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS kill_switch (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, ts INTEGER NOT NULL, engaged INTEGER NOT NULL,
    reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alert_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, ts INTEGER NOT NULL,
    rule_id TEXT NOT NULL, event TEXT NOT NULL, rule TEXT NOT NULL, value TEXT NOT NULL,
    venue TEXT NOT NULL, message TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alert_events_rule ON alert_events (rule_id, seq);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, tbl TEXT NOT NULL,
    payload BLOB NOT NULL, created_at INTEGER NOT NULL);
"""

# Sinks' progress lives in a small side database (``journal.sync.sqlite3``) so
# a syncer acknowledging entries never waits for the journal's write lock,
# which a burst of orders can hold almost continuously. Losing it only means
# entries are delivered again, which the remote upserts absorb.
_CURSOR_SCHEMA = "CREATE TABLE IF NOT EXISTS outbox_cursor (sink TEXT PRIMARY KEY, seq INTEGER NOT NULL)"

S = TypeVar("S", bound=msgspec.Struct)


class JournalError(Exception):
    """The journal could not be opened or written; the message says what to do."""


class JournalConflict(JournalError):
    """A record reuses the id of a different one already in the journal. The
    journal keeps the first; the second is refused, never silently dropped."""


class OutboxEntry(msgspec.Struct, frozen=True):
    """One row waiting to be pushed to a remote store.

    ``table`` is the remote table name; ``payload`` is the row as a flat dict of
    column -> value whose ``id`` is the row's stable id.
    """

    seq: int
    id: str
    table: str
    payload: dict[str, Any]
    created_at: int  # ns


class RiskRecord(msgspec.Struct, frozen=True):
    id: str
    intent_id: str
    ts: int
    accepted: bool
    reason: str
    limit_name: str  # which limit decided, e.g. "max_order_notional"
    limit_value: str  # the configured limit, exact (int or Decimal as text)
    excess: str  # by how much the order exceeded it, exact


class OrderStatusChange(msgspec.Struct, frozen=True):
    ts: int
    status: str
    filled: int
    reason: str


class KillSwitchChange(msgspec.Struct, frozen=True):
    """The kill switch engaged (with why) or released, and when."""

    id: str
    ts: int
    engaged: bool
    reason: str


class AlertEvent(msgspec.Struct, frozen=True):
    """An alert rule fired (``event="fired"``; ``"seen"`` when a team mate's
    terminal fired a shared rule) or re-armed, with the figure at that moment."""

    id: str
    ts: int
    rule_id: str
    event: str  # fired | seen | rearmed
    rule: str  # the rule as text
    value: str  # the figure, exact
    venue: str
    message: str


class FundingPayment(msgspec.Struct, frozen=True):
    id: str
    venue: str
    market: str
    amount: int  # quote at price precision; positive received, negative paid
    rate: int  # ppb per interval, as the venue applied it
    ts: int
    kind: Literal["funding", "borrow"] = "funding"


class Liquidation(msgspec.Struct, frozen=True):
    id: str
    venue: str
    market: str
    base: int  # signed size closed by the liquidation
    price: int
    fee: int  # liquidation penalty, quote at price precision
    ts: int
    reason: str = ""


def cursor_path(path: Path) -> Path:
    """The side database holding each sink's outbox progress for the journal at ``path``."""
    return path.with_name(f"{path.stem}.sync{path.suffix or '.sqlite3'}")


def _fields(struct: msgspec.Struct) -> dict[str, Any]:
    """A Struct's own fields as a flat dict (no msgspec tag)."""
    return {name: getattr(struct, name) for name in struct.__struct_fields__}


def _exact(value: int | Decimal | str | None) -> str:
    return "" if value is None else str(value)


class Journal:
    """The durable local journal. Thread-safe: its connections sit behind one lock;
    a syncer in another thread should open its own ``Journal`` on the same path.

    Open with ``Journal.open(path)``; every ``record_*`` call returns only after
    its transaction is committed to disk.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection, cursors: sqlite3.Connection,
                 clock: Callable[[], int]) -> None:
        self.path = path
        self._conn = conn
        self._cursors = cursors
        self._clock = clock
        self._lock = threading.RLock()
        self._enc = msgspec.json.Encoder()
        self._decoders: dict[type, msgspec.json.Decoder[Any]] = {}
        self._payload_dec = msgspec.json.Decoder(dict[str, Any])

    # -- lifecycle ---------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, *, clock: Callable[[], int] = time.time_ns) -> Journal:
        """Open (creating if needed) the journal at ``path`` (the configuration
        knows the default: ``config.paths.default_journal_path``)."""
        p = Path(path).expanduser()
        opened: list[sqlite3.Connection] = []
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a
            # record call and its outbox entry commit together or not at all.
            conn = sqlite3.connect(p, isolation_level=None, check_same_thread=False, timeout=10.0)
            opened.append(conn)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.executescript(_SCHEMA)
            row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise JournalError(
                    f"The journal at {p} was written by a newer QuantDesk (schema {row[0]}); "
                    "upgrade QuantDesk or open a different journal with --journal PATH."
                )
            cursors = sqlite3.connect(cursor_path(p), isolation_level=None, check_same_thread=False, timeout=10.0)
            opened.append(cursors)
            cursors.execute("PRAGMA journal_mode=WAL")
            cursors.execute(_CURSOR_SCHEMA)
        except BaseException as exc:
            for c in opened:
                c.close()
            if isinstance(exc, sqlite3.DatabaseError):
                raise JournalError(
                    f"Cannot open the journal at {p}: {exc}. Check the path is writable and is a QuantDesk "
                    "journal, or choose another with --journal PATH."
                ) from None
            if isinstance(exc, OSError):
                raise JournalError(f"Cannot create the journal directory {p.parent}: {exc.strerror}.") from None
            raise
        return cls(p, conn, cursors, clock)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            self._cursors.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _enqueue(self, conn: sqlite3.Connection, table: str, row: dict[str, Any]) -> None:
        conn.execute(
            "INSERT INTO outbox (id, tbl, payload, created_at) VALUES (?, ?, ?, ?)",
            (row["id"], table, self._enc.encode(row), self._clock()),
        )

    def _decode(self, typ: type[S], data: bytes) -> S:
        dec = self._decoders.get(typ)
        if dec is None:
            dec = self._decoders[typ] = msgspec.json.Decoder(typ)
        return cast(S, dec.decode(data))  # the decoder stored under typ decodes to typ

    # -- recording ---------------------------------------------------------

    def record_intent(self, intent: OrderIntent, intent_id: str | None = None, *, ts: int | None = None) -> str:
        """Record what the trader asked for; returns its id (a new uuid unless given)."""
        iid = intent_id or str(uuid.uuid4())
        ts = self._clock() if ts is None else ts
        with self._write() as c:
            cur = c.execute(
                "INSERT OR IGNORE INTO intents VALUES (?, ?, ?, ?, ?)",
                (iid, ts, intent.venue, intent.market, self._enc.encode(intent)),
            )
            if cur.rowcount:
                self._enqueue(c, "intents", {"id": iid, "ts": ts, **_fields(intent)})
        return iid

    def record_risk(
        self,
        intent_id: str,
        accepted: bool,
        reason: str = "",
        limit: str = "",
        excess: int | Decimal | str | None = None,
        *,
        limit_value: int | Decimal | str | None = None,
        risk_id: str | None = None,
        ts: int | None = None,
    ) -> str:
        """Record the risk engine's decision on an intent: which ``limit`` decided,
        its configured ``limit_value`` and by how much (``excess``) it was exceeded."""
        rid = risk_id or str(uuid.uuid4())
        ts = self._clock() if ts is None else ts
        rec = RiskRecord(rid, intent_id, ts, bool(accepted), reason, limit, _exact(limit_value), _exact(excess))
        with self._write() as c:
            cur = c.execute(
                "INSERT OR IGNORE INTO risk_events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (rid, intent_id, ts, int(rec.accepted), reason, limit, rec.limit_value, rec.excess),
            )
            if cur.rowcount:
                self._enqueue(c, "risk_events", _fields(rec))
        return rid

    def record_order(self, order: Order) -> str:
        """Insert or update an order (keyed ``venue:order_id``), keeping its status
        history. Recording an unchanged order is a no-op. Returns the row id."""
        with self._write() as c:
            return self._write_order(c, order, self._clock())

    def _write_order(self, c: sqlite3.Connection, order: Order, now: int) -> str:
        oid = f"{order.venue}:{order.order_id}"
        payload = self._enc.encode(order)
        row = c.execute("SELECT payload, ts FROM orders WHERE id = ?", (oid,)).fetchone()
        if row is not None and bytes(row[0]) == payload:
            return oid
        prev = self._decode(Order, row[0]) if row is not None else None
        first_ts = row[1] if row is not None else (order.ts or now)
        c.execute(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "status = excluded.status, updated_ts = excluded.updated_ts, payload = excluded.payload",
            (oid, order.venue, order.market, order.order_id, order.status, first_ts, now, payload),
        )
        if prev is None or (prev.status, prev.filled, prev.reason) != (order.status, order.filled, order.reason):
            c.execute(
                "INSERT INTO order_history (order_key, ts, status, filled, reason) VALUES (?, ?, ?, ?, ?)",
                (oid, order.ts or now, order.status, order.filled, order.reason),
            )
        self._enqueue(c, "orders", {"id": oid, **_fields(order), "updated_ts": now})
        return oid

    def record_cancel(self, order_id: str, reason: str = "", *, venue: str = "", cancel_id: str | None = None,
                      ts: int | None = None) -> str:
        """Record a cancel request (the trader's or the kill switch's). The order's
        own status changes when the venue's cancelled ``Order`` is recorded."""
        cid = cancel_id or str(uuid.uuid4())
        ts = self._clock() if ts is None else ts
        with self._write() as c:
            if not venue:
                row = c.execute(
                    "SELECT venue FROM orders WHERE order_id = ? ORDER BY updated_ts DESC LIMIT 1", (order_id,)
                ).fetchone()
                venue = row[0] if row else ""
            cur = c.execute("INSERT OR IGNORE INTO cancels VALUES (?, ?, ?, ?, ?)", (cid, ts, venue, order_id, reason))
            if cur.rowcount:
                self._enqueue(
                    c, "cancels", {"id": cid, "ts": ts, "venue": venue, "order_id": order_id, "reason": reason}
                )
        return cid

    def record_fill(self, fill: Fill) -> str:
        """Record a fill (keyed ``venue:fill_id``) and, in the same transaction,
        its order's filled amount, so no crash can leave a journaled fill
        beside an order that does not count it (the restored order would rest
        again in full and fill twice).

        The same fill delivered again is a no-op; a different fill under an id
        already journaled raises ``JournalConflict`` (the first one stays)."""
        fid = f"{fill.venue}:{fill.fill_id}"
        payload = self._enc.encode(fill)
        with self._write() as c:
            row = c.execute("SELECT payload FROM fills WHERE id = ?", (fid,)).fetchone()
            if row is not None:
                if bytes(row[0]) == payload:
                    return fid
                log.error("fill %s conflicts: journaled %s, new %s", fid, bytes(row[0]).decode(), payload.decode())
                raise JournalConflict(
                    f"Fill {fid} is already in the journal with different details; the new one was not recorded. "
                    "The venue reused a fill id: report it, and check the position against the venue."
                )
            c.execute(
                "INSERT INTO fills VALUES (?, ?, ?, ?, ?, ?)",
                (fid, fill.venue, fill.market, fill.order_id, fill.ts, payload),
            )
            self._enqueue(c, "fills", {"id": fid, **_fields(fill)})
            self._count_fill(c, fill)
        return fid

    def _count_fill(self, c: sqlite3.Connection, fill: Fill) -> None:
        """Bring the fill's order (if journaled) up to the sum of its fills.

        The sum, not ``filled + size``: a venue may publish the order's new
        filled amount before the fill, and that must not count twice."""
        oid = f"{fill.venue}:{fill.order_id}"
        row = c.execute("SELECT payload FROM orders WHERE id = ?", (oid,)).fetchone()
        if row is None:
            return  # an order placed elsewhere (another terminal, the venue's UI)
        order = self._decode(Order, row[0])
        total = sum(
            self._decode(Fill, r[0]).size
            for r in c.execute("SELECT payload FROM fills WHERE venue = ? AND order_id = ?", (fill.venue, fill.order_id))
        )
        if total <= order.filled:
            return
        if total > order.size:
            log.error("fills of order %s total %d, more than its size %d", oid, total, order.size)
        status = "filled" if total >= order.size else order.status
        self._write_order(c, msgspec.structs.replace(order, filled=total, status=status), self._clock())

    def record_kill_switch(self, engaged: bool, reason: str, *, ts: int | None = None) -> KillSwitchChange:
        """Journal the kill switch engaging (with its reason) or being released,
        so a restarted terminal starts as halted as this one was."""
        change = KillSwitchChange(str(uuid.uuid4()), self._clock() if ts is None else ts, bool(engaged), reason)
        with self._write() as c:
            c.execute(
                "INSERT INTO kill_switch (id, ts, engaged, reason) VALUES (?, ?, ?, ?)",
                (change.id, change.ts, int(change.engaged), change.reason),
            )
            self._enqueue(c, "kill_switch", _fields(change))
        return change

    def record_alert(self, rule_id: str, event: str, ts: int, rule: str, value: Decimal, venue: str = "",
                     message: str = "") -> AlertEvent:
        """Journal an alert firing or re-arming: the line a trader reads back, and
        what a restarted terminal restores each rule's state from."""
        rec = AlertEvent(str(uuid.uuid4()), ts, rule_id, event, rule, _exact(value), venue, message)
        with self._write() as c:
            c.execute(
                "INSERT INTO alert_events (id, ts, rule_id, event, rule, value, venue, message) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (rec.id, rec.ts, rec.rule_id, rec.event, rec.rule, rec.value, rec.venue, rec.message),
            )
            self._enqueue(c, "alert_events", _fields(rec))
        return rec

    def alert_events(self, rule_id: str | None = None, limit: int | None = None) -> list[AlertEvent]:
        """Alert events, newest first (optionally one rule's)."""
        sql = "SELECT id, ts, rule_id, event, rule, value, venue, message FROM alert_events"
        params: list[Any] = []
        if rule_id is not None:
            sql += " WHERE rule_id = ?"
            params.append(rule_id)
        sql += " ORDER BY seq DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [AlertEvent(*r) for r in self._read(sql, params)]

    def alert_states(self) -> dict[str, tuple[AlertEvent, AlertEvent | None]]:
        """Per rule id: its latest event and its latest firing (None: never fired)."""
        cols = "e.id, e.ts, e.rule_id, e.event, e.rule, e.value, e.venue, e.message"
        latest = self._read(
            f"SELECT {cols} FROM alert_events e JOIN (SELECT max(seq) AS seq FROM alert_events GROUP BY rule_id) m "
            "ON e.seq = m.seq"
        )
        fired = self._read(
            f"SELECT {cols} FROM alert_events e JOIN (SELECT max(seq) AS seq FROM alert_events "
            "WHERE event IN ('fired', 'seen') GROUP BY rule_id) m ON e.seq = m.seq"
        )
        fired_by = {r[2]: AlertEvent(*r) for r in fired}
        return {r[2]: (AlertEvent(*r), fired_by.get(r[2])) for r in latest}

    def record_funding(self, venue: str, market: str, amount: int, rate: int, ts: int,
                       payment_id: str | None = None, kind: Literal["funding", "borrow"] = "funding") -> str:
        """Record a funding payment (or a pool's borrow fee, ``kind="borrow"``):
        ``amount`` in quote at price precision, positive received, negative paid.
        Keyed ``venue:market:kind:ts`` unless an id is given, so a replayed
        payment is not counted twice."""
        pid = payment_id or f"{venue}:{market}:{kind}:{ts}"
        with self._write() as c:
            cur = c.execute(
                "INSERT OR IGNORE INTO funding_payments VALUES (?, ?, ?, ?, ?, ?, ?)",
                (pid, venue, market, str(amount), rate, ts, kind),
            )
            if cur.rowcount:
                self._enqueue(c, "funding_payments",
                              _fields(FundingPayment(pid, venue, market, amount, rate, ts, kind)))
        return pid

    def record_liquidation(self, venue: str, market: str, base: int, price: int, fee: int, ts: int,
                           reason: str = "", liquidation_id: str | None = None) -> str:
        """Record a liquidation of ``base`` (signed) at ``price`` with penalty ``fee``."""
        lid = liquidation_id or f"{venue}:{market}:{ts}"
        with self._write() as c:
            cur = c.execute(
                "INSERT OR IGNORE INTO liquidations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (lid, venue, market, str(base), price, str(fee), ts, reason),
            )
            if cur.rowcount:
                self._enqueue(c, "liquidations", _fields(Liquidation(lid, venue, market, base, price, fee, ts, reason)))
        return lid

    def record_position(self, position: Position) -> str:
        """Save the latest snapshot of a position (keyed ``venue:market``)."""
        pid = f"{position.venue}:{position.market}"
        ts = position.ts or self._clock()
        payload = self._enc.encode(position)
        with self._write() as c:
            row = c.execute("SELECT payload FROM positions WHERE id = ?", (pid,)).fetchone()
            if row is not None and bytes(row[0]) == payload:
                return pid
            c.execute(
                "INSERT INTO positions VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "ts = excluded.ts, payload = excluded.payload",
                (pid, position.venue, position.market, ts, payload),
            )
            self._enqueue(c, "positions", {"id": pid, **_fields(position)})
        return pid

    def record_account(self, account: AccountState) -> str:
        """Save the latest account state (collateral, equity...) of a venue."""
        aid = account.venue
        payload = self._enc.encode(account)
        with self._write() as c:
            row = c.execute("SELECT payload FROM accounts WHERE id = ?", (aid,)).fetchone()
            if row is not None and bytes(row[0]) == payload:
                return aid
            c.execute(
                "INSERT INTO accounts VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "ts = excluded.ts, payload = excluded.payload",
                (aid, account.ts or self._clock(), payload),
            )
            self._enqueue(c, "accounts", {"id": aid, **_fields(account)})
        return aid

    # -- reading / restore -------------------------------------------------

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def intent(self, intent_id: str) -> OrderIntent | None:
        rows = self._read("SELECT payload FROM intents WHERE id = ?", (intent_id,))
        return self._decode(OrderIntent, rows[0][0]) if rows else None

    def risk_events(self, intent_id: str | None = None) -> list[RiskRecord]:
        """Risk decisions, oldest first (optionally for one intent)."""
        sql = "SELECT * FROM risk_events"
        params: tuple[Any, ...] = ()
        if intent_id is not None:
            sql += " WHERE intent_id = ?"
            params = (intent_id,)
        rows = self._read(sql + " ORDER BY ts, rowid", params)
        return [RiskRecord(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6], r[7]) for r in rows]

    def order(self, venue: str, order_id: str) -> Order | None:
        rows = self._read("SELECT payload FROM orders WHERE id = ?", (f"{venue}:{order_id}",))
        return self._decode(Order, rows[0][0]) if rows else None

    def orders(self, venue: str | None = None) -> list[Order]:
        """Every order, oldest first."""
        sql = "SELECT payload FROM orders"
        params: tuple[str, ...] = ()
        if venue is not None:
            sql, params = sql + " WHERE venue = ?", (venue,)
        return [self._decode(Order, r[0]) for r in self._read(sql + " ORDER BY ts, rowid", params)]

    def open_orders(self, venue: str | None = None) -> list[Order]:
        """Orders still working (pending, open, triggered), oldest first: what a
        restarted paper venue must rest again."""
        marks = ",".join("?" * len(OPEN_STATUSES))
        sql, params = f"SELECT payload FROM orders WHERE status IN ({marks})", list(OPEN_STATUSES)
        if venue is not None:
            sql += " AND venue = ?"
            params.append(venue)
        return [self._decode(Order, r[0]) for r in self._read(sql + " ORDER BY ts, rowid", params)]

    def order_history(self, venue: str, order_id: str) -> list[OrderStatusChange]:
        rows = self._read(
            "SELECT ts, status, filled, reason FROM order_history WHERE order_key = ? ORDER BY seq",
            (f"{venue}:{order_id}",),
        )
        return [OrderStatusChange(*r) for r in rows]

    def cancels(self) -> list[dict[str, Any]]:
        rows = self._read("SELECT id, ts, venue, order_id, reason FROM cancels ORDER BY ts, rowid")
        return [dict(zip(("id", "ts", "venue", "order_id", "reason"), r)) for r in rows]

    def fills(self, limit: int | None = None, *, venue: str | None = None, market: str | None = None) -> list[Fill]:
        """The account's fills, newest first."""
        sql = "SELECT payload FROM fills WHERE 1=1"
        params: list[str | int] = []
        if venue is not None:
            sql += " AND venue = ?"
            params.append(venue)
        if market is not None:
            sql += " AND market = ?"
            params.append(market)
        sql += " ORDER BY ts DESC, rowid DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [self._decode(Fill, r[0]) for r in self._read(sql, params)]

    def kill_switch(self) -> KillSwitchChange | None:
        """The latest kill switch change (None: never touched); engaged means halted."""
        history = self.kill_switch_history()
        return history[-1] if history else None

    def kill_switch_history(self) -> list[KillSwitchChange]:
        rows = self._read("SELECT id, ts, engaged, reason FROM kill_switch ORDER BY seq")
        return [KillSwitchChange(r[0], r[1], bool(r[2]), r[3]) for r in rows]

    def funding_payments(self, venue: str | None = None) -> list[FundingPayment]:
        """Funding and borrow payments, oldest first (what a paper account replays)."""
        sql = "SELECT id, venue, market, amount, rate, ts, kind FROM funding_payments"
        params: tuple[str, ...] = ()
        if venue is not None:
            sql, params = sql + " WHERE venue = ?", (venue,)
        rows = self._read(sql + " ORDER BY ts, rowid", params)
        return [FundingPayment(r[0], r[1], r[2], int(r[3]), r[4], r[5], r[6]) for r in rows]

    def liquidations(self) -> list[Liquidation]:
        rows = self._read("SELECT id, venue, market, base, price, fee, ts, reason FROM liquidations ORDER BY ts, rowid")
        return [Liquidation(r[0], r[1], r[2], int(r[3]), r[4], int(r[5]), r[6], r[7]) for r in rows]

    def positions(self, venue: str | None = None, *, include_flat: bool = False) -> list[Position]:
        """The latest saved position per venue/market (flat ones left out unless asked)."""
        sql = "SELECT payload FROM positions"
        params: tuple[str, ...] = ()
        if venue is not None:
            sql, params = sql + " WHERE venue = ?", (venue,)
        out = [self._decode(Position, r[0]) for r in self._read(sql + " ORDER BY venue, market", params)]
        return out if include_flat else [p for p in out if p.base != 0]

    def account(self, venue: str) -> AccountState | None:
        rows = self._read("SELECT payload FROM accounts WHERE id = ?", (venue,))
        return self._decode(AccountState, rows[0][0]) if rows else None

    def accounts(self) -> dict[str, AccountState]:
        return {r[0]: self._decode(AccountState, r[1]) for r in self._read("SELECT id, payload FROM accounts")}

    # -- outbox ------------------------------------------------------------

    def _cursor(self, sink: str) -> int:
        row = self._cursors.execute("SELECT seq FROM outbox_cursor WHERE sink = ?", (sink,)).fetchone()
        return int(row[0]) if row else 0

    def pending(self, limit: int = 500, sink: str = DEFAULT_SINK) -> list[OutboxEntry]:
        """The oldest outbox entries ``sink`` has not acknowledged, in order."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, id, tbl, payload, created_at FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                (self._cursor(sink), int(limit)),
            ).fetchall()
        return [OutboxEntry(r[0], r[1], r[2], self._payload_dec.decode(r[3]), r[4]) for r in rows]

    def pending_count(self, sink: str = DEFAULT_SINK) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM outbox WHERE seq > ?", (self._cursor(sink),)).fetchone()[0])

    def mark_done(self, seqs: Iterable[int], sink: str = DEFAULT_SINK) -> int:
        """Acknowledge entries (by ``OutboxEntry.seq``) after ``sink`` committed them.

        The sink's cursor advances over the unbroken run of acknowledged entries
        from its oldest pending one; an entry acknowledged beyond a gap stays
        pending and is delivered again (remote upserts by id make that harmless).
        Returns how many entries left the pending list.
        """
        done = set(seqs)
        if not done:
            return 0
        with self._lock:
            cursor = start = self._cursor(sink)
            advanced = 0
            for (seq,) in self._conn.execute(
                "SELECT seq FROM outbox WHERE seq > ? AND seq <= ? ORDER BY seq", (start, max(done))
            ).fetchall():
                if seq not in done:
                    break
                cursor = seq
                advanced += 1
            if cursor != start:
                # Only this sink moves its cursor, so no read-modify-write race.
                self._cursors.execute(
                    "INSERT INTO outbox_cursor VALUES (?, ?) ON CONFLICT (sink) DO UPDATE SET seq = excluded.seq",
                    (sink, cursor),
                )
        return advanced

    def sinks(self) -> dict[str, int]:
        """Every sink that has acknowledged something, with its cursor."""
        with self._lock:
            return dict(self._cursors.execute("SELECT sink, seq FROM outbox_cursor").fetchall())

    def prune_outbox(self, sinks: Iterable[str] | None = None) -> int:
        """Delete entries every sink (default: every sink known so far) has
        acknowledged; returns how many. The journal tables keep the rows; only
        the delivery queue shrinks."""
        with self._lock:
            names = list(sinks) if sinks is not None else list(self.sinks())
            if not names:
                return 0
            floor = min(self._cursor(s) for s in names)
        with self._write() as c:
            return c.execute("DELETE FROM outbox WHERE seq <= ?", (floor,)).rowcount

    # -- export ------------------------------------------------------------

    def export_csv(self, path: str | Path, kinds: Sequence[str] = EXPORT_KINDS) -> int:
        """Write fills and/or orders to one CSV file, oldest first, prices and
        sizes as exact decimals. Returns the number of data rows written."""
        unknown = [k for k in kinds if k not in EXPORT_KINDS]
        if unknown:
            raise JournalError(f"Unknown export kind {unknown[0]!r}; choose from {', '.join(EXPORT_KINDS)}.")
        rows: list[tuple[int, dict[str, Any]]] = []
        if "orders" in kinds:
            for o in self.orders():
                rows.append((o.ts, _order_row(o)))
        if "fills" in kinds:
            for f in self.fills():
                rows.append((f.ts, _fill_row(f)))
        rows.sort(key=lambda r: r[0])
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            for _, row in rows:
                writer.writerow(row)
        return len(rows)


CSV_COLUMNS = [
    "kind", "time_utc", "ts_ns", "venue", "market", "order_id", "fill_id", "side", "type", "status",
    "price", "trigger_price", "size", "filled", "fee", "liquidity", "post_only", "reduce_only", "ioc",
    "client_id", "reason",
]


def _utc(ts: int) -> str:
    if not ts:
        return ""
    t = datetime.fromtimestamp(ts // 1_000_000_000, tz=timezone.utc).replace(microsecond=ts % 1_000_000_000 // 1000)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _price(v: int) -> str:
    return str(Decimal(v).scaleb(-PRICE_DECIMALS))


def _size(v: int) -> str:
    return str(Decimal(v).scaleb(-SIZE_DECIMALS))


def _text(v: str) -> str:
    # A spreadsheet would run a cell starting with these as a formula.
    return "'" + v if v[:1] in ("=", "+", "-", "@") else v


def _order_row(o: Order) -> dict[str, Any]:
    return {
        "kind": "order", "time_utc": _utc(o.ts), "ts_ns": o.ts, "venue": o.venue, "market": o.market,
        "order_id": o.order_id, "fill_id": "", "side": o.side, "type": o.type, "status": o.status,
        "price": _price(o.price), "trigger_price": _price(o.trigger_price), "size": _size(o.size),
        "filled": _size(o.filled), "fee": "", "liquidity": "", "post_only": o.post_only,
        "reduce_only": o.reduce_only, "ioc": o.ioc, "client_id": _text(o.client_id), "reason": _text(o.reason),
    }


def _fill_row(f: Fill) -> dict[str, Any]:
    return {
        "kind": "fill", "time_utc": _utc(f.ts), "ts_ns": f.ts, "venue": f.venue, "market": f.market,
        "order_id": f.order_id, "fill_id": f.fill_id, "side": f.side, "type": "", "status": "",
        "price": _price(f.price), "trigger_price": "", "size": _size(f.size), "filled": "",
        "fee": _price(f.fee), "liquidity": f.liquidity, "post_only": "", "reduce_only": "", "ioc": "",
        "client_id": "", "reason": "",
    }
