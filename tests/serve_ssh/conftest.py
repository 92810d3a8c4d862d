"""The SSH tests' desk: a real server on a free port (``support.ssh_desk``)."""

from __future__ import annotations

import pytest

from support.ssh_desk import close_desk, open_desk


@pytest.fixture
async def desk(tmp_path):
    d = await open_desk(tmp_path)
    yield d
    await close_desk(d)
