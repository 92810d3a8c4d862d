"""The App with the console configured as `quantdesk run` does, on the paused
simulated session."""

from __future__ import annotations

from quantdesk.console.app import QuantDeskApp
from support.app import paused_session

SIZE = (160, 45)


def make_app(settings=None, layout=None, script=None, seed: int = 7) -> QuantDeskApp:
    app = QuantDeskApp(paused_session(seed))
    app.configure_console(settings, layout=layout, script=script)
    return app


async def type_text(pilot, text: str) -> None:
    await pilot.press(*text)
