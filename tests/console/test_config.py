"""Configuration: each source, their precedence, and every kind of bad config
reported all at once with file, key and fix; the example file documents all."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from quantdesk.cli import main as cli_main
from quantdesk.config.settings import Settings, check_config, config_path, load_config
from quantdesk.core.problems import ProblemsError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def user_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for name in list(__import__("os").environ):
        if name.startswith("QUANTDESK_"):
            monkeypatch.delenv(name)
    return tmp_path


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def problems_of(**kw) -> list[str]:
    with pytest.raises(ProblemsError) as info:
        load_config(**kw)
    return [str(p) for p in info.value.problems]


def test_defaults_without_any_file():
    s = load_config(environ={})
    assert (s.ui.fps, s.ui.theme, s.ui.layout, s.ui.keymap) == (20, "dark", "overview", "default")
    assert s.venues.drift is None and s.redis.url is None


def test_user_config_dir_file_is_read(user_dirs):
    d = user_dirs / "config" / "quantdesk"
    d.mkdir(parents=True)
    (d / "config.toml").write_text("[ui]\nfps = 10\n")
    assert config_path(environ={}) == d / "config.toml"
    assert load_config(environ={}).ui.fps == 10


def test_precedence_flags_over_env_over_file_over_defaults(tmp_path):
    f = write(tmp_path, '[ui]\nfps = 10\ntheme = "amber"\nlayout = "carry"\n[sim]\nseed = 1\n')
    env = {"QUANTDESK_UI__FPS": "30", "QUANTDESK_UI__THEME": "high-contrast"}
    s = load_config(f, flags={"ui.fps": 60, "ui.layout": None}, environ=env)
    assert s.ui.fps == 60  # flag
    assert s.ui.theme == "high-contrast"  # env over file
    assert s.ui.layout == "carry"  # file; a flag left at None does not override
    assert s.sim.seed == 1 and s.sim.rate == 200.0  # file, default


def test_env_nesting_json_lists_and_venue_defaults():
    env = {"QUANTDESK_VENUES__DRIFT__RPC_URLS": '["https://rpc.example"]', "QUANTDESK_KEYS__ORDER__BUY": "f2"}
    s = load_config(environ=env)
    assert s.venues.drift is not None
    assert s.venues.drift.rpc_urls == ["https://rpc.example"]
    assert s.venues.drift.dlob_url == "https://dlob.drift.trade"  # the rest keeps the deployment's defaults
    assert s.venues.velocity is None
    assert s.keys == {"order.buy": "f2"}


def test_config_env_var_names_the_file(tmp_path):
    f = write(tmp_path, "[ui]\nfps = 7\n", "other.toml")
    assert load_config(environ={"QUANTDESK_CONFIG": str(f)}).ui.fps == 7


def test_every_problem_at_once_with_file_key_and_fix(tmp_path):
    f = write(
        tmp_path,
        '[ui]\nfps = "fast"\nthme = "amber"\n\n[sim]\nrate = -1\n\n[dead_man]\nenabled = "maybe"\n\n[bogus]\nx = 1\n'
        '[venues.drift]\ndlob_ulr = "x"\n',
    )
    got = problems_of(config=f, environ={"QUANTDESK_UI__HISTORY_SIZE": "lots", "QUANTDESK_COLOUR": "x"})
    text = "\n".join(got)
    assert len(got) == 8, text
    assert f"{f}:2: ui.fps: must be a number, got 'fast' (e.g. fps = 20.0)" in got
    assert f'{f}:3: ui.thme: unknown key (did you mean "theme"?)' in got
    assert re.search(rf"{re.escape(str(f))}:6: sim.rate: .*greater than or equal to 0", text)
    assert f"{f}:9: dead_man.enabled: must be true or false, got 'maybe' (e.g. enabled = false)" in got
    assert f"{f}:11: bogus: unknown key" in text
    assert f'{f}:14: venues.drift.dlob_ulr: unknown key (did you mean "dlob_url"?)' in got
    assert "environment variable QUANTDESK_UI__HISTORY_SIZE: ui.history_size: must be a whole number" in text
    assert "environment variable QUANTDESK_COLOUR: colour: unknown key" in text


def test_missing_config_file_given_explicitly(tmp_path):
    got = problems_of(config=tmp_path / "nope.toml", environ={})
    assert got == [f"{tmp_path / 'nope.toml'}: config file not found (check the --config path, or run `quantdesk config path`)"]


def test_bad_toml_reports_line_and_column(tmp_path):
    f = write(tmp_path, '[ui]\nfps = 20\ntheme = amber\n')
    (msg,) = problems_of(config=f, environ={})
    assert msg.startswith(f"{f}:3:9: not valid TOML")


def test_unknown_binding_id_in_keys(tmp_path):
    f = write(tmp_path, '[keys]\n"order.bye" = "f2"\n')
    (msg,) = problems_of(config=f, environ={})
    assert 'keys.order.bye: unknown binding id (did you mean "order.buy"?)' in msg


def test_secrets_never_rendered(tmp_path):
    dsn = "postgresql://trader:hunter2@db.example/q"
    f = write(tmp_path, f'[db]\ndsn = "{dsn}"\n[redis]\nurl = "redis://:s3cret@h:6379/0"\n')
    s = load_config(f, environ={})
    assert s.db.dsn.get_secret_value() == dsn
    for text in (repr(s), str(s), s.model_dump_json()):
        assert "hunter2" not in text and "s3cret" not in text
    # A bad value for a secret key is not echoed in the problem either.
    f2 = write(tmp_path, '[db]\ndsn = ["hunter2"]\n', "bad.toml")
    assert all("hunter2" not in m for m in problems_of(config=f2, environ={}))


def test_settings_class_reads_the_same_sources(tmp_path, monkeypatch):
    f = write(tmp_path, "[ui]\nfps = 11\n[sim]\nseed = 3\n")
    monkeypatch.setenv("QUANTDESK_CONFIG", str(f))
    monkeypatch.setenv("QUANTDESK_SIM__SEED", "4")
    s = Settings()
    assert (s.ui.fps, s.sim.seed) == (11, 4)
    assert load_config().model_dump() == s.model_dump()


# ------------------------------------------------------- the example file


def _field_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    from quantdesk.config.settings import _unwrap

    out = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        ann = _unwrap(info.annotation)
        args = getattr(ann, "__args__", ())
        inner = _unwrap(args[0]) if args else None
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += [path] + _field_paths(ann, path + ".")
        elif isinstance(inner, type) and issubclass(inner, BaseModel):  # list[Model]
            out += [path] + _field_paths(inner, path + ".")
        else:
            out.append(path)
    return out


def _has(data: object, path: list[str]) -> bool:
    if not path:
        return True
    if isinstance(data, list):
        return all(_has(x, path) for x in data) and bool(data)
    return isinstance(data, dict) and path[0] in data and _has(data[path[0]], path[1:])


def test_example_config_loads_and_documents_every_key(tmp_path):
    example = REPO / "config.example.toml"
    load_config(example, environ={})  # as shipped: only defaults switched on
    enabled = write(tmp_path, re.sub(r"(?m)^#: ", "", example.read_text()), "enabled.toml")
    load_config(enabled, environ={})
    data = tomllib.loads(enabled.read_text())
    missing = [p for p in _field_paths(Settings) if not _has(data, p.split("."))]
    assert missing == [], f"config.example.toml does not document: {missing}"


# ----------------------------------------------------------------- commands


def test_config_validate_command(tmp_path, capsys):
    good = write(tmp_path, "[ui]\nfps = 30\n", "good.toml")
    assert cli_main(["config", "validate", "--config", str(good)]) == 0
    assert "configuration OK" in capsys.readouterr().out
    bad = write(tmp_path, '[ui]\nfps = 0\ntheme = "pink"\nlayout = "scalpr"\n[sim]\nsed = 1\n', "bad.toml")
    assert cli_main(["config", "validate", "--config", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("2 problems in the configuration:")
    assert "ui.fps" in err and 'sim.sed: unknown key (did you mean "seed"?)' in err


def test_config_validate_checks_theme_layout_and_keymap_names(tmp_path, capsys):
    f = write(tmp_path, '[ui]\ntheme = "pink"\nlayout = "scalpr"\nkeymap = "vimm"\n[keys]\n"order.buy" = "s"\n')
    assert cli_main(["config", "validate", "--config", str(f)]) == 1
    err = capsys.readouterr().err
    assert "ui.theme: no theme named 'pink'" in err
    assert 'ui.layout: no layout named \'scalpr\' (did you mean "scalper"?)' in err
    assert 'ui.keymap: no shipped keymap named \'vimm\' (did you mean "vim"?)' in err
    assert "key 's' is also bound to 'order.sell'" in err


def test_config_path_command(user_dirs, capsys):
    assert cli_main(["config", "path"]) == 0
    out = capsys.readouterr().out
    assert str(user_dirs / "config" / "quantdesk" / "config.toml") in out
    assert str(user_dirs / "config" / "quantdesk" / "keymap.toml") in out
    assert "shipped themes" in out and "[found]" in out


def test_wrong_type_in_keys_reported_once(tmp_path):
    f = write(tmp_path, '[keys]\n"order.buy" = 5\n')
    assert problems_of(config=f, environ={}) == [
        f'{f}:2: keys.order.buy: must be a key or a list of keys (e.g. "order.buy" = ["b", "f2"])'
    ]


def test_variables_commands_read_directly_are_not_settings():
    s = load_config(environ={"QUANTDESK_LOG_DIR": "/tmp/x", "QUANTDESK_REDIS_URL": "redis://h", "QUANTDESK_DB__USER_ID": "u1"})
    assert s.db.user_id == "u1"


def test_explicit_file_is_the_only_file_read(user_dirs, tmp_path):
    # A broken default config must not leak into a load that names another file.
    d = user_dirs / "config" / "quantdesk"
    d.mkdir(parents=True)
    (d / "config.toml").write_text("[ui\n")
    f = write(tmp_path, "[ui]\nfps = 5\n", "other.toml")
    assert load_config(f, environ={}).ui.fps == 5


def test_problems_inside_lists_name_the_entry(tmp_path):
    f = write(tmp_path, '[venues.drift]\n[[venues.drift.markets]]\nsymbol = "SOL-PERP"\nindx = 0\n')
    got = problems_of(config=f, environ={})
    assert f'{f}: venues.drift.markets[1].indx: unknown key (did you mean "index"?)' in got
    assert any("venues.drift.markets[1].index: required key is missing" in m for m in got)


def test_config_validate_lists_the_known_panes_for_a_saved_layout_naming_an_unknown_one(tmp_path, capsys):
    from quantdesk.console.panes import catalogue

    layouts = tmp_path / "config" / "quantdesk" / "layouts"
    layouts.mkdir(parents=True)
    (layouts / "desk.toml").write_text('[[panes]]\ntype = "tape"\n', encoding="utf-8")
    f = write(tmp_path, '[ui]\nlayout = "desk"\n')
    assert cli_main(["config", "validate", "--config", str(f)]) == 1
    err = capsys.readouterr().err
    known = ", ".join(sorted(catalogue.ids()))
    assert f"desk.toml: panes[1].type: unknown pane type 'tape'; choose one of: {known} (did you mean \"trades\"?)" in err
