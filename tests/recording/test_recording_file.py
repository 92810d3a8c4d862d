"""A recorded session reads back exactly: every event, stamped with the
session clock, in order; both codecs; parts when it rotates; and a cut or
damaged file reads up to the cut and says where."""

from __future__ import annotations

import asyncio

import pytest

from quantdesk.core.cache import MarketCache
from quantdesk.core.model import BookDelta, Fill, Order
from quantdesk.venues.recording.format import HEADER, MAGIC, ZLIB, RecordingError, codec_named
from quantdesk.venues.recording.reader import Recording
from quantdesk.venues.recording.writer import RecordingWriter
from quantdesk.wiring.recorder import SessionRecorder

from support.app import START_NS, paused_session
from support.recording import Tape, record_sim_session


async def test_every_event_comes_back_in_order_stamped_with_the_session_clock(tmp_path):
    path = tmp_path / "desk.qdrec"
    session = paused_session()
    recorder = SessionRecorder(session, path)
    recorder.attach()
    stamps: list[tuple[int, object]] = []
    session.bus.subscribe("#", lambda topic, ev: stamps.append((session.clock(), ev)))
    await session.start()
    session.advance(3_000)
    recorder.close()
    await session.stop()

    rec = Recording(path)
    got = [(r.ts, r.event) for r in rec.records()]
    assert got == stamps[: len(got)] and len(got) == len(stamps) - 2  # all but the two "down" after close
    assert rec.cut is None
    assert {m.venue for m in rec.markets} == {"sim-drift", "sim-jup"} and len(rec.markets) == 6
    assert got[0][0] == START_NS
    summary = rec.scan()
    assert (summary.parts, summary.events, summary.first_ts, summary.last_ts) == (1, len(got), got[0][0], got[-1][0])


async def test_paper_orders_and_fills_are_recorded_with_their_ids(tmp_path):
    recorded, _ = await record_sim_session(tmp_path / "desk.qdrec")
    events = [r.event for r in Recording(tmp_path / "desk.qdrec").records()]
    assert events == recorded
    ids = {e.order_id for e in events if isinstance(e, Order)}
    assert {"rest-1", "take-1"} <= ids
    assert any(isinstance(e, Fill) and e.order_id == "take-1" for e in events)


@pytest.mark.parametrize("codec", ["zlib", "zstd"])
async def test_both_codecs_read_back_and_compress(tmp_path, codec):
    path = tmp_path / f"{codec}.qdrec"
    session = paused_session()
    recorder = SessionRecorder(session, path, codec=codec_named(codec))
    recorder.attach()
    tape = Tape(session)
    await session.start()
    session.advance(5_000)
    recorder.close()
    await session.stop()
    events = [r.event for r in Recording(path).records()]
    assert events == tape.events[: len(events)] and len(events) > 5_000
    raw = path.read_bytes()
    assert raw[HEADER.size + len(MAGIC) :].find(b"sim-drift") > 0  # the description block is plain
    assert len(raw) < 60 * len(events)  # msgpack events run ~150 bytes; compressed far less


def test_a_recording_is_never_written_over(tmp_path):
    path = tmp_path / "desk.qdrec"
    (tmp_path / "desk.qdrec.3").write_bytes(b"old")
    with pytest.raises(RecordingError, match=r"desk\.qdrec\.3 already exists: a recording is never written over"):
        RecordingWriter(path)
    with pytest.raises(RecordingError, match="the folder .*nowhere does not exist"):
        RecordingWriter(tmp_path / "nowhere" / "x.qdrec")
    assert (tmp_path / "desk.qdrec.3").read_bytes() == b"old"


async def test_rotation_makes_parts_that_replay_whole_or_each_on_its_own(tmp_path):
    path = tmp_path / "desk.qdrec"
    recorded, recorder = await record_sim_session(path, events=12_000, max_bytes=48 << 10)
    parts = sorted(tmp_path.glob("desk.qdrec*"))
    names = [p.name for p in parts if not p.name.endswith("sqlite3")]
    assert len(names) >= 4 and "desk.qdrec" in names and "desk.qdrec.1" in names
    sizes = [(tmp_path / n).stat().st_size for n in sorted(names, key=lambda n: int(n.rsplit(".", 1)[1]) if n[-1].isdigit() else 0)]
    # a part closes after the block that reaches its size (4,096 events: well under 200 KiB)
    assert all(48 << 10 <= size < (48 << 10) + (200 << 10) for size in sizes[:-1])
    rec = Recording(path)
    assert [r.event for r in rec.records()] == recorded and rec.cut is None
    assert rec.scan().events == len(recorded)

    # A later part alone opens with the whole state: full books, funding, oracles, the resting order.
    last = max(int(n.rsplit(".", 1)[1]) for n in names if n != "desk.qdrec")
    alone = Recording(tmp_path / f"desk.qdrec.{last}")
    cache = MarketCache()
    cache.add_markets(alone.markets)
    for r in alone.records():
        cache.on_event("", r.event)
    assert cache.has_full_state() and "rest-1" in cache.orders
    original = MarketCache()
    for ev in recorded:
        original.on_event("", ev)
    assert {k: (b.seq, b.sorted_bids(), b.sorted_asks()) for k, b in cache.books.items()} == {
        k: (b.seq, b.sorted_bids(), b.sorted_asks()) for k, b in original.books.items()
    }
    assert cache.positions == original.positions and cache.accounts == original.accounts


async def test_keep_leaves_only_the_newest_parts_and_the_rest_still_replays(tmp_path):
    path = tmp_path / "desk.qdrec"
    recorded, _ = await record_sim_session(path, events=12_000, max_bytes=48 << 10, keep=2)
    left = sorted(p.name for p in tmp_path.glob("desk.qdrec*") if not p.name.endswith("sqlite3"))
    assert len(left) == 2 and "desk.qdrec" not in left
    rec = Recording(path)  # FILE itself is gone: the replay starts at the oldest part kept
    cache = MarketCache()
    cache.add_markets(rec.markets)
    events = [r.event for r in rec.records()]
    for ev in events:
        cache.on_event("", ev)
    assert rec.cut is None and cache.has_full_state()
    assert events[-1] == recorded[-1]


async def test_a_cut_recording_reads_up_to_the_last_whole_block_and_says_where(tmp_path):
    path = tmp_path / "desk.qdrec"
    recorded, _ = await record_sim_session(path, events=20_000, orders=False)
    raw = path.read_bytes()
    cut_at = len(raw) * 2 // 3
    cut = tmp_path / "cut.qdrec"
    cut.write_bytes(raw[:cut_at])
    rec = Recording(cut)
    events = [r.event for r in rec.records()]
    assert 0 < len(events) < len(recorded) and events == recorded[: len(events)]
    assert rec.cut is not None and rec.cut.offset < cut_at
    assert rec.cut.describe() == f"cut.qdrec ends inside a block at byte {rec.cut.offset:,}"
    assert rec.scan().cut == rec.cut


async def test_a_damaged_block_stops_the_read_there(tmp_path):
    path = tmp_path / "desk.qdrec"
    recorded, _ = await record_sim_session(path, events=20_000, orders=False)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    rec = Recording(path)
    events = [r.event for r in rec.records()]
    assert events == recorded[: len(events)] and len(events) < len(recorded)
    assert rec.cut is not None and "holds a damaged block" in rec.cut.reason


def test_what_is_not_a_recording_is_said_plainly(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(RecordingError, match="notes.txt is not a QuantDesk recording"):
        Recording(tmp_path / "notes.txt")
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(RecordingError, match="empty is empty: the recording never started"):
        Recording(tmp_path / "empty")
    (tmp_path / "started").write_bytes(MAGIC)
    with pytest.raises(RecordingError, match="holds no description block"):
        Recording(tmp_path / "started")
    with pytest.raises(RecordingError, match="no recording at"):
        Recording(tmp_path / "missing")


async def test_a_missing_middle_part_stops_the_replay_before_it(tmp_path):
    path = tmp_path / "desk.qdrec"
    recorded, _ = await record_sim_session(path, events=12_000, max_bytes=48 << 10, orders=False)
    (tmp_path / "desk.qdrec.2").unlink()
    rec = Recording(path)
    events = [r.event for r in rec.records()]
    assert events == recorded[: len(events)] and len(events) < len(recorded)
    assert rec.cut is not None and rec.cut.describe() == "desk.qdrec.2 is missing"


async def test_a_writer_that_fails_stops_the_recording_not_the_session(tmp_path, monkeypatch):
    path = tmp_path / "desk.qdrec"
    session = paused_session()
    recorder = SessionRecorder(session, path, codec=ZLIB)
    recorder.attach()
    await session.start()
    session.advance(2_000)
    recorder.flush()

    def full(records):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(recorder.writer, "append", full)
    session.advance(2_000)
    recorder.flush()
    session.advance(500)  # the session goes on
    assert session.cache.has_full_state()
    recorder.close()
    await session.stop()
    assert recorder.problem.startswith("recording stopped (No space left on device)")
    assert recorder.dropped >= 2_000 and recorder.segment() == ("rec stopped", "down")
    rec = Recording(path)  # what came before is intact
    assert len(list(rec.records())) > 2_000 and rec.cut is None


async def test_the_background_writer_flushes_while_the_session_runs(tmp_path):
    path = tmp_path / "desk.qdrec"
    session = paused_session()
    recorder = SessionRecorder(session, path, interval=0.01)
    recorder.attach()
    recorder.start()
    await session.start()
    session.advance(2_000)
    for _ in range(500):
        if recorder.writer.events >= 2_000:
            break
        await asyncio.sleep(0.01)
    assert recorder.writer.events >= 2_000
    recorder.close()
    await session.stop()
    assert sum(isinstance(r.event, BookDelta) for r in Recording(path).records()) > 1_000


async def test_the_writers_state_tracker_keeps_what_a_cache_keeps(tmp_path):
    from quantdesk.core.cache_state import StateTracker, state_events

    recorded, _ = await record_sim_session(tmp_path / "desk.qdrec", events=3_000)
    tracker, cache = StateTracker(), MarketCache()
    tracker.apply(recorded)
    for ev in recorded:
        cache.on_event("", ev)
    mine, theirs = tracker.events(), state_events(cache)
    assert sorted(map(repr, mine)) == sorted(map(repr, theirs))
    assert any(isinstance(e, Order) and e.order_id == "rest-1" for e in mine)
