"""The trader's Supabase session: who they are and a current access token.

``quantdesk login supabase`` signs in through Supabase Auth and saves the
access and refresh tokens in ``<user data dir>/supabase-session.json``, created
with mode 0600 (the directory 0700) and replaced atomically, so a crash
mid-write never leaves half a session. :class:`TraderSession` hands out the
access token and refreshes it a minute before it expires, saving the new pair
(Supabase rotates refresh tokens: the old one stops working).

Scripts may instead set ``QUANTDESK_SUPABASE_TOKEN`` to an access token; that
one cannot be refreshed, and once expired the error says so.

No token ever reaches a repr, a log or an error message.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from quantdesk.sync.supabase_api import SupabaseProject, error_text, is_unreachable, jwt_claims

if TYPE_CHECKING:
    from supabase_auth.types import Session

ENV_TOKEN = "QUANTDESK_SUPABASE_TOKEN"
SESSION_FILE = "supabase-session.json"
REFRESH_MARGIN_S = 60  # refresh this long before expiry, so no request carries a token about to lapse
LOGIN_AGAIN = "run `quantdesk login supabase` to sign in again"


class SupabaseAuthError(Exception):
    """No usable session; the message says what to do and holds no token."""


class SessionUnavailable(SupabaseAuthError):
    """Supabase Auth did not answer a refresh: the session may still be good later."""


class StoredSession(msgspec.Struct, frozen=True):
    """What the session file holds (one project's session)."""

    url: str
    access_token: str
    refresh_token: str
    expires_at: int  # unix seconds
    user_id: str
    email: str = ""

    def __repr__(self) -> str:
        return f"StoredSession({self.url!r}, user={self.user_id}, expires_at={self.expires_at})"


def session_path() -> Path:
    from quantdesk.config.paths import user_data_dir

    return user_data_dir() / SESSION_FILE


def save_session(session: StoredSession, path: Path | None = None) -> Path:
    """Write ``session`` readable by this user only (0600), atomically."""
    p = path or session_path()
    p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask says
        os.write(fd, msgspec.json.encode(session))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, p)
    return p


def load_session(path: Path | None = None) -> StoredSession | None:
    """The saved session, or None when there is none. Raises
    :class:`SupabaseAuthError` for a file that is not one."""
    p = path or session_path()
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SupabaseAuthError(f"Cannot read the Supabase session {p}: {exc.strerror}; {LOGIN_AGAIN}.") from None
    try:
        return msgspec.json.decode(raw, type=StoredSession)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise SupabaseAuthError(f"The Supabase session file {p} is damaged; {LOGIN_AGAIN}.") from None


def delete_session(path: Path | None = None) -> bool:
    p = path or session_path()
    try:
        p.unlink()
    except FileNotFoundError:
        return False
    return True


def from_auth_session(url: str, session: Session) -> StoredSession:
    """What Supabase Auth answered to a sign-in or refresh, as we store it."""
    expires_at = session.expires_at or int(time.time()) + int(session.expires_in)
    return StoredSession(url, session.access_token, session.refresh_token, int(expires_at), session.user.id,
                         session.user.email or "")


class TraderSession:
    """A current access token for one trader on one project.

    Thread-safe: the journal syncer's thread and the workspace's loop share it;
    one refresh at a time, and every caller sees the rotated tokens.
    """

    def __init__(
        self,
        project: SupabaseProject,
        stored: StoredSession,
        *,
        path: Path | None = None,
        refreshable: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.project = project
        self._stored = stored
        self._path = path
        self.refreshable = refreshable
        self._clock = clock
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TraderSession({self.project.url!r}, user={self.user_id}, expires_at={self.expires_at})"

    @property
    def user_id(self) -> str:
        return self._stored.user_id

    @property
    def email(self) -> str:
        return self._stored.email

    @property
    def expires_at(self) -> int:
        return self._stored.expires_at

    @property
    def source(self) -> str:
        """Where the token came from, for messages."""
        return ENV_TOKEN if not self.refreshable else "quantdesk login supabase"

    @property
    def fix(self) -> str:
        """What the trader does when the project refuses this session."""
        return "run `quantdesk login supabase`"

    def needs_refresh(self) -> bool:
        return self._clock() >= self._stored.expires_at - REFRESH_MARGIN_S

    def access_token(self) -> str:
        """The token to send now, refreshed first when it is about to expire.
        Raises :class:`SupabaseAuthError` (sign in again) or
        :class:`SessionUnavailable` (Auth unreachable; try later)."""
        with self._lock:
            if self.needs_refresh():
                self._refresh_locked(force=False)
            return self._stored.access_token

    def refresh(self, rejected: str = "") -> str:
        """Refresh now: the server refused ``rejected`` (e.g. as expired). A token
        another thread refreshed meanwhile is returned without a second refresh."""
        with self._lock:
            if rejected and self._stored.access_token != rejected:
                return self._stored.access_token
            self._refresh_locked(force=True)
            return self._stored.access_token

    def _refresh_locked(self, force: bool) -> None:
        now = self._clock()
        if not self.refreshable:
            if force or now >= self._stored.expires_at:
                raise SupabaseAuthError(
                    f"The Supabase token in {ENV_TOKEN} expired at {_utc(self._stored.expires_at)}; "
                    "set a fresh access token (tokens from the environment cannot be refreshed)."
                )
            return  # still valid for a little while: use it
        from supabase_auth.errors import AuthError

        try:
            answer = self.project.client().auth.refresh_session(self._stored.refresh_token)
        except AuthError as exc:
            if is_unreachable(exc):
                raise SessionUnavailable(
                    f"Supabase Auth did not answer the token refresh ({self.project.describe_error(exc)})"
                ) from None
            raise SupabaseAuthError(
                f"Supabase refused to refresh the session ({self.project.scrub(error_text(exc))}); {LOGIN_AGAIN}."
            ) from None
        except OSError as exc:
            raise SessionUnavailable(f"Supabase Auth did not answer the token refresh ({exc.strerror})") from None
        if answer.session is None:
            raise SupabaseAuthError(f"Supabase answered the refresh without a session; {LOGIN_AGAIN}.")
        self._stored = from_auth_session(self.project.url, answer.session)
        if self._path is not None:
            save_session(self._stored, self._path)


def _utc(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))


def env_session(project: SupabaseProject, token: str, clock: Callable[[], float] = time.time) -> TraderSession:
    """A session for the access token a script put in the environment."""
    try:
        claims = jwt_claims(token.strip())
    except ValueError:
        raise SupabaseAuthError(f"{ENV_TOKEN} does not hold a JWT access token; copy the access_token itself.") from None
    sub, exp = claims.get("sub"), claims.get("exp")
    if not isinstance(sub, str) or not sub or not isinstance(exp, (int, float)):
        raise SupabaseAuthError(f"The token in {ENV_TOKEN} names no user (sub) or expiry (exp); use a user's access token.")
    email = claims.get("email")
    stored = StoredSession(project.url, token.strip(), "", int(exp), sub, email if isinstance(email, str) else "")
    session = TraderSession(project, stored, refreshable=False, clock=clock)
    session.access_token()  # refuse an expired one now, with the message
    return session


def trader_session(
    project: SupabaseProject,
    *,
    environ: dict[str, str] | None = None,
    path: Path | None = None,
    clock: Callable[[], float] = time.time,
) -> TraderSession:
    """The session to sync as: ``QUANTDESK_SUPABASE_TOKEN`` if set, else the saved
    login for this project. Raises :class:`SupabaseAuthError` saying what to do."""
    env = os.environ if environ is None else environ
    token = env.get(ENV_TOKEN, "")
    if token.strip():
        return env_session(project, token, clock)
    p = path or session_path()
    stored = load_session(p)
    if stored is None:
        raise SupabaseAuthError(
            f"Not signed in to Supabase: run `quantdesk login supabase` (or set {ENV_TOKEN} for a script)."
        )
    if stored.url.rstrip("/") != project.url:
        raise SupabaseAuthError(
            f"The saved Supabase session is for {stored.url}, not {project.url}; run `quantdesk login supabase`."
        )
    return TraderSession(project, stored, path=p, clock=clock)


def describe(session: StoredSession) -> dict[str, Any]:
    """What may be shown about a session (no token)."""
    return {"url": session.url, "user_id": session.user_id, "email": session.email,
            "expires_at": _utc(session.expires_at)}


__all__ = [
    "ENV_TOKEN", "SessionUnavailable", "StoredSession", "SupabaseAuthError", "TraderSession", "delete_session",
    "describe", "env_session", "from_auth_session", "load_session", "save_session", "session_path",
    "trader_session",
]
