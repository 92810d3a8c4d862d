"""The relay venue: a shared Redis feed (published by ``quantdesk feed``) read
back by a terminal as if Redis were a venue. ``codec`` is the wire format the
publisher in ``quantdesk.sync`` shares with it."""
