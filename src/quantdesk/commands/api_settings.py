"""What ``quantdesk api token`` and ``quantdesk serve api`` both need: the
``--config`` option, the loaded settings and the ``[api] jwt_secret``.

One place says where the secret is set, so the two commands never drift
apart in their options or their messages. The secret is returned for signing
or verifying and is never part of a message.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # loaded only when a command runs: `quantdesk --help` stays fast
    from quantdesk.config.settings import Settings

NO_SECRET = "no JWT secret: set [api] jwt_secret in the config or QUANTDESK_API__JWT_SECRET"


class UsageError(Exception):
    """A problem the user fixes (the message says how); the command exits with 2."""


@dataclass(frozen=True)
class ApiSettings:
    settings: Settings
    secret: str = field(repr=False)


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH", help="config file (default: the user config dir's config.toml)")


def load_api_settings(config_path: str | None) -> ApiSettings:
    """The settings and the JWT secret, or UsageError saying what to fix."""
    from quantdesk.config.settings import load_config
    from quantdesk.core.problems import ProblemsError

    try:
        settings = load_config(config_path)
    except ProblemsError as exc:
        raise UsageError(str(exc)) from None
    secret = settings.api.jwt_secret.get_secret_value() if settings.api.jwt_secret is not None else ""
    if not secret:
        raise UsageError(NO_SECRET)
    return ApiSettings(settings, secret)


def refuse(prog: str, exc: Exception) -> int:
    """Print ``prog: message`` on stderr and give the usage exit code."""
    print(f"{prog}: {exc}", file=sys.stderr)
    return 2
