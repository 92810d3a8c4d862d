"""Helpers of the Supabase API tests: sessions signed in through the Auth double."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from quantdesk.sync.supabase_api import SupabaseProject
from quantdesk.sync.supabase_session import StoredSession, TraderSession, from_auth_session, save_session
from support.supabase import ANON_KEY, AuthUser, SupabaseRig


def signed_in(rig: SupabaseRig, user: AuthUser, path: Path | None = None, **kw) -> TraderSession:
    """``user``'s session, signed in with their password as `quantdesk login` does."""
    project = SupabaseProject(rig.url, ANON_KEY, timeout=5)
    answer = project.client().auth.sign_in_with_password({"email": user.email, "password": user.password})
    assert answer.session is not None
    stored = from_auth_session(project.url, answer.session)
    if path is not None:
        save_session(stored, path)
    return TraderSession(project, stored, path=path, **kw)


@pytest.fixture
def session_of(supabase_project: SupabaseRig) -> Callable[..., TraderSession]:
    made: list[TraderSession] = []

    def make(user: AuthUser, path: Path | None = None, **kw) -> TraderSession:
        s = signed_in(supabase_project, user, path, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.project.close()


__all__ = ["StoredSession"]
