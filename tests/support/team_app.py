"""Terminals on one team workspace, as `quantdesk run` builds them with
[redis] url and team set, and driving their command line."""

from __future__ import annotations

from pathlib import Path

from quantdesk.console.app import QuantDeskApp
from quantdesk.console.cmdline import parse
from quantdesk.console.panes.workspace import WorkspacePane
from quantdesk.sync.team_desk import open_team_desk
from support.app import paused_session

SIZE = (200, 50)
PANES = ("depth", "workspace")


def terminal(url: str, team: str, user: str, tmp_path: Path) -> QuantDeskApp:
    """A terminal as `quantdesk run` builds it with [redis] url and team set."""
    desk = open_team_desk(url, team, user, str(tmp_path / f"{user}-journal.sqlite3"))
    return QuantDeskApp(paused_session(), panes=PANES, workspace=desk)


async def run(app: QuantDeskApp, text: str) -> bool:
    """Type ``text`` on the command line, as a trader would, and run it."""
    return await app.execute(parse(text, app.command_context()))


def workspace_text(app: QuantDeskApp) -> str:
    pane = app.query_one(WorkspacePane)
    return "\n".join(pane.render_line(y).text.rstrip() for y in range(pane.size.height))


async def type_command(pilot, text: str) -> None:
    """Open the command line holding ``text`` (enter not yet pressed); the
    first word is typed key by key."""
    first, _, rest = text.partition(" ")
    await pilot.press("colon", *first)
    line = pilot.app.command_line
    line.input.value = f"{first} {rest}"
    line.input.cursor_position = len(line.input.value)
    await pilot.pause()
