"""Headlines from the network: RSS/Atom feeds and JSON news APIs, polled.

``wire`` decodes a response body into ``RawHeadline``s, ``poller`` fetches one
source with conditional requests, backoff and ``Retry-After``, ``desk`` runs
every configured source and feeds the board (``quantdesk.core.news``). Nothing
here blocks: httpx's async client with a timeout on every request.
"""
