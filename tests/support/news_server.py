"""A local news server for tests: feeds replayed from tests/fixtures/news.

Speaks plain HTTP/1.1 as a feed host does: ``200`` with the body, an
``ETag`` and ``Last-Modified`` on each route; a request carrying the
matching ``If-None-Match`` (or ``If-Modified-Since``) gets ``304`` with no
body. A route may wait for the test to open its gate, so feeds answer in
a known order. Faults per route: the next N answers are ``429`` with ``Retry-After``
or a given status, the body is replaced (malformed XML), or the server holds
the request without answering until the test ends (a feed that hangs).
Every request is recorded (path, query, headers) for the test to check.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

FIXTURES = Path(__file__).parent.parent / "fixtures" / "news"
LAST_MODIFIED = "Wed, 18 Nov 2026 10:40:12 GMT"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Route:
    body: bytes
    content_type: str
    etag: str | None = '"v1"'
    last_modified: str | None = LAST_MODIFIED
    fail: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # the next answers, in order
    hang: bool = False
    gate: threading.Event | None = None  # set: answer (the test orders which feed answers first)


@dataclass(frozen=True)
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class NewsServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.release = threading.Event()  # set: hanging requests give up
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                server._answer(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: bytes, content_type: str = "application/rss+xml", **kw: object) -> Route:
        route = self.routes[path] = Route(body, content_type, **kw)  # type: ignore[arg-type]
        return route

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        self.requests.append(Request(parts.path, parse_qs(parts.query), {k.lower(): v for k, v in h.headers.items()}))
        route = self.routes.get(parts.path)
        if route is None:
            return self._send(h, 404, {}, b"not found")
        if route.hang:
            self.release.wait(30)
            return
        if route.gate is not None:
            route.gate.wait(30)
        if route.fail:
            status, headers = route.fail.pop(0)
            return self._send(h, status, headers, b'{"status":"rate limited"}' if status == 429 else b"error")
        inm = h.headers.get("If-None-Match")
        ims = h.headers.get("If-Modified-Since")
        if (route.etag and inm == route.etag) or (route.etag is None and route.last_modified and ims == route.last_modified):
            return self._send(h, 304, self._validators(route), b"")
        self._send(h, 200, {"Content-Type": route.content_type, **self._validators(route)}, route.body)

    @staticmethod
    def _validators(route: Route) -> dict[str, str]:
        out = {}
        if route.etag:
            out["ETag"] = route.etag
        if route.last_modified:
            out["Last-Modified"] = route.last_modified
        return out

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes) -> None:
        try:
            h.send_response(status)
            for k, v in headers.items():
                h.send_header(k, v)
            if status != 304:
                h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            if status != 304:
                h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def start(self) -> NewsServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def news_server() -> Iterator[NewsServer]:
    server = NewsServer().start()
    try:
        yield server
    finally:
        server.stop()
