"""The startup script (``quantdesk run --script FILE``): command-line commands
run once the venues are up, stopping at the first bad line with a message
naming the file, line and column."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantdesk.console.cmdline import ParseError, ScriptError, parse

if TYPE_CHECKING:
    from quantdesk.console.app import QuantDeskApp


class StartupScript:
    def __init__(self, app: QuantDeskApp, source: str, text: str) -> None:
        self.app = app
        self.source = source
        self.text = text
        self.done = False
        self.error: ScriptError | None = None

    async def run_when_ready(self) -> None:
        await self.app.session_started.wait()
        await self.run()

    async def run(self) -> bool:
        """Run every line once; False (with a message on screen) at the first that fails."""
        if self.done:
            return True
        self.done = True
        app = self.app
        ctx = app.command_context()
        for n, line in enumerate(self.text.splitlines(), start=1):
            if not line.strip() or line.strip().startswith("#"):
                continue
            try:
                command = parse(line, ctx)
            except ParseError as e:
                err = ScriptError(self.source, n, line, e)
                app.notify(f"{err}\nThe script stopped here; the lines before it ran.", title="Startup script", severity="error", timeout=30)
                self.error = err
                return False
            if not await app.execute(command):
                app.notify(f"{self.source}:{n}: the script stopped at this line.", title="Startup script", severity="error", timeout=30)
                return False
        return True
