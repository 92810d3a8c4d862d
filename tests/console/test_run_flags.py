"""`quantdesk --layout NAME`, `--script FILE`, `--config PATH`: what the run
command does with them before the screen opens."""

from __future__ import annotations

import pytest

from quantdesk.cli import build_parser
from quantdesk.commands import run as run_command


@pytest.fixture(autouse=True)
def user_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for name in list(__import__("os").environ):
        if name.startswith("QUANTDESK_"):
            monkeypatch.delenv(name)


def args_for(*argv):
    return build_parser().parse_args(["run", *argv])


def test_flags_parse_and_reach_the_config(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[ui]\nlayout = "carry"\nfps = 10\n[sim]\nseed = 3\n')
    args = args_for("--config", str(cfg), "--layout", "scalper", "--seed", "9")
    settings = run_command.settings_from(args)
    assert settings.ui.layout == "scalper"  # the flag wins
    assert settings.ui.fps == 10 and settings.sim.seed == 9 and settings.sim.rate == 200.0


def test_unknown_layout_stops_before_the_screen(capsys):
    assert run_command.main(args_for("--layout", "scalpr")) == 2
    err = capsys.readouterr().err
    assert "no layout named 'scalpr'" in err and 'did you mean "scalper"' in err


def test_bad_config_lists_every_problem(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[ui]\nfsp = 1\n[sim]\nrate = -5\n")
    assert run_command.main(args_for("--config", str(cfg))) == 2
    err = capsys.readouterr().err
    assert "2 problems" in err and 'ui.fsp: unknown key (did you mean "fps"?)' in err and "sim.rate" in err
    assert "quantdesk config validate" in err


def test_script_with_a_bad_line_stops_before_the_screen(tmp_path, capsys):
    script = tmp_path / "desk.qd"
    script.write_text("THEME amber\nLAYOUT scalper\nSOL-PERP DEPHT\n")
    assert run_command.main(args_for("--script", str(script))) == 2
    err = capsys.readouterr().err
    assert f"{script}:3:10: " in err and "^^^^^" in err


def test_missing_script_file(tmp_path, capsys):
    assert run_command.main(args_for("--script", str(tmp_path / "nope.qd"))) == 2
    assert "cannot read the startup script" in capsys.readouterr().err


def test_top_level_flags_mean_run():
    from quantdesk import cli

    parser = cli.build_parser()
    args = parser.parse_args(["run", "--layout", "carry", "--script", "x.qd"])
    assert (args.layout, args.script) == ("carry", "x.qd")
