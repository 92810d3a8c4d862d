"""What the configuration asks the terminal to share with the team.

``[redis] url`` (and ``team``) opens the shared workspace; its queued writes
live in the journal file. ``[db] dsn`` starts the journal's Postgres syncer.
The user name on shared entries is the OS user. Errors say what to fix and
never contain a URL's password or a DSN.
"""

from __future__ import annotations

import getpass
import os
from typing import Any


class TeamSetupError(Exception):
    """The team settings cannot be used; the message says what to fix."""


def desk_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return os.environ.get("USER") or "trader"


def team_from_settings(settings: Any, journal: Any) -> tuple[Any, Any]:
    """(TeamDesk or None, PostgresSync or None), neither started yet."""
    desk = None
    url = settings.redis.url.get_secret_value() if settings.redis.url is not None else ""
    if url:
        from quantdesk.sync.redis_url import RedisURLError
        from quantdesk.sync.team_desk import open_team_desk

        try:
            desk = open_team_desk(url, settings.redis.team, desk_user(), str(journal.path))
        except (RedisURLError, ValueError) as exc:
            raise TeamSetupError(f"[redis] cannot be used: {exc}") from None
    sync = None
    try:
        from quantdesk.sync.pg_dsn import DSNError
        from quantdesk.sync.postgres import SyncError, configured_sync

        sync = configured_sync(journal)
    except (SyncError, DSNError) as exc:
        if desk is not None:
            desk.outbox.close()
        raise TeamSetupError(f"[db] cannot be used: {exc}") from None
    return desk, sync
