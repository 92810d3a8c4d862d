"""A recording never holds a secret, nor a signature beyond the order ids.

Events that carry free text (a venue's status message, an order's reason, the
order, client and fill ids) go through the recording's policy; the file's
every byte, decompressed, is searched for each form of the secret."""

from __future__ import annotations

import asyncio
import json

import base58
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantdesk.core.model import Fill, Order, VenueStatus
from quantdesk.venues.recording.format import HEADER, MAGIC, KIND_META, codec_of, decode_header
from quantdesk.venues.recording.reader import Recording
from quantdesk.wiring.recorder import SessionRecorder
from quantdesk.wiring.record_policy import RecordPolicy

from support.app import paused_session
from support.recording import record_sim_session

CONFIGURED = "hunter2-redis-pass"


def forms(secret: bytes) -> list[str]:
    """Every way a 64-byte signature or secret key is written."""
    return [base58.b58encode(secret).decode(), secret.hex(), json.dumps(list(secret)), str(list(secret))]


def plain_bytes(path) -> bytes:
    """The recording with every block decompressed: what a reader of the file could see."""
    raw = path.read_bytes()
    out = bytearray(raw[: len(MAGIC)])
    pos = len(MAGIC)
    while pos < len(raw):
        head = decode_header(raw[pos : pos + HEADER.size])
        payload = raw[pos + HEADER.size : pos + HEADER.size + head.length]
        out += payload if head.kind == KIND_META else codec_of(head.codec).decompress(payload)
        pos += HEADER.size + head.length
    return bytes(out)


def hostile_events(secret: bytes, form: int, order_id: str) -> list[object]:
    text = forms(secret)[form]
    return [
        VenueStatus("sim-drift", "stale", 1, 1, f"rpc https://desk:{CONFIGURED}@rpc.example/?api-key=K3Y12345 failed; tx {text}"),
        Order("sim-drift", "SOL-PERP", order_id, "buy", "limit", 10, price=5, reason=f"signed {text}", client_id=text),
        Fill("sim-drift", "SOL-PERP", order_id, text, "buy", 5, 10, 0, "taker", 2),
    ]


async def record_events(path, events: list[object]) -> None:
    session = paused_session()
    recorder = SessionRecorder(session, path, secrets=[CONFIGURED])
    recorder.attach()
    await session.start()
    session.advance(50)
    for ev in events:
        session.bus.publish("x", ev)
    recorder.close()
    await session.stop()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=st.binary(min_size=64, max_size=64), form=st.integers(0, 3), order_id=st.text("abcdef0123456789", min_size=4, max_size=16))
def test_no_form_of_a_signature_or_key_reaches_the_file_and_order_ids_stay(tmp_path_factory, secret, form, order_id):
    path = tmp_path_factory.mktemp("rec") / "desk.qdrec"
    asyncio.run(record_events(path, hostile_events(secret, form, order_id)))
    plain = plain_bytes(path)
    for text in forms(secret):
        assert text.encode() not in plain
    assert CONFIGURED.encode() not in plain and b"K3Y12345" not in plain
    events = [r.event for r in Recording(path).records()]
    (order,) = [e for e in events if isinstance(e, Order)]
    (fill,) = [e for e in events if isinstance(e, Fill)]
    assert order.order_id == order_id and fill.order_id == order_id  # ids a replay needs stay
    # one value, one stand-in within a recording: a keyed digest (an array of bytes is masked)
    assert order.client_id == fill.fill_id
    assert order.client_id.startswith("sig:") or order.client_id == "***"


def test_a_digest_is_stable_within_a_recording_and_differs_across():
    sig = base58.b58encode(bytes(range(64))).decode()
    one, two = RecordPolicy(), RecordPolicy()
    assert one.text(f"tx {sig} sent") == f"tx {one.text(sig)} sent" and one.text(sig).startswith("sig:")
    assert one.text(sig) != two.text(sig)
    assert one.text("SOL-PERP 145.20 order 1a2b3c4d5e6f") == "SOL-PERP 145.20 order 1a2b3c4d5e6f"  # ordinary text stays


async def test_a_paper_session_recording_holds_its_order_ids_and_no_long_blobs(tmp_path):
    import re

    await record_sim_session(tmp_path / "desk.qdrec")
    plain = plain_bytes(tmp_path / "desk.qdrec")
    assert b"rest-1" in plain and b"take-1" in plain
    assert not re.search(rb"[1-9A-HJ-NP-Za-km-z]{64,}", plain)
