"""``quantdesk logout supabase``: end the Supabase session and forget its tokens."""

from __future__ import annotations

import argparse
import sys

EXIT_FAILED = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("service", choices=["supabase"], help="what to sign out of")
    parser.add_argument("--config", metavar="PATH", help="config file (default: the user config dir)")


def main(args: argparse.Namespace) -> int:
    from quantdesk.commands.login import project_from_config
    from quantdesk.sync.supabase_session import SupabaseAuthError, delete_session, load_session, session_path

    try:
        stored = load_session()
    except SupabaseAuthError:
        stored = None  # a damaged file: removing it is all there is to do
    if stored is not None:
        project = project_from_config(args.config)
        if not isinstance(project, str) and project.url == stored.url:
            from supabase_auth.errors import AuthError

            try:  # revoke the refresh token on the server too; the local copy goes either way
                project.client().auth.admin.sign_out(stored.access_token, "local")  # this session only
            except AuthError:
                print("Supabase did not confirm the sign-out; the saved session is removed anyway.", file=sys.stderr)
            finally:
                project.close()
    if delete_session(session_path()):
        print("Signed out of Supabase; the saved session is gone.")
    else:
        print("Not signed in to Supabase; nothing to remove.")
    return 0
