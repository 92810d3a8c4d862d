"""The web tests' server: a real ``serve web`` on a free port (``support.web_desk``)."""

from __future__ import annotations

import pytest

from quantdesk.serve.web.server import WebDesk
from support.web_desk import children, start_desk


@pytest.fixture
async def serve():
    """Factory: ``await serve(command=None, **WebOptions)``. Every console the
    servers started is gone, reaped and no zombie, once they have closed."""
    desks: list[WebDesk] = []

    async def make(command: str | None = None, **options) -> WebDesk:
        desks.append(await start_desk(command, **options))
        return desks[-1]

    yield make
    for desk in desks:
        await desk.close()
    assert children() == []


@pytest.fixture
async def web(serve):
    return await serve(max_tabs=1)
