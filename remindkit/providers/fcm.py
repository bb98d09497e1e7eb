"""``fcm``: app push through Firebase Cloud Messaging (``pip install remindkit[firebase]``).

The service-account key file is named by ``GOOGLE_APPLICATION_CREDENTIALS`` (the file lives
outside the repository; its content is never logged). Messages go out with the SDK's
``send_each`` in batches of up to 500, as the dispatcher groups them (``batch_size``).

The SDK's own retries are turned off (it retries 500/503 up to four times with backoff and
honours any ``Retry-After``, so one call could block for minutes; it also retries a read
timeout, which could show a push twice): remindkit's policy decides, from this mapping
(google-auth still refreshes its token and retries a 401 at most twice: nothing was accepted):

==============================================  ===========================================
``UNREGISTERED``; ``INVALID_ARGUMENT`` on the    permanent recipient: the token is flagged,
registration token                               the step's next channel (SMS) is tried
``QUOTA_EXCEEDED``, ``UNAVAILABLE``,             transient (``Retry-After`` honoured)
``INTERNAL``, the token endpoint unreachable
``SENDER_ID_MISMATCH``,                          configuration: the provider stops
``THIRD_PARTY_AUTH_ERROR``, bad credentials
(401/403, the key refused by the token endpoint)
a timeout after sending, anything else           unknown
==============================================  ===========================================

Every push sets the Android channel id and a collapse key per borrower-day (one borrower's
pushes of a day replace each other), is ``private`` on Android lock screens, and is refused
before sending if its title or body shows an amount (SPEC §13: nothing owed on the lock
screen).

The SDK's FCM client is reached through private names (``_get_messaging_service``,
``_fcm_url``, ``_client``) to bound its retries and, in tests, to point it at a loopback
server: the supported version is pinned (constraints.txt) and a test checks they exist; a
version without them is a configuration error naming the version.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import warnings
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, HttpUrl

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

KEY = "providers.fcm"
INSTALL = "pip install remindkit[firebase]"
CREDENTIALS_VARIABLE = "GOOGLE_APPLICATION_CREDENTIALS"
FCM_BASE_URL = "https://fcm.googleapis.com"
MAX_BATCH = 500  # send_each's own limit
# An amount as the templates write it (1,234.50元) or with a currency sign.
_AMOUNT = re.compile(r"\d[\d,]*(?:\.\d+)?\s*(?:元|块)|[¥￥]\s*\d")
_REQUIRED_KEY_FIELDS = ("type", "project_id", "private_key", "client_email", "token_uri")


class FcmOptions(ProviderOptions):
    """``[providers.fcm]``: the Android channel, the project, timeouts, where FCM is."""

    android_channel_id: str = Field(default="repayment_reminders", min_length=1, max_length=100)
    project_id: str | None = None
    http_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    base_url: HttpUrl = HttpUrl(FCM_BASE_URL)
    # What the feed's push_token holds: a registration token, or a Firebase installation ID
    # (firebase-admin 7.7 deprecates addressing by token in favour of the installation ID).
    address: Literal["token", "fid"] = "token"


def service_account(environ: Mapping[str, str]) -> dict[str, Any]:
    """The key file named by ``GOOGLE_APPLICATION_CREDENTIALS``, checked for the fields the
    SDK needs; problems name the variable and the field, never a value."""
    path = environ.get(CREDENTIALS_VARIABLE, "").strip()
    if not path:
        raise ConfigError(
            KEY, f"environment variable {CREDENTIALS_VARIABLE} is not set (service-account key)"
        )
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            KEY, f"{CREDENTIALS_VARIABLE}: cannot read {path}: {exc.strerror}"
        ) from None
    except ValueError:
        raise ConfigError(KEY, f"{CREDENTIALS_VARIABLE}: {path} is not JSON") from None
    if not isinstance(data, dict):
        raise ConfigError(KEY, f"{CREDENTIALS_VARIABLE}: {path} is not a service-account key")
    missing = [name for name in _REQUIRED_KEY_FIELDS if not data.get(name)]
    if missing or data.get("type") != "service_account":
        what = f"lacks {', '.join(missing)}" if missing else "is not of type service_account"
        raise ConfigError(KEY, f"{CREDENTIALS_VARIABLE}: the key in {path} {what}")
    return data


class FcmProvider(Provider):
    name: ClassVar[str] = "fcm"
    channels: ClassVar[frozenset[Channel]] = frozenset({Channel.PUSH})
    max_length: ClassVar[int | None] = 1000
    batch_size: ClassVar[int] = MAX_BATCH
    timeout_seconds: ClassVar[float] = 60.0
    Options: ClassVar[type[ProviderOptions]] = FcmOptions

    def __init__(
        self, options: ProviderOptions | None = None, *, environ: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(options)
        if not isinstance(self.options, FcmOptions):
            raise TypeError("FcmProvider takes FcmOptions")
        settings: FcmOptions = self.options
        key = service_account(os.environ if environ is None else environ)
        firebase_admin, credentials, self._messaging = _sdk()
        try:
            certificate = credentials.Certificate(key)
        except ValueError as exc:  # e.g. a private key that does not parse
            raise ConfigError(
                KEY, f"{CREDENTIALS_VARIABLE}: invalid service-account key ({type(exc).__name__})"
            ) from None
        self.project_id = settings.project_id or str(key["project_id"])
        self.app = firebase_admin.initialize_app(
            certificate,
            {"projectId": self.project_id, "httpTimeout": settings.http_timeout_seconds},
            name=f"remindkit-fcm-{secrets.token_hex(6)}",
        )
        self._firebase_admin = firebase_admin
        # Registration tokens are what apps hand over today: addressing by them is deprecated
        # in this SDK, not refused by FCM (set ``address = "fid"`` for installation IDs).
        warnings.filterwarnings(
            "ignore", message="Message.token is deprecated", category=DeprecationWarning
        )
        _bound_sdk_client(self._messaging, self.app, str(settings.base_url), self.project_id)

    def send(self, envelope: Envelope) -> Receipt:
        (answer,) = self.send_batch([envelope])
        if isinstance(answer, DeliveryError):
            raise answer
        return answer

    def send_batch(self, envelopes: Sequence[Envelope]) -> list[Receipt | DeliveryError]:
        results: list[Receipt | DeliveryError | None] = [None] * len(envelopes)
        outgoing: list[int] = []
        for index, envelope in enumerate(envelopes):
            if _shows_amount(envelope):
                results[index] = PermanentDeliveryError(
                    "push not sent: its title or body shows an amount on the lock screen",
                    code="amount_on_lock_screen",
                    recipient=False,
                )
            else:
                outgoing.append(index)
        if outgoing:
            answers = self._send_each([envelopes[i] for i in outgoing])
            for index, answer in zip(outgoing, answers, strict=True):
                results[index] = answer
        return [result if result is not None else _no_answer() for result in results]

    def _send_each(self, envelopes: list[Envelope]) -> list[Receipt | DeliveryError]:
        messaging = self._messaging
        messages = [self._message(envelope) for envelope in envelopes]
        try:
            batch = messaging.send_each(messages, app=self.app)
        except Exception as exc:  # the whole call failed: every message gets the same answer
            error = classify_firebase_error(exc)
            return [error] * len(envelopes)
        return [
            Receipt(provider=self.name, provider_message_id=response.message_id)
            if response.success
            else classify_firebase_error(response.exception)
            for response in batch.responses
        ]

    def _message(self, envelope: Envelope) -> Any:
        messaging = self._messaging
        settings = self.options
        assert isinstance(settings, FcmOptions)
        collapse = envelope.collapse_key or None
        return messaging.Message(
            **{settings.address: envelope.to},
            notification=messaging.Notification(title=envelope.title, body=envelope.body),
            data={"remindkit_key": envelope.key},
            android=messaging.AndroidConfig(
                collapse_key=collapse,
                notification=messaging.AndroidNotification(
                    channel_id=settings.android_channel_id, visibility="private"
                ),
            ),
            apns=messaging.APNSConfig(headers={"apns-collapse-id": collapse} if collapse else None),
        )

    def close(self) -> None:
        self._firebase_admin.delete_app(self.app)


def _sdk() -> tuple[Any, Any, Any]:
    try:
        import firebase_admin  # noqa: PLC0415 - optional dependency, imported when built
        from firebase_admin import credentials, messaging  # noqa: PLC0415
    except ImportError as exc:
        raise ConfigError(KEY, f"the firebase-admin SDK is not installed: {INSTALL}") from exc
    return firebase_admin, credentials, messaging


def _bound_sdk_client(messaging: Any, app: Any, base_url: str, project_id: str) -> None:
    """No retries inside the SDK; FCM's URL under ``base_url``; a pool for a whole batch."""
    from requests.adapters import HTTPAdapter  # noqa: PLC0415 - the SDK's dependency

    try:
        service = messaging._get_messaging_service(app)
        session = service._client.session
        service._fcm_url  # noqa: B018 - checked: set below
    except AttributeError as exc:
        import firebase_admin  # noqa: PLC0415

        raise ConfigError(
            KEY,
            f"firebase-admin {firebase_admin.__version__} is not supported (its FCM client "
            "changed); install the version in remindkit's constraints (7.7)",
        ) from exc
    root = base_url.rstrip("/")
    service._fcm_url = f"{root}/v1/projects/{project_id}/messages:send"
    session.mount(root, HTTPAdapter(pool_connections=1, pool_maxsize=MAX_BATCH, max_retries=0))


def classify_firebase_error(exc: BaseException | None) -> DeliveryError:
    """One FCM answer (or the SDK's exception) as a delivery error (module docstring)."""
    from google.auth.exceptions import RefreshError, TransportError  # noqa: PLC0415

    if exc is None:
        return _no_answer()
    cause = _root_cause(exc)
    if isinstance(cause, RefreshError):
        return ProviderConfigError(
            f"FCM credentials refused by the token endpoint: {_short(cause)}", code="invalid_grant"
        )
    if isinstance(cause, TransportError):
        return TransientDeliveryError("FCM token endpoint unreachable", code="token_endpoint")
    text = f"FCM {type(exc).__name__}: {_short(exc)}"
    for kinds, build in _rules():
        if isinstance(exc, kinds):
            return build(exc, text)
    return DeliveryOutcomeUnknownError(text, code=str(getattr(exc, "code", "") or "unknown"))


Rule = tuple[tuple[type[BaseException], ...], Callable[[Any, str], DeliveryError]]


@cache
def _rules() -> tuple[Rule, ...]:
    """The SDK's error classes, in order, and what each becomes."""
    from firebase_admin import exceptions, messaging  # noqa: PLC0415

    def transient(code: str) -> Callable[[Any, str], DeliveryError]:
        return lambda exc, text: TransientDeliveryError(
            text, code=code, retry_after=_retry_after(exc)
        )

    def config(code: str | None) -> Callable[[Any, str], DeliveryError]:
        return lambda exc, text: ProviderConfigError(text, code=code or str(exc.code))

    return (
        (
            (messaging.UnregisteredError,),
            lambda exc, text: PermanentDeliveryError(text, code="UNREGISTERED"),
        ),
        (
            (exceptions.InvalidArgumentError,),
            lambda exc, text: PermanentDeliveryError(
                text,
                code="INVALID_ARGUMENT",
                recipient="registration token" in str(exc).lower(),
            ),
        ),
        (
            (messaging.QuotaExceededError, exceptions.ResourceExhaustedError),
            transient("QUOTA_EXCEEDED"),
        ),
        ((exceptions.UnavailableError,), transient("UNAVAILABLE")),
        ((exceptions.InternalError,), transient("INTERNAL")),
        ((messaging.SenderIdMismatchError,), config("SENDER_ID_MISMATCH")),
        ((messaging.ThirdPartyAuthError,), config("THIRD_PARTY_AUTH_ERROR")),
        ((exceptions.UnauthenticatedError, exceptions.PermissionDeniedError), config(None)),
        (
            (exceptions.DeadlineExceededError,),
            lambda exc, text: DeliveryOutcomeUnknownError(
                "FCM did not answer in time", code="DEADLINE_EXCEEDED"
            ),
        ),
    )


def _root_cause(exc: BaseException) -> BaseException:
    seen = exc
    for _ in range(8):  # bounded: the SDK wraps one or two levels
        cause = getattr(seen, "cause", None) or seen.__cause__
        if not isinstance(cause, BaseException):
            return seen
        seen = cause
    return seen


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "http_response", None)
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _shows_amount(envelope: Envelope) -> bool:
    return any(_AMOUNT.search(part or "") for part in (envelope.title, envelope.body))


def _no_answer() -> DeliveryError:
    return DeliveryOutcomeUnknownError("FCM gave no answer for this message", code="no_answer")
