"""Redis connection URLs: validation, client construction and redaction.

Supported: ``redis://[user[:password]@]host[:port][/db]``, ``rediss://`` (TLS;
``?ssl_ca_certs=/path/ca.pem`` names the CA that signed the server's
certificate) and ``unix:///path/redis.sock``. ACL users go in the user part.

Past one server:

- Redis Cluster: ``redis://any-seed-node:7000/0?cluster=true`` (or ``[redis]
  cluster = true``); the client learns the other nodes from the seed. Every
  key QuantDesk writes is hash-tagged per namespace, so a desk's keys share a
  slot and its multi-key reads and transactions work unchanged.
- Sentinel: ``redis+sentinel://[user:password@]s1:26379,s2:26379/SERVICE[/db]``
  (``rediss+sentinel://`` for TLS): the sentinels are asked for the service's
  current master at every connect, so after a failover the next reconnect
  reaches the new master. The password is the master's; sentinels without
  auth are the common setup.

A URL may carry a password, so every URL that reaches a log, a status line, a
repr or an error message goes through :func:`redact` first, and error text from
the client library goes through :func:`describe_error`.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:
    import redis.asyncio

SCHEMES = ("redis", "rediss", "unix", "redis+sentinel", "rediss+sentinel")
SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
MASK = "***"
# Query parameters redis-py accepts that carry a secret.
SECRET_PARAMS = frozenset({"password", "ssl_password"})


class RedisURLError(ValueError):
    """A Redis URL that cannot be used; the message says what to fix and never
    contains the password."""


def _authority_split(url: str) -> tuple[str, str | None, str]:
    """``url`` as (``scheme://``, userinfo or None, the rest), taking the
    userinfo up to the last ``@``: a password may hold an unencoded ``#``,
    ``@``, ``/`` or ``?``, which a URL parser reads as the start of the
    fragment, path or query and would leave the password's tail in view.
    Never raises."""
    head, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return (head + sep if sep else ""), None, (rest if sep else url)
    userinfo, _, hostpart = rest.rpartition("@")
    if ":" not in userinfo and any(c in userinfo for c in "/?#"):
        return head + sep, None, rest  # an "@" in the path or query, no userinfo
    return head + sep, userinfo, hostpart


def _raw_password(url: str) -> str | None:
    _head, userinfo, _rest = _authority_split(url)
    if userinfo is None or ":" not in userinfo:
        return None
    return userinfo.partition(":")[2]


def redact(url: str) -> str:
    """``url`` with its password (and any secret query parameter) masked.

    The user name stays: it is not a secret and it tells an operator which ACL
    user was used. A fragment is masked (no Redis URL has one, so it can only
    be a piece of something else). Anything that does not parse is masked whole.
    """
    if not isinstance(url, str):
        return "<unparseable redis url>"
    head, userinfo, rest = _authority_split(url)
    shown_user = ""
    if userinfo is not None:
        user, colon, _password = userinfo.partition(":")
        shown_user = f"{user}:{MASK}@" if colon else f"{user}@"
    try:
        parts = urlsplit(head + rest)
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode([(k, MASK if k in SECRET_PARAMS else v) for k, v in pairs], safe="/*")
        fragment = MASK if parts.fragment else ""
        tail = urlunsplit(("", "", parts.path, query, fragment))
    except ValueError:
        return "<unparseable redis url>"
    netloc = parts.netloc
    return f"{head}{shown_user}{netloc}{tail}" if head else f"{shown_user}{netloc}{tail}"


def secrets_of(url: str) -> list[str]:
    """The secret strings a URL carries, raw and percent-decoded."""
    out: list[str] = []
    password = _raw_password(url) if isinstance(url, str) else None
    if password:
        out += [password, unquote(password)]
    try:
        parts = urlsplit(url)
    except ValueError:
        return sorted({s for s in out if s}, key=len, reverse=True)
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        if k in SECRET_PARAMS and v:
            out += [v, quote(v, safe="")]
    return sorted({s for s in out if s}, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """``text`` with every secret of ``url`` masked (for library error text)."""
    for secret in secrets_of(url):
        text = text.replace(secret, MASK)
    return text


def _split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``url`` without user, password or ``password=``, and those two."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return url, None, None
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    for k, v in pairs:
        if k == "password":
            password = v
    query = urlencode([(k, v) for k, v in pairs if k != "password"], safe="/")
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)), user, password


def validate(url: str) -> dict[str, Any]:
    """Check ``url`` and return what it names (no secrets) for messages.

    Raises :class:`RedisURLError` with a fix for a wrong scheme, a missing host,
    a bad port or db, or a CA file that does not exist.
    """
    if not isinstance(url, str) or not url.strip():
        raise RedisURLError("no Redis URL given: pass one like redis://127.0.0.1:6379/0")
    shown = redact(url)
    _head, userinfo, _rest = _authority_split(url.strip())
    if userinfo is not None and any(c in userinfo for c in "#/?@"):
        raise RedisURLError(
            f"the user or password in {shown} holds a character a URL cannot carry as is: "
            "percent-encode it (# as %23, @ as %40, / as %2F, ? as %3F)"
        )
    if url.strip().split("://", 1)[0] in SENTINEL_SCHEMES:
        return _validate_sentinel(url.strip(), shown)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise RedisURLError(f"malformed Redis URL {shown}: use redis://[user:password@]host:port/db") from None
    if parts.scheme not in SCHEMES:
        raise RedisURLError(
            f"unsupported Redis URL scheme in {shown}: use redis://, rediss:// (TLS) or unix://"
        )
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    info: dict[str, Any] = {"scheme": parts.scheme, "user": parts.username or None}
    if parts.scheme == "unix":
        if not parts.path:
            raise RedisURLError(f"{shown} names no socket: use unix:///path/to/redis.sock")
        info["path"] = parts.path
    else:
        if not parts.hostname:
            raise RedisURLError(f"{shown} names no host: use redis://host:6379/0")
        info["host"] = parts.hostname
        info["port"] = port or 6379
        db = query.get("db") or parts.path.strip("/") or "0"
        if not db.isdigit():
            raise RedisURLError(f"database {db!r} in {shown} is not a number: use /0, /1 ...")
        info["db"] = int(db)
    if "cluster" in query:
        info["cluster"] = _flag(query["cluster"], "cluster", shown)
        if info["cluster"] and parts.scheme == "unix":
            raise RedisURLError(f"{shown}: a Redis Cluster is reached over TCP: use redis://seed-host:port/0?cluster=true")
        if info["cluster"] and info.get("db"):
            raise RedisURLError(f"{shown}: a Redis Cluster has only database 0: use /0")
    ca = query.get("ssl_ca_certs")
    if ca is not None:
        if parts.scheme != "rediss":
            raise RedisURLError(f"ssl_ca_certs in {shown} needs TLS: use rediss://")
        if not os.path.isfile(ca):
            raise RedisURLError(f"CA certificate file {ca} (ssl_ca_certs in {shown}) does not exist")
    return info


def _flag(value: str, name: str, shown: str) -> bool:
    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in ("0", "false", "no", "off", ""):
        return False
    raise RedisURLError(f"{name}={value!r} in {shown}: use {name}=true or {name}=false")


def _sentinel_parts(url: str) -> tuple[list[tuple[str, int]], str, int, dict[str, str]]:
    """(sentinel hosts, service name, db, query) of a ``redis+sentinel://`` URL
    (ValueError on a malformed one)."""
    _head, _userinfo, rest = _authority_split(url)
    hostlist, _, tail = rest.partition("/")
    path, _, query = tail.partition("?")
    hosts = []
    for item in hostlist.split(","):
        host, colon, port = item.strip().rpartition(":") if ":" in item else (item.strip(), "", "26379")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(item)
        hosts.append((host.strip("[]"), int(port)))
    service, _, db = path.strip("/").partition("/")
    if not service or (db and not db.isdigit()):
        raise ValueError(path)
    return hosts, unquote(service), int(db or 0), dict(parse_qsl(query, keep_blank_values=True))


def _validate_sentinel(url: str, shown: str) -> dict[str, Any]:
    try:
        hosts, service, db, _query = _sentinel_parts(url)
    except ValueError:
        raise RedisURLError(
            f"malformed Sentinel URL {shown}: use redis+sentinel://[user:password@]s1:26379,s2:26379/SERVICE/0"
        ) from None
    return {"scheme": url.split("://", 1)[0], "sentinels": hosts, "service": service, "db": db}


def is_sentinel(url: str) -> bool:
    """Whether ``url`` names a Sentinel-managed service (a master with replicas)."""
    return url.strip().split("://", 1)[0] in SENTINEL_SCHEMES


def is_cluster(r: object) -> bool:
    """Whether ``r`` is a Redis Cluster client (commands that cross slots differ)."""
    import redis.asyncio

    return isinstance(r, redis.asyncio.RedisCluster)


async def pubsub_of(r: Any) -> Any:
    """A pub/sub of client ``r``; a cluster client first learns the slot map
    (its pub/sub picks a node by the channel's slot and cannot do so before)."""
    if is_cluster(r):
        await r.initialize()
    return r.pubsub()


def client(url: str, *, socket_timeout: float | None = 10.0, **overrides: Any) -> redis.asyncio.Redis:
    """An asyncio Redis client for ``url`` that fails fast on a lost server.

    The library's own retries are off: the feed, the consumers and the
    workspace each reconnect with their own backoff and show the outage.
    """
    import redis.asyncio
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    from redis.credentials import UsernamePasswordCredentialProvider

    info = validate(url)
    kwargs: dict[str, Any] = {
        "socket_connect_timeout": 3.0,
        "socket_timeout": socket_timeout,
        "retry": Retry(NoBackoff(), 0),
        "decode_responses": False,
    }
    if "sentinels" in info:
        return _sentinel_client(url.strip(), info, kwargs, overrides)
    bare, user, password = _split_credentials(url.strip())
    if user or password:
        # Credentials go in a provider, not the connection kwargs: some
        # redis-py versions print those kwargs (password too) in the client repr.
        kwargs["credential_provider"] = UsernamePasswordCredentialProvider(user, password)
    kwargs.update(overrides)
    try:
        if info.get("cluster"):
            return _cluster_client(bare, kwargs)
        return redis.asyncio.Redis.from_url(_without_params(bare, "cluster"), **kwargs)
    except ValueError as exc:
        raise RedisURLError(f"cannot use Redis URL {redact(url)}: {scrub(str(exc), url)}") from None


def _without_params(url: str, *names: str) -> str:
    parts = urlsplit(url)
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in names]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(pairs, safe="/"), parts.fragment))


def _cluster_client(bare: str, kwargs: dict[str, Any]) -> Any:
    """A cluster client seeded by the URL's node. Typed as the plain client on
    purpose: QuantDesk only sends commands both accept (one slot per desk)."""
    import redis.asyncio

    # The cluster client keeps its own retries: they follow MOVED/ASK redirects
    # and a replica's promotion, which a single server never needs.
    kwargs = {k: v for k, v in kwargs.items() if k != "retry"}
    return redis.asyncio.RedisCluster.from_url(_without_params(bare, "cluster", "db"), **kwargs)


def _sentinel_client(url: str, info: dict[str, Any], kwargs: dict[str, Any], overrides: dict[str, Any]) -> Any:
    """The service's master through its sentinels; each new connection asks
    them where the master is now."""
    from redis.asyncio.sentinel import Sentinel
    from redis.credentials import UsernamePasswordCredentialProvider

    _head, userinfo, _rest = _authority_split(url)
    if userinfo is not None:
        user, _, password = userinfo.partition(":")
        kwargs["credential_provider"] = UsernamePasswordCredentialProvider(unquote(user) or None, unquote(password) or None)
    if info["scheme"] == "rediss+sentinel":
        kwargs["ssl"] = True
    kwargs.update(overrides)
    timeouts = {k: kwargs[k] for k in ("socket_connect_timeout", "socket_timeout") if k in kwargs}
    sentinel = Sentinel(info["sentinels"], sentinel_kwargs=timeouts, **kwargs)
    return sentinel.master_for(info["service"], db=info["db"])


async def close_quietly(resource: Any) -> None:
    """Close a client or pub/sub whose connection may already be gone."""
    closer = getattr(resource, "aclose", None) or resource.close
    try:
        await closer()
    except Exception:  # a dead connection has nothing left to report
        pass


def describe_error(exc: BaseException, url: str) -> str:
    """One line for a trader or an operator: what failed and what to do.

    The URL is redacted and the library's text is scrubbed of the password.
    """
    import redis.exceptions as rx

    where = redact(url)
    detail = scrub(str(exc) or type(exc).__name__, url)
    if isinstance(exc, rx.AuthenticationError) or "WRONGPASS" in detail or "NOAUTH" in detail:
        return f"Redis at {where} refused the credentials: check the user and password in the URL"
    if isinstance(exc, rx.NoPermissionError) or "NOPERM" in detail:
        return f"Redis user at {where} lacks a permission ({detail}): grant it with ACL SETUSER"
    if isinstance(exc, rx.TimeoutError | TimeoutError):
        return f"Redis at {where} timed out: check the server and network"
    if isinstance(exc, rx.ConnectionError | OSError):
        return f"Redis at {where} unreachable ({detail}): is the server running?"
    if isinstance(exc, RedisURLError):
        return str(exc)
    return f"Redis at {where} failed: {detail}"


def redis_errors() -> tuple[type[BaseException], ...]:
    """What a lost or refusing Redis raises: the reconnect loops catch these."""
    import redis.exceptions

    return (redis.exceptions.RedisError, OSError)


def raise_if_cancelled() -> None:
    """Honour a cancel that a library swallowed.

    redis-py sends with ``asyncio.wait_for``, which on Python 3.11 can lose a
    cancel that arrives as the send completes; the task still counts it, so
    every reconnect loop checks here and stops as it was asked to."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError()
