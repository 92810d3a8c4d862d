"""Solana JSON-RPC for every venue on Solana: one client over several URLs.

Failover. The URLs are in order of preference. A request goes to the most
preferred URL that is not cooling down. A URL that cannot be reached, times
out, or answers HTTP 5xx, 429 (rate limited) or 401/403 (its API key
refused) cools down for ``cooldown_s`` (a 429 for its ``Retry-After`` if
that is longer) and the request moves on to the next. When the cool-down is
over the preferred URL is tried first again. If every URL is cooling down
they are tried anyway, the one that cools down first first: the caller gets
an answer or a clear error now, never a silent wait. An error the node
answers in JSON-RPC (a bad parameter, a failed preflight) would be the same
on every node, so it is raised, not failed over.

Batching. ``batch`` sends several calls in one JSON-RPC batch array (one
round trip) and returns their results in the order asked, whatever order the
node answers in (responses are matched by id). ``getMultipleAccounts`` takes
at most 100 keys a call; more are split into chunks that go out as one
batch. Once a node refuses a batch array (HTTP 400/413, or one error object
for the whole array) the calls are sent one by one, then and from then on:
URLs of several providers may not all take batches.

URLs often carry an API key, so every message names a host by scheme, host
and port only.
"""

from __future__ import annotations

import base64
import itertools
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import httpx
import msgspec

from quantdesk.core.latency import LatencyHistogram
from quantdesk.venues.base import VenueError
from quantdesk.venues.retry_after import retry_after_s
from quantdesk.venues.solana.values import account_data, safe_host

__all__ = [
    "MAX_CALLS_PER_BATCH",
    "MAX_KEYS_PER_CALL",
    "RpcError",
    "RpcListener",
    "RpcUnavailable",
    "SolanaRpc",
]

MAX_KEYS_PER_CALL = 100  # getMultipleAccounts accepts at most 100 pubkeys
MAX_CALLS_PER_BATCH = 20  # calls per batch array; providers cap batch sizes
FAILOVER_STATUS = frozenset({401, 403, 429})  # beside 5xx: the host's problem, not the request's
BATCH_REFUSED_STATUS = frozenset({400, 413})  # a node that takes no (or no such large) batch arrays


class RpcError(VenueError):
    """The RPC could not answer; the message says which call and why."""


class RpcUnavailable(RpcError):
    """No configured URL answered."""


class RpcListener(Protocol):
    """Who hears of each round trip (a venue's health counters)."""

    def answered(self, host: str, latency_ms: float) -> None: ...

    def failed(self, host: str, problem: str, rate_limited: bool) -> None: ...

    def failed_over(self, host: str) -> None:
        """A request was answered by ``host`` after a more preferred URL failed it."""


class _Quiet:
    def answered(self, host: str, latency_ms: float) -> None:
        pass

    def failed(self, host: str, problem: str, rate_limited: bool) -> None:
        pass

    def failed_over(self, host: str) -> None:
        pass


class _Err(msgspec.Struct):
    code: int = 0
    message: str = ""


class _Response(msgspec.Struct):
    id: Any = None
    result: Any = None
    error: _Err | None = None


_decode_one = msgspec.json.Decoder(_Response).decode
_decode_many = msgspec.json.Decoder(list[_Response]).decode
_encode = msgspec.json.Encoder().encode


class SolanaRpc:
    def __init__(
        self,
        urls: Sequence[str],
        *,
        commitment: str = "confirmed",
        timeout_s: float = 10.0,
        cooldown_s: float = 30.0,
        listener: RpcListener | None = None,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not urls:
            raise ValueError("no RPC URL configured")
        self.urls = list(urls)
        self.commitment = commitment
        self.timeout_s = timeout_s
        self.cooldown_s = cooldown_s
        self.listener: RpcListener = listener or _Quiet()
        self._client = client
        self._clock = clock
        self._ids = itertools.count(1)
        self._not_before = [0.0] * len(self.urls)  # monotonic seconds a URL cools down until
        self.batching = True  # False once a node refused a batch array: calls go one by one
        self.failovers = 0
        self.errors = 0
        self.http_429 = 0
        self.last_error = ""
        self.latency_ms: float | None = None
        self.last_slot = 0
        self.requests: dict[str, int] = {}  # host -> HTTP requests sent
        self.latency: dict[str, LatencyHistogram] = {}  # host -> round trips answered (for /metrics)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=False)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def cooling(self) -> list[str]:
        """The hosts cooling down now (for a status line)."""
        now = self._clock()
        return [safe_host(u) for u, t in zip(self.urls, self._not_before) if t > now]

    # -- transport ---------------------------------------------------------------
    def _order(self) -> list[int]:
        """URLs to try: the ready ones by preference, then the cooling ones by when they cool down."""
        now = self._clock()
        ready = [i for i, t in enumerate(self._not_before) if t <= now]
        cooling = sorted((i for i, t in enumerate(self._not_before) if t > now), key=lambda i: self._not_before[i])
        return ready + cooling

    def _cool(self, i: int, host: str, problem: str, *, rate_limited: bool, wait_s: float | None = None) -> None:
        self._not_before[i] = self._clock() + max(self.cooldown_s, wait_s or 0.0)
        self.errors += 1
        self.last_error = f"RPC {host}: {problem}"
        if rate_limited:
            self.http_429 += 1
        self.listener.failed(host, problem, rate_limited)

    async def _post(self, body: bytes, what: str) -> tuple[int, httpx.Response]:
        """POST ``body`` to the best URL that answers; (its index, the response).
        A status the request itself causes (4xx but for 401/403/429) is returned
        for the caller to judge; RpcUnavailable when no URL answered."""
        problems: list[str] = []
        for i in self._order():
            url = self.urls[i]
            host = safe_host(url)
            self.requests[host] = self.requests.get(host, 0) + 1
            t0 = time.perf_counter()
            try:
                resp = await self._http().post(url, content=body, headers={"content-type": "application/json"})
            except httpx.TimeoutException:
                problem = f"no answer within {self.timeout_s:g}s"
                self._cool(i, host, problem, rate_limited=False)
                problems.append(f"{host}: {problem}")
                continue
            except httpx.HTTPError as exc:
                problem = f"cannot connect ({exc.__class__.__name__})"
                self._cool(i, host, problem, rate_limited=False)
                problems.append(f"{host}: {problem}")
                continue
            status = resp.status_code
            if status >= 500 or status in FAILOVER_STATUS:
                problem = f"HTTP {status}"
                wait = retry_after_s(resp.headers.get("retry-after")) if status == 429 else None
                self._cool(i, host, problem, rate_limited=status == 429, wait_s=wait)
                problems.append(f"{host}: {problem}")
                continue
            latency = (time.perf_counter() - t0) * 1000
            self.latency_ms = latency
            self.latency.setdefault(host, LatencyHistogram()).observe(latency / 1000)
            self.listener.answered(host, latency)
            if problems:
                self.failovers += 1
                self.listener.failed_over(host)
            return i, resp
        # No advice here: the venue that asked knows which setting names these URLs.
        raise RpcUnavailable(f"RPC unavailable: no URL answered {what} ({'; '.join(problems)})")

    # -- calls -------------------------------------------------------------------
    def _request(self, method: str, params: list[Any]) -> tuple[int, dict[str, Any]]:
        rid = next(self._ids)
        return rid, {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}

    async def call(self, method: str, params: list[Any] | None = None) -> Any:
        """One call's result; RpcError if the node answers an error or nonsense."""
        _rid, req = self._request(method, params or [])
        i, resp = await self._post(_encode(req), method)
        host = safe_host(self.urls[i])
        if resp.status_code != 200:
            raise RpcError(f"RPC {method}: {host} refused the request (HTTP {resp.status_code})")
        try:
            decoded = _decode_one(resp.content)
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise RpcError(f"RPC {method}: {host} sent a malformed response") from None
        return _result(method, decoded)

    async def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """The results of ``calls`` in their order, sent as JSON-RPC batch arrays
        (``MAX_CALLS_PER_BATCH`` a request). RpcError if any call fails."""
        out: list[Any] = []
        for start in range(0, len(calls), MAX_CALLS_PER_BATCH):
            out += await self._batch(calls[start : start + MAX_CALLS_PER_BATCH])
        return out

    async def _batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        if len(calls) == 1 or not self.batching:
            return [await self.call(m, p) for m, p in calls]
        reqs = [self._request(m, p) for m, p in calls]
        what = f"batch of {len(calls)} ({calls[0][0]}…)"
        i, resp = await self._post(_encode([r for _, r in reqs]), what)
        host = safe_host(self.urls[i])
        if resp.status_code in BATCH_REFUSED_STATUS:
            self.batching = False
            return [await self.call(m, p) for m, p in calls]
        if resp.status_code != 200:
            raise RpcError(f"RPC {what}: {host} refused the request (HTTP {resp.status_code})")
        try:
            answers = _decode_many(resp.content)
        except (msgspec.DecodeError, msgspec.ValidationError):
            try:  # one error object for the whole array: this node takes no batches
                _decode_one(resp.content)
            except (msgspec.DecodeError, msgspec.ValidationError):
                raise RpcError(f"RPC {what}: {host} sent a malformed response") from None
            self.batching = False
            return [await self.call(m, p) for m, p in calls]
        by_id = {a.id: a for a in answers}
        results = []
        for (rid, _req), (method, _params) in zip(reqs, calls):
            answer = by_id.get(rid)
            if answer is None:
                raise RpcError(f"RPC {method}: {host} left a call of the batch unanswered")
            results.append(_result(method, answer))
        return results

    def _slot(self, result: Any) -> int:
        ctx = result.get("context") if isinstance(result, dict) else None
        slot = ctx.get("slot", 0) if isinstance(ctx, dict) else 0
        slot = slot if isinstance(slot, int) and not isinstance(slot, bool) else 0
        self.last_slot = max(self.last_slot, slot)
        return slot

    # -- the methods the venues use ---------------------------------------------------
    async def get_slot(self) -> int:
        slot = await self.call("getSlot", [{"commitment": self.commitment}])
        if not isinstance(slot, int) or isinstance(slot, bool) or slot < 0:
            raise RpcError("RPC getSlot: the result is not a slot number")
        self.last_slot = max(self.last_slot, slot)
        return slot

    async def get_account(self, pubkey: str) -> tuple[int, bytes | None]:
        """(slot, the account's data; None for a missing account)."""
        result = await self.call("getAccountInfo", [pubkey, {"encoding": "base64", "commitment": self.commitment}])
        if not isinstance(result, dict) or "value" not in result:
            raise RpcError("RPC getAccountInfo: the result has no value")
        return self._slot(result), account_data(result["value"])

    async def get_multiple_accounts(self, pubkeys: Sequence[str]) -> tuple[int, list[bytes | None]]:
        """(newest slot answered, data of each pubkey in order; None for a missing account).
        Chunks of 100 keys go out together as one batch."""
        config = {"encoding": "base64", "commitment": self.commitment}
        chunks = [list(pubkeys[s : s + MAX_KEYS_PER_CALL]) for s in range(0, len(pubkeys), MAX_KEYS_PER_CALL)]
        results = await self.batch([("getMultipleAccounts", [chunk, config]) for chunk in chunks])
        slot = 0
        out: list[bytes | None] = []
        for chunk, result in zip(chunks, results):
            values = result.get("value") if isinstance(result, dict) else None
            if not isinstance(values, list) or len(values) != len(chunk):
                raise RpcError("RPC getMultipleAccounts: the result does not list one value per account")
            slot = max(slot, self._slot(result))
            out.extend(account_data(v) for v in values)
        return slot, out

    async def get_program_accounts(self, program: str, filters: list[dict[str, Any]]) -> list[tuple[str, bytes]]:
        """(pubkey, data) of ``program``'s accounts matching ``filters`` (``memcmp``/``dataSize``)."""
        return (await self.get_program_accounts_many([(program, filters)]))[0]

    async def get_program_accounts_many(
        self, queries: Sequence[tuple[str, list[dict[str, Any]]]]
    ) -> list[list[tuple[str, bytes]]]:
        """Several ``getProgramAccounts`` in one batch; one list per query, in order."""
        calls = [
            ("getProgramAccounts", [program, {"encoding": "base64", "commitment": self.commitment, "filters": filters}])
            for program, filters in queries
        ]
        return [_keyed_accounts(result) for result in await self.batch(calls)]

    async def get_balance(self, pubkey: str) -> int:
        """The account's lamports (0 for an account that does not exist)."""
        result = await self.call("getBalance", [pubkey, {"commitment": self.commitment}])
        value = result.get("value") if isinstance(result, dict) else None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise RpcError("RPC getBalance: the result is not a lamport amount")
        self._slot(result)
        return value

    async def get_latest_blockhash(self) -> str:
        result = await self.call("getLatestBlockhash", [{"commitment": self.commitment}])
        value = result.get("value") if isinstance(result, dict) else None
        blockhash = value.get("blockhash") if isinstance(value, dict) else None
        if not isinstance(blockhash, str):
            raise RpcError("RPC getLatestBlockhash: the result has no blockhash")
        return blockhash

    async def send_transaction(self, tx: bytes) -> str:
        """Send a signed transaction (preflight checks on); its signature. Sending
        it again through another URL after a failure is safe: the chain keeps one
        transaction per signature."""
        wire = base64.b64encode(tx).decode()
        result = await self.call(
            "sendTransaction", [wire, {"encoding": "base64", "preflightCommitment": self.commitment, "maxRetries": 0}]
        )
        if not isinstance(result, str):
            raise RpcError("RPC sendTransaction: the result is not a signature")
        return result


def _result(method: str, answer: _Response) -> Any:
    if answer.error is not None:
        raise RpcError(f"RPC {method} failed: {answer.error.message or 'error'} ({answer.error.code})")
    return answer.result


def _keyed_accounts(result: Any) -> list[tuple[str, bytes]]:
    items = result.get("value") if isinstance(result, dict) else result  # withContext or plain
    if not isinstance(items, list):
        raise RpcError("RPC getProgramAccounts: the result is not a list of accounts")
    out = []
    for item in items:
        data = account_data(item.get("account")) if isinstance(item, dict) else None
        if data is not None and isinstance(item.get("pubkey"), str):
            out.append((item["pubkey"], data))
    return out
