"""Recordings of a session (``quantdesk --record FILE``, ``quantdesk feed
--record FILE``): the file format, its writer and its reader, shared by the
recorder in ``quantdesk.wiring`` and the replay venue. Not a venue itself.

A recording is one or more parts: ``FILE``, then ``FILE.1``, ``FILE.2`` ...
when it rotates by size. Each part is::

    MAGIC
    block M   RecordingMeta: recording id, part number, markets
    block S   the state the part opens with (books, latest values, orders...)
    block E   events, as received   (repeated)

Every block has a fixed header (kind, codec, record count, payload length,
CRC-32, first and last receive time) then its payload: msgpack
``list[Stamped]`` (``quantdesk.venues.feed_wire``), compressed with zstd when
the ``zstandard`` module is there, else zlib. A block cut short or damaged
ends the part there: everything before it replays.
"""
