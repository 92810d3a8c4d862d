"""The relay venue: a shared Redis feed (published by ``quantdesk feed``) read
back by a terminal as if Redis were a venue. It registers as a source for
``redis://``, ``rediss://`` and ``unix://`` URLs; the wire format it shares with
the publisher in ``quantdesk.sync`` is ``quantdesk.venues.feed_wire``."""
