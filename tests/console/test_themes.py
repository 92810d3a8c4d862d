"""Theme files become Textual themes with the trading colours panes use."""

from __future__ import annotations

import pytest
from textual.theme import Theme

from quantdesk.core.problems import ProblemsError
from quantdesk.console.themes import TRADING_VARIABLES, load_theme_file, load_themes, theme_names


@pytest.fixture(autouse=True)
def user_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "quantdesk"


def test_shipped_themes_load_with_trading_colours():
    themes, problems = load_themes()
    assert problems == []
    assert {"dark", "amber", "high-contrast"} <= set(themes)
    for t in themes.values():
        assert isinstance(t, Theme)
        for v in (*TRADING_VARIABLES, "gain", "loss", "warn", "flash"):
            assert t.variables[v].startswith("#")
    assert themes["amber"].background == "#000000" and themes["amber"].foreground == "#ffb000"
    # bid and ask must be told apart in every theme
    assert all(t.variables["bid"] != t.variables["ask"] for t in themes.values())


def test_user_theme_added_and_replaces_shipped(user_dirs):
    d = user_dirs / "themes"
    d.mkdir(parents=True)
    (d / "mine.toml").write_text('name = "mine"\nprimary = "#112233"\n')
    (d / "dark.toml").write_text('name = "dark"\nprimary = "#abcdef"\nsuccess = "#00ff00"\n')
    themes, problems = load_themes()
    assert problems == []
    assert themes["mine"].variables["bid"] == "green"  # no success colour: a plain fallback
    assert themes["dark"].primary == "#abcdef" and themes["dark"].variables["bid"] == "#00ff00"
    assert "mine" in theme_names()


def test_broken_user_theme_reported_and_others_still_load(user_dirs):
    d = user_dirs / "themes"
    d.mkdir(parents=True)
    (d / "bad.toml").write_text('name = "bad"\nprimary = "not-a-colour"\nbackgrund = "#000000"\n[variables]\nbid = "#zzz"\n')
    themes, problems = load_themes()
    assert "dark" in themes and "bad" not in themes
    msgs = [str(p) for p in problems]
    assert any("primary: 'not-a-colour' is not a colour" in m for m in msgs)
    assert any('backgrund: unknown key (did you mean "background"?)' in m for m in msgs)
    assert any("variables.bid: '#zzz' is not a colour" in m for m in msgs)


def test_theme_name_must_match_file(tmp_path):
    f = tmp_path / "blue.toml"
    f.write_text('name = "green"\nprimary = "#0000ff"\n')
    with pytest.raises(ProblemsError, match="differs from the file name 'blue'"):
        load_theme_file(f)
    g = tmp_path / "x.toml"
    g.write_text("dark = true\n")
    with pytest.raises(ProblemsError) as info:
        load_theme_file(g)
    assert {p.key for p in info.value.problems} == {"name", "primary"}
