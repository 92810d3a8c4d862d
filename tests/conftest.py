"""Fixtures every QuantDesk test can use, registered once here.

The servers and helpers themselves live in tests/support (a package): folder
conftests keep only fixtures of their own folder and import from support,
never from another folder."""

from __future__ import annotations

import pytest

pytest_plugins = [
    "support.services",
    "support.redis",
    "support.postgres",
    "support.supabase",
    "support.app",
    "support.drift_servers",
    "support.jupiter_chain",
    "support.data_api",
    "support.timers",
    "support.api_server",
    "support.news_server",
]


@pytest.fixture(autouse=True)
def _fresh_user_dirs(user_dirs):
    """Every test starts with empty user config, data and state directories."""
    return user_dirs
