"""Building the App for the console tests: a paused, seeded simulated session
(the terminal tests' own set-up) with the console configured as `quantdesk run` does."""

from __future__ import annotations

from quantdesk.console.app import QuantDeskApp
from ui.conftest import paused_session, start  # noqa: F401  (re-exported for the tests)

SIZE = (160, 45)


def make_app(settings=None, layout=None, script=None, seed: int = 7) -> QuantDeskApp:
    app = QuantDeskApp(paused_session(seed))
    app.configure_console(settings, layout=layout, script=script)
    return app


async def type_text(pilot, text: str) -> None:
    await pilot.press(*text)
