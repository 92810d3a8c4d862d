"""The SSH server's keys: its own host key and the traders' authorized keys.

The host key is an Ed25519 key generated on first start (mode 0600) and
reused afterwards, so traders' ``known_hosts`` keep matching; a key file
others can read is refused, as a keypair file is.

Each authorized key names its trader: ``environment="QUANTDESK_USER=alice"``
on the line wins, else the key's comment (``ssh-ed25519 AAAA... alice``).
That name picks the trader's workspace user, history, preferences, journal
file and paper accounts, so it must be a plain word. With the server's
``[db]`` or ``[sync.supabase]`` journal sync,
``environment="QUANTDESK_DB__USER_ID=<uuid>"`` on the line gives the trader's
database user id (their Supabase user), which owns their journal's rows so
row-level security keeps traders apart.
"""

from __future__ import annotations

import os
import re
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh

USER_OPTION = "QUANTDESK_USER"
USER_ID_OPTION = "QUANTDESK_DB__USER_ID"  # the name the terminal's own [db] user id has in the environment
USER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
KEY_TYPES = re.compile(r"^(ssh-|ecdsa-|sk-)")


class KeyFileError(ValueError):
    """A key file that cannot be used; the message says what to do."""


@dataclass(frozen=True)
class HostKey:
    key: Any  # asyncssh.SSHKey
    path: Path
    created: bool

    @property
    def fingerprint(self) -> str:
        return str(self.key.get_fingerprint("sha256"))


def load_or_create_host_key(path: Path) -> HostKey:
    """The host key at ``path``; a new Ed25519 key written there (0600) if absent."""
    path = path.expanduser()
    if not path.exists():
        key = asyncssh.generate_private_key("ssh-ed25519", comment="quantdesk serve ssh")
        data = key.export_private_key("openssh")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        except OSError as exc:
            raise KeyFileError(f"cannot write the host key {path}: {exc.strerror or exc}; "
                               "pick a writable place with --host-key PATH") from None
        return HostKey(key, path, created=True)
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise KeyFileError(f"cannot read the host key {path}: {exc.strerror or exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"the host key {path} can be read by other users; run `chmod 600 {path}` and start again")
    try:
        key = asyncssh.read_private_key(str(path))
    except (OSError, asyncssh.KeyImportError, ValueError) as exc:
        raise KeyFileError(f"the host key {path} is not an SSH private key ({_reason(exc)}); "
                           "move it away to have a new one generated, or name another with --host-key") from None
    return HostKey(key, path, created=False)


@dataclass(frozen=True)
class AuthorizedKey:
    key: Any  # asyncssh.SSHKey (public)
    user: str
    line: int
    user_id: str = ""  # the trader's database user id (a uuid), for [db] and [sync.supabase] journal sync


def load_authorized_keys(path: Path) -> list[AuthorizedKey]:
    """Every key in ``path`` with the trader it names. Raises ``KeyFileError``
    listing every bad line at once."""
    path = path.expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read the authorized keys {path}: {_reason(exc)}; "
                           "name a file of OpenSSH public keys with --authorized-keys PATH") from None
    keys: list[AuthorizedKey] = []
    problems: list[str] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            keys.append(_parse_line(line, n))
        except KeyFileError as exc:
            problems.append(f"{path}:{n}: {exc}")
    if problems:
        raise KeyFileError("\n".join(problems))
    if not keys:
        raise KeyFileError(f"{path} holds no public key: add a trader's key (the line of their id_ed25519.pub)")
    return keys


def _parse_line(line: str, n: int) -> AuthorizedKey:
    try:
        entry = asyncssh.import_authorized_keys(line)
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise KeyFileError(f"not a public key line ({_reason(exc)})") from None
    key_text = _key_part(line)
    if key_text is None:
        raise KeyFileError("not a public key line (certificates and X.509 subjects are not accepted)")
    try:
        key = asyncssh.import_public_key(key_text)
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise KeyFileError(f"not a public key line ({_reason(exc)})") from None
    options = entry.validate(key, "", "127.0.0.1") or {}
    env = options.get("environment")
    user = env.get(USER_OPTION) if isinstance(env, dict) else None
    user = user or key.get_comment() or ""
    if not user:
        raise KeyFileError(f'no trader name: add environment="{USER_OPTION}=NAME" before the key or a comment after it')
    if not USER_RE.match(user):
        raise KeyFileError(f"trader name {user!r} is not a plain word: use letters, digits, '.', '_' or '-' (64 at most)")
    user_id = env.get(USER_ID_OPTION, "") if isinstance(env, dict) else ""
    if user_id:
        try:
            user_id = str(uuid.UUID(user_id))
        except ValueError:
            raise KeyFileError(f"{USER_ID_OPTION} {user_id!r} is not a uuid: give {user}'s database user id "
                               "(their Supabase user, Authentication > Users)") from None
    return AuthorizedKey(key, user, n, user_id)


def _key_part(line: str) -> str | None:
    """The ``type base64 [comment]`` part of a line, after any options."""
    tokens = line.split()
    for i, tok in enumerate(tokens):
        if KEY_TYPES.match(tok) and i + 1 < len(tokens):
            return " ".join(tokens[i:])
    return None


def authorized_entry(keys: list[AuthorizedKey], key: Any) -> AuthorizedKey | None:
    """The entry of ``key`` (a client's public key), or None."""
    data = key.public_data
    return next((ak for ak in keys if ak.key.public_data == data), None)


def trader_for(keys: list[AuthorizedKey], key: Any) -> str | None:
    """The trader ``key`` (a client's public key) belongs to, or None."""
    entry = authorized_entry(keys, key)
    return entry.user if entry is not None else None


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or exc) or type(exc).__name__
