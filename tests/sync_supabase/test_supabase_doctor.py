"""`quantdesk doctor` on a [sync.supabase] setup: who is signed in, whether
the API answers as them with the schema in place, and what to fix if not."""

from __future__ import annotations

from quantdesk.cli import main as cli_main
from quantdesk.sync.supabase_session import session_path
from support.services import free_port
from support.supabase import ANON_KEY, project_config

from .conftest import signed_in


def doctor(capsys, config) -> tuple[int, str]:
    code = cli_main(["doctor", "--config", str(config), "--timeout", "5"])
    return code, capsys.readouterr().out


def test_doctor_says_who_is_signed_in_and_that_the_api_answers(supabase_project, tmp_path, capsys):
    rig = supabase_project
    config = project_config(tmp_path, rig.url)
    code, out = doctor(capsys, config)
    assert "FAIL  supabase session: Not signed in to Supabase" in out
    assert "fix: run `quantdesk login supabase`" in out and code == 1

    stored = signed_in(rig, rig.a, session_path())
    code, out = doctor(capsys, config)
    assert f"supabase session: {rig.a.email} via quantdesk login supabase" in out
    assert f"supabase api: {rig.url} answers as you in" in out and "schema in place" in out
    for secret in (ANON_KEY, stored._stored.access_token, stored._stored.refresh_token):
        assert secret not in out

    rig.rest.kill()
    code, out = doctor(capsys, config)
    assert f"FAIL  supabase api: {rig.url}" in out and "check the project is up" in out and code == 1


def test_doctor_on_an_unreachable_project(supabase_project, tmp_path, capsys):
    rig = supabase_project
    signed_in(rig, rig.a, session_path())
    # The session names the project the config points at: move both to a dead port.
    dead = f"http://127.0.0.1:{free_port()}"
    path = session_path()
    path.write_text(path.read_text().replace(rig.url, dead))
    code, out = doctor(capsys, project_config(tmp_path, dead))
    assert code == 1 and f"FAIL  supabase api: {dead} unreachable" in out
    assert "fix: check [sync.supabase] url and the network" in out
