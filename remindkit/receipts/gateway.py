"""Receipts of the ``http`` gateway, in the format ``[receipts.http]`` describes.

Domestic SMS gateways report delivery as JSON callbacks of their own shape: the table
names where the message id, the status word and the error code are, and maps the
gateway's words to remindkit's vocabulary. The request is authenticated with a shared
secret from the environment: as a header token, or as the HMAC-SHA256 of the body.
Validation is all-or-nothing: a body with one unreadable receipt records none of them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from remindkit.config_service import GatewayReceipts
from remindkit.receipts.record import DeliveryReceipt, DeliveryStatus
from remindkit.receipts.twilio import MalformedReceiptError

MAX_ITEMS = 1000


def authentic(
    options: GatewayReceipts, secret: str, headers: Mapping[str, str], body: bytes
) -> bool:
    offered = headers.get(options.header.lower(), "")
    if not offered:
        return False
    if options.auth == "token":
        return hmac.compare_digest(offered.encode(), secret.encode())
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(offered.strip().lower().encode(), expected.encode())


def receipts_from(options: GatewayReceipts, body: bytes) -> list[DeliveryReceipt]:
    """Every receipt of the body, normalised; ``MalformedReceiptError`` naming the first
    problem (``items[3].status: unknown word 'XX'``)."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedReceiptError("the body is not JSON") from None
    items = _at(data, options.items) if options.items else data
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items:
        raise MalformedReceiptError(f"expected receipts at {options.items or 'the body'}")
    if len(items) > MAX_ITEMS:
        raise MalformedReceiptError(f"more than {MAX_ITEMS} receipts in one request")
    return [_receipt(options, item, f"items[{n}]") for n, item in enumerate(items)]


def _receipt(options: GatewayReceipts, item: object, where: str) -> DeliveryReceipt:
    if not isinstance(item, dict):
        raise MalformedReceiptError(f"{where}: expected an object")
    sid = _text(_at(item, options.id))
    word = _text(_at(item, options.status))
    if not sid:
        raise MalformedReceiptError(f"{where}.{options.id}: missing")
    if not word:
        raise MalformedReceiptError(f"{where}.{options.status}: missing")
    mapped = options.statuses.get(word) or options.statuses.get(word.upper())
    if mapped is None:
        raise MalformedReceiptError(f"{where}.{options.status}: unknown word {word[:40]!r}")
    code = _text(_at(item, options.code)) or None
    raw = {"status": word[:64]} | ({"code": code[:64]} if code else {})
    return DeliveryReceipt(
        provider=options.provider,
        provider_message_id=sid[:128],
        status=DeliveryStatus(mapped),
        code=code[:64] if code else None,
        raw=raw,
    )


def _at(data: Any, path: str) -> Any:
    current = data
    for part in path.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current


def _text(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | str):
        return str(value).strip()
    return ""
