"""Two terminals on one team workspace: real Apps (run_test), real Redis.

The shared Redis at 127.0.0.1:6379 with a random team namespace per test
(``ns``), or a redis-server the test starts, kills and restarts
(``redis_server``). With CI set, a missing Redis fails instead of skipping.
"""

from __future__ import annotations

from pathlib import Path

from quantdesk.console.cmdline import parse
from quantdesk.sync.team_desk import open_team_desk
from quantdesk.console.app import QuantDeskApp
from quantdesk.console.panes.workspace import WorkspacePane
from sync_pg.conftest import closed_port, fresh_dsn, migrated_dsn  # noqa: F401  (fixtures)
from sync_redis.conftest import ns, redis_server, redis_url  # noqa: F401  (fixtures)
from sync_redis.rig import wait_until  # noqa: F401  (re-exported for the tests)
from ui.conftest import paused_session, start, user_dirs  # noqa: F401  (fixture and helpers)

SIZE = (200, 50)
PANES = ("depth", "workspace")


def terminal(url: str, team: str, user: str, tmp_path: Path) -> QuantDeskApp:
    """A terminal as `quantdesk run` builds it with [redis] url and team set."""
    app = QuantDeskApp(paused_session(), panes=PANES)
    app.attach_team(open_team_desk(url, team, user, str(tmp_path / f"{user}-journal.sqlite3")))
    return app


async def run(app: QuantDeskApp, text: str) -> bool:
    """Type ``text`` on the command line, as a trader would, and run it."""
    return await app.execute(parse(text, app.command_context()))


def workspace_text(app: QuantDeskApp) -> str:
    pane = app.query_one(WorkspacePane)
    return "\n".join(pane.render_line(y).text.rstrip() for y in range(pane.size.height))


def status_text(app: QuantDeskApp) -> str:
    from quantdesk.console.statusbar import StatusBar

    return app.query_one(StatusBar).render().plain


async def type_command(pilot, text: str) -> None:
    """Open the command line holding ``text`` (enter not yet pressed); the
    first word is typed key by key."""
    first, _, rest = text.partition(" ")
    await pilot.press("colon", *first)
    line = pilot.app.command_line
    line.input.value = f"{first} {rest}"
    line.input.cursor_position = len(line.input.value)
    await pilot.pause()
