"""``quantdesk api token --scope market:read --ttl 1h``: mint a bearer token
for the data API, signed with ``[api] jwt_secret`` (never printed)."""

from __future__ import annotations

import argparse

from quantdesk.commands.api_settings import UsageError, add_config_argument, load_api_settings, refuse

PROG = "quantdesk api token"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="api_command", metavar="ACTION", required=True)
    tok = sub.add_parser("token", help="mint a token for scripts (printed on stdout)", description=__doc__)
    tok.add_argument(
        "--scope", action="append", choices=("market:read", "positions:read"), help="repeat for several (default market:read)"
    )
    tok.add_argument("--ttl", default="1h", help="lifetime: 90s, 15m, 1h, 7d (default 1h)")
    tok.add_argument("--subject", default="quantdesk-script", help="who the token is for (its sub claim)")
    add_config_argument(tok)


def main(args: argparse.Namespace) -> int:
    import time

    from quantdesk.serve.api.auth import mint_token, parse_ttl

    try:
        api = load_api_settings(args.config)
        ttl = parse_ttl(args.ttl)
        token = mint_token(api.secret, args.scope or ["market:read"], ttl, int(time.time()), subject=args.subject)
    except (UsageError, ValueError) as exc:
        return refuse(PROG, exc)
    print(token)
    return 0
