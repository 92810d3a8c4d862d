"""``quantdesk login supabase``: sign in to the team's Supabase project.

Email and password (asked without echo, or read from stdin with
``--password-stdin``), or ``--code``: Supabase Auth emails a sign-in link with
a one-time code, and the code typed here signs in. The session (access and
refresh tokens) is saved in the user data dir, readable by this user only, and
refreshed by the terminal before it expires. ``--status`` says who is signed
in. No token or password is ever printed.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quantdesk.sync.supabase_api import SupabaseProject

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("service", choices=["supabase"], help="what to sign in to")
    parser.add_argument("--email", metavar="EMAIL", help="the account's email (asked when not given)")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--code", action="store_true", help="sign in with the one-time code Supabase emails you")
    how.add_argument("--password-stdin", action="store_true", help="read the password from stdin (for scripts)")
    how.add_argument("--status", action="store_true", help="say who is signed in, and until when")
    parser.add_argument("--config", metavar="PATH", help="config file (default: the user config dir)")


def project_from_config(config: str | None) -> SupabaseProject | str:
    """The configured project, or the message saying what to configure."""
    from quantdesk.config.settings import load_config
    from quantdesk.core.problems import ProblemsError
    from quantdesk.sync.supabase_api import SupabaseProject, SupabaseSetupError

    try:
        settings = load_config(config)
    except ProblemsError as exc:
        return f"{exc.render()}\nFix these (check with `quantdesk config validate`) and try again."
    sb = settings.sync.supabase
    if sb is None:
        return ("No Supabase project configured: add [sync.supabase] with url and anon_key to the config "
                "(Project Settings > API shows both).")
    try:
        return SupabaseProject(sb.url, sb.anon_key.get_secret_value(), timeout=sb.timeout_s)
    except SupabaseSetupError as exc:
        return str(exc)


def _ask(prompt: str) -> str:
    try:
        return input(prompt).strip()
    except EOFError:
        return ""


def main(args: argparse.Namespace) -> int:
    from supabase_auth.errors import AuthError

    from quantdesk.sync.supabase_api import is_unreachable
    from quantdesk.sync.supabase_session import (
        SupabaseAuthError, describe, from_auth_session, load_session, save_session, session_path,
    )

    project = project_from_config(args.config)
    if isinstance(project, str):
        print(project, file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.status:
        try:
            stored = load_session()
        except SupabaseAuthError as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_FAILED
        if stored is None or stored.url != project.url:
            print(f"Not signed in to {project.url}: run `quantdesk login supabase`.")
            return EXIT_FAILED
        info = describe(stored)
        print(f"Signed in to {info['url']} as {info['email'] or info['user_id']} (user {info['user_id']}); "
              f"access token valid until {info['expires_at']}, refreshed automatically.")
        return 0
    email = args.email or _ask("Email: ")
    if "@" not in email:
        print("Give the email address of your Supabase account (--email you@example.com).", file=sys.stderr)
        return EXIT_BAD_INPUT
    auth = project.client().auth
    try:
        if args.code:
            auth.sign_in_with_otp({"email": email, "options": {"should_create_user": False}})
            print(f"Supabase emailed a sign-in code to {email}.", file=sys.stderr)
            code = _ask("Code from the email: ").replace(" ", "")
            if not code:
                print("No code given; nothing changed. Run the command again when the email arrives.", file=sys.stderr)
                return EXIT_BAD_INPUT
            answer = auth.verify_otp({"email": email, "token": code, "type": "email"})
        else:
            password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
            if not password:
                print("No password given; nothing changed.", file=sys.stderr)
                return EXIT_BAD_INPUT
            answer = auth.sign_in_with_password({"email": email, "password": password})
    except AuthError as exc:
        text = project.describe_error(exc)
        if is_unreachable(exc):
            print(f"Supabase Auth at {project.url} did not answer ({text}); check the url and your network.",
                  file=sys.stderr)
        else:
            what = "the code" if args.code else "the email and password"
            print(f"Supabase refused the sign-in: {text}. Check {what} and try again.", file=sys.stderr)
        return EXIT_FAILED
    finally:
        project.close()
    if answer.session is None:
        print("Supabase signed you in but sent no session (is the email confirmed?); nothing saved.", file=sys.stderr)
        return EXIT_FAILED
    stored = from_auth_session(project.url, answer.session)
    path = save_session(stored, session_path())
    print(f"Signed in to {project.url} as {stored.email or email} (user {stored.user_id}). "
          f"Session saved to {path} (readable by you only); the terminal refreshes it before it expires.")
    return 0
