"""The bytes of a recording part: magic, block headers, codecs, the meta record.

Decoders here take arbitrary bytes (a recording may be damaged, cut short or
not a recording at all) and raise :class:`RecordingError` or
:class:`BlockError` saying what is wrong; nothing else escapes them.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
import msgspec

from quantdesk.core.model import Market
from quantdesk.venues.feed_wire import FeedDecodeError, Stamped, decode_stamped, encode

MAGIC = b"\x89QDREC\r\n"  # the high byte and CRLF catch a file mangled as text, as PNG's do
FORMAT_VERSION = 1
BLOCK_MARK = b"QB"
# mark, kind, codec, records, payload length, CRC-32 of the payload, first and last receive time
HEADER = struct.Struct(">2sBBIIIqq")
KIND_META = ord("M")
KIND_STATE = ord("S")
KIND_EVENTS = ord("E")
KINDS = (KIND_META, KIND_STATE, KIND_EVENTS)
MAX_PAYLOAD = 64 << 20  # a longer length field is damage, not data
MAX_DECODED = 512 << 20  # a block that inflates beyond this is refused


class RecordingError(Exception):
    """A recording that cannot be used at all; the message says what to do."""


class BlockError(Exception):
    """One block that cannot be read: the part ends before it."""


class RecordingMeta(msgspec.Struct, frozen=True):
    """What every part starts with."""

    recording: str  # random id shared by the parts of one recording
    part: int  # 0 for FILE, n for FILE.n
    created: int  # ns on the session clock
    markets: list[Market]
    writer: str  # "quantdesk 0.1.0"
    format: int = FORMAT_VERSION


@dataclass(frozen=True, slots=True)
class Codec:
    id: int
    name: str
    compress: Callable[[bytes], bytes]
    decompress: Callable[[bytes], bytes]  # raises BlockError


def _zlib_decompress(data: bytes) -> bytes:
    d = zlib.decompressobj()
    try:
        out = d.decompress(data, MAX_DECODED)
    except zlib.error as exc:
        raise BlockError(f"its zlib data is damaged ({exc})") from None
    if d.unconsumed_tail:
        raise BlockError("it inflates beyond 512 MiB")
    return out


def _zstd() -> Codec | None:
    try:
        import zstandard
    except ImportError:
        return None
    compressor = zstandard.ZstdCompressor(level=3)
    decompressor = zstandard.ZstdDecompressor()

    def decompress(data: bytes) -> bytes:
        try:
            return decompressor.decompress(data, max_output_size=MAX_DECODED)
        except zstandard.ZstdError as exc:
            raise BlockError(f"its zstd data is damaged ({exc})") from None

    return Codec(2, "zstd", compressor.compress, decompress)


NONE = Codec(0, "none", bytes, bytes)
ZLIB = Codec(1, "zlib", lambda data: zlib.compress(data, 6), _zlib_decompress)
_ZSTD = _zstd()


def best_codec() -> Codec:
    """zstd when the ``zstandard`` module is installed (it comes with driftpy), else zlib."""
    return _ZSTD or ZLIB


def codec_named(name: str) -> Codec:
    if name == "zstd" and _ZSTD is None:
        raise RecordingError("zstd needs the zstandard module: pip install zstandard, or record with zlib")
    for c in (NONE, ZLIB, _ZSTD):
        if c is not None and c.name == name:
            return c
    raise RecordingError(f"unknown codec {name!r}: use zstd or zlib")


def codec_of(codec_id: int) -> Codec:
    """The codec a block names; BlockError for one this reader lacks."""
    if codec_id == 2:
        if _ZSTD is None:
            raise BlockError("it is zstd-compressed and the zstandard module is missing: pip install zstandard")
        return _ZSTD
    for c in (NONE, ZLIB):
        if c.id == codec_id:
            return c
    raise BlockError(f"it names an unknown codec ({codec_id}); a newer QuantDesk wrote it")


# -- blocks --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class BlockHeader:
    kind: int
    codec: int
    records: int
    length: int
    crc: int
    first_ts: int
    last_ts: int


def encode_block(kind: int, codec: Codec, records: list[Stamped]) -> bytes:
    payload = codec.compress(encode(records))
    first = records[0].ts if records else 0
    last = records[-1].ts if records else 0
    head = HEADER.pack(BLOCK_MARK, kind, codec.id, len(records), len(payload), zlib.crc32(payload), first, last)
    return head + payload


def encode_meta(meta: RecordingMeta) -> bytes:
    payload = encode(meta)
    return HEADER.pack(BLOCK_MARK, KIND_META, NONE.id, 1, len(payload), zlib.crc32(payload), meta.created, meta.created) + payload


def decode_header(raw: bytes) -> BlockHeader:
    mark, kind, codec, records, length, crc, first, last = HEADER.unpack(raw)
    if mark != BLOCK_MARK or kind not in KINDS:
        raise BlockError("no block starts there (the bytes are not a block header)")
    if length > MAX_PAYLOAD:
        raise BlockError(f"its header claims {length:,} bytes, more than any block holds")
    return BlockHeader(kind, codec, records, length, crc, first, last)


def decode_payload(head: BlockHeader, payload: bytes) -> list[Stamped]:
    if zlib.crc32(payload) != head.crc:
        raise BlockError("its checksum does not match (the bytes were changed)")
    raw = codec_of(head.codec).decompress(payload)
    try:
        records = decode_stamped(raw)
    except FeedDecodeError as exc:
        raise BlockError(f"its events do not decode ({exc})") from None
    if len(records) != head.records:
        raise BlockError(f"it holds {len(records)} events where its header says {head.records}")
    return records


_meta_dec = msgspec.msgpack.Decoder(RecordingMeta)


def decode_meta(head: BlockHeader, payload: bytes) -> RecordingMeta:
    if head.kind != KIND_META:
        raise BlockError("the part does not start with its description block")
    if zlib.crc32(payload) != head.crc:
        raise BlockError("its description block's checksum does not match")
    try:
        meta = _meta_dec.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise BlockError(f"its description block does not decode ({exc})") from None
    if meta.format > FORMAT_VERSION:
        raise RecordingError(
            f"the recording is format {meta.format}, newer than this QuantDesk reads ({FORMAT_VERSION}): upgrade QuantDesk"
        )
    return meta
