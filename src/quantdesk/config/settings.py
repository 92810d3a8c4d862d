"""QuantDesk configuration: pydantic-settings models and a loader that reports
every problem at once.

Sources, highest precedence first:
  1. flags (``load_config(flags={"ui": {"layout": "scalper"}})`` or dotted keys)
  2. environment: ``QUANTDESK_`` prefix, ``__`` between levels, e.g.
     ``QUANTDESK_UI__FPS=30``, ``QUANTDESK_VENUES__DRIFT__RPC_URLS='["https://..."]'``
  3. the TOML file: ``--config PATH``, else ``$QUANTDESK_CONFIG``, else
     ``<user config dir>/config.toml`` (silently absent is fine; a file named
     explicitly must exist)
  4. defaults (``config.example.toml`` documents every key)

The venues' sections come from the venue registry: each registered venue
package brings its own model, at ``[venues.NAME]`` (present: turned on) or as
a top-level table such as ``[sim]``. ``Settings`` holds the venues registered
when this module was imported; ``settings_model()`` follows ``registry.reload``.

Every section forbids unknown keys. ``load_config`` merges the sources while
remembering which one set each key, validates once, and turns each pydantic
error into a ``Problem`` naming that source, the dotted key and a fix.
Passwords and DSNs are ``SecretStr``: they never appear in a repr or a message.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, create_model, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from quantdesk.config.paths import default_journal_path, user_config_dir
from quantdesk.core.actions import flatten_bindings
from quantdesk.core.problems import Problem, ProblemsError, did_you_mean
from quantdesk.trading.risk import LIMIT_BOUNDS, RiskLimits
from quantdesk.venues import registry

ENV_PREFIX = "QUANTDESK_"
ENV_CONFIG_PATH = "QUANTDESK_CONFIG"  # names the config file; not a setting itself
# Variables single commands read directly; they are not settings and not typos.
ENV_NOT_SETTINGS = frozenset({ENV_CONFIG_PATH, "QUANTDESK_LOG_DIR", "QUANTDESK_REDIS_URL", "QUANTDESK_SUPABASE_TOKEN"})
_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)  # and every number bounded


class UISettings(BaseModel):
    model_config = _STRICT

    fps: float = Field(default=20.0, gt=0, le=120, description="frames per second the panes repaint at, at most")
    theme: str = Field(default="dark", description="theme name: shipped (dark, amber, high-contrast) or a user theme")
    layout: str = Field(default="overview", description="layout at start: overview, scalper, carry or a saved one")
    keymap: str = Field(default="default", description="shipped keymap the [keys] section and keymap.toml adjust")
    history_size: int = Field(default=500, ge=1, le=100_000, description="command-line history entries kept")
    confirm_quit: bool = Field(default=True, description="ask before quitting while positions or orders are open")


class RedisSettings(BaseModel):
    model_config = _STRICT

    url: SecretStr | None = Field(default=None, description="redis://[:password@]host:port/db; unset: no sharing")
    team: str = Field(default="default", min_length=1, description="workspace shared with everyone using this name")
    cluster: bool = Field(
        default=False, description="the URL names a seed node of a Redis Cluster (same as ?cluster=true on the URL)"
    )

    def url_for(self, url: str) -> str:
        """``url`` as the client should open it: ``?cluster=true`` added when
        ``cluster`` is set and the URL does not say otherwise."""
        if not self.cluster or "cluster=" in url.partition("?")[2]:
            return url
        return url + ("&" if "?" in url else "?") + "cluster=true"


class DbSettings(BaseModel):
    model_config = _STRICT

    dsn: SecretStr | None = Field(default=None, description="PostgreSQL/Supabase DSN for the shared journal")
    user_id: str | None = Field(default=None, description="the Supabase user id journal rows belong to")
    team_id: str | None = Field(default=None, description="the Supabase team id shared rows belong to")


class SupabaseSettings(BaseModel):
    """``[sync.supabase]``: the project a Supabase team hands its traders (URL and
    anon key); the trader's own session comes from ``quantdesk login supabase``."""

    model_config = _STRICT

    url: str = Field(pattern=r"^https?://[^\s/]+(/[^\s]*)?$", description="project URL, e.g. https://PROJECT.supabase.co")
    anon_key: SecretStr = Field(min_length=1, description="the project's anon (public) API key; never printed")
    team_id: str | None = Field(default=None, description="the team (uuid in public.teams) to share the journal and workspace with")
    poll_s: float = Field(default=5.0, ge=0.5, le=3600, description="how often teammates' workspace changes are read, s")
    realtime: bool = Field(default=False, description="receive teammates' workspace changes by Supabase Realtime, polling as a fallback")
    timeout_s: float = Field(default=10.0, gt=0, le=120, description="how long one request may take before the sync counts as down, s")
    jwt_secret: SecretStr | None = Field(
        default=None, min_length=32,
        description="serve ssh only: the project's JWT secret, to sign each served trader's session; never printed",
    )

    @field_validator("team_id")
    @classmethod
    def _team_uuid(cls, v: str | None) -> str | None:
        import uuid

        if v is None:
            return v
        try:
            return str(uuid.UUID(v))
        except ValueError:
            raise ValueError("team_id must be the team's uuid from public.teams, e.g. 1f0e4c1a-...") from None


class SyncSettings(BaseModel):
    """``[sync]``: remote stores reached through an API rather than a password."""

    model_config = _STRICT

    supabase: SupabaseSettings | None = Field(default=None, description="Supabase through its API; unset: off")


class NewsSourceSettings(BaseModel):
    """One ``[[news.sources]]`` entry: an RSS/Atom feed or a JSON news API."""

    model_config = _STRICT

    kind: Literal["rss", "atom", "json"] = Field(description='"rss" (RSS or Atom; "atom" also works) or "json" (a CryptoPanic-style results[] API)')
    url: str = Field(pattern=r"^https?://[^\s/]+(/[^\s]*)?$", description="the feed's URL; {api_key} in it is replaced by the key")
    name: str | None = Field(default=None, max_length=40, description="shown as the headline's source; unset: the URL's host")
    api_key_env: str | None = Field(
        default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="environment variable holding the API key (never written in the config, never shown)",
    )  # fmt: skip
    api_key_param: str = Field(
        default="auth_token", pattern=r"^[A-Za-z0-9_.-]{1,40}$",
        description="query parameter the key is sent in, unless the URL has {api_key}",
    )  # fmt: skip
    poll_s: float = Field(default=60.0, ge=5, le=86_400, description="seconds between polls (a 429 or an error waits longer)")
    timeout_s: float = Field(default=10.0, gt=0, le=120, description="how long one request may take, s")

    @property
    def label(self) -> str:
        return self.name or (urlsplit(self.url).hostname or self.url)


class NewsSettings(BaseModel):
    """``[news]``: where headlines come from; ``[[news.sources]]`` one per feed."""

    model_config = _STRICT

    sources: list[NewsSourceSettings] = Field(default_factory=list, description="the feeds polled; none: no news")

    @model_validator(mode="after")
    def _unique_names(self) -> NewsSettings:
        seen: set[str] = set()
        for s in self.sources:
            if s.label in seen:
                raise ValueError(f"two news sources are called {s.label!r}: give one a name = \"...\"")
            seen.add(s.label)
        return self


class ApiSettings(BaseModel):
    """The ``[api]`` section: ``quantdesk serve api``, the read-only data API."""

    model_config = _STRICT

    listen: str = Field(default="127.0.0.1:8710", pattern=r"^\[?[^\s\]]*\]?:\d{1,5}$", description="HOST:PORT the API listens on")
    jwt_secret: SecretStr | None = Field(
        default=None, description="HS256 secret tokens are signed with (a Supabase project's JWT secret works); unset: no API"
    )
    rate_limit_per_s: float = Field(default=20.0, gt=0, le=100_000, description="requests per second allowed per token, sustained")
    rate_limit_burst: int = Field(default=40, ge=1, le=1_000_000, description="requests a token may make at once above the sustained rate")


class WebhookSettings(BaseModel):
    """``[alerts.webhook]``: where fired alerts are posted (Slack or Discord incoming webhook)."""

    model_config = _STRICT

    url: SecretStr | None = Field(
        default=None, description="https://... incoming webhook URL (Slack or Discord); unset: no webhook; never shown"
    )
    timeout_s: float = Field(default=5.0, gt=0, le=60, description="seconds one delivery attempt may take")
    retries: int = Field(default=4, ge=0, le=20, description="attempts after the first when the server fails or is unreachable")
    backoff_s: float = Field(default=1.0, gt=0, le=60, description="wait before the first retry, doubled each time (at most 60 s)")

    @field_validator("url")
    @classmethod
    def _https(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None or not v.get_secret_value():
            return None
        if not re.match(r"^https?://[^/\s]+/\S*$", v.get_secret_value()):
            raise ValueError("must be an http(s):// webhook URL, as Slack or Discord gives it")
        return v


class AlertsSettings(BaseModel):
    """``[alerts]``: how alert rules fire and where they are delivered."""

    model_config = _STRICT

    cooldown_s: int = Field(default=300, ge=0, le=7 * 86_400, description="seconds a fired rule stays quiet (a rule's COOLDOWN overrides)")
    bell: bool = Field(default=True, description="ring the terminal bell when an alert fires (heard over SSH too)")
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)


class JournalSettings(BaseModel):
    model_config = _STRICT

    path: Path | None = Field(default=None, description="SQLite journal file; unset: <user data dir>/journal.sqlite3")

    @property
    def resolved_path(self) -> Path:
        return self.path.expanduser() if self.path is not None else default_journal_path()


class DeadManSettings(BaseModel):
    model_config = _STRICT

    enabled: bool = Field(default=False, description="cancel all orders when the console loses its heartbeat")


def _limit(name: str, default: Any, description: str) -> Any:
    lo, hi = LIMIT_BOUNDS[name]
    return Field(default, ge=lo, le=hi, description=f"{description}; {lo} to {hi}")


_MONEY_LO, _MONEY_HI = LIMIT_BOUNDS["max_position_notional_per_market"]
PerMarketCap = typing.Annotated[Decimal, Field(ge=_MONEY_LO, le=_MONEY_HI, allow_inf_nan=False)]


class RiskSettings(BaseModel):
    """The ``[risk]`` section: every number bounded, so no value can make a
    risk check raise. ``limits()`` is what the risk engine takes."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    max_order_notional: Decimal = _limit("max_order_notional", Decimal(50_000), "largest single order, quote")
    max_position_notional: Decimal = _limit(
        "max_position_notional", Decimal(200_000), "largest position per market with its resting orders, quote"
    )
    max_position_notional_per_market: dict[str, PerMarketCap] = Field(
        default_factory=dict, description='overrides by market symbol, e.g. {"BTC-PERP" = 500000}'
    )
    max_leverage: Decimal = _limit("max_leverage", Decimal(10), "account leverage after the order, x")
    price_band_bps: int = _limit(
        "price_band_bps", 500, "how far a price, or a market order's fills, may go through the oracle, bps"
    )
    max_open_orders: int = _limit("max_open_orders", 50, "resting orders, bracket legs included")
    max_orders_per_second: int = _limit("max_orders_per_second", 10, "orders accepted per second")
    max_data_age_s: Decimal = _limit("max_data_age_s", Decimal(10), "no orders on a market whose data is older, s")
    kill_switch: bool = Field(default=False, description="start with new orders halted")
    self_trade: Literal["reject", "cancel_resting", "cancel_both"] = Field(
        default="reject", description="paper venues: an order that would trade with your own resting order"
    )

    def limits(self) -> RiskLimits:
        return RiskLimits(**{name: getattr(self, name) for name in type(self).model_fields})


KeySpec = str | list[str]


class _SettingsBase(BaseSettings):
    """Sources and checks shared by every ``Settings`` model (see ``settings_model``)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        case_sensitive=False,
    )

    if TYPE_CHECKING:  # the sections ``_build_settings_model`` adds to every model
        ui: UISettings
        risk: RiskSettings
        venues: Any  # one optional section per registered venue
        redis: RedisSettings
        db: DbSettings
        sync: SyncSettings
        api: ApiSettings
        news: NewsSettings
        journal: JournalSettings
        alerts: AlertsSettings
        dead_man: DeadManSettings
        keys: dict[str, KeySpec]
        aliases: dict[str, str]
        signer: str

    def secret_values(self) -> list[str]:
        """Every secret this configuration holds (``SecretStr`` values and the
        passwords inside URLs), for log redaction: a log never prints them."""
        found: list[str] = []

        def walk(value: Any) -> None:
            if isinstance(value, SecretStr):
                raw = value.get_secret_value()
                found.append(raw)
                password = urlsplit(raw).password if "://" in raw else None
                if password:
                    found.append(password)
            elif isinstance(value, BaseModel):
                for name in type(value).model_fields:
                    walk(getattr(value, name))
            elif isinstance(value, Mapping):
                for v in value.values():
                    walk(v)
            elif isinstance(value, (list, tuple)):
                for v in value:
                    walk(v)

        walk(self)
        return [v for v in found if v]

    @field_validator("signer", check_fields=False)
    @classmethod
    def _check_signer(cls, v: str) -> str:
        from quantdesk.signing.spec import SignerSpecError, parse_signer

        try:
            parse_signer(v)
        except SignerSpecError as exc:
            raise ValueError(str(exc)) from None
        return v

    @field_validator("keys", mode="before", check_fields=False)
    @classmethod
    def _flatten_keys(cls, v: Any) -> Any:
        # Unquoted dotted ids in TOML ([keys] order.buy = "b") arrive nested.
        if isinstance(v, Mapping):
            return flatten_bindings(v)
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        if _MERGED_ALREADY.get():
            return (init_settings,)  # load_config merged the sources itself
        path = config_path()
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=path))


def _with_defaults(specs: dict[str, registry.VenueSpec]) -> Any:
    """A before-validator filling each present [venues.NAME] section with that
    venue's documented defaults under the user's keys."""

    def fill(cls: type, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        out = dict(data)
        for name, spec in specs.items():
            section = out.get(name)
            if spec.defaults is not None and isinstance(section, Mapping):
                out[name] = {**spec.defaults(name), **section}
        return out

    return model_validator(mode="before")(classmethod(fill))  # type: ignore[arg-type]  # pydantic accepts a classmethod


def _default_section(spec: registry.VenueSpec, name: str) -> Any:
    return lambda: spec.config.model_validate(dict(spec.defaults(name)) if spec.defaults else {})


def _build_settings_model(specs: tuple[registry.VenueSpec, ...]) -> type[_SettingsBase]:
    tables: dict[str, Any] = {}
    sections: dict[str, Any] = {}
    owners: dict[str, registry.VenueSpec] = {}
    for spec in specs:
        for name in spec.names:
            if spec.top_level:
                tables[name] = (spec.config, Field(default_factory=_default_section(spec, name), description=spec.summary))
            else:
                sections[name] = (spec.config | None, Field(default=None, description=spec.summary))
                owners[name] = spec
    venues = create_model(
        "VenuesSettings",
        __config__=_STRICT,
        __doc__="Real venues. A section present turns the venue on; its keys override its documented defaults.",
        __validators__={"_fill_defaults": _with_defaults(owners)},
        **sections,
    )
    fields: dict[str, Any] = {
        # Which key signs orders, for every venue that trades (quantdesk.signing.spec).
        "signer": (str, Field(default="none", description='keypair:PATH, ledger:PATH, agent:SOCKET or "none" (read-only)')),
        "ui": (UISettings, Field(default_factory=UISettings)),
        **tables,
        "risk": (RiskSettings, Field(default_factory=RiskSettings)),
        "venues": (venues, Field(default_factory=venues)),
        "redis": (RedisSettings, Field(default_factory=RedisSettings)),
        "db": (DbSettings, Field(default_factory=DbSettings)),
        "sync": (SyncSettings, Field(default_factory=SyncSettings)),
        "api": (ApiSettings, Field(default_factory=ApiSettings)),
        "news": (NewsSettings, Field(default_factory=NewsSettings)),
        "journal": (JournalSettings, Field(default_factory=JournalSettings)),
        "alerts": (AlertsSettings, Field(default_factory=AlertsSettings)),
        "dead_man": (DeadManSettings, Field(default_factory=DeadManSettings)),
        # Binding id -> key or keys; overrides the keymap for single ids.
        "keys": (dict[str, KeySpec], Field(default_factory=dict)),
        # Word -> market for the command line and palette (sol = "SOL-PERP" is built in).
        "aliases": (dict[str, str], Field(default_factory=dict)),
    }
    model: type[_SettingsBase] = create_model(
        "Settings",
        __base__=_SettingsBase,
        __doc__="All of QuantDesk's settings. Build it with ``load_config``; calling ``Settings()`` "
        "directly reads the same sources but stops at the first problem.",
        **fields,
    )
    return model


_MODELS: dict[tuple[int, ...], type[_SettingsBase]] = {}


def settings_model() -> type[_SettingsBase]:
    """The ``Settings`` model for the venues registered now (RegistryError when
    there are none: the installation is incomplete)."""
    specs = registry.specs()
    key = tuple(id(s) for s in specs)
    if key not in _MODELS:
        _MODELS[key] = _build_settings_model(specs)
    return _MODELS[key]


def _initial_model() -> type[_SettingsBase]:
    try:
        return settings_model()
    except registry.RegistryError:
        return _build_settings_model(())  # check_config reports the missing venues


if TYPE_CHECKING:
    Settings = _SettingsBase  # every model built here has the sections declared on the base
else:
    Settings = _initial_model()


# Set while load_config validates the sources it merged (and traced) itself.
_MERGED_ALREADY: ContextVar[bool] = ContextVar("quantdesk_config_merged", default=False)


# ------------------------------------------------------------------ loading


def configured_journal_path(flag: str | Path | None = None) -> Path:
    """The journal a command should open: ``--journal``, else the one the
    terminal writes (``[journal] path`` in the config, or its default)."""
    from quantdesk.trading.journal import JournalError

    if flag:
        return Path(flag).expanduser()
    try:
        return Path(load_config().journal.resolved_path)
    except ProblemsError as exc:
        raise JournalError(f"{exc} Fix these, or pass --journal PATH.") from None


def default_config_path() -> Path:
    return user_config_dir() / "config.toml"


def config_path(explicit: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The config file in use: ``--config``, else ``$QUANTDESK_CONFIG``, else the user config dir."""
    environ = os.environ if environ is None else environ
    if explicit is not None:
        return Path(explicit).expanduser()
    if environ.get(ENV_CONFIG_PATH):
        return Path(environ[ENV_CONFIG_PATH]).expanduser()
    return default_config_path()


Origins = dict[tuple[str, ...], str]


def _merge(base: dict[str, Any], new: Mapping[str, Any], source: str, origins: Origins, prefix: tuple[str, ...] = ()) -> None:
    for k, v in new.items():
        path = (*prefix, k)
        if isinstance(v, Mapping) and isinstance(base.get(k), dict):
            _merge(base[k], v, source, origins, path)
        else:
            base[k] = _deep_copy(v)
            _mark(v, source, origins, path)


def _deep_copy(v: Any) -> Any:
    return {k: _deep_copy(x) for k, x in v.items()} if isinstance(v, Mapping) else v


def _mark(v: Any, source: str, origins: Origins, path: tuple[str, ...]) -> None:
    origins[path] = source
    if isinstance(v, Mapping):
        for k, x in v.items():
            _mark(x, source, origins, (*path, k))


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``{"ui.fps": 30}`` -> ``{"ui": {"fps": 30}}``; nested dicts pass through,
    ``None`` (a flag not given) is dropped."""
    out: dict[str, Any] = {}
    for k, v in flat.items():
        if v is None:
            continue
        if k.startswith("keys."):
            parts = ["keys", k[len("keys.") :]]  # binding ids keep their dots
        else:
            parts = k.split(".")
        d = out
        for p in parts[:-1]:
            d = d.setdefault(p, {})
        d[parts[-1]] = v
    return out


def read_env(environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    """``QUANTDESK_*`` variables as a nested dict, plus key path -> variable name.
    JSON-looking values (lists, tables) are decoded; the rest stay strings and
    are converted by validation."""
    data: dict[str, Any] = {}
    names: dict[tuple[str, ...], str] = {}
    for name, raw in sorted(environ.items()):
        if not name.upper().startswith(ENV_PREFIX) or name.upper() in ENV_NOT_SETTINGS:
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__") if p]
        if not parts:
            continue
        if parts[0] == "keys" and len(parts) > 1:
            # Binding ids contain dots: QUANTDESK_KEYS__ORDER.BUY is not portable,
            # so QUANTDESK_KEYS__ORDER__BUY means keys["order.buy"].
            parts = ["keys", ".".join(parts[1:])]
        value: Any = raw
        if raw.strip()[:1] in ("[", "{"):
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw
        d = data
        for p in parts[:-1]:
            nxt = d.setdefault(p, {})
            if not isinstance(nxt, dict):
                nxt = d[p] = {}
            d = nxt
        d[parts[-1]] = value
        names[tuple(parts)] = name
    return data, names


_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


def read_toml(path: Path, explicit: bool, problems: list[Problem]) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            problems.append(
                Problem(str(path), "", "config file not found", "check the --config path, or run `quantdesk config path`")
            )
        return {}
    except IsADirectoryError:
        problems.append(Problem(str(path), "", "is a directory, not a config file", "point --config at a .toml file"))
        return {}
    except (OSError, UnicodeDecodeError) as e:
        problems.append(Problem(str(path), "", f"cannot read the file: {getattr(e, 'strerror', None) or e}", "check its permissions and that it is UTF-8 text"))
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = _TOML_POS.search(str(e))
        what = _TOML_POS.sub("", str(e)).strip()
        where = f"{path}:{m.group(1)}:{m.group(2)}" if m else str(path)
        problems.append(Problem(where, "", f"not valid TOML: {what}", "fix the syntax at that line and column; text values need quotes"))
        return {}


def load_config(
    config: str | Path | None = None,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Any:
    """Settings from all sources; raises ``ProblemsError`` listing every problem."""
    settings, problems = check_config(config, flags, environ)
    if problems:
        raise ProblemsError(problems)
    assert settings is not None
    return settings


def check_config(
    config: str | Path | None = None,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Any, list[Problem]]:
    """Like ``load_config`` but returns (settings, problems) instead of raising.
    Settings is None when validation failed; it can be present alongside
    problems that do not stop validation (unknown binding ids, a missing file)."""
    environ = os.environ if environ is None else environ
    problems: list[Problem] = []
    path = config_path(config, environ)
    explicit = config is not None or bool(environ.get(ENV_CONFIG_PATH))
    file_data = read_toml(path, explicit, problems)
    env_data, env_names = read_env(environ)
    flag_data = _nest(flags or {})

    merged: dict[str, Any] = {}
    origins: Origins = {}
    _merge(merged, file_data, str(path), origins)
    _merge(merged, env_data, "environment", origins)
    _merge(merged, flag_data, "flags", origins)

    problems.extend(_unknown_binding_ids(merged, origins, env_names, path))
    try:
        model = settings_model()
    except registry.RegistryError as exc:
        problems.append(Problem("installation", "venues", str(exc), "run `pip install .` in the QuantDesk folder"))
        return None, problems
    token = _MERGED_ALREADY.set(True)
    try:
        settings = model(**merged)
    except ValidationError as e:
        seen: set[tuple[str, str]] = set()
        for err in e.errors(include_url=False):
            p = _problem(err, origins, env_names, path)
            # A value that fits no member of a union fails once per member: report it once.
            if (p.source, p.key) not in seen:
                seen.add((p.source, p.key))
                problems.append(p)
        return None, problems
    finally:
        _MERGED_ALREADY.reset(token)
    return settings, problems


def _unknown_binding_ids(merged: Mapping[str, Any], origins: Origins, env_names: Mapping[tuple[str, ...], str], path: Path) -> list[Problem]:
    """[keys] entries that name no action (clashes are the keymap's to report)."""
    from quantdesk.core.actions import BY_ID

    keys = merged.get("keys")
    if not isinstance(keys, Mapping):
        return []
    out = []
    for action_id in flatten_bindings(keys):
        if action_id not in BY_ID:
            loc = ("keys", action_id) if ("keys", action_id) in origins else ("keys", *action_id.split("."))
            err = {"loc": loc, "type": "unknown_binding_id"}
            p = _problem(err, origins, env_names, path)
            out.append(Problem(p.source, f"keys.{action_id}", "unknown binding id", did_you_mean(action_id, BY_ID)))
    return out


# -------------------------------------------------------- error messages

_SECRET_WORDS = ("dsn", "url", "password", "secret", "token", "key")


def _problem(err: Mapping[str, Any], origins: Origins, env_names: Mapping[tuple[str, ...], str], path: Path) -> Problem:
    loc = tuple(str(x) for x in err["loc"])
    # Tagged unions add model names to loc; keep only real keys.
    loc = tuple(x for x in loc if not x.startswith("function-") and x not in ("str", "list[str]"))
    dotted = _dotted(loc)
    source = "defaults"
    for n in range(len(loc), 0, -1):
        if loc[:n] in origins:
            source = origins[loc[:n]]
            if source == "environment":
                var = env_names.get(loc[:n]) or ENV_PREFIX + "__".join(x.upper() for x in loc[:n])
                source = f"environment variable {var}"
            elif source == str(path):
                line = _line_of(path, loc[:n])
                if line:
                    source = f"{path}:{line}"
            break
    kind = err["type"]
    secret = any(w in dotted.lower() for w in _SECRET_WORDS) and not dotted.startswith("keys")
    if kind == "extra_forbidden":
        choices = _fields_at(loc[:-1])
        return Problem(source, dotted, "unknown key", did_you_mean(loc[-1], choices) if choices is not None else "remove it")
    if kind == "missing":
        return Problem(source, dotted, "required key is missing", f"add {loc[-1]} = ... to that section")
    if not loc:  # a check on the whole configuration
        return Problem(source, "", _friendly(kind, str(err.get("msg", "invalid value"))).removeprefix("value error, "))
    if loc[0] == "keys" and len(loc) > 1:
        return Problem(source, dotted, "must be a key or a list of keys", f'e.g. "{loc[1]}" = ["b", "f2"]')
    message = _friendly(kind, err.get("msg", "invalid value"))
    shown = err.get("input")
    if not secret and isinstance(shown, (str, int, float, bool)) and len(repr(shown)) <= 40:
        message += f", got {shown!r}"
    example = _example(loc)
    fix = f"e.g. {loc[-1]} = {example}" if example else "see config.example.toml for the allowed values"
    return Problem(source, dotted, message, fix)


def _friendly(kind: str, msg: str) -> str:
    table = {
        "int_parsing": "must be a whole number",
        "int_type": "must be a whole number",
        "int_from_float": "must be a whole number",
        "float_parsing": "must be a number",
        "float_type": "must be a number",
        "bool_parsing": "must be true or false",
        "bool_type": "must be true or false",
        "string_type": "must be a string in quotes",
        "list_type": "must be a list, e.g. [\"a\", \"b\"]",
        "dict_type": "must be a table (a [section])",
        "model_type": "must be a table (a [section])",
        "model_attributes_type": "must be a table (a [section])",
    }
    if kind in table:
        return table[kind]
    return msg[0].lower() + msg[1:] if msg else "invalid value"


def _is_index(part: str) -> bool:
    """A list position in an error's location. ASCII digits only: a key such as
    "²" passes ``str.isdigit`` and then fails ``int``."""
    return part.isascii() and part.isdigit()


def _dotted(loc: tuple[str, ...]) -> str:
    """``venues.drift.markets.0.symbol`` -> ``venues.drift.markets[1].symbol`` (counted from 1)."""
    out = ""
    for part in loc:
        out += f"[{int(part) + 1}]" if _is_index(part) and out else (f".{part}" if out else part)
    return out


def _unwrap(annotation: Any) -> Any:
    """The model class inside ``Model | None`` or ``list[Model]`` (or the annotation itself)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list):
        for a in typing.get_args(annotation):
            if isinstance(a, type) and issubclass(a, BaseModel):
                return a
    return annotation


def _field_at(loc: tuple[str, ...]) -> Any:
    model: Any = settings_model()
    info = None
    for part in (p for p in loc if not _is_index(p)):
        model = _unwrap(model)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        info = model.model_fields.get(part)
        if info is None:
            return None
        model = info.annotation
    return info


def _fields_at(loc: tuple[str, ...]) -> list[str] | None:
    model: Any = settings_model()
    for part in (p for p in loc if not _is_index(p)):
        if typing.get_origin(model) is dict:  # ``part`` is a key of a table of models
            model = typing.get_args(model)[1]
            continue
        model = _unwrap(model)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        info = model.model_fields.get(part)
        if info is None:
            return None
        model = info.annotation
    model = _unwrap(model)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return None


def _example(loc: tuple[str, ...]) -> str | None:
    info = _field_at(loc)
    if info is None or info.default is None or info.default is ... or not isinstance(info.default, (str, int, float, bool, Decimal)):
        # A list element or a field without a scalar default: show the type instead.
        if info is not None and info.annotation in (int, float, bool, str):
            return {"int": "1", "float": "1.0", "bool": "true", "str": '"text"'}[info.annotation.__name__]
        return None
    d = info.default
    if isinstance(d, Decimal):
        return f"{d.normalize():f}"
    if isinstance(d, bool):
        return "true" if d else "false"
    if isinstance(d, str):
        return json.dumps(d)
    return str(d)


def _line_of(path: Path, loc: tuple[str, ...]) -> int | None:
    """Best-effort line of ``loc`` in the TOML file, for messages."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    table: tuple[str, ...] = ()
    header = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
    keyline = re.compile(r"^\s*([A-Za-z0-9_.\"'-]+)\s*=")
    for n, line in enumerate(lines, start=1):
        m = header.match(line)
        if m:
            table = tuple(p.strip().strip("\"'") for p in m.group(1).split("."))
            if table == loc:
                return n
            continue
        k = keyline.match(line)
        if k:
            key = tuple(p.strip().strip("\"'") for p in k.group(1).split("."))
            if (*table, *key) == loc or (table + (k.group(1).strip().strip("\"'"),)) == loc:
                return n
    return None
