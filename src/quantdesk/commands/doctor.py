"""``quantdesk doctor``: check the config, each venue's endpoints, Redis,
PostgreSQL, the signer and the terminal, and say what to fix.

Exits 0 when nothing failed (warnings allowed), 1 when a check failed, 2 for
bad options.
"""

from __future__ import annotations

import argparse

MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH", help="config file (default: see `quantdesk config path`)")
    parser.add_argument("--redis", metavar="URL", help="Redis to check instead of [redis] url / QUANTDESK_REDIS_URL")
    parser.add_argument("--dsn", metavar="DSN", help="PostgreSQL to check instead of [db] dsn / QUANTDESK_DB__DSN")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds each network check may take (default 3)")


def main(args: argparse.Namespace) -> int:
    import os
    import shutil
    import sys

    from quantdesk.config.settings import load_config
    from quantdesk.sync.pg_dsn import DSNError, find_dsn
    from quantdesk.wiring import doctor

    if not 0 < args.timeout <= 60:
        print("quantdesk doctor: --timeout must be above 0 and at most 60 seconds", file=sys.stderr)
        return 2
    config, settings = doctor.check_config(lambda: load_config(args.config))
    checks = [config]
    checks += doctor.check_venues(settings, args.timeout)
    checks.append(doctor.check_redis(doctor.redis_url_of(settings, args.redis), args.timeout))
    try:
        checks.append(doctor.check_postgres(find_dsn(args.dsn), args.timeout))
    except DSNError as exc:
        checks.append(doctor.Check("postgres", "fail", str(exc), "fix [db] dsn or QUANTDESK_DB__DSN"))
    checks += doctor.check_supabase(settings, args.timeout)
    checks.append(doctor.check_signer(settings))
    size = shutil.get_terminal_size((0, 0))
    checks += doctor.check_terminal(os.environ, (size.columns, size.lines))
    for c in checks:
        print(f"{MARK[c.status]}  {c.name}: {c.detail}")
        if c.fix and c.status != "ok":
            print(f"      fix: {c.fix}")
    failed = sum(c.status == "fail" for c in checks)
    warned = sum(c.status == "warn" for c in checks)
    print(f"{len(checks)} checks: {failed} failed, {warned} warnings")
    return 1 if failed else 0
