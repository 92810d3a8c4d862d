"""Reading a recording back, part after part, up to wherever it stops.

``Recording(path)`` opens the first part (``RecordingError`` when there is no
recording there, or the file is not one). ``records()`` then yields every
event in the order it was received: the opening state of the first part read,
then the events of each part (a later part's opening state repeats what the
replay already holds, so it is skipped). Where the recording stops early (a
block cut short by a crash or a copy, a damaged block, a missing part),
``records()`` ends after the last whole block and ``cut`` says where and why.

``scan()`` walks the block headers only, for the totals a progress line shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from quantdesk.core.model import Market
from quantdesk.venues.feed_wire import Stamped
from quantdesk.venues.recording.format import (
    HEADER,
    KIND_EVENTS,
    KIND_META,
    KIND_STATE,
    MAGIC,
    BlockError,
    BlockHeader,
    RecordingError,
    RecordingMeta,
    decode_header,
    decode_meta,
    decode_payload,
)
from quantdesk.venues.recording.writer import existing_parts, part_path


@dataclass(frozen=True, slots=True)
class Cut:
    """Where a recording stops before its end, and why."""

    path: Path
    offset: int  # byte of the part where the unreadable block starts
    reason: str

    def describe(self) -> str:
        if self.offset:
            return f"{self.path.name} {self.reason} at byte {self.offset:,}"
        return f"{self.path.name} {self.reason}"


@dataclass(frozen=True, slots=True)
class Summary:
    parts: int
    events: int  # the events a replay publishes (up to the first cut the headers show)
    first_ts: int
    last_ts: int
    cut: Cut | None


class _Part:
    """One part file, read block by block."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.file: BinaryIO = open(path, "rb")
        except OSError as exc:
            raise RecordingError(f"cannot read {path}: {exc.strerror or exc}") from None
        self.offset = 0
        try:
            head = self.file.read(len(MAGIC))
            if head != MAGIC:
                raise RecordingError(
                    f"{path} is not a QuantDesk recording (record one with `quantdesk --record FILE`)"
                    if head else f"{path} is empty: the recording never started"
                )
            self.offset = len(MAGIC)
            got = self.next_block()
            if got is None:
                raise RecordingError(f"{path} holds no description block: the recording stopped as it started")
            if isinstance(got, Cut):
                raise RecordingError(f"{path} cannot be read: {got.describe()}")
            header, payload = got
            try:
                self.meta: RecordingMeta = decode_meta(header, payload)
            except BlockError as exc:
                raise RecordingError(f"{path} cannot be read: {exc}") from None
        except BaseException:
            self.file.close()
            raise

    def next_block(self, skip_payload: bool = False) -> tuple[BlockHeader, bytes] | Cut | None:
        """The next block, a Cut where it cannot be read, None at a clean end."""
        start = self.offset
        raw = self.file.read(HEADER.size)
        if not raw:
            return None
        if len(raw) < HEADER.size:
            return Cut(self.path, start, "ends inside a block header")
        try:
            header = decode_header(raw)
        except BlockError as exc:
            return Cut(self.path, start, f"holds a damaged block: {exc},")
        if skip_payload:
            self.file.seek(header.length, 1)
            end = self.file.tell()
            if end > self._size():
                return Cut(self.path, start, "ends inside a block")
            self.offset = end
            return header, b""
        payload = self.file.read(header.length)
        if len(payload) < header.length:
            return Cut(self.path, start, "ends inside a block")
        self.offset = start + HEADER.size + header.length
        return header, payload

    def _size(self) -> int:
        return self.path.stat().st_size

    def close(self) -> None:
        self.file.close()


class Recording:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.parts = existing_parts(self.path)
        if not self.parts:
            raise RecordingError(f"no recording at {self.path} (nor parts {self.path.name}.1, .2 ...)")
        first = _Part(self.parts[0][1])
        first.close()
        self.meta = first.meta
        self.cut: Cut | None = None

    @property
    def markets(self) -> list[Market]:
        return list(self.meta.markets)

    def _parts(self) -> Iterator[_Part | Cut]:
        """The parts in order; a Cut for the first that is missing, foreign or unreadable."""
        first_number = self.parts[0][0]
        for i, (number, path) in enumerate(self.parts):
            if number != first_number + i:
                yield Cut(part_path(self.path, first_number + i), 0, "is missing")
                return
            try:
                part = _Part(path)
            except RecordingError as exc:
                yield Cut(path, 0, f"cannot be read ({exc})")
                return
            # a part opened on its own (FILE.3) numbers its file 0 and itself 3
            if part.meta.recording != self.meta.recording or part.meta.part != self.meta.part + i:
                part.close()
                yield Cut(path, 0, "belongs to another recording")
                return
            yield part

    def records(self) -> Iterator[Stamped]:
        self.cut = None
        first = True
        for part in self._parts():
            if isinstance(part, Cut):
                self.cut = part
                return
            try:
                while True:
                    got = part.next_block()
                    if got is None:
                        break
                    if isinstance(got, Cut):
                        self.cut = got
                        return
                    header, payload = got
                    if header.kind == KIND_META or (header.kind == KIND_STATE and not first):
                        continue
                    try:
                        records = decode_payload(header, payload)
                    except BlockError as exc:
                        self.cut = Cut(part.path, part.offset - HEADER.size - header.length, f"holds a damaged block: {exc},")
                        return
                    yield from records
            finally:
                part.close()
            first = False

    def scan(self) -> Summary:
        """Totals from the block headers (payloads are not read or checked)."""
        events = 0
        first_ts = last_ts = 0
        cut: Cut | None = None
        parts = 0
        for part in self._parts():
            if isinstance(part, Cut):
                cut = part
                break
            try:
                while True:
                    got = part.next_block(skip_payload=True)
                    if got is None:
                        break
                    if isinstance(got, Cut):
                        cut = got
                        break
                    header = got[0]
                    if header.kind == KIND_EVENTS or (header.kind == KIND_STATE and parts == 0):
                        if header.records:
                            events += header.records
                            first_ts = first_ts or header.first_ts
                            last_ts = max(last_ts, header.last_ts)
            finally:
                part.close()
            parts += 1
            if cut is not None:
                break
        return Summary(parts, events, first_ts, last_ts, cut)
