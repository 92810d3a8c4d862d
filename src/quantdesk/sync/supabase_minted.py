"""Supabase sessions a server signs for the traders it serves.

``quantdesk serve ssh`` knows each trader by their key's authorized_keys line
(their Supabase user id there), not by a sign-in of theirs. With the
project's JWT secret in the server's ``[sync.supabase] jwt_secret`` it signs a
short-lived access token for that user, as Supabase Auth signs its own
(HS256, ``role`` and ``aud`` ``authenticated``, ``sub`` the user id), and signs
a fresh one shortly before it expires. PostgREST checks it like any other and
runs each request as that user, so the row-level security policies keep
traders apart exactly as with their own login.

The secret stays inside :class:`MintedSession`: never in a repr, a log or an
error message (the tokens neither, as for every session).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from quantdesk.sync.supabase_api import SupabaseProject
from quantdesk.sync.supabase_session import StoredSession, SupabaseAuthError, TraderSession

TOKEN_TTL_S = 900  # short: a token that leaks is of use for minutes, and a new one costs nothing
ISSUER = "quantdesk serve ssh"
MIN_SECRET = 32  # Supabase's JWT secrets are at least this long
FIX = ("ask whoever runs the server to check [sync.supabase] jwt_secret: it must be the project's JWT secret "
       "(Project Settings > API)")


class MintedSession(TraderSession):
    """A current access token for ``user_id``, signed here with the project's secret."""

    def __init__(
        self,
        project: SupabaseProject,
        user_id: str,
        jwt_secret: str,
        *,
        ttl_s: int = TOKEN_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        try:
            user_id = str(uuid.UUID(user_id))
        except ValueError:
            raise SupabaseAuthError(f"{user_id!r} is not a Supabase user id (a uuid, Authentication > Users)") from None
        if len(jwt_secret) < MIN_SECRET:
            raise SupabaseAuthError(f"[sync.supabase] jwt_secret is shorter than {MIN_SECRET} characters, "
                                    "so it is not the project's JWT secret (Project Settings > API)")
        self._secret = jwt_secret
        self._ttl = ttl_s
        super().__init__(project, self._mint(project.url, user_id, clock()), refreshable=True, clock=clock)

    @property
    def source(self) -> str:
        return "the server's [sync.supabase] jwt_secret"

    @property
    def fix(self) -> str:
        return FIX

    def _mint(self, url: str, user_id: str, now_s: float) -> StoredSession:
        import jwt

        now = int(now_s)
        claims = {"sub": user_id, "role": "authenticated", "aud": "authenticated", "iss": ISSUER,
                  "iat": now, "exp": now + self._ttl}
        token = jwt.encode(claims, self._secret, algorithm="HS256")
        return StoredSession(url, token, "", now + self._ttl, user_id)

    def _refresh_locked(self, force: bool) -> None:
        # A token the server refused was signed with the wrong secret: signing again cannot help.
        if force:
            raise SupabaseAuthError(f"Supabase refused the token signed for {self.user_id}; {FIX}.")
        self._stored = self._mint(self.project.url, self.user_id, self._clock())


__all__ = ["MintedSession", "TOKEN_TTL_S"]
