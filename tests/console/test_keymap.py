"""Keymaps: shipped files agree with the action catalogue, user files and
[keys] override single ids, clashes and unknown ids are reported."""

from __future__ import annotations

import pytest

from quantdesk.core import actions
from quantdesk.console.keymap import load_keymap, normalize_key, BadKey, shipped_keymap_names


@pytest.fixture(autouse=True)
def user_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "quantdesk"


@pytest.mark.parametrize("raw, key", [("?", "question_mark"), ("]", "right_square_bracket"), ("{", "left_curly_bracket"),
                                      (":", "colon"), ("Ctrl+X", "ctrl+x"), ("shift+tab", "shift+tab"), ("B", "B"),
                                      ("/", "slash"), (" ", "space"), ("F5", "f5")])
def test_normalize_key(raw, key):
    assert normalize_key(raw) == key


@pytest.mark.parametrize("raw", ["", "cmd+x", "page up"])
def test_bad_keys(raw):
    with pytest.raises(BadKey):
        normalize_key(raw)


def test_catalogue_ids_are_unique_and_defaults_do_not_clash():
    assert len(actions.BY_ID) == len(actions.ACTIONS)
    km = load_keymap("default")
    assert km.problems == []
    assert km.keys_for("app.command_line") == ("colon",)
    assert km.keys_for("app.help") == ("question_mark",)


@pytest.mark.parametrize("name", ["default", "vim"])
def test_shipped_keymaps_cover_every_action_cleanly(name):
    assert name in shipped_keymap_names()
    km = load_keymap(name)
    assert km.problems == []
    assert all(km.keys_for(a.id) for a in actions.ACTIONS)
    assert all(origin.endswith(f"{name}.toml") for origin in km.origin.values())


def test_default_keymap_file_matches_the_catalogue():
    km = load_keymap("default")
    assert {i: k[0] for i, k in km.keys.items()} == {a.id: normalize_key(a.key) for a in actions.ACTIONS}


def test_vim_keymap_binds_hjkl():
    km = load_keymap("vim")
    assert "j" in km.keys_for("market.next") and "h" in km.keys_for("venue.prev")
    assert km.textual_keymap()["app.palette"] == "slash,ctrl+p"


def test_user_keymap_file_overrides_single_ids(user_dirs):
    user_dirs.mkdir(parents=True)
    (user_dirs / "keymap.toml").write_text('[bindings]\n"order.buy" = "f2"\n[bindings.order]\nsell = ["f3", "S"]\n')
    km = load_keymap("default")
    assert km.problems == []
    assert km.keys_for("order.buy") == ("f2",)
    assert km.keys_for("order.sell") == ("f3", "S")
    assert km.keys_for("app.quit") == ("q",)  # untouched ids keep their key
    assert km.origin["order.buy"] == str(user_dirs / "keymap.toml")


def test_config_keys_win_over_user_file(user_dirs):
    user_dirs.mkdir(parents=True)
    (user_dirs / "keymap.toml").write_text('[bindings]\n"order.buy" = "f2"\n')
    km = load_keymap("default", overrides={"order.buy": "f4"})
    assert km.keys_for("order.buy") == ("f4",)


def test_clash_is_reported_and_the_later_layer_keeps_the_key():
    km = load_keymap("default", overrides={"order.buy": "s"})
    assert km.keys_for("order.buy") == ("s",)
    assert km.keys_for("order.sell") == ()  # lost its only key
    assert km.textual_keymap()["order.sell"] == "unbound"
    (p,) = km.problems
    assert p.key == "order.buy"
    assert "key 's' is also bound to 'order.sell'" in p.message and "now has no key" in p.message


def test_clash_within_one_file_is_reported(tmp_path):
    f = tmp_path / "keymap.toml"
    f.write_text('[bindings]\n"order.buy" = "x"\n"order.sell" = "x"\n')
    km = load_keymap("default", user_file=f)
    assert len(km.problems) == 1 and "'x'" in km.problems[0].message
    # Within one layer the id listed first in the catalogue keeps the key.
    assert (km.keys_for("order.buy"), km.keys_for("order.sell")) == (("x",), ())


def test_same_key_different_spelling_is_a_clash():
    km = load_keymap("default", overrides={"app.quit": "question_mark"})
    assert any("also bound to 'app.help'" in p.message for p in km.problems)


def test_unknown_ids_bad_values_and_broken_files(tmp_path):
    f = tmp_path / "keymap.toml"
    f.write_text('colour = 1\n[bindings]\n"order.bye" = "f2"\n"app.quit" = 5\n"app.help" = "hyper+cmd+x"\n')
    km = load_keymap("default", user_file=f)
    msgs = [str(p) for p in km.problems]
    assert any('order.bye: unknown binding id (did you mean "order.buy"?)' in m for m in msgs)
    assert any("app.quit: must be a key or a list of keys" in m for m in msgs)
    assert any("app.help: unknown modifier 'cmd'" in m for m in msgs)
    assert any("colour: unknown key" in m for m in msgs)
    assert km.keys_for("app.quit") == ("q",)  # a bad entry leaves the default
    broken = tmp_path / "broken.toml"
    broken.write_text("[bindings\n")
    (p,) = load_keymap("default", user_file=broken).problems
    assert "not valid TOML" in p.message and "line 1" in p.message


def test_help_rows_grouped_in_catalogue_order():
    groups = load_keymap("default").by_group()
    assert [g for g, _ in groups] == list(actions.GROUPS)
    focus = dict(groups)["focus"]
    assert focus[0][0].id == "focus.next" and focus[0][1] == ("tab",)


def test_app_key_used_by_a_pane_is_reported_as_shadowed():
    km = load_keymap("default", overrides={"app.help": "m"})
    (p,) = km.problems
    assert "key 'm' is also 'orders.modify' in the orders pane" in p.message
    assert km.keys_for("app.help") == ("m",) and km.keys_for("orders.modify") == ("m",)  # both kept


def test_pane_keys_in_different_panes_do_not_clash():
    km = load_keymap("default")
    assert km.keys_for("orders.cancel") == km.keys_for("positions.close") == ("c",)
    assert km.problems == []
