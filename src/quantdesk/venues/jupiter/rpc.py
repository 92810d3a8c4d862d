"""Solana JSON-RPC over one or more equivalent hosts, with failover.

A request goes to the host that answered last; a host that is unreachable,
rate-limited (429) or failing (5xx) is skipped for the next one. Host URLs
often carry an API key, so errors name a host by scheme and host name only.
"""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import msgspec

from quantdesk.venues.base import VenueError
from quantdesk.venues.solana.values import account_data, safe_host

__all__ = ["MAX_KEYS_PER_CALL", "RpcError", "RpcUnavailable", "SolanaRpc", "account_data", "safe_host"]

MAX_KEYS_PER_CALL = 100  # getMultipleAccounts accepts at most 100 pubkeys


class RpcError(VenueError):
    """The RPC could not answer; the message says which call and why."""


class RpcUnavailable(RpcError):
    """No configured host answered."""


class _Err(msgspec.Struct):
    code: int = 0
    message: str = ""


class _Response(msgspec.Struct):
    result: Any = None
    error: _Err | None = None


class SolanaRpc:
    def __init__(
        self,
        urls: list[str],
        *,
        commitment: str = "confirmed",
        timeout_s: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if not urls:
            raise ValueError("no RPC URL configured")
        self.urls = list(urls)
        self.commitment = commitment
        self._client = client or httpx.AsyncClient(timeout=timeout_s)
        self._current = 0
        self._ids = itertools.count(1)
        self.failovers = 0
        self.last_slot = 0

    async def close(self) -> None:
        await self._client.aclose()

    async def call(self, method: str, params: list[Any]) -> Any:
        body = msgspec.json.encode({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params})
        problems = []
        for step in range(len(self.urls)):
            i = (self._current + step) % len(self.urls)
            url = self.urls[i]
            try:
                resp = await self._client.post(url, content=body, headers={"content-type": "application/json"})
            except httpx.HTTPError as exc:
                problems.append(f"{safe_host(url)}: {exc.__class__.__name__}")
                continue
            if resp.status_code == 429 or resp.status_code >= 500:
                problems.append(f"{safe_host(url)}: HTTP {resp.status_code}")
                continue
            if i != self._current:
                self.failovers += 1
                self._current = i
            try:
                decoded = msgspec.json.decode(resp.content, type=_Response)
            except (msgspec.DecodeError, msgspec.ValidationError):
                raise RpcError(f"RPC {method}: {safe_host(url)} sent a malformed response") from None
            if decoded.error is not None:
                raise RpcError(f"RPC {method} failed: {decoded.error.message} ({decoded.error.code})")
            return decoded.result
        raise RpcUnavailable(
            f"RPC {method}: no host answered ({'; '.join(problems)}); check the RPC URLs or the network"
        )

    def _slot(self, result: Any) -> int:
        slot = int(((result or {}).get("context") or {}).get("slot", 0)) if isinstance(result, dict) else 0
        self.last_slot = max(self.last_slot, slot)
        return slot

    async def get_multiple_accounts(self, pubkeys: list[str]) -> tuple[int, list[bytes | None]]:
        """(slot, data of each pubkey in order; None for a missing account)."""
        slot = 0
        out: list[bytes | None] = []
        for start in range(0, len(pubkeys), MAX_KEYS_PER_CALL):
            chunk = pubkeys[start : start + MAX_KEYS_PER_CALL]
            result = await self.call(
                "getMultipleAccounts", [chunk, {"encoding": "base64", "commitment": self.commitment}]
            )
            slot = max(slot, self._slot(result))
            values = result.get("value") if isinstance(result, dict) else None
            if not isinstance(values, list) or len(values) != len(chunk):
                raise RpcError("RPC getMultipleAccounts: the result does not list one value per account")
            out.extend(account_data(v) for v in values)
        return slot, out

    async def get_account(self, pubkey: str) -> tuple[int, bytes | None]:
        result = await self.call("getAccountInfo", [pubkey, {"encoding": "base64", "commitment": self.commitment}])
        return self._slot(result), account_data(result.get("value") if isinstance(result, dict) else None)

    async def get_program_accounts(self, program: str, filters: list[dict[str, Any]]) -> list[tuple[str, bytes]]:
        result = await self.call(
            "getProgramAccounts",
            [program, {"encoding": "base64", "commitment": self.commitment, "filters": filters}],
        )
        items = result.get("value") if isinstance(result, dict) else result  # withContext or plain
        if not isinstance(items, list):
            raise RpcError("RPC getProgramAccounts: the result is not a list of accounts")
        out = []
        for item in items:
            data = account_data(item.get("account")) if isinstance(item, dict) else None
            if data is not None and isinstance(item.get("pubkey"), str):
                out.append((item["pubkey"], data))
        return out
