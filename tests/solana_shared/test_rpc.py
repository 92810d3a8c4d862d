"""The shared Solana JSON-RPC client against local nodes speaking JSON-RPC 2.0:
failover across rpc_urls (a dead URL, a 503 node, a hung node, a rate-limited
node), back to the preferred URL after its cool-down, batch arrays answered in
any order, getMultipleAccounts chunking, a node that refuses batches, and
JSON-RPC errors that are not failed over."""

from __future__ import annotations

import base64

import pytest

from support.solana_rpc import RpcFault, RpcNode, dead_url
from quantdesk.venues.solana.rpc import MAX_KEYS_PER_CALL, RpcError, RpcUnavailable, SolanaRpc

SLOT = 312_000_000


def account(data: bytes) -> dict:
    return {"data": [base64.b64encode(data).decode(), "base64"], "executable": False, "lamports": 1,
            "owner": "11111111111111111111111111111111", "rentEpoch": 0, "space": len(data)}


def answer_as(name: str, slot: int = SLOT):
    """A node whose accounts' data is the key itself, and whose getSlot names it by slot."""

    def answer(method: str, params: list):
        ctx = {"slot": slot, "apiVersion": "2.1.0"}
        if method == "getSlot":
            return slot
        if method == "getMultipleAccounts":
            return {"context": ctx, "value": [None if k.startswith("missing") else account(k.encode()) for k in params[0]]}
        if method == "getAccountInfo":
            return {"context": ctx, "value": account(params[0].encode())}
        if method == "getProgramAccounts":
            return [{"pubkey": f"{params[0]}-{i}", "account": account(f"{name}-{i}".encode())} for i in range(2)]
        if method == "sendTransaction":
            raise RpcFault(-32002, "Transaction simulation failed: Blockhash not found")
        raise KeyError(method)

    return answer


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class Heard:
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def answered(self, host: str, latency_ms: float) -> None:
        self.events.append(("answered", host))

    def failed(self, host: str, problem: str, rate_limited: bool) -> None:
        self.events.append(("failed", host, problem, rate_limited))

    def failed_over(self, host: str) -> None:
        self.events.append(("failed_over", host))


@pytest.fixture
def nodes():
    started: list[RpcNode] = []

    def make(name: str, slot: int = SLOT) -> RpcNode:
        node = RpcNode(answer_as(name, slot)).start()
        started.append(node)
        return node

    yield make
    for n in started:
        n.stop()


async def test_a_dead_url_and_a_503_node_fail_over_then_the_preferred_is_tried_again_after_its_cool_down(nodes):
    flaky, good = nodes("flaky", SLOT + 1), nodes("good", SLOT + 2)
    flaky.status = 503
    dead = dead_url()
    clock, heard = Clock(), Heard()
    rpc = SolanaRpc([dead, flaky.url, good.url], cooldown_s=30, clock=clock, listener=heard, timeout_s=2)
    try:
        assert await rpc.get_slot() == SLOT + 2
        assert rpc.failovers == 1 and rpc.errors == 2
        assert [e[0] for e in heard.events] == ["failed", "failed", "answered", "failed_over"]
        assert "cannot connect" in heard.events[0][2] and heard.events[1][2] == "HTTP 503"
        # Both cool down: the next call goes straight to the good node.
        assert await rpc.get_slot() == SLOT + 2
        assert len(flaky.posts) == 1 and len(good.posts) == 2
        assert rpc.failovers == 1
        # The 503 node recovers; within its cool-down it is still passed over ...
        flaky.status = None
        clock.t += 29
        assert await rpc.get_slot() == SLOT + 2
        # ... after it, the preferred URLs are tried first again (the dead one still fails).
        clock.t += 2
        assert await rpc.get_slot() == SLOT + 1
        assert len(flaky.posts) == 2
    finally:
        await rpc.close()


async def test_every_url_down_is_one_clear_error_naming_hosts_never_keys(nodes):
    down = nodes("down")
    down.status = 503
    secret_url = down.url + "/?api-key=sk-live-123456"
    rpc = SolanaRpc([dead_url(), secret_url], timeout_s=2)
    try:
        with pytest.raises(RpcUnavailable) as err:
            await rpc.get_slot()
    finally:
        await rpc.close()
    text = str(err.value)
    assert text.startswith("RPC unavailable: no URL answered getSlot") and "HTTP 503" in text
    assert "sk-live" not in text and "api-key" not in text and "sk-live" not in rpc.last_error
    # Every URL cooling down: the next call still tries them rather than waiting.
    rpc2 = SolanaRpc([secret_url], timeout_s=2)
    try:
        for _ in range(2):
            with pytest.raises(RpcUnavailable):
                await rpc2.get_slot()
    finally:
        await rpc2.close()
    assert len(down.posts) == 3


async def test_a_hung_node_times_out_and_the_next_url_answers(nodes):
    hung, good = nodes("hung"), nodes("good", SLOT + 5)
    hung.hang = True
    rpc = SolanaRpc([hung.url, good.url], timeout_s=0.2)
    try:
        assert await rpc.get_slot() == SLOT + 5
    finally:
        await rpc.close()
    assert rpc.failovers == 1 and "no answer within 0.2s" in rpc.last_error


async def test_a_rate_limited_node_cools_down_for_its_retry_after(nodes):
    limited, good = nodes("limited"), nodes("good", SLOT + 3)
    limited.status = 429
    limited.headers = {"Retry-After": "90"}
    clock = Clock()
    rpc = SolanaRpc([limited.url, good.url], cooldown_s=30, clock=clock)
    try:
        assert await rpc.get_slot() == SLOT + 3
        assert rpc.http_429 == 1
        limited.status = None
        clock.t += 60  # past the cool-down, not past Retry-After
        assert await rpc.get_slot() == SLOT + 3
        clock.t += 31
        assert await rpc.get_slot() == SLOT
    finally:
        await rpc.close()
    assert len(limited.posts) == 2


async def test_chunks_of_multiple_accounts_go_in_one_batch_and_keep_their_order(nodes):
    node = nodes("node")
    node.reverse_batches = True  # JSON-RPC 2.0: a batch's responses may come in any order
    keys = [f"key{i:03d}" for i in range(2 * MAX_KEYS_PER_CALL + 50)]
    keys[7] = "missing-7"
    rpc = SolanaRpc([node.url])
    try:
        slot, datas = await rpc.get_multiple_accounts(keys)
        assert slot == SLOT
        assert datas == [None if k.startswith("missing") else k.encode() for k in keys]
        assert len(node.posts) == 1 and [len(c["params"][0]) for c in node.posts[0]] == [100, 100, 50]
        # Mixed calls in one batch come back in the order asked.
        results = await rpc.batch([("getSlot", []), ("getAccountInfo", ["abc", {"encoding": "base64"}]), ("getSlot", [])])
        assert results[0] == SLOT and results[2] == SLOT and results[1]["value"]["data"][0] == base64.b64encode(b"abc").decode()
        assert len(node.posts) == 2
    finally:
        await rpc.close()


async def test_a_node_that_refuses_batches_gets_the_calls_one_by_one(nodes):
    node = nodes("node")
    node.batches = False  # answers a batch array with one error object, as providers with batching off do
    keys = [f"key{i:03d}" for i in range(MAX_KEYS_PER_CALL + 1)]
    rpc = SolanaRpc([node.url])
    try:
        _slot, datas = await rpc.get_multiple_accounts(keys)
        assert datas == [k.encode() for k in keys]
        assert [len(p) for p in node.posts] == [2, 1, 1]  # the refused batch, then each call alone
        await rpc.get_multiple_accounts(keys)
        assert [len(p) for p in node.posts] == [2, 1, 1, 1, 1]
    finally:
        await rpc.close()
    assert rpc.batching is False and rpc.errors == 0


async def test_a_json_rpc_error_is_raised_not_failed_over(nodes):
    first, second = nodes("first"), nodes("second")
    rpc = SolanaRpc([first.url, second.url])
    try:
        with pytest.raises(RpcError, match="sendTransaction failed: Transaction simulation failed.*-32002"):
            await rpc.send_transaction(b"\x01" * 10)
        with pytest.raises(RpcError, match="nope failed: Method not found"):
            await rpc.call("nope", [])
    finally:
        await rpc.close()
    assert second.posts == [] and rpc.failovers == 0 and rpc.errors == 0


async def test_several_program_queries_share_one_round_trip(nodes):
    node = nodes("node")
    rpc = SolanaRpc([node.url])
    try:
        perps, spots = await rpc.get_program_accounts_many([("Perp", []), ("Spot", [{"dataSize": 10}])])
    finally:
        await rpc.close()
    assert [k for k, _ in perps] == ["Perp-0", "Perp-1"] and [k for k, _ in spots] == ["Spot-0", "Spot-1"]
    assert perps[0][1] == b"node-0" and len(node.posts) == 1
