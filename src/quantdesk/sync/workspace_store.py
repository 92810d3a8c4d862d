"""What a team desk needs of a workspace store: Redis (:class:`Workspace`) and
Supabase's REST API (:class:`SupabaseWorkspace`) both provide it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from quantdesk.sync.workspace import Alert, ChangeCallback, Note, WorkspaceSnapshot, WorkspaceSubscription


class WorkspaceStore(Protocol):
    label: str  # what the status bar calls it: "redis", "supabase"
    team: str  # names the outbox queue of this workspace
    user: str
    client_id: str
    clock: Callable[[], int]
    state: str  # "connecting", "connected" or "down"
    last_error: str

    def status_detail(self) -> str:
        """How teammates' changes arrive (e.g. "poll 5s"); empty when at once."""
        ...

    async def subscribe(self, callback: ChangeCallback, wait: float = 2.0) -> WorkspaceSubscription: ...

    async def snapshot(self) -> WorkspaceSnapshot: ...

    async def get_watchlist(self, name: str) -> list[str] | None: ...

    async def set_watchlist(self, name: str, symbols: list[str]) -> list[str]: ...

    async def delete_watchlist(self, name: str) -> None: ...

    async def alerts(self) -> list[Alert]: ...

    async def put_alert(self, alert: Alert) -> None: ...

    async def remove_alert(self, alert_id: str) -> bool: ...

    async def put_note(self, note: Note) -> None: ...

    async def save_layout(self, name: str, toml_text: str) -> None: ...

    async def close(self) -> None: ...
