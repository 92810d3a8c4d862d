"""``quantdesk api token --scope market:read --ttl 1h``: mint a bearer token
for the data API, signed with ``[api] jwt_secret`` (never printed)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="api_command", metavar="ACTION", required=True)
    tok = sub.add_parser("token", help="mint a token for scripts (printed on stdout)", description=__doc__)
    tok.add_argument(
        "--scope", action="append", choices=("market:read", "positions:read"), help="repeat for several (default market:read)"
    )
    tok.add_argument("--ttl", default="1h", help="lifetime: 90s, 15m, 1h, 7d (default 1h)")
    tok.add_argument("--subject", default="quantdesk-script", help="who the token is for (its sub claim)")
    tok.add_argument("--config", metavar="PATH", help="config file (default: the user config dir's config.toml)")


def main(args: argparse.Namespace) -> int:
    import time

    from quantdesk.config.settings import load_config
    from quantdesk.core.problems import ProblemsError
    from quantdesk.serve.api.auth import mint_token, parse_ttl

    try:
        settings = load_config(args.config)
    except ProblemsError as exc:
        print(f"quantdesk api token: {exc}", file=sys.stderr)
        return 2
    secret = settings.api.jwt_secret.get_secret_value() if settings.api.jwt_secret is not None else ""
    if not secret:
        print("quantdesk api token: no JWT secret: set [api] jwt_secret in the config or QUANTDESK_API__JWT_SECRET", file=sys.stderr)
        return 2
    try:
        ttl = parse_ttl(args.ttl)
        token = mint_token(secret, args.scope or ["market:read"], ttl, int(time.time()), subject=args.subject)
    except ValueError as exc:
        print(f"quantdesk api token: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0
