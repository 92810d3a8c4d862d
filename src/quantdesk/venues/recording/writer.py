"""Writing a recording: parts of at most ``max_bytes`` (about; a part closes
after the block that reaches it), each opening with its description and the
state to replay from, then blocks of events.

Synchronous file I/O and nothing else: the session recorder in
``quantdesk.wiring`` calls it from its writer thread. A recording is never
written over: a file already at FILE or FILE.n is refused up front.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import BinaryIO

from quantdesk.core.model import Market
from quantdesk.venues.feed_wire import Stamped
from quantdesk.venues.recording.format import (
    KIND_EVENTS,
    KIND_STATE,
    MAGIC,
    Codec,
    RecordingError,
    RecordingMeta,
    best_codec,
    encode_block,
    encode_meta,
)

DEFAULT_MAX_BYTES = 256 << 20
MIN_MAX_BYTES = 4 << 10
BLOCK_RECORDS = 4096  # events per block: a cut loses at most this many


def part_path(path: Path, n: int) -> Path:
    """Part ``n`` of the recording at ``path``: ``path`` itself, then ``path.n``."""
    return path if n == 0 else path.with_name(f"{path.name}.{n}")


def existing_parts(path: Path) -> list[tuple[int, Path]]:
    """(part number, file) of every part on disk, in order."""
    found = [(0, path)] if path.is_file() else []
    pattern = re.compile(re.escape(path.name) + r"\.([0-9]{1,9})$")
    if path.parent.is_dir():
        for p in path.parent.iterdir():
            m = pattern.match(p.name)
            if m and p.is_file():
                found.append((int(m.group(1)), p))
    return sorted(found)


class RecordingWriter:
    def __init__(
        self,
        path: str | Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        keep: int = 0,
        codec: Codec | None = None,
        writer: str = "quantdesk",
    ) -> None:
        """Create part 0 at ``path`` now, so a path that cannot be written is
        said before the session starts. ``keep`` > 0 keeps only the newest
        ``keep`` parts on disk. Raises RecordingError saying what to change."""
        if max_bytes < MIN_MAX_BYTES:
            raise RecordingError(f"a recording part must be allowed at least {MIN_MAX_BYTES // 1024} KiB")
        if keep < 0:
            raise RecordingError("the number of parts kept must be 0 (all) or more")
        self.path = Path(path).expanduser()
        self.max_bytes = max_bytes
        self.keep = keep
        self.codec = codec or best_codec()
        self.writer = writer
        self.recording = secrets.token_hex(8)
        there = existing_parts(self.path)
        if there:
            raise RecordingError(
                f"{there[0][1]} already exists: a recording is never written over; "
                "give another file name or move the old recording away"
            )
        if not self.path.parent.is_dir():
            raise RecordingError(f"cannot record to {self.path}: the folder {self.path.parent} does not exist")
        self.part = 0
        self.part_bytes = 0
        self.bytes_written = 0  # all parts, including deleted ones
        self.events = 0
        self.begun = False
        self._file: BinaryIO | None = self._create(self.path)

    def _create(self, path: Path) -> BinaryIO:
        try:
            f = open(path, "xb")
        except FileExistsError:
            raise RecordingError(f"{path} already exists: a recording is never written over") from None
        except OSError as exc:
            raise RecordingError(f"cannot record to {path}: {exc.strerror or exc}") from None
        self.part_bytes = 0
        self._put(f, MAGIC)
        return f

    def _put(self, f: BinaryIO, data: bytes) -> None:
        f.write(data)
        self.part_bytes += len(data)
        self.bytes_written += len(data)

    @property
    def current(self) -> Path:
        return part_path(self.path, self.part)

    @property
    def full(self) -> bool:
        """The current part reached its size: rotate before the next events."""
        return self.part_bytes >= self.max_bytes

    def begin(self, markets: list[Market], created: int, state: list[Stamped]) -> None:
        """Describe the current part and write the state it opens with."""
        f = self._open_file()
        self._put(f, encode_meta(RecordingMeta(self.recording, self.part, created, list(markets), self.writer)))
        for i in range(0, len(state), BLOCK_RECORDS):
            self._put(f, encode_block(KIND_STATE, self.codec, state[i : i + BLOCK_RECORDS]))
        f.flush()
        self.begun = True

    def append(self, records: list[Stamped]) -> None:
        """Write events in blocks and hand them to the OS (not fsynced: that is
        at rotation and close)."""
        f = self._open_file()
        for i in range(0, len(records), BLOCK_RECORDS):
            chunk = records[i : i + BLOCK_RECORDS]
            self._put(f, encode_block(KIND_EVENTS, self.codec, chunk))
            self.events += len(chunk)
        f.flush()

    def rotate(self, markets: list[Market], created: int, state: list[Stamped]) -> None:
        """Close the current part and open the next with ``state``."""
        self._close_file()
        self.part += 1
        self._file = self._create(self.current)
        self.begin(markets, created, state)
        if self.keep and self.part >= self.keep:
            try:
                part_path(self.path, self.part - self.keep).unlink()
            except FileNotFoundError:
                pass

    def close(self) -> None:
        self._close_file()

    def _open_file(self) -> BinaryIO:
        if self._file is None:
            raise RecordingError(f"the recording {self.path} is closed")
        return self._file

    def _close_file(self) -> None:
        f, self._file = self._file, None
        if f is not None:
            try:
                f.flush()
                os.fsync(f.fileno())
            finally:
                f.close()
