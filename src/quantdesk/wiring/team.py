"""What the configuration asks the terminal to share with the team.

``[redis] url`` (and ``team``) opens the shared workspace; its queued writes
live in the journal file. ``[db] dsn`` starts the journal's Postgres syncer.
``[sync.supabase]`` syncs the journal through the project's REST API as the
signed-in trader instead, and, without ``[redis] url``, the workspace too;
a server's served traders sync as themselves (``trader_db_sync``;
``trader_supabase_session`` for their Supabase journal and workspace).
The user name on shared entries is the OS user (the trader's email on
Supabase). Errors say what to fix and never contain a password, key or token.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from quantdesk.config.settings import Settings, SupabaseSettings
    from quantdesk.sync.supabase_api import SupabaseProject
    from quantdesk.sync.outbox_sync import OutboxSyncer
    from quantdesk.sync.postgres import PostgresSync
    from quantdesk.sync.supabase_journal import SupabaseJournalSync
    from quantdesk.sync.supabase_minted import MintedSession
    from quantdesk.sync.supabase_session import TraderSession
    from quantdesk.sync.team_desk import TeamDesk
    from quantdesk.trading.journal import Journal


S = TypeVar("S")


class TeamSetupError(Exception):
    """The team settings cannot be used; the message says what to fix."""


def desk_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return os.environ.get("USER") or "trader"


def team_from_settings(settings: Settings, journal: Journal) -> tuple[TeamDesk | None, OutboxSyncer | None]:
    """(TeamDesk or None, journal syncer or None), neither started yet."""
    sb = settings.sync.supabase
    if sb is not None:
        return _supabase_team(settings, sb, journal)
    desk = _redis_desk(settings, journal)
    try:
        sync = _db_sync(settings, journal)
    except TeamSetupError:
        if desk is not None:
            desk.outbox.close()
        raise
    return desk, sync


def _redis_desk(settings: Settings, journal: Journal) -> TeamDesk | None:
    """The Redis workspace of ``[redis]``, or None without a url."""
    url = settings.redis.url_for(settings.redis.url.get_secret_value()) if settings.redis.url is not None else ""
    if not url:
        return None
    from quantdesk.sync.redis_url import RedisURLError
    from quantdesk.sync.team_desk import open_team_desk

    try:
        return open_team_desk(url, settings.redis.team, desk_user(), str(journal.path))
    except (RedisURLError, ValueError) as exc:
        raise TeamSetupError(f"[redis] cannot be used: {exc}") from None


def trader_db_sync(settings: Settings, journal: Journal, user_id: str) -> PostgresSync | None:
    """``[db]`` journal sync for one trader a server's consoles serve: their
    journal's rows owned by their own database ``user_id``, never the server's
    ``[db] user_id``, so row-level security keeps traders apart. None without a
    DSN; TeamSetupError (what to fix) when it cannot be used."""
    return _db_sync(settings, journal, user_id=user_id)


def _db_sync(settings: Settings, journal: Journal, *, user_id: str | None = None) -> PostgresSync | None:
    """The journal's Postgres syncer for ``[db]`` of these settings (the file
    given with --config included), as ``user_id`` (the configured one when
    None), or None without a DSN."""
    from quantdesk.sync.pg_dsn import ENV_TEAM_ID, ENV_USER_ID, DSNError, find_dsn
    from quantdesk.sync.postgres import PostgresSync, SyncError

    db = settings.db  # the file and QUANTDESK_DB__* merged already
    try:
        raw = db.dsn.get_secret_value() if db.dsn is not None else ""
        if not raw:
            return None
        dsn = find_dsn(raw)  # checks its shape, never echoing it
        if user_id is None:
            user_id = db.user_id or os.environ.get(ENV_USER_ID, "")
        if not user_id:
            raise SyncError(
                "a database is configured but no user id: set [db] user_id (or QUANTDESK_DB__USER_ID) "
                "to the Supabase user's id (Authentication > Users)"
            )
        return PostgresSync(journal, dsn, user_id, team_id=db.team_id or os.environ.get(ENV_TEAM_ID) or None)
    except (SyncError, DSNError) as exc:
        raise TeamSetupError(f"[db] cannot be used: {exc}") from None


NO_JWT_SECRET = ("[sync.supabase] has no jwt_secret: the server signs each served trader's Supabase session with "
                 "the project's JWT secret (Project Settings > API); set jwt_secret in the server's config "
                 "(or QUANTDESK_SYNC__SUPABASE__JWT_SECRET)")


def trader_supabase_session(sb: SupabaseSettings, user_id: str) -> MintedSession:
    """The Supabase session of one trader a server's consoles serve: their own
    user ``user_id``, on tokens the server signs with the project's JWT secret
    (``sync.supabase_minted``), never the server's own login, so row-level
    security keeps traders apart. Their journal sync and team workspace both
    use it. TeamSetupError (what to fix) when it cannot be made."""
    from quantdesk.sync.supabase_minted import MintedSession

    secret = sb.jwt_secret.get_secret_value() if sb.jwt_secret is not None else ""
    if not secret:
        raise TeamSetupError(NO_JWT_SECRET)
    return _on_project(sb, lambda project: MintedSession(project, user_id, secret))


def supabase_journal_sync(sb: SupabaseSettings, journal: Journal, session: TraderSession) -> SupabaseJournalSync:
    """``[sync.supabase]`` journal sync as ``session``'s user."""
    from quantdesk.sync.supabase_journal import SupabaseJournalSync

    return SupabaseJournalSync(journal, session, team_id=sb.team_id)


def supabase_workspace(sb: SupabaseSettings, session: TraderSession, user: str, journal: Journal) -> TeamDesk:
    """The team workspace of ``[sync.supabase]`` as ``session``'s user, ``user``
    on its entries, its queued writes in ``journal``'s file."""
    from quantdesk.sync.supabase_workspace import SupabaseWorkspace
    from quantdesk.sync.team_desk import desk_on

    store = SupabaseWorkspace(session, user, team_id=sb.team_id, poll_s=sb.poll_s, realtime=sb.realtime)
    return desk_on(store, str(journal.path))


def supabase_session(sb: SupabaseSettings) -> TraderSession:
    """The signed-in trader on the configured project (TeamSetupError: what to do)."""
    from quantdesk.sync.supabase_session import trader_session

    return _on_project(sb, trader_session)


def _on_project(sb: SupabaseSettings, session: Callable[[SupabaseProject], S]) -> S:
    """``session`` made on the configured project; its setup or sign-in errors
    as a TeamSetupError saying what to fix."""
    from quantdesk.sync.supabase_api import SupabaseProject, SupabaseSetupError
    from quantdesk.sync.supabase_session import SupabaseAuthError

    try:
        return session(SupabaseProject(sb.url, sb.anon_key.get_secret_value(), timeout=sb.timeout_s))
    except (SupabaseSetupError, SupabaseAuthError) as exc:
        raise TeamSetupError(f"[sync.supabase] cannot be used: {exc}") from None


def _supabase_team(settings: Settings, sb: SupabaseSettings, journal: Journal) -> tuple[TeamDesk | None, OutboxSyncer]:
    session = supabase_session(sb)
    # With [redis] url, Redis keeps the workspace (and its instant changes); Supabase the journal.
    desk = _redis_desk(settings, journal)
    if desk is None:
        desk = supabase_workspace(sb, session, session.email or desk_user(), journal)
    return desk, supabase_journal_sync(sb, journal, session)
