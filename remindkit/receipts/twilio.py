"""Twilio status callbacks: verified with the SDK's ``RequestValidator``, then normalised.

Twilio signs each callback with the account's auth token over the URL it called and the
form fields (``X-Twilio-Signature``). A request is refused (403) when the header is
missing or the signature does not match the configured callback URL — a callback signed
for another URL and replayed here fails too — and with 400 when its body is not the form
Twilio sends. Nothing is recorded for a refused request.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from urllib.parse import parse_qsl

from remindkit.receipts.record import DeliveryReceipt, DeliveryStatus

PROVIDER = "twilio"
SIGNATURE_HEADER = "x-twilio-signature"
SETTINGS_HEADER = "x-twilio-webhooks-signature-settings"
# Twilio's message statuses (its Message resource) in remindkit's vocabulary.
STATUSES: Mapping[str, DeliveryStatus] = MappingProxyType(
    {
        "accepted": DeliveryStatus.ACCEPTED,
        "scheduled": DeliveryStatus.ACCEPTED,
        "queued": DeliveryStatus.ACCEPTED,
        "sending": DeliveryStatus.ACCEPTED,
        "sent": DeliveryStatus.SENT,
        "delivered": DeliveryStatus.DELIVERED,
        "read": DeliveryStatus.READ,
        "undelivered": DeliveryStatus.UNDELIVERED,
        "partially_delivered": DeliveryStatus.UNDELIVERED,
        "failed": DeliveryStatus.FAILED,
        "canceled": DeliveryStatus.FAILED,
    }
)
# The callback's fields kept with the event (the rest names phone numbers and accounts).
_KEPT = ("MessageStatus", "SmsStatus", "ErrorCode", "ErrorMessage", "RawDlrDoneDate")


class MalformedReceiptError(ValueError):
    """The request is not a receipt remindkit can read; the message says why."""


class TwilioVerifier:
    """Checks callbacks against the auth token, with the SDK's own code."""

    def __init__(self, auth_token: str) -> None:
        from twilio import request_validator  # noqa: PLC0415 - the twilio extra, when used

        self._validator = request_validator.RequestValidator(auth_token)
        # Older SDKs sign with the auth token's HMAC-SHA1 only and know no settings header.
        self._algorithm = getattr(request_validator, "get_signature_algorithm", lambda _: None)

    def valid(
        self, url: str, params: Mapping[str, str], signature: str, settings: str | None
    ) -> bool:
        try:
            algorithm = self._algorithm(settings)
            return bool(self._validator.validate(url, dict(params), signature, algorithm))
        except (ValueError, TypeError):
            return False


def form_fields(body: bytes) -> dict[str, str]:
    """The callback's form fields; ``MalformedReceiptError`` for anything else."""
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except (UnicodeDecodeError, ValueError):
        raise MalformedReceiptError("the body is not URL-encoded form fields") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise MalformedReceiptError(f"the field {name} is repeated")
        fields[name] = value
    return fields


def receipt_from(fields: Mapping[str, str]) -> DeliveryReceipt:
    """The normalised receipt of a verified callback."""
    sid = fields.get("MessageSid") or fields.get("SmsSid")
    word = fields.get("MessageStatus") or fields.get("SmsStatus")
    if not sid:
        raise MalformedReceiptError("MessageSid is missing")
    if not word:
        raise MalformedReceiptError("MessageStatus is missing")
    status = STATUSES.get(word.lower())
    if status is None:
        raise MalformedReceiptError(f"unknown MessageStatus {word[:40]!r}")
    code = fields.get("ErrorCode") or None
    if status is DeliveryStatus.UNDELIVERED and word.lower() == "partially_delivered":
        code = code or "partially_delivered"
    return DeliveryReceipt(
        provider=PROVIDER,
        provider_message_id=sid,
        status=status,
        code=code,
        raw={name: fields[name] for name in _KEPT if name in fields},
    )
