"""The service half of the configuration: ``[service]`` (the daemon) and ``[receipts]``.

Validated with the rest of the file by :mod:`remindkit.config` (errors name the dotted key).
Secrets never live here: the tables name the environment variables that hold them.
"""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from remindkit.config_errors import config_error, shown

_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
_CRON_FIELDS = (5, 6)
DEFAULT_PLAN_CRON = "30 8 * * *"
DEFAULT_HTTP_PORT = 9464  # Prometheus' range for exporters


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ServiceSettings(_Frozen):
    """``remindkit run`` as a daemon (SPEC §8).

    ``plan_cron``: when the plan runs, in ``timezone`` (the platform's), as a crontab line
    (``minute hour day month weekday``; six fields put seconds first); it also runs at
    start when the latest scheduled run has not happened. ``dispatch_seconds``,
    ``reap_seconds``: the intervals of the dispatch and reap jobs. ``stop_seconds``: how
    long SIGTERM waits for sends in flight. ``http_port``: receipts, ``/metrics`` and
    ``/healthz`` (0: any free port, ``-1``: no HTTP side), on ``http_host`` (loopback unless
    a reverse proxy in front needs otherwise). ``allowed_hosts``: ``Host`` names accepted
    besides loopback (the public name a receipt callback comes to).
    """

    plan_cron: str = DEFAULT_PLAN_CRON
    timezone: str = "Asia/Shanghai"
    dispatch_seconds: float = Field(default=15.0, gt=0, le=3600)
    reap_seconds: float = Field(default=60.0, gt=0, le=86_400)
    stop_seconds: float = Field(default=30.0, gt=0, le=3600)
    http_host: str = "127.0.0.1"
    http_port: StrictInt = Field(default=DEFAULT_HTTP_PORT, ge=-1, le=65_535)
    allowed_hosts: tuple[str, ...] = ()
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("plan_cron")
    @classmethod
    def _crontab(cls, value: str) -> str:
        fields = value.split()
        if len(fields) not in _CRON_FIELDS:
            raise config_error(
                f"expected a crontab line of 5 fields (minute hour day month weekday), or 6 "
                f"with seconds first, got {shown(value)}"
            )
        from remindkit.crontab import cron_trigger  # noqa: PLC0415 - APScheduler when used

        try:
            cron_trigger(value, "UTC")
        except ValueError as exc:
            raise config_error(f"{shown(value)}: {exc}") from None
        return " ".join(fields)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise config_error(f"unknown IANA time zone {shown(value)}") from None
        return value


class TwilioReceipts(_Frozen):
    """``[receipts.twilio]``: Twilio status callbacks at ``POST /receipts/twilio``.

    ``url``: the public URL Twilio calls, exactly as Twilio signs it; default: the twilio
    provider's ``status_callback`` (``[providers.twilio]``), else the URL the request
    reached. The auth token that signs the callbacks is read from ``auth_token_env``.
    """

    url: str | None = None
    auth_token_env: str = Field(default="TWILIO_AUTH_TOKEN", pattern=_ENV_NAME)

    @field_validator("url")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s/]+/\S*", value):
            raise config_error(f"expected the callback's http(s) URL, got {shown(value)}")
        return value


DeliveryWord = Literal["accepted", "sent", "delivered", "read", "undelivered", "failed"]
# Words of the receipts of common domestic SMS gateways (CMPP report states and the like).
_GATEWAY_WORDS: dict[str, DeliveryWord] = {
    "DELIVRD": "delivered",
    "DELIVERED": "delivered",
    "UNDELIV": "undelivered",
    "UNDELIVERED": "undelivered",
    "EXPIRED": "undelivered",
    "FAILED": "failed",
    "REJECTD": "failed",
    "SENT": "sent",
}


class GatewayReceipts(_Frozen):
    """``[receipts.http]``: receipts of the ``http`` gateway at ``POST /receipts/http``.

    The body is JSON: one receipt object, or a list of them under ``items`` (a dotted path;
    empty: the body itself is a list or one object). In each, ``id``, ``status``, ``code``
    are dotted paths to the gateway's message id (the one its send answer gave), its status
    word and its error code. ``statuses`` maps the gateway's words to remindkit's
    (``DELIVRD = "delivered"``); a word not listed is refused. The request is authenticated
    by a shared secret from the variable ``secret_env``: sent as is in ``header``
    (``auth = "token"``), or as the hex HMAC-SHA256 of the body (``auth = "hmac-sha256"``).
    ``provider``: the provider name the messages were sent with.
    """

    provider: str = "http"
    auth: Literal["token", "hmac-sha256"] = "token"
    header: str = Field(default="X-Receipt-Token", pattern=r"^[A-Za-z0-9-]+$")
    secret_env: str = Field(default="REMINDKIT_RECEIPT_SECRET", pattern=_ENV_NAME)
    items: str = ""
    id: str = "id"
    status: str = "status"
    code: str = "code"
    statuses: dict[str, DeliveryWord] = Field(default_factory=lambda: dict(_GATEWAY_WORDS))


class ReceiptsSettings(_Frozen):
    """``[receipts]``: which delivery-receipt endpoints the service serves (none by default)."""

    twilio: TwilioReceipts | None = None
    http: GatewayReceipts | None = None
