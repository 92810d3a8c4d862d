"""Solana JSON-RPC over several RPC URLs (failover and 429 handling in ``HttpHosts``)."""

from __future__ import annotations

import base64
import itertools
import time

import msgspec

from quantdesk.venues.base import VenueError
from quantdesk.venues.drift.health import FeedHealth
from quantdesk.venues.drift.rest import HttpHosts


class RpcError(VenueError):
    pass


class _RpcErr(msgspec.Struct):
    code: int
    message: str = ""


class _RpcResponse(msgspec.Struct):
    result: msgspec.Raw = msgspec.Raw(b"null")  # Raw cannot sit in a union
    error: _RpcErr | None = None


class _AccountValue(msgspec.Struct):
    data: list[str]
    owner: str = ""
    lamports: int = 0


class _Ctx(msgspec.Struct):
    slot: int = 0


class _AccountResult(msgspec.Struct):
    value: _AccountValue | None
    context: _Ctx = msgspec.field(default_factory=_Ctx)


class _MultipleResult(msgspec.Struct):
    value: list[_AccountValue | None]
    context: _Ctx = msgspec.field(default_factory=_Ctx)


class _Blockhash(msgspec.Struct):
    blockhash: str
    lastValidBlockHeight: int = 0


class _BlockhashResult(msgspec.Struct):
    value: _Blockhash


class _KeyedAccount(msgspec.Struct):
    pubkey: str
    account: _AccountValue


class RpcClient:
    def __init__(self, hosts: HttpHosts, health: FeedHealth) -> None:
        self.hosts = hosts
        self.health = health
        self._ids = itertools.count(1)

    async def call(self, method: str, params: list | None = None) -> msgspec.Raw:
        body = msgspec.json.encode({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params or []})
        t0 = time.perf_counter()
        raw = await self.hosts.post_json("", body)
        self.health.rpc_latency_ms = (time.perf_counter() - t0) * 1000
        try:
            resp = msgspec.json.decode(raw, type=_RpcResponse)
        except (msgspec.DecodeError, msgspec.ValidationError):
            self.health.error(f"rpc {method}: malformed response")
            raise RpcError(f"RPC {method}: malformed response") from None
        if resp.error is not None:
            self.health.error(f"rpc {method}: {resp.error.code} {resp.error.message}")
            raise RpcError(f"RPC {method} failed: {resp.error.message} ({resp.error.code})")
        if bytes(resp.result) == b"null":
            raise RpcError(f"RPC {method}: empty result")
        return resp.result

    async def get_slot(self) -> int:
        slot = msgspec.json.decode(await self.call("getSlot", [{"commitment": "confirmed"}]), type=int)
        self.health.rpc_slot = slot
        return slot

    async def get_account_data(self, pubkey: str) -> bytes | None:
        raw = await self.call("getAccountInfo", [pubkey, {"encoding": "base64", "commitment": "confirmed"}])
        res = msgspec.json.decode(raw, type=_AccountResult)
        return None if res.value is None else base64.b64decode(res.value.data[0])

    async def get_multiple_account_data(self, pubkeys: list[str]) -> list[bytes | None]:
        raw = await self.call("getMultipleAccounts", [pubkeys, {"encoding": "base64", "commitment": "confirmed"}])
        res = msgspec.json.decode(raw, type=_MultipleResult)
        return [None if v is None else base64.b64decode(v.data[0]) for v in res.value]

    async def get_program_accounts(self, program_id: str, filters: list[dict]) -> list[tuple[str, bytes]]:
        """(pubkey, data) of the program's accounts matching ``filters`` (``memcmp``/``dataSize``)."""
        raw = await self.call(
            "getProgramAccounts", [program_id, {"encoding": "base64", "commitment": "confirmed", "filters": filters}]
        )
        try:
            items = msgspec.json.decode(raw, type=list[_KeyedAccount])
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise RpcError("RPC getProgramAccounts: malformed result") from None
        return [(i.pubkey, base64.b64decode(i.account.data[0])) for i in items]

    async def get_latest_blockhash(self) -> str:
        raw = await self.call("getLatestBlockhash", [{"commitment": "confirmed"}])
        try:
            return msgspec.json.decode(raw, type=_BlockhashResult).value.blockhash
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise RpcError("RPC getLatestBlockhash: malformed result") from None

    async def send_transaction(self, tx: bytes) -> str:
        """Send a signed transaction (preflight checks on); returns its signature."""
        wire = base64.b64encode(tx).decode()
        raw = await self.call(
            "sendTransaction", [wire, {"encoding": "base64", "preflightCommitment": "confirmed", "maxRetries": 0}]
        )
        try:
            return msgspec.json.decode(raw, type=str)
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise RpcError("RPC sendTransaction: malformed result") from None
