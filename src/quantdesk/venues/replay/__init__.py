"""The replay venue: a recording (``quantdesk --record FILE``) played back as if
its venues were live, on the recording's own clock. It registers as the source
for ``replay://`` addresses; the file format it reads is
``quantdesk.venues.recording``."""
