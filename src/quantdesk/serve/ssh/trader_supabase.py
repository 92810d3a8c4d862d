"""A served trader's Supabase session, which their journal sync and their
team workspace share.

With the server's ``[sync.supabase]``, a trader's console reaches the
project as the Supabase user on their key's authorized_keys line
(``QUANTDESK_DB__USER_ID``), on short-lived tokens the server signs with
``jwt_secret`` (``sync.supabase_minted``), so row-level security applies to
them as to their own login. Without a user id or a jwt_secret they get
neither journal sync nor a Supabase workspace, and one notice on their
console says what to fix (it never holds the secret or a token).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from quantdesk.trading.desk import Notice

if TYPE_CHECKING:
    from quantdesk.config.settings import Settings
    from quantdesk.sync.supabase_minted import MintedSession


def missing_user_id(user: str) -> str:
    """What a trader with no user id on their key's line is told to get."""
    from quantdesk.serve.ssh.keys import USER_ID_OPTION

    return (f'the server\'s authorized_keys line for your key ({user}) needs '
            f'environment="{USER_ID_OPTION}=<your Supabase user id>" before the key; '
            "ask whoever runs the server to add it")


@dataclass
class TraderSupabase:
    """The trader's session on the server's project, or why there is none."""

    session: MintedSession | None
    why: str = ""

    def notice(self, *, journal: bool, workspace: bool) -> Notice | None:
        """What the trader is told when the session is missing: one notice for
        whichever of their ``journal`` and ``workspace`` would have used it."""
        if self.session is not None or not (journal or workspace):
            return None
        if journal and not workspace:
            return Notice(f"Your journal is not synced to the team database: {self.why}", "Journal sync", "warning", 15)
        what = "your journal and team workspace" if journal else "your team workspace"
        return Notice(f"Not synced to the team database ({what}): {self.why}", "Team sync", "warning", 15)

    def close(self) -> None:
        """Let go of the HTTP client the session's project opened (if any)."""
        if self.session is not None:
            self.session.project.close()


def trader_supabase(settings: Settings | None, user: str, user_id: str) -> TraderSupabase | None:
    """``user``'s session as ``user_id`` on the server's ``[sync.supabase]``
    project (None without one)."""
    from quantdesk.wiring.team import TeamSetupError, trader_supabase_session

    sb = settings.sync.supabase if settings is not None else None
    if sb is None:
        return None
    if not user_id:
        return TraderSupabase(None, missing_user_id(user))
    try:
        return TraderSupabase(trader_supabase_session(sb, user_id))
    except TeamSetupError as exc:
        return TraderSupabase(None, str(exc))


__all__ = ["TraderSupabase", "missing_user_id", "trader_supabase"]
