"""The receipt vocabulary and recording a receipt on its message (one transaction)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from sqlalchemy import func, insert, select, update

from remindkit.outbox.database import is_postgresql, translated
from remindkit.outbox.schema import events, messages
from remindkit.outbox.store import Outbox


class DeliveryStatus(StrEnum):
    ACCEPTED = "accepted"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    UNDELIVERED = "undelivered"
    FAILED = "failed"


# How far along a status is: a receipt moves the message's status only forward.
_RANK = {
    DeliveryStatus.ACCEPTED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.UNDELIVERED: 2,
    DeliveryStatus.FAILED: 2,
    DeliveryStatus.READ: 3,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReceipt:
    """One provider's word on one message, normalised; ``raw`` keeps the provider's own
    status words and codes (no phone numbers: those stay in the message row)."""

    provider: str
    provider_message_id: str
    status: DeliveryStatus
    code: str | None = None
    raw: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def reason(self) -> str:
        return f"receipt: {self.status.value}" + (f" [{self.code}]" if self.code else "")


def record_receipt(outbox: Outbox, receipt: DeliveryReceipt, *, now: datetime) -> str | None:
    """Record ``receipt`` on the message the provider's id names; its key, or ``None``
    when the outbox has no such message."""
    with outbox.transaction() as connection:
        query = select(messages.c.key, messages.c.state, messages.c.delivery_status).where(
            messages.c.provider == receipt.provider,
            messages.c.provider_message_id == receipt.provider_message_id,
        )
        if is_postgresql(connection):
            query = query.with_for_update()
        row = connection.execute(query).first()
        if row is None:
            return None
        key, state, current = row
        if _moves_forward(current, receipt.status):
            connection.execute(
                update(messages)
                .where(messages.c.key == key)
                .values(
                    delivery_status=receipt.status.value,
                    delivery_code=receipt.code,
                    delivered_at=now,
                    updated_at=now,
                )
            )
        detail = {
            "receipt": receipt.status.value,
            "code": receipt.code,
            "provider": receipt.provider,
            "raw": dict(receipt.raw),
        }
        connection.execute(
            insert(events).values(
                message_key=key,
                at=now,
                worker=outbox.worker,
                from_state=state,
                to_state=state,
                reason=receipt.reason,
                detail=json.dumps(detail, ensure_ascii=False),
            )
        )
        return str(key)


def _moves_forward(current: str | None, new: DeliveryStatus) -> bool:
    if current is None:
        return True
    try:
        return _RANK[new] >= _RANK[DeliveryStatus(current)]
    except ValueError:
        return True


def delivery_counts(outbox: Outbox) -> dict[str, int]:
    """Messages by their latest delivery status (those with a receipt)."""
    query = (
        select(messages.c.delivery_status, func.count())
        .where(messages.c.delivery_status.is_not(None))
        .group_by(messages.c.delivery_status)
    )
    with translated(outbox.engine), outbox.engine.connect() as connection:
        counts = {str(status): int(n) for status, n in connection.execute(query)}
        connection.rollback()
    return dict(sorted(counts.items()))
