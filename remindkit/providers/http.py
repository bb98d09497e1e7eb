"""``http``: a generic JSON-over-HTTP gateway, configured rather than coded (SPEC §6.5).

Mainland lenders send collection reminders through licensed SMS channels with their own
HTTP APIs (public-cloud SMS refuses finance content), so everything a gateway needs is a
setting of ``[providers.http]``: the URL and method, headers, the body, how to read the
answer, what each of its error codes means, and an optional HMAC signature header.
``config/gateways/chuanglan.toml`` is a documented example for a real gateway.

Values in ``headers`` and ``body`` may use ``${NAME}`` (an environment variable: secrets
live there, never in the file) and ``{field}`` (the message: ``{text}``, ``{to}`` in E.164,
``{to_national}`` without ``+86``, ``{key}``, ``{title}``, ``{body}``, ``{timestamp}``).
Each value is substituted in one pass, so neither a secret nor a message can inject a
placeholder, and the body is encoded as JSON (or a form) by the provider: no template can
break its quoting.

How an answer is classified:

========================================  ===============================================
2xx and ``success.field == success.equals``  accepted; ``message_id`` read from the body
2xx with another code                     ``errors[code]``: ``transient`` | ``recipient`` |
                                          ``rejected`` | ``config`` | ``unknown``; codes
                                          not listed: ``default_error`` (``rejected``)
HTTP 429                                  transient, ``Retry-After`` honoured
HTTP 401 / 403                            configuration: the provider stops
other 4xx                                 rejected (this message; the number stays usable)
5xx, a body that is not JSON              unknown (the gateway may have taken it)
connection refused, connect timeout       transient
read timeout after sending                unknown
========================================  ===============================================
"""

from __future__ import annotations

import hmac
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from remindkit.errors import (
    ConfigError,
    DeliveryError,
    DeliveryOutcomeUnknownError,
    PermanentDeliveryError,
    ProviderConfigError,
    TransientDeliveryError,
)
from remindkit.masking import scrub
from remindkit.models import Channel
from remindkit.providers.base import Envelope, Provider, ProviderOptions, Receipt

KEY = "providers.http"
INSTALL = "pip install remindkit[http]"
ErrorKind = Literal["transient", "recipient", "rejected", "config", "unknown"]
_FIELDS = ("text", "to", "to_national", "key", "title", "body", "timestamp")
_PLACEHOLDER = re.compile(
    r"\$\{(?P<env>[A-Za-z_][A-Za-z0-9_]*)\}|\{(?P<field>" + "|".join(_FIELDS) + r")\}"
)
JsonValue = str | int | float | bool | None | list[Any] | dict[str, Any]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SuccessRule(_Part):
    """The answer is an acceptance when the body's ``field`` (a dotted path) equals ``equals``."""

    field: str = Field(min_length=1)
    equals: str


class Signature(_Part):
    """An HMAC of the request body (``timestamp\\n`` + body when ``timestamp_header`` is set),
    hex-encoded in ``header``; the key is the environment variable ``secret_env``."""

    header: str = Field(min_length=1)
    secret_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    algorithm: Literal["sha256", "sha1", "md5"] = "sha256"
    timestamp_header: str | None = None


class HttpOptions(ProviderOptions):
    """``[providers.http]``: one gateway."""

    url: HttpUrl
    method: Literal["POST", "PUT"] = "POST"
    encoding: Literal["json", "form"] = "json"
    channels: tuple[Channel, ...] = (Channel.SMS,)
    headers: dict[str, str] = Field(default_factory=dict)
    body: dict[str, JsonValue] = Field(min_length=1)
    success: SuccessRule
    message_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    errors: dict[str, ErrorKind] = Field(default_factory=dict)
    default_error: ErrorKind = "rejected"
    signature: Signature | None = None
    max_length: int | None = Field(default=500, ge=1, le=10_000)
    connect_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    read_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    pool_size: int = Field(default=32, ge=1, le=512)

    @field_validator("channels")
    @classmethod
    def _some(cls, value: tuple[Channel, ...]) -> tuple[Channel, ...]:
        if not value:
            raise ValueError("name at least one channel: sms or push")
        return value


def environment_names(options: HttpOptions) -> list[str]:
    """Every environment variable the settings use, in order of appearance."""
    found: list[str] = []
    texts = [*options.headers.values(), *_strings(options.body)]
    for text in texts:
        found += [m["env"] for m in _PLACEHOLDER.finditer(text) if m["env"]]
    if options.signature is not None:
        found.append(options.signature.secret_env)
    return list(dict.fromkeys(found))


def _strings(value: JsonValue) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


class HttpProvider(Provider):
    name: ClassVar[str] = "http"
    channels: ClassVar[frozenset[Channel]] = frozenset(Channel)
    timeout_seconds: ClassVar[float] = 20.0
    Options: ClassVar[type[ProviderOptions]] = HttpOptions

    def __init__(
        self,
        options: ProviderOptions | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if options is None:
            raise ConfigError(KEY, "the http provider needs url, body and success")
        super().__init__(options)
        if not isinstance(self.options, HttpOptions):
            raise TypeError("HttpProvider takes HttpOptions")
        settings: HttpOptions = self.options
        source = os.environ if environ is None else environ
        missing = [name for name in environment_names(settings) if not source.get(name)]
        if missing:
            raise ConfigError(KEY, f"environment variable {missing[0]} is not set")
        self._env = {name: source[name] for name in environment_names(settings)}
        self._clock = clock
        self._client = _client(settings)

    @property
    def capabilities(self) -> Any:
        declared = super().capabilities
        settings = self.options
        assert isinstance(settings, HttpOptions)
        return type(declared)(
            channels=frozenset(settings.channels),
            max_length=settings.max_length,
            rate_per_second=declared.rate_per_second,
            batch_size=1,
            timeout_seconds=declared.timeout_seconds,
        )

    def send(self, envelope: Envelope) -> Receipt:
        import httpx  # noqa: PLC0415 - imported by _client already: cheap here

        settings = self.options
        assert isinstance(settings, HttpOptions)
        fields = self._fields(envelope)
        content, content_type = self._encode(settings, fields)
        headers = {"Content-Type": content_type}
        headers.update(
            {name: self._fill(value, fields) for name, value in settings.headers.items()}
        )
        headers.update(self._signature(settings, content, fields["timestamp"]))
        try:
            response = self._client.request(
                settings.method, str(settings.url), content=content, headers=headers
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise TransientDeliveryError(
                f"gateway unreachable ({type(exc).__name__})", code="connect"
            ) from exc
        except httpx.TimeoutException as exc:
            raise DeliveryOutcomeUnknownError(
                "the gateway did not answer in time after the request was sent", code="read_timeout"
            ) from exc
        except httpx.HTTPError as exc:
            raise DeliveryOutcomeUnknownError(
                f"gateway connection failed ({type(exc).__name__})", code="connection"
            ) from exc
        return self._answer(settings, response)

    def close(self) -> None:
        self._client.close()

    # -- building the request -------------------------------------------------------------

    def _fields(self, envelope: Envelope) -> dict[str, str]:
        to = envelope.to
        return {
            "text": envelope.text or "",
            "to": to,
            "to_national": to[3:] if to.startswith("+86") else to.lstrip("+"),
            "key": envelope.key,
            "title": envelope.title or "",
            "body": envelope.body or "",
            "timestamp": str(int(self._clock())),
        }

    def _fill(self, text: str, fields: Mapping[str, str]) -> str:
        def value(match: re.Match[str]) -> str:
            return self._env[match["env"]] if match["env"] else fields[match["field"]]

        return _PLACEHOLDER.sub(value, text)

    def _filled(self, value: JsonValue, fields: Mapping[str, str]) -> JsonValue:
        if isinstance(value, str):
            return self._fill(value, fields)
        if isinstance(value, dict):
            return {key: self._filled(item, fields) for key, item in value.items()}
        if isinstance(value, list):
            return [self._filled(item, fields) for item in value]
        return value

    def _encode(self, settings: HttpOptions, fields: Mapping[str, str]) -> tuple[bytes, str]:
        body = self._filled(settings.body, fields)
        if settings.encoding == "form":
            from urllib.parse import urlencode  # noqa: PLC0415

            assert isinstance(body, dict)
            flat = {
                key: value if isinstance(value, str) else json.dumps(value)
                for key, value in body.items()
            }
            return urlencode(flat).encode(), "application/x-www-form-urlencoded; charset=utf-8"
        return json.dumps(body, ensure_ascii=False).encode(), "application/json; charset=utf-8"

    def _signature(self, settings: HttpOptions, content: bytes, timestamp: str) -> dict[str, str]:
        rule = settings.signature
        if rule is None:
            return {}
        signed = (timestamp.encode() + b"\n" + content) if rule.timestamp_header else content
        digest = hmac.new(self._env[rule.secret_env].encode(), signed, rule.algorithm).hexdigest()
        headers = {rule.header: digest}
        if rule.timestamp_header:
            headers[rule.timestamp_header] = timestamp
        return headers

    # -- reading the answer ---------------------------------------------------------------

    def _answer(self, settings: HttpOptions, response: Any) -> Receipt:
        status = int(response.status_code)
        if status == 429:
            raise TransientDeliveryError(
                "gateway HTTP 429", code="http_429", retry_after=_retry_after(response)
            )
        if status in (401, 403):
            raise ProviderConfigError(
                f"gateway HTTP {status}: credentials refused", code=f"http_{status}"
            )
        if status >= 500:
            raise DeliveryOutcomeUnknownError(
                f"gateway HTTP {status} (may have been accepted)", code=f"http_{status}"
            )
        if status >= 400:
            raise PermanentDeliveryError(
                f"gateway HTTP {status}", code=f"http_{status}", recipient=False
            )
        try:
            data = response.json()
        except ValueError:
            raise DeliveryOutcomeUnknownError(
                f"gateway HTTP {status} with a body that is not JSON", code="bad_answer"
            ) from None
        if _text(_path(data, settings.success.field)) == settings.success.equals:
            found = _path(data, settings.message_id) if settings.message_id else None
            return Receipt(
                provider=self.name,
                provider_message_id=_text(found) if found is not None else None,
                raw=data if isinstance(data, dict) else {"answer": data},
            )
        raise business_error(settings, data)


def business_error(settings: HttpOptions, data: Any) -> DeliveryError:
    """A 2xx answer whose code says no, classified by ``errors`` / ``default_error``."""
    code = _text(_path(data, settings.error_code or settings.success.field))
    said = _text(_path(data, settings.error_message)) if settings.error_message else ""
    detail = scrub(f"gateway refused: code {code}" + (f" ({said})" if said else ""))
    kind = settings.errors.get(code, settings.default_error)
    builders: dict[str, Callable[[], DeliveryError]] = {
        "transient": lambda: TransientDeliveryError(detail, code=code),
        "recipient": lambda: PermanentDeliveryError(detail, code=code),
        "rejected": lambda: PermanentDeliveryError(detail, code=code, recipient=False),
        "config": lambda: ProviderConfigError(detail, code=code),
        "unknown": lambda: DeliveryOutcomeUnknownError(detail, code=code),
    }
    return builders[kind]()


def _client(settings: HttpOptions) -> Any:
    try:
        import httpx  # noqa: PLC0415 - optional dependency, imported when built
    except ImportError as exc:
        raise ConfigError(KEY, f"the HTTP client is not installed: {INSTALL}") from exc
    timeout = httpx.Timeout(settings.read_timeout_seconds, connect=settings.connect_timeout_seconds)
    limits = httpx.Limits(
        max_connections=settings.pool_size, max_keepalive_connections=settings.pool_size
    )
    # One client for every dispatcher thread: httpx's Client is safe to share across threads.
    return httpx.Client(timeout=timeout, limits=limits, follow_redirects=False, trust_env=False)


def _path(data: Any, dotted: str | None) -> Any:
    if dotted is None:
        return None
    value = data
    for part in dotted.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _retry_after(response: Any) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
