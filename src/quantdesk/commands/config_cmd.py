"""``quantdesk config validate|path``: check the configuration, show where files are looked for."""

from __future__ import annotations

import argparse
import os
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="config_command", metavar="ACTION")
    v = sub.add_parser(
        "validate",
        help="check config.toml, QUANTDESK_* variables, the keymap, theme, layout and alerts.toml; list every problem",
        description="Check the configuration from every source and list every problem at once. "
        "Exits 1 if there is any.",
    )
    v.add_argument("--config", metavar="PATH", help="config file to check (default: see `quantdesk config path`)")
    p = sub.add_parser("path", help="print where each configuration file is looked for")
    p.add_argument("--config", metavar="PATH", help="config file that would be used instead of the default")
    parser.set_defaults(_config_parser=parser)


def main(args: argparse.Namespace) -> int:
    if args.config_command == "validate":
        return validate(args.config)
    if args.config_command == "path":
        return show_paths(args.config)
    args._config_parser.print_help()
    return 2


def collect_problems(config: str | None) -> list:
    """Every problem in the settings and the files they name (keymap, theme, layout)."""
    from quantdesk.config.settings import check_config
    from quantdesk.console.keymap import load_keymap
    from quantdesk.console.layouts import layout_files, load_layout_file
    from quantdesk.core.problems import Problem, ProblemsError, did_you_mean
    from quantdesk.console.themes import load_themes

    settings, problems = check_config(config)
    ui = settings.ui if settings is not None else None
    from quantdesk.core.actions import BY_ID

    known = {k: v for k, v in settings.keys.items() if k in BY_ID} if settings else None  # unknown ids: reported above
    keymap = load_keymap(ui.keymap if ui else "default", overrides=known)
    problems.extend(keymap.problems)
    themes, theme_problems = load_themes()
    problems.extend(theme_problems)
    from textual.theme import BUILTIN_THEMES  # Textual's own themes work too

    if ui is not None and ui.theme not in themes and ui.theme not in BUILTIN_THEMES:
        problems.append(Problem("config", "ui.theme", f"no theme named {ui.theme!r}", did_you_mean(ui.theme, themes)))
    files = layout_files()
    for name, path in files.items():
        try:
            load_layout_file(path)
        except ProblemsError as e:
            problems.extend(e.problems)
    if ui is not None and ui.layout not in files:
        problems.append(Problem("config", "ui.layout", f"no layout named {ui.layout!r}", did_you_mean(ui.layout, files)))
    if settings is not None and settings.redis.url is not None:
        from quantdesk.venues.redis_conn import RedisURLError
        from quantdesk.venues.redis_conn import validate as check_redis_url

        try:
            check_redis_url(settings.redis.url.get_secret_value())
        except RedisURLError as exc:  # the message shows the URL redacted
            problems.append(Problem("config", "redis.url", str(exc)))
    from quantdesk.config.alert_rules import RulesFile
    from quantdesk.config.paths import alert_rules_path

    problems.extend(RulesFile(alert_rules_path()).load()[1])  # the trader's alert rules
    return problems


def validate(config: str | None) -> int:
    from quantdesk.config.settings import config_path

    problems = collect_problems(config)
    if problems:
        n = len(problems)
        print(f"{n} problem{'s' if n != 1 else ''} in the configuration:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    path = config_path(config)
    where = str(path) if path.exists() else f"defaults (no file at {path})"
    print(f"configuration OK: {where}")
    for note in _notes(config):
        print(f"  note: {note}")
    return 0


def _notes(config: str | None) -> list[str]:
    from quantdesk.config.settings import check_config
    from quantdesk.venues import registry

    settings, _problems = check_config(config)
    return registry.config_notes(settings) if settings is not None else []


def show_paths(config: str | None) -> int:
    from quantdesk.console.cmdhistory import default_history_path
    from quantdesk.config.settings import ENV_CONFIG_PATH, config_path, default_config_path
    from quantdesk.console.keymap import user_keymap_path
    from quantdesk.console.prefs import prefs_path
    from quantdesk.config.paths import shipped_dir, user_dir

    def line(label: str, path: object, note: str = "") -> None:
        exists = os.path.exists(str(path))
        print(f"{label:<16} {path}  [{'found' if exists else 'not found'}]{'  ' + note if note else ''}")

    used = config_path(config)
    if config is not None:
        line("config", used, "(--config)")
    elif os.environ.get(ENV_CONFIG_PATH):
        line("config", used, f"(${ENV_CONFIG_PATH})")
    else:
        line("config", default_config_path())
    print(f"{'environment':<16} QUANTDESK_* (e.g. QUANTDESK_UI__FPS=30) override the file")
    line("keymap", user_keymap_path())
    from quantdesk.config.paths import alert_rules_path

    line("alert rules", alert_rules_path(), "(ALERT ... adds to it)")
    for kind in ("themes", "layouts"):
        line(f"user {kind}", user_dir(kind))
    for kind in ("keymaps", "themes", "layouts"):
        line(f"shipped {kind}", shipped_dir(kind))
    line("history", default_history_path())
    line("preferences", prefs_path(), "(last theme chosen in the console)")
    return 0
