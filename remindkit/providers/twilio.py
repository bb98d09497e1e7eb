"""``twilio``: SMS through the official Twilio SDK (``pip install remindkit[twilio]``).

Credentials come from the environment only: ``TWILIO_ACCOUNT_SID`` with either
``TWILIO_AUTH_TOKEN`` or an API key pair ``TWILIO_API_KEY`` + ``TWILIO_API_SECRET``. The
sender (``from_number`` or ``messaging_service_sid``), the status-callback URL and the base
URL (tests, regional edges) are settings of ``[providers.twilio]``.

How Twilio's answers are classified (the README has the same table):

==========================================  ==========================================
HTTP 429 / code 20429                        transient, ``Retry-After`` honoured
21211, 21614, 21610, 21408, 21612            permanent, recipient (number flagged)
20003 / HTTP 401 / 403, sender codes         configuration: the provider stops
any other 4xx                                permanent for this message only
connection refused, connect timeout          transient (nothing was sent)
read timeout, 5xx, connection lost           unknown: the request may have been taken
==========================================  ==========================================

One HTTP client per provider serves every dispatcher thread: a ``requests`` session whose
connection pool holds ``pool_size`` connections per host (the SDK's default keeps 6 on this
kind of machine and opens a new connection for every call beyond that; keep it at least
``[dispatch] workers``), with connect and read timeouts, and without the adapter's own
retries: remindkit's policy decides.

The environment is read once, when the provider starts, instead of on every call as
``requests`` does by default (``trust_env``): ``HTTPS_PROXY`` / ``HTTP_PROXY`` /
``ALL_PROXY`` and ``NO_PROXY`` for the API's address, and ``REQUESTS_CA_BUNDLE`` /
``CURL_CA_BUNDLE``, with the meaning ``requests`` gives them. (``~/.netrc``, the other
thing ``trust_env`` reads, never applies: the SDK always sends its own credentials.)

The SDK hands each call to the client as an absolute URL, a form and Basic credentials;
the client builds ``requests``' prepared request for that case directly, with the same
method, URL, headers and body that ``Session.prepare_request`` would give (a test holds
them equal), and leaves any other case (JSON bodies, query parameters, cookies) to
``requests``. Preparing is about a third of the SDK's work per message, mostly generic
merging and type checks; sending, the connection pool, proxies, TLS and errors stay
``requests``' own.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode

from pydantic import Field, HttpUrl, field_validator, model_validator

from remindkit.errors import (
    ConfigError,
    DeliveryError,
    DeliveryOutcomeUnknownError,
    PermanentDeliveryError,
    ProviderConfigError,
    TransientDeliveryError,
)
from remindkit.models import Channel
from remindkit.providers.base import Envelope, Provider, ProviderOptions, Receipt

if TYPE_CHECKING:
    from twilio.http.http_client import TwilioHttpClient

KEY = "providers.twilio"
INSTALL = "pip install remindkit[twilio]"
DEFAULT_BASE_URL = "https://api.twilio.com"
# Twilio's documented error codes that mean "this number cannot get this SMS".
RECIPIENT_CODES = frozenset({21211, 21408, 21610, 21612, 21614})
# Authentication and sender problems: every message would fail the same way.
CONFIG_CODES = frozenset({20003, 20005, 20404, 21212, 21606, 21659, 21660, 21703})
RATE_LIMIT_CODE = 20429
# A message body longer than this is refused by Twilio (error 21617).
MAX_BODY = 1600
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_MESSAGING_SERVICE = re.compile(r"MG[0-9a-fA-F]{32}")
_ACCOUNT = re.compile(r"AC[0-9a-fA-F]{32}")


class TwilioOptions(ProviderOptions):
    """``[providers.twilio]``: the sender, callbacks, where the API is, and the HTTP pool."""

    from_number: str | None = None
    messaging_service_sid: str | None = None
    status_callback: HttpUrl | None = None
    base_url: HttpUrl = HttpUrl(DEFAULT_BASE_URL)
    edge: str | None = None
    region: str | None = None
    connect_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    read_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    pool_size: int = Field(default=32, ge=1, le=512)

    @field_validator("from_number")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is not None and not _E164.fullmatch(value):
            raise ValueError(f"expected an E.164 number such as +14155550100, got {value!r}")
        return value

    @field_validator("messaging_service_sid")
    @classmethod
    def _service(cls, value: str | None) -> str | None:
        if value is not None and not _MESSAGING_SERVICE.fullmatch(value):
            raise ValueError("expected a Messaging Service SID: MG followed by 32 hex digits")
        return value

    @model_validator(mode="after")
    def _one_sender(self) -> TwilioOptions:
        if (self.from_number is None) == (self.messaging_service_sid is None):
            raise ValueError("set exactly one of from_number and messaging_service_sid")
        return self


def credentials(environ: Mapping[str, str]) -> tuple[str, str, str]:
    """``(username, password, account_sid)`` from the environment; a missing or malformed
    variable is a :class:`ConfigError` naming it (never showing a value)."""
    account = environ.get("TWILIO_ACCOUNT_SID", "").strip()
    if not account:
        raise ConfigError(KEY, "environment variable TWILIO_ACCOUNT_SID is not set")
    if not _ACCOUNT.fullmatch(account):
        raise ConfigError(KEY, "TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits")
    key, secret = environ.get("TWILIO_API_KEY", ""), environ.get("TWILIO_API_SECRET", "")
    if key or secret:
        missing = "TWILIO_API_SECRET" if key else "TWILIO_API_KEY"
        if not (key and secret):
            raise ConfigError(KEY, f"environment variable {missing} is not set (API key pair)")
        return key, secret, account
    token = environ.get("TWILIO_AUTH_TOKEN", "")
    if not token:
        raise ConfigError(
            KEY,
            "environment variable TWILIO_AUTH_TOKEN is not set "
            "(or set TWILIO_API_KEY and TWILIO_API_SECRET)",
        )
    return account, token, account


class TwilioProvider(Provider):
    name: ClassVar[str] = "twilio"
    channels: ClassVar[frozenset[Channel]] = frozenset({Channel.SMS})
    max_length: ClassVar[int | None] = MAX_BODY
    timeout_seconds: ClassVar[float] = 20.0
    Options: ClassVar[type[ProviderOptions]] = TwilioOptions

    def __init__(
        self, options: ProviderOptions | None = None, *, environ: Mapping[str, str] | None = None
    ) -> None:
        if options is None:
            raise ConfigError(KEY, "the twilio provider needs from_number or messaging_service_sid")
        super().__init__(options)
        if not isinstance(self.options, TwilioOptions):
            raise TypeError("TwilioProvider takes TwilioOptions")
        settings: TwilioOptions = self.options
        username, password, account = credentials(os.environ if environ is None else environ)
        client_class, http_client = _sdk(settings)
        self.http_client = http_client
        client = client_class(
            username=username,
            password=password,
            account_sid=account,
            http_client=http_client,
            # An empty mapping would make the SDK read os.environ; give it exactly these.
            environment={
                "TWILIO_EDGE": settings.edge or "",
                "TWILIO_REGION": settings.region or "",
            },
        )
        client.api.base_url = str(settings.base_url).rstrip("/")
        # Proxies and the CA bundle come from the process environment, as requests reads them.
        http_client.use_environment(client.get_hostname(client.api.base_url + "/"), os.environ)
        # Built once here: the SDK creates these lazily, which is not meant for many threads.
        self._messages = client.api.v2010.accounts(account).messages
        self._sender: dict[str, Any] = (
            {"from_": settings.from_number}
            if settings.from_number
            else {"messaging_service_sid": settings.messaging_service_sid}
        )
        if settings.status_callback is not None:
            self._sender["status_callback"] = str(settings.status_callback)

    def send(self, envelope: Envelope) -> Receipt:
        from requests import RequestException  # noqa: PLC0415 - the SDK's dependency: lazy
        from twilio.base.exceptions import TwilioRestException  # noqa: PLC0415

        try:
            message = self._messages.create(to=envelope.to, body=envelope.text, **self._sender)
        except TwilioRestException as exc:
            raise classify_rest_error(exc, self.http_client) from exc
        except RequestException as exc:
            raise classify_transport_error(exc) from exc
        return Receipt(
            provider=self.name,
            provider_message_id=message.sid,
            raw={"status": str(message.status), "num_segments": message.num_segments},
        )

    def close(self) -> None:
        session = self.http_client.session
        if session is not None:
            session.close()


def _sdk(settings: TwilioOptions) -> tuple[Any, TwilioHttpClient]:
    """The SDK's client class and the shared HTTP client; a missing SDK names the extra."""
    try:
        from requests import PreparedRequest  # noqa: PLC0415 - optional dependency
        from requests.adapters import HTTPAdapter  # noqa: PLC0415
        from requests.auth import HTTPBasicAuth  # noqa: PLC0415
        from requests.structures import CaseInsensitiveDict  # noqa: PLC0415
        from requests.utils import requote_uri  # noqa: PLC0415
        from twilio.http.http_client import TwilioHttpClient  # noqa: PLC0415
        from twilio.http.response import Response  # noqa: PLC0415
        from twilio.rest import Client  # noqa: PLC0415
    except ImportError as exc:
        raise ConfigError(KEY, f"the twilio SDK is not installed: {INSTALL}") from exc

    class SharedHttpClient(TwilioHttpClient):  # type: ignore[misc] # the SDK is untyped
        """Keeps each thread's last response headers (``Retry-After`` of a 429)."""

        def __init__(self) -> None:
            super().__init__(pool_connections=True)
            # requests takes (connect, read); the SDK's own check only knows one number.
            self.timeout = (settings.connect_timeout_seconds, settings.read_timeout_seconds)
            self.local = threading.local()
            self._basic: dict[tuple[str, str], str] = {}
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=settings.pool_size)
            assert self.session is not None  # pool_connections=True made one
            self.session.trust_env = False  # read once, below, not on every call
            self.session.mount("https://", adapter)
            self.session.mount("http://", adapter)

        def use_environment(self, url: str, environ: Mapping[str, str]) -> None:
            """What ``trust_env`` would read on every call, read once: the proxies for
            ``url`` (none if ``NO_PROXY`` covers it) and the CA bundle."""
            from requests.utils import get_environ_proxies  # noqa: PLC0415

            assert self.session is not None
            self.session.proxies.update(get_environ_proxies(url))
            bundle = environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE")
            if bundle and self.session.verify is True:
                self.session.verify = bundle

        def request(
            self,
            method: str,
            url: str,
            params: Mapping[str, object] | None = None,
            data: Mapping[str, object] | None = None,
            headers: Mapping[str, str] | None = None,
            auth: tuple[str, str] | None = None,
            timeout: Any = None,
            allow_redirects: bool = False,
        ) -> Any:
            self.local.headers = {}
            prepared = self.prepare(method, url, params, data, headers, auth)
            if prepared is None:  # not the SDK's usual call: requests prepares it
                response = super().request(
                    method, url, params, data, headers, auth, timeout, allow_redirects
                )
                self.local.headers = response.headers or {}
                return response
            session = self.session
            assert session is not None
            # The SDK formats every header of both logs before the logger looks at its level.
            logs = self.logger.isEnabledFor(logging.INFO)
            if logs:
                self.log_request(
                    {"method": prepared.method, "url": url, "params": params, "headers": headers}
                )
            self._test_only_last_response = None
            sent = session.send(
                prepared,
                allow_redirects=allow_redirects,
                timeout=self.timeout if timeout is None else timeout,
                proxies={**session.proxies, **self.proxy},
                stream=session.stream,
                verify=session.verify,
                cert=session.cert,
            )
            if logs:
                self.log_response(sent.status_code, sent)
            answer = Response(int(sent.status_code), sent.text, sent.headers)
            self._test_only_last_response = answer
            self.local.headers = answer.headers or {}
            return answer

        def prepare(
            self,
            method: str,
            url: str,
            params: Mapping[str, object] | None,
            data: Mapping[str, object] | None,
            headers: Mapping[str, str] | None,
            auth: tuple[str, str] | None,
        ) -> PreparedRequest | None:
            """``Session.prepare_request`` for a form posted with Basic credentials to an
            ASCII URL without query parameters; ``None`` for anything else."""
            session = self.session
            if (
                session is None
                or params
                or not data
                or not isinstance(data, dict)
                or headers is None
                or auth is None
                or not url.isascii()
                or "?" in url
                or "#" in url
                or str(headers.get("Content-Type", "")).endswith("json")
                or session.cookies
                or session.auth is not None
                or session.params
                or any(session.hooks.values())
            ):
                return None
            prepared = PreparedRequest()
            prepared.method = method.upper()
            prepared.url = requote_uri(url)
            merged: CaseInsensitiveDict[str] = CaseInsensitiveDict(session.headers)
            merged.update(headers)
            for name, value in headers.items():
                if value is None:
                    del merged[name]
            prepared.headers = CaseInsensitiveDict(merged.items())
            body = _form(data)
            prepared.body = body
            if body:
                prepared.headers["Content-Length"] = str(len(body.encode()))
            if "content-type" not in prepared.headers:
                prepared.headers["Content-Type"] = "application/x-www-form-urlencoded"
            prepared.headers["Authorization"] = self._basic_header(auth)
            for event, hooks in (self.request_hooks or {}).items():
                prepared.register_hook(event, hooks)
            return prepared

        def _basic_header(self, auth: tuple[str, str]) -> str:
            cached = self._basic.get(auth)
            if cached is None:
                probe = PreparedRequest()
                probe.headers = CaseInsensitiveDict()
                HTTPBasicAuth(*auth)(probe)
                cached = self._basic[auth] = str(probe.headers["Authorization"])
            return cached

    return Client, SharedHttpClient()


def _form(data: Mapping[str, object]) -> str:
    """The form body exactly as ``requests`` encodes a mapping (lists repeat the key,
    ``None`` values are left out)."""
    pairs: list[tuple[str | bytes, object]] = []
    for key, given in data.items():
        values: Any = (
            [given] if isinstance(given, (str, bytes)) or not hasattr(given, "__iter__") else given
        )
        for value in values:
            if value is not None:
                pairs.append(
                    (
                        key.encode() if isinstance(key, str) else key,
                        value.encode() if isinstance(value, str) else value,
                    )
                )
    return urlencode(pairs, doseq=True)


def classify_rest_error(exc: Any, http_client: Any = None) -> DeliveryError:
    """Twilio's error answer as a delivery error (the table in the module docstring)."""
    status, code = int(exc.status), exc.code
    detail = f"Twilio HTTP {status}" + (f" error {code}" if code else "") + f": {exc.msg}"
    shown = str(code) if code else f"http_{status}"
    if status == 429 or code == RATE_LIMIT_CODE:
        return TransientDeliveryError(detail, code=shown, retry_after=_retry_after(http_client))
    if code in RECIPIENT_CODES:
        return PermanentDeliveryError(detail, code=shown)
    if status in (401, 403) or code in CONFIG_CODES:
        return ProviderConfigError(detail, code=shown)
    if status >= 500:
        return DeliveryOutcomeUnknownError(f"{detail} (may have been accepted)", code=shown)
    return PermanentDeliveryError(detail, code=shown, recipient=False)


def classify_transport_error(exc: Exception) -> DeliveryError:
    """No HTTP answer: transient when the request certainly never left, else unknown."""
    from requests.exceptions import ConnectionError as RequestsConnectionError  # noqa: PLC0415
    from requests.exceptions import ConnectTimeout, ReadTimeout  # noqa: PLC0415
    from urllib3.exceptions import NewConnectionError  # noqa: PLC0415

    name = type(exc).__name__
    if isinstance(exc, ConnectTimeout) or (
        isinstance(exc, RequestsConnectionError) and _caused_by(exc, NewConnectionError)
    ):
        return TransientDeliveryError(f"Twilio unreachable ({name})", code="connect")
    if isinstance(exc, ReadTimeout):
        return DeliveryOutcomeUnknownError(
            "Twilio did not answer in time after the request was sent", code="read_timeout"
        )
    return DeliveryOutcomeUnknownError(f"Twilio connection failed ({name})", code="connection")


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):  # bounded: urllib3 wraps a few levels deep
        if seen is None:
            return False
        if isinstance(seen, kind) or any(isinstance(arg, kind) for arg in seen.args):
            return True
        reason = getattr(seen, "reason", None)
        seen = reason if isinstance(reason, BaseException) else seen.__cause__ or seen.__context__
    return False


def _retry_after(http_client: Any) -> float | None:
    headers = getattr(getattr(http_client, "local", None), "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
