"""A local Solana JSON-RPC node over HTTP, for tests.

The envelope follows the JSON-RPC 2.0 specification (jsonrpc.org/specification)
as Solana's RPC serves it: one request object gets one response object with
the same ``id``; a batch (a JSON array of requests, section 6) gets an array
of responses, one per request, which "MAY be returned in any order" (so the
node can answer in reverse to prove a client matches by id); an empty array
is one ``-32600 Invalid Request`` error object; a body that is not JSON is
``-32700 Parse error`` with ``id: null``; an unknown method is ``-32601``.

``jsonrpc_reply`` is the envelope alone, for the venue servers that answer
RPC beside other routes; ``RpcNode`` is a whole node with faults: answer
every request with one HTTP status (a 503 node), accept connections and
never answer (a hung node), refuse batch arrays the way a provider with
batching turned off does (one error object for the array), answer batches
in reverse order.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[str, list], Any]  # (method, params) -> result; KeyError: method not found
Call = dict  # one request object as received


class RpcFault(Exception):
    """Raised by an answer function: the node answers this JSON-RPC error."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _one(req: Any, answer: Answer) -> dict:
    rid = req.get("id") if isinstance(req, dict) else None
    if not isinstance(req, dict) or req.get("jsonrpc") != "2.0" or not isinstance(req.get("method"), str):
        return {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid request"}, "id": rid}
    try:
        result = answer(req["method"], req.get("params", []))
    except KeyError:
        return {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": rid}
    except RpcFault as fault:
        return {"jsonrpc": "2.0", "error": {"code": fault.code, "message": fault.message}, "id": rid}
    return {"jsonrpc": "2.0", "result": result, "id": rid}


def parse_calls(body: bytes) -> list[Call]:
    """The request objects in a body (one, or a batch's), for request logs."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return []
    items = parsed if isinstance(parsed, list) else [parsed]
    return [c for c in items if isinstance(c, dict)]


def jsonrpc_reply(body: bytes, answer: Answer, *, reverse_batches: bool = False, batches: bool = True) -> bytes:
    """The response body for one HTTP request body."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return json.dumps({"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None}).encode()
    if isinstance(parsed, list):
        if not parsed:
            return json.dumps({"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid request"}, "id": None}).encode()
        if not batches:
            return json.dumps({"jsonrpc": "2.0", "error": {"code": -32600, "message": "Batch requests are not supported"},
                               "id": None}).encode()
        replies = [_one(r, answer) for r in parsed]
        if reverse_batches:
            replies.reverse()
        return json.dumps(replies).encode()
    return json.dumps(_one(parsed, answer)).encode()


class RpcNode:
    """One JSON-RPC node on 127.0.0.1. ``status`` set: every POST gets that
    HTTP status; ``hang``: requests are read and never answered."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.status: int | None = None
        self.headers: dict[str, str] = {}  # sent with ``status`` (e.g. Retry-After beside a 429)
        self.hang = False
        self.batches = True
        self.reverse_batches = False
        self.posts: list[list[Call]] = []  # per HTTP request, the calls it carried
        self.lock = threading.Lock()
        self._release = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None

    def start(self) -> RpcNode:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with outer.lock:
                    outer.posts.append(parse_calls(body))
                if outer.hang:
                    outer._release.wait(10)
                    return
                if outer.status is not None:
                    raw = b'{"error":"unavailable"}'
                    status = outer.status
                else:
                    raw = jsonrpc_reply(body, outer.answer, reverse_batches=outer.reverse_batches, batches=outer.batches)
                    status = 200
                self.send_response(status)
                for k, v in (outer.headers if status != 200 else {}).items():
                    self.send_header(k, v)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def methods(self) -> list[str]:
        with self.lock:
            return [c.get("method", "") for post in self.posts for c in post]

    def stop(self) -> None:
        self._release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()


def dead_url() -> str:
    """A URL nothing listens on: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
