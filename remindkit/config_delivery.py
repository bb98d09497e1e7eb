"""The delivery half of the configuration: ``[store]``, ``[providers]``, ``[dispatch]``, ``[feed]``.

Validated with the rest of the file by :mod:`remindkit.config` (errors name the dotted key).
Provider tables (``[providers.file]``, ``[providers.twilio]`` …) are checked here only for
their name; each provider validates its own options when it is built. Secrets never live
in these tables: providers read them from the environment.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from remindkit.config_errors import config_error, shown
from remindkit.models import Channel

DEFAULT_STORE_URL = "sqlite:///remindkit.db"
# The audit record is kept five years by default (SPEC §6.1).
DEFAULT_RETENTION_DAYS = 5 * 365 + 1
_STORE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")
_STORE_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://\S*")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StoreSettings(_Frozen):
    """Where the outbox lives: SQLite by default, PostgreSQL for several processes."""

    url: str = DEFAULT_STORE_URL
    auto_migrate: StrictBool = True
    retention_days: StrictInt = Field(default=DEFAULT_RETENTION_DAYS, ge=1)
    busy_timeout_seconds: float = Field(default=30.0, gt=0, le=600)

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        try:
            return cls.valid_url(value)
        except ValueError as exc:
            raise config_error(str(exc)) from None

    @staticmethod
    def valid_url(value: str) -> str:
        """``value`` stripped, if remindkit can store there; else ``ValueError`` saying why."""
        match = _STORE_URL.fullmatch(value.strip())
        if match is None:
            raise ValueError(f"expected a database URL such as {DEFAULT_STORE_URL}")
        if match["scheme"].lower() not in _STORE_SCHEMES:
            raise ValueError(
                f"unsupported database {match['scheme']!r}: remindkit stores to SQLite "
                "(sqlite:///PATH) or PostgreSQL (postgresql://USER@HOST/DB)"
            )
        return value.strip()


class ProvidersSettings(BaseModel):
    """``sms`` and ``push`` name the provider of each channel; ``[providers.<name>]`` tables
    hold each provider's options (kept as given, validated by the provider)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    sms: str = "console"
    push: str = "console"

    @field_validator("sms", "push")
    @classmethod
    def _installed(cls, value: str) -> str:
        name = value.strip()
        if not name:
            raise config_error("provider name must not be empty")
        _require_installed(name, ())
        return name

    @model_validator(mode="after")
    def _option_tables(self) -> ProvidersSettings:
        for name, options in (self.model_extra or {}).items():
            if not isinstance(options, dict):
                raise config_error(
                    f"expected a table of provider options, got {shown(options)}", (name,)
                )
            _require_installed(name, (name,))
        return self

    def for_channel(self, channel: Channel) -> str:
        return self.sms if channel is Channel.SMS else self.push

    def options(self, name: str) -> dict[str, Any]:
        extra = self.model_extra or {}
        value = extra.get(name, {})
        return dict(value) if isinstance(value, dict) else {}


def _require_installed(name: str, at: tuple[str | int, ...]) -> None:
    # Imported here: entry points are only read when a config names a plugin.
    from remindkit.providers.registry import BUILTIN, available  # noqa: PLC0415

    if name in BUILTIN or name in available():
        return
    installed = ", ".join(sorted(available()))
    raise config_error(f"unknown provider {name!r} (installed: {installed})", at)


class DispatchSettings(_Frozen):
    """How the dispatcher works through due messages (SPEC §6.3, §6.4)."""

    workers: StrictInt = Field(default=16, ge=1, le=256)
    batch_size: StrictInt = Field(default=100, ge=1, le=1000)
    lease_seconds: StrictInt = Field(default=300, ge=10, le=86_400)
    retry_attempts: StrictInt = Field(default=3, ge=1, le=10)
    retry_initial_seconds: float = Field(default=0.5, ge=0, le=60)
    retry_max_seconds: float = Field(default=10.0, ge=0, le=300)
    reschedule_minutes: StrictInt = Field(default=5, ge=1, le=240)
    # After a provider configuration error (bad credentials): how long its messages wait.
    provider_pause_minutes: StrictInt = Field(default=10, ge=1, le=1440)
    thank_you: StrictBool = True
    thank_you_reminded_within_days: StrictInt = Field(default=30, ge=1, le=365)


FeedSource = Literal["csv", "jsonl", "sql"]


class FeedSettings(_Frozen):
    """The loan feed ``remindkit run`` reads when no ``--feed`` is given (SPEC §8).

    ``source``: ``csv`` or ``jsonl`` (a file at ``path``; default: chosen by its suffix) or
    ``sql`` (the rows of ``query`` on the database at ``url``, streamed ``batch_size`` rows
    at a time with a server-side cursor). The URL carries no password: the driver reads it
    from the environment (``PGPASSWORD``, ``.pgpass``), or ``password_env`` names the
    variable that holds it; ``url_env`` names a variable holding the whole URL instead.
    """

    source: FeedSource | None = None
    path: Path | None = None
    url: str | None = None
    url_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    password_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    query: str | None = None
    batch_size: StrictInt = Field(default=5000, ge=1, le=100_000)

    @field_validator("path", "url", "query", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("url")
    @classmethod
    def _no_password(cls, value: str | None) -> str | None:
        if value is not None and _URL_PASSWORD.search(value):
            raise config_error(
                "the URL holds a password: keep it in the environment (PGPASSWORD, .pgpass, "
                "or the variable named by feed.password_env), never in the config file"
            )
        return value

    @model_validator(mode="after")
    def _complete(self) -> FeedSettings:
        if self.source == "sql":
            if self.query is None:
                raise config_error("a sql feed needs a query", ("query",))
            if self.url is None and self.url_env is None:
                raise config_error("a sql feed needs url (or url_env)", ("url",))
        elif self.source is not None and self.path is None:
            raise config_error(f"a {self.source} feed needs a path", ("path",))
        return self

    @property
    def kind(self) -> FeedSource | None:
        """The source in use: ``source``, else ``sql`` with a query, else a file's."""
        if self.source is not None:
            return self.source
        if self.query is not None:
            return "sql"
        return None


# scheme://user:password@host: a password between the user and the @.
_URL_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/@:]*:[^/@]+@")
