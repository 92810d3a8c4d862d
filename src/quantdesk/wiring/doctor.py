"""``quantdesk doctor``'s checks: each returns a :class:`Check` saying what was
found and, when it is not right, what to do about it.

Nothing here prints or exits; the command renders the checks. Messages never
carry a password, key or token: Redis and PostgreSQL targets are shown
redacted and their errors scrubbed, Supabase errors without its keys.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

Status = Literal["ok", "warn", "fail"]
DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}
MIN_COLS, MIN_ROWS = 80, 24


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


def check_config(load: Callable[[], Any]) -> tuple[Check, Any]:
    from quantdesk.core.problems import ProblemsError

    try:
        settings = load()
    except ProblemsError as exc:
        return Check("config", "fail", exc.render(), "fix the lines above (`quantdesk config validate` checks again)"), None
    return Check("config", "ok", "valid"), settings


def _urls(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str) and urlsplit(value).scheme in DEFAULT_PORTS:
        yield where, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _urls(v, f"{where}.{k}" if where else str(k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _urls(v, f"{where}[{i}]")


def probe_tcp(url: str, timeout: float) -> float:
    """Seconds to open a TCP connection to ``url``'s host and port; OSError if none."""
    parts = urlsplit(url)
    port = parts.port or DEFAULT_PORTS.get(parts.scheme, 443)
    started = time.perf_counter()
    with socket.create_connection((parts.hostname or "", port), timeout=timeout):
        return time.perf_counter() - started


def _endpoint(url: str) -> str:
    parts = urlsplit(url)  # path and query dropped: RPC providers put API keys there
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def rpc_slot(url: str, timeout: float) -> int:
    """The slot a Solana JSON-RPC endpoint reports (``getSlot``); OSError or ValueError if none."""
    import httpx

    try:
        r = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "getSlot"}, timeout=timeout)
        return int(r.json()["result"])
    except httpx.HTTPError as exc:
        raise OSError(type(exc).__name__) from None
    except (KeyError, TypeError, ValueError):
        raise ValueError("no slot in the answer to getSlot") from None


MAX_SLOT_LAG = 20  # ~8 s of slots behind the freshest endpoint


def check_slot_lag(slots: dict[str, int]) -> list[Check]:
    """Each RPC endpoint's slot against the freshest one the venue lists."""
    if not slots:
        return []
    best = max(slots.values())
    out = []
    for label, slot in slots.items():
        lag = best - slot
        bad = lag > MAX_SLOT_LAG
        out.append(Check(f"{label} slot", "warn" if bad else "ok", f"slot {slot}, {lag} behind the freshest endpoint",
                         "this endpoint is behind the chain: put a fresher one first" if bad else ""))
    return out


def check_venues(
    settings: Any,
    timeout: float,
    probe: Callable[[str, float], float] = probe_tcp,
    slot_of: Callable[[str, float], int] = rpc_slot,
) -> list[Check]:
    from quantdesk.venues import registry

    entries = registry.configured(settings) if settings is not None else []
    if not entries:
        return [Check("venues", "ok", "no [venues.*] section: the embedded simulated venues run")]
    checks = []
    for _spec, name, section in entries:
        data = section.model_dump(mode="json") if hasattr(section, "model_dump") else section
        slots: dict[str, int] = {}
        for field, url in _urls(data):
            label = f"venue {name} {field}"
            try:
                took = probe(url, timeout)
            except OSError as exc:
                checks.append(Check(label, "fail", f"{_endpoint(url)} unreachable ({exc.strerror or type(exc).__name__})",
                                    f"check the network or set another URL under [venues.{name}] {field.split('[')[0]}"))
                continue
            slow = took > timeout / 2
            checks.append(Check(label, "warn" if slow else "ok", f"{_endpoint(url)} connects in {took * 1000:.0f} ms",
                                "a slow endpoint delays books and orders: choose a nearer or paid one" if slow else ""))
            if field.startswith("rpc_url") and urlsplit(url).scheme in ("http", "https"):
                try:
                    slots[label] = slot_of(url, timeout)
                except (OSError, ValueError) as exc:
                    checks.append(Check(f"{label} slot", "fail", f"{_endpoint(url)}: getSlot failed ({exc})",
                                        "use a Solana JSON-RPC endpoint that answers getSlot"))
        checks += check_slot_lag(slots)
    return checks


def check_redis(url: str, timeout: float) -> Check:
    if not url:
        return Check("redis", "ok", "not configured (no shared workspace or feed)")
    import asyncio

    from quantdesk.sync.redis_url import RedisURLError, client, describe_error, redact, validate

    try:
        validate(url)
    except RedisURLError as exc:
        return Check("redis", "fail", str(exc), "fix [redis] url or QUANTDESK_REDIS_URL")

    async def ping() -> float:
        r = client(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        try:
            started = time.perf_counter()
            await r.ping()
            return time.perf_counter() - started
        finally:
            await r.aclose()

    try:
        took = asyncio.run(ping())
    except Exception as exc:  # every failure of the client is reported, scrubbed
        return Check("redis", "fail", describe_error(exc, url), "start Redis or fix [redis] url / QUANTDESK_REDIS_URL")
    return Check("redis", "ok", f"{redact(url)} answers PING in {took * 1000:.1f} ms")


def check_postgres(dsn: str, timeout: float) -> Check:
    if not dsn:
        return Check("postgres", "ok", "not configured (the journal stays local)")
    import psycopg

    from quantdesk.sync.pg_dsn import describe_error, redact

    try:
        started = time.perf_counter()
        with psycopg.connect(dsn, connect_timeout=max(1, int(timeout))) as conn:
            conn.execute("select 1")
        took = time.perf_counter() - started
    except Exception as exc:  # every failure of the driver is reported, scrubbed
        return Check("postgres", "fail", describe_error(exc, dsn), "start PostgreSQL or fix [db] dsn / QUANTDESK_DB__DSN (`quantdesk db migrate` sets up the schema)")
    return Check("postgres", "ok", f"{redact(dsn)} answers in {took * 1000:.0f} ms")


def check_supabase(settings: Any, timeout: float) -> list[Check]:
    """[sync.supabase]: who is signed in, and whether the project's REST API
    answers as them with QuantDesk's tables in place."""
    sb = getattr(getattr(settings, "sync", None), "supabase", None)
    if sb is None:
        return [Check("supabase", "ok", "not configured (no sync through the Supabase API)")]
    from quantdesk.sync.supabase_api import SupabaseProject, SupabaseSetupError
    from quantdesk.sync.supabase_session import SupabaseAuthError, trader_session

    try:
        project = SupabaseProject(sb.url, sb.anon_key.get_secret_value(), timeout=min(timeout, sb.timeout_s))
    except SupabaseSetupError as exc:
        return [Check("supabase", "fail", str(exc), "fix [sync.supabase] in the config")]
    try:
        try:
            session = trader_session(project)
            session.access_token()  # refreshes it if due, as the terminal would
        except SupabaseAuthError as exc:
            return [Check("supabase session", "fail", str(exc), "run `quantdesk login supabase`")]
        who = Check("supabase session", "ok", f"{session.email or session.user_id} via {session.source}, "
                    f"token valid until {time.strftime('%H:%M:%S UTC', time.gmtime(session.expires_at))}")
        return [who, _check_supabase_rest(project, session.access_token())]
    finally:
        project.close()


def _check_supabase_rest(project: Any, token: str) -> Check:
    from postgrest.exceptions import APIError

    from quantdesk.sync.supabase_api import is_unreachable

    rest = project.client().postgrest
    rest.auth(token)
    t0 = time.perf_counter()
    try:
        rest.from_("workspace_items").select("kind").limit(1).execute()
    except APIError as exc:
        if not exc.code:
            return Check("supabase api", "fail", f"{project.url}: {project.describe_error(exc)}",
                         "check the project is up (Supabase dashboard) and the url")
        return Check("supabase api", "fail", f"{project.url}: {project.describe_error(exc)}",
                     "create the schema: `quantdesk db migrate --sql`, pasted into the SQL editor")
    except Exception as exc:
        if not is_unreachable(exc):
            raise
        return Check("supabase api", "fail", f"{project.url} unreachable ({project.describe_error(exc)})",
                     "check [sync.supabase] url and the network")
    took = time.perf_counter() - t0
    return Check("supabase api", "ok", f"{project.url} answers as you in {took * 1000:.0f} ms, schema in place")


def check_signer(settings: Any) -> Check:
    from quantdesk.signing.base import SignerError
    from quantdesk.signing.spec import SignerSpecError, open_signer
    from quantdesk.wiring.signer import configured_spec

    try:
        spec = configured_spec(settings)
    except SignerSpecError as exc:
        return Check("signer", "fail", str(exc), 'set signer = "keypair:PATH", "ledger:PATH", "agent:SOCKET" or "none"')
    if spec.kind == "none":
        return Check("signer", "ok", "none: read-only (no orders)")
    if spec.kind == "ledger":
        return Check("signer", "ok", f"{spec.describe()} (opened when an order is signed)")
    if spec.kind == "agent" and spec.socket is not None and not spec.socket.exists():
        return Check("signer", "fail", f"{spec.describe()}: no socket there", "start `quantdesk signer serve` on the machine with the key")
    try:
        signer = open_signer(spec)
    except (SignerError, SignerSpecError, OSError) as exc:
        return Check("signer", "fail", str(exc), "fix the keypair file or the signer setting (`quantdesk signer pubkey` checks again)")
    pubkey = getattr(signer, "pubkey", "")
    return Check("signer", "ok", f"{spec.describe()}: {pubkey}")


def check_terminal(environ: Mapping[str, str], size: tuple[int, int]) -> list[Check]:
    cols, rows = size
    colour = environ.get("COLORTERM", "").lower()
    term = environ.get("TERM", "")
    if environ.get("NO_COLOR"):
        c = Check("terminal colour", "warn", "NO_COLOR is set: the panes show no colour", "unset NO_COLOR for coloured bids, asks and P&L")
    elif colour in ("truecolor", "24bit"):
        c = Check("terminal colour", "ok", "24-bit colour")
    elif "256" in term:
        c = Check("terminal colour", "ok", f"256 colours ({term})")
    else:
        c = Check("terminal colour", "warn", f"TERM={term or 'unset'}: few colours", "use a terminal with 256 or 24-bit colour (TERM=xterm-256color)")
    if cols == 0 or rows == 0:
        s = Check("terminal size", "warn", "not run in a terminal", "run `quantdesk doctor` in the terminal you trade in to check its size")
    elif cols >= MIN_COLS and rows >= MIN_ROWS:
        s = Check("terminal size", "ok", f"{cols}x{rows}")
    else:
        s = Check("terminal size", "warn", f"{cols}x{rows} is below {MIN_COLS}x{MIN_ROWS}", f"enlarge the window to at least {MIN_COLS}x{MIN_ROWS}")
    return [c, s]


def redis_url_of(settings: Any, flag: str | None) -> str:
    from quantdesk.wiring.sources import configured_redis_url

    return flag or configured_redis_url(settings)
