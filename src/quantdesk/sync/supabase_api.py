"""One Supabase project as QuantDesk reaches it: the project URL, its anon key,
and the ``supabase`` clients built on them.

The clients are made with auto-refresh and session persistence off: the
trader's tokens live in :mod:`quantdesk.sync.supabase_session`, which decides
when to refresh them. Requests carry ``apikey: <anon key>`` (what Supabase's
gateway asks of every call) and ``Authorization: Bearer <the trader's access
token>``, so PostgREST runs them as that user and the row-level security
policies decide what they may read and write.

The anon key and every token stay out of reprs, logs and error text:
:func:`describe_error` is how an exception becomes something to show.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx
    from supabase import AsyncClient, Client

MASK = "***"
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_URL = re.compile(r"^https?://[^\s/]+(/[^\s]*)?$")


class SupabaseSetupError(ValueError):
    """The project settings cannot be used; the message says what to fix."""


class SupabaseProject:
    """The URL and anon key of one project, and HTTP clients for it."""

    def __init__(self, url: str, anon_key: str, *, timeout: float = 10.0) -> None:
        url = url.strip().rstrip("/")
        if not _URL.match(url):
            raise SupabaseSetupError(
                f"[sync.supabase] url {url!r} is not a project URL: copy it from Project Settings > API, "
                "e.g. https://PROJECT.supabase.co"
            )
        if not anon_key.strip():
            raise SupabaseSetupError("[sync.supabase] anon_key is empty: copy the anon key from Project Settings > API")
        self.url = url
        self._key = anon_key.strip()
        self.timeout = timeout
        self._client: Client | None = None

    def __repr__(self) -> str:
        return f"SupabaseProject({self.url!r})"

    @property
    def anon_key(self) -> str:
        return self._key

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self._key,)

    def _http(self) -> httpx.Client:
        import httpx

        # Our own httpx client: the supabase client's timeout argument is deprecated,
        # and one client shared by auth and REST keeps one connection pool.
        return httpx.Client(timeout=httpx.Timeout(self.timeout), follow_redirects=True)

    def client(self) -> Client:
        """The blocking client (journal sync thread, login); made once."""
        if self._client is None:
            from supabase import ClientOptions, create_client

            options = ClientOptions(
                auto_refresh_token=False, persist_session=False, flow_type="implicit",
                postgrest_client_retry=False,  # the syncers keep their own backoff
                httpx_client=self._http(),
            )
            self._client = create_client(self.url, self._key, options)
        return self._client

    async def async_client(self) -> AsyncClient:
        """A client for an asyncio loop (the team workspace); one per caller."""
        import httpx
        from supabase import AClientOptions, acreate_client

        options = AClientOptions(
            auto_refresh_token=False, persist_session=False, flow_type="implicit",
            postgrest_client_retry=False,
            httpx_client=httpx.AsyncClient(timeout=httpx.Timeout(self.timeout), follow_redirects=True),
        )
        return await acreate_client(self.url, self._key, options)

    def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            http = client.options.httpx_client
            if http is not None:
                http.close()

    def scrub(self, text: str) -> str:
        """``text`` without the anon key or any JWT."""
        text = text.replace(self._key, MASK) if self._key else text
        return _JWT.sub(MASK, text)

    def describe_error(self, exc: BaseException) -> str:
        """One line, no key or token: what went wrong talking to the project."""
        return self.scrub(error_text(exc))


class ScrubLogs(logging.Filter):
    """Masks JWTs (the anon key and access tokens are JWTs) in a library's log
    records: the websockets client logs Realtime's URL, apikey and all, at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        clean = _JWT.sub(MASK, text)
        if clean != text:
            record.msg, record.args = clean, None
        return True


def scrub_library_logs(*names: str) -> None:
    """Attach :class:`ScrubLogs` to the named loggers (once each)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ScrubLogs) for f in logger.filters):
            logger.addFilter(ScrubLogs())


def error_text(exc: BaseException) -> str:
    """The useful words of a supabase/httpx error (its message, PostgREST code and hint)."""
    import httpx

    message = getattr(exc, "message", None)
    parts: list[str] = []
    if isinstance(message, str) and message:
        parts.append(message)
        code = getattr(exc, "code", None)
        if isinstance(code, str) and code and not code.isdigit():
            parts.append(f"({code})")
        hint = getattr(exc, "hint", None)
        if isinstance(hint, str) and hint:
            parts.append(f"hint: {hint}")
    elif isinstance(exc, httpx.TimeoutException):
        parts.append("no answer in time")
    elif isinstance(exc, httpx.ConnectError):
        parts.append(f"cannot connect ({' '.join(str(exc).split()) or 'refused'})")
    else:
        parts.append(" ".join(str(exc).split()) or type(exc).__name__)
    return " ".join(parts)


def is_unreachable(exc: BaseException) -> bool:
    """True for errors that mean "the project did not answer" (retry later) rather
    than "it answered no"."""
    import httpx

    if isinstance(exc, (httpx.TransportError, OSError)):
        return True
    from supabase_auth.errors import AuthRetryableError

    return isinstance(exc, AuthRetryableError)


def jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, unverified (the server verifies it; this only reads
    who it names and when it expires). Raises ValueError for a malformed token."""
    import jwt

    try:
        claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False, "verify_aud": False})
    except jwt.PyJWTError:
        raise ValueError("not a JWT access token") from None
    if not isinstance(claims, dict):
        raise ValueError("not a JWT access token")
    return claims
