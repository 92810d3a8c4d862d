"""Building the App for the console tests: a paused, seeded simulated session
(the terminal tests' own set-up) with the console configured as `quantdesk run` does."""

from __future__ import annotations

from quantdesk.ui.app import QuantDeskApp
from quantdesk.ui.console import ConsoleApp
from ui.conftest import paused_session, start  # noqa: F401  (re-exported for the tests)

SIZE = (160, 45)

if issubclass(QuantDeskApp, ConsoleApp):
    App = QuantDeskApp
else:  # until the App takes the console layer as its base

    class App(ConsoleApp, QuantDeskApp):  # type: ignore[no-redef]
        CSS_PATH = QuantDeskApp.CSS_PATH if str(QuantDeskApp.CSS_PATH).startswith("/") else str(
            __import__("pathlib").Path(__import__("quantdesk.ui.app").ui.app.__file__).parent / "app.tcss"
        )


def make_app(settings=None, layout=None, script=None, seed: int = 7):
    app = App(paused_session(seed))
    app.configure_console(settings, layout=layout, script=script)
    return app


async def type_text(pilot, text: str) -> None:
    await pilot.press(*text)
