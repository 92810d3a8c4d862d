"""PostgreSQL connection strings: where they come from, and keeping the password out of sight.

A DSN is either a URL (``postgresql://user:password@host:5432/db?sslmode=require``,
what Supabase shows under "Connection string") or libpq ``key=value`` pairs.
It comes from ``--dsn``, else ``QUANTDESK_DB__DSN``, else the config file's
``[db] dsn``. Anything shown to a person goes through :func:`redact`, and
library error text through :func:`describe_error`, so the password never
reaches a screen, a log or an exception message.
"""

from __future__ import annotations

import os
import re
from urllib.parse import unquote, urlsplit

ENV_DSN = "QUANTDESK_DB__DSN"
ENV_USER_ID = "QUANTDESK_DB__USER_ID"
ENV_TEAM_ID = "QUANTDESK_DB__TEAM_ID"
MASK = "***"
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


class DSNError(ValueError):
    """No usable DSN; the message says where to put one and never holds a password."""


def _is_url(dsn: str) -> bool:
    return dsn.startswith(("postgresql://", "postgres://"))


def secrets_of(dsn: str) -> list[str]:
    """The password strings a DSN carries (raw and percent-decoded), longest first."""
    out: list[str] = []
    if _is_url(dsn):
        try:
            pw = urlsplit(dsn).password
        except ValueError:
            pw = None
        if pw:
            out += [pw, unquote(pw)]
        out += [v for k, v in re.findall(r"[?&](password)=([^&]*)", dsn) if v]
    else:
        for _, value in _KV_PASSWORD.findall(dsn):
            out += [value, value.strip("'")]
    return sorted({s for s in out if s}, key=len, reverse=True)


def redact(dsn: str) -> str:
    """``dsn`` with its password masked (user, host and database stay visible)."""
    if _is_url(dsn):
        try:
            parts = urlsplit(dsn)
        except ValueError:
            return "<unparseable postgresql url>"
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, hostport = netloc.rsplit("@", 1)
            user, sep, _ = userinfo.partition(":")
            netloc = f"{user}:{MASK}@{hostport}" if sep else f"{user}@{hostport}"
        query = re.sub(r"([?&]?password=)[^&]*", rf"\g<1>{MASK}", parts.query)
        text = f"{parts.scheme}://{netloc}{parts.path}"
        return f"{text}?{query}" if query else text
    return _KV_PASSWORD.sub(rf"\g<1>{MASK}", dsn)


def scrub(text: str, dsn: str) -> str:
    for secret in secrets_of(dsn):
        text = text.replace(secret, MASK)
    return text


def describe_error(exc: BaseException, dsn: str) -> str:
    """A one-line, password-free description of a connection or SQL error."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return scrub(text, dsn)


def _from_config(key: str) -> str:
    """``[db] <key>`` from the config file (and ``QUANTDESK_*`` environment)."""
    from quantdesk.config.settings import DbSettings, load_config  # pydantic: loaded only when a DSN is needed
    from quantdesk.core.problems import ProblemsError

    if key not in DbSettings.model_fields:
        return ""  # a key this version's config does not have (it is then only read from the environment)
    try:
        settings = load_config()
    except ProblemsError as exc:
        raise DSNError(f"{exc} Fix these, or pass --dsn.") from None
    value = getattr(settings.db, key, None)
    if value is None:
        return ""
    secret = getattr(value, "get_secret_value", None)
    return str(secret() if callable(secret) else value)


def find_dsn(flag: str | None = None) -> str:
    """The DSN from ``--dsn``, the environment or the config file, in that order;
    "" when none is set (sync is off). Raises :class:`DSNError` for a malformed one."""
    dsn = flag or os.environ.get(ENV_DSN, "") or _from_config("dsn")
    if dsn and not _is_url(dsn) and "=" not in dsn:
        raise DSNError(
            # Not echoed: a string that is neither may well be a password pasted in the wrong place.
            "The PostgreSQL connection string is neither a postgresql:// URL nor key=value pairs; "
            "copy it as Supabase shows it, e.g. postgresql://postgres:PASSWORD@db.PROJECT.supabase.co:5432/postgres."
        )
    return dsn


def resolve_dsn(flag: str | None = None) -> str:
    """Like :func:`find_dsn`, for commands that cannot work without one."""
    dsn = find_dsn(flag)
    if not dsn:
        raise DSNError(
            f"No PostgreSQL connection string: pass --dsn, set {ENV_DSN}, or put dsn = \"postgresql://...\" "
            "under [db] in the config file (Supabase: Project Settings > Database > Connection string)."
        )
    return dsn


def resolve_user_id(flag: str | None = None) -> str:
    """The Supabase user id (uuid) rows are written as: flag, env, then config."""
    return flag or os.environ.get(ENV_USER_ID, "") or _from_config("user_id")


def resolve_team_id(flag: str | None = None) -> str:
    return flag or os.environ.get(ENV_TEAM_ID, "") or _from_config("team_id")
