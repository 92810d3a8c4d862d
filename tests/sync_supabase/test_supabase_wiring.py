"""What `quantdesk run` builds from [sync.supabase]: the journal through the
API as the signed-in trader, the workspace too unless Redis keeps it."""

from __future__ import annotations

import pytest

from quantdesk.config.settings import load_config
from quantdesk.sync.supabase_journal import SupabaseJournalSync
from quantdesk.sync.supabase_session import ENV_TOKEN, session_path
from quantdesk.sync.supabase_workspace import SupabaseWorkspace
from quantdesk.sync.workspace import Workspace
from quantdesk.trading.journal import Journal
from quantdesk.wiring.team import TeamSetupError, team_from_settings
from support.supabase import ANON_KEY, project_config

from .conftest import signed_in


def test_not_signed_in_says_how_to_sign_in(supabase_project, tmp_path):
    settings = load_config(project_config(tmp_path, supabase_project.url), environ={})
    with Journal.open(tmp_path / "j.sqlite3") as journal, pytest.raises(TeamSetupError) as err:
        team_from_settings(settings, journal)
    assert "Not signed in to Supabase: run `quantdesk login supabase`" in str(err.value)
    assert ANON_KEY not in str(err.value)


def test_a_signed_in_trader_syncs_journal_and_workspace_through_the_api(supabase_project, tmp_path):
    rig = supabase_project
    team = rig.add_team(rig.a)
    signed_in(rig, rig.a, session_path())
    settings = load_config(project_config(tmp_path, rig.url, team_id=team, poll_s=2.5), environ={})
    with Journal.open(tmp_path / "j.sqlite3") as journal:
        desk, sync = team_from_settings(settings, journal)
        assert isinstance(sync, SupabaseJournalSync) and sync.team_id == team
        assert desk is not None and isinstance(desk.ws, SupabaseWorkspace)
        assert desk.ws.user == rig.a.email and desk.ws.status_detail() == "poll 2.5s"
        desk.outbox.close()


def test_redis_keeps_the_workspace_when_both_are_set(supabase_project, tmp_path, monkeypatch):
    rig = supabase_project
    monkeypatch.setenv(ENV_TOKEN, rig.auth.access_token(rig.auth.users[rig.a.email]))  # a script's token
    path = project_config(tmp_path, rig.url)
    path.write_text(path.read_text() + '[redis]\nurl = "redis://127.0.0.1:6379/0"\n')
    settings = load_config(path)
    with Journal.open(tmp_path / "j.sqlite3") as journal:
        desk, sync = team_from_settings(settings, journal)
        assert isinstance(sync, SupabaseJournalSync) and sync.session.user_id == rig.a.id
        assert desk is not None and isinstance(desk.ws, Workspace)
        desk.outbox.close()
