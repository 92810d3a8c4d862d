"""``--record FILE`` on ``quantdesk feed`` and ``quantdesk``, ``quantdesk replay``
and ``quantdesk show --replay``, as an operator types them."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from quantdesk import cli
from quantdesk.commands import replay as replay_command
from quantdesk.venues.recording.reader import Recording
from quantdesk.venues.recording.times import format_ns

from support.recording import record_sim_session, state_of_depth


@pytest.fixture(autouse=True)
def user_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
async def recording(tmp_path):
    path = tmp_path / "desk.qdrec"
    recorded, _ = await record_sim_session(path, events=3_000)
    return path, recorded


def quantdesk(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "quantdesk.cli", *args], capture_output=True, text=True, timeout=timeout)


def test_feed_records_what_it_publishes_and_the_recording_replays(redis_url, ns, tmp_path):
    path = tmp_path / "feed.qdrec"
    proc = quantdesk("feed", "--redis", redis_url, "--namespace", ns, "--rate", "2000", "--duration", "1.5",
                     "--quiet", "--record", str(path))
    assert proc.returncode == 0, proc.stderr
    assert f"quantdesk feed: recorded " in proc.stderr and str(path) in proc.stderr
    rec = Recording(path)
    assert {m.venue for m in rec.markets} == {"sim-drift", "sim-jup"}
    assert rec.scan().events > 1_000
    info = quantdesk("replay", str(path), "--info")
    assert info.returncode == 0 and "6 markets on sim-drift, sim-jup" in info.stdout
    again = quantdesk("feed", "--redis", redis_url, "--namespace", ns, "--duration", "0.2", "--record", str(path))
    assert again.returncode == 2 and "already exists: a recording is never written over" in again.stderr
    assert "Traceback" not in again.stderr


def test_show_answers_from_a_recording_at_its_end_or_at_a_moment(recording, capfd):
    path, recorded = recording
    assert cli.main(["show", "depth", "--replay", str(path), "--json", "--depth", "3"]) == 0
    out, err = capfd.readouterr()
    d = json.loads(out, parse_float=Decimal)
    seq, bids, asks = state_of_depth(recorded, "sim-drift", "SOL-PERP", 3)
    assert d["seq"] == seq and [(lv["price"], lv["size"]) for lv in d["bids"]] == bids and err == ""

    first = recorded[0].ts
    assert cli.main(["show", "depth", "--replay", str(path), "--json", "--at", "+2s"]) == 0
    early = json.loads(capfd.readouterr()[0], parse_float=Decimal)
    before = [e for e in recorded if getattr(e, "ts", 0) <= first + 2 * 10**9]
    assert early["seq"] == state_of_depth(before, "sim-drift", "SOL-PERP", 3)[0] < d["seq"]


def test_show_on_a_cut_recording_answers_and_says_where_it_stopped(recording, tmp_path, capfd):
    path, _ = recording
    cut = tmp_path / "cut.qdrec"
    cut.write_bytes(path.read_bytes()[:-100])
    assert cli.main(["show", "funding", "--replay", str(cut)]) == 0
    out, err = capfd.readouterr()
    assert "sim-jup" in out
    assert err.startswith("quantdesk show: the recording stops early: cut.qdrec ends inside a block at byte ")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["show", "depth", "--at", "+1s"], "--at needs --replay FILE"),
        (["show", "depth", "--replay", "{missing}"], "no recording at"),
        (["show", "depth", "--replay", "{notes}"], "is not a QuantDesk recording"),
        (["show", "depth", "--replay", "{rec}", "--at", "yesterday"], "'yesterday' is not a moment: use +90s"),
    ],
)
def test_show_replay_bad_input_is_a_message(recording, tmp_path, capfd, argv, message):
    path, _ = recording
    (tmp_path / "notes.txt").write_text("hello")
    names = {"missing": str(tmp_path / "nope"), "notes": str(tmp_path / "notes.txt"), "rec": str(path)}
    assert cli.main([a.format(**names) for a in argv]) == 2
    err = capfd.readouterr().err
    assert message in err and "Traceback" not in err


def test_replay_command_refuses_bad_input_before_the_screen(tmp_path, capsys):
    parser = cli.build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["replay", "x", "--speed", "fast"])
    assert "speed 'fast' is not a number" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args(["replay", "x", "--from", "soon"])
    assert "'soon' is not a moment" in capsys.readouterr().err
    assert replay_command.main(parser.parse_args(["replay", str(tmp_path / "nope")])) == 2
    assert "no recording at" in capsys.readouterr().err


async def test_replay_command_opens_the_console_on_the_recording(recording):
    path, recorded = recording
    app = replay_command.build_app(cli.build_parser().parse_args(["replay", str(path), "--paused", "--from", "+3s"]))
    assert not isinstance(app, int)
    async with app.run_test(size=(160, 45)) as pilot:
        await app.session_started.wait()
        for _ in range(200):
            if app.session.clock() >= recorded[0].ts + 3 * 10**9:
                break
            await pilot.pause()
        assert app.session.clock() == recorded[0].ts + 3 * 10**9
        assert app.replay.active and app.replay.playback.progress().paused
        assert format_ns(app.session.clock())[:19] == "2026-11-18 11:06:43"


def test_run_refuses_an_existing_recording_and_a_replay_source(tmp_path, capsys):
    from quantdesk.commands import run

    existing = tmp_path / "old.qdrec"
    existing.write_bytes(b"keep me")
    args = cli.build_parser().parse_args(["run", "--record", str(existing)])
    assert run.main(args) == 2
    assert "old.qdrec already exists: a recording is never written over" in capsys.readouterr().err
    assert existing.read_bytes() == b"keep me"
    args = cli.build_parser().parse_args(["run", "--source", f"replay://{existing}"])
    assert run.main(args) == 2
    assert "run `quantdesk replay FILE`" in capsys.readouterr().err


def test_record_size_options():
    from quantdesk.commands.record_option import parse_size

    assert parse_size("256MB") == 256_000_000 and parse_size("512KiB") == 512 * 1024 and parse_size("1.5g") == 1_500_000_000
    with pytest.raises(Exception, match="too small"):
        parse_size("1k")
    with pytest.raises(Exception, match="is not a size"):
        parse_size("lots")


async def test_a_recording_terminal_shows_its_recording_in_the_status_bar(tmp_path):
    from quantdesk.console.app import QuantDeskApp
    from quantdesk.wiring.recorder import SessionRecorder

    from support.app import paused_session, status_text

    session = paused_session()
    recorder = SessionRecorder(session, tmp_path / "desk.qdrec")
    recorder.attach()
    app = QuantDeskApp(session)
    app.recorder = recorder
    async with app.run_test(size=(200, 50)) as pilot:
        await app.session_started.wait()
        session.advance(3_000)
        recorder.flush()
        app.frame()
        await pilot.pause()
        assert "rec 0.1 MB" in status_text(app)
    recorder.close()
    assert Recording(tmp_path / "desk.qdrec").scan().events > 3_000
