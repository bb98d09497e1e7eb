"""Frozen views of outbox rows, and the snapshot of installments a message is rendered from.

A message is rendered right before it is sent (the stage's wording, ``now``, the latest
template), so the row keeps what the template needs: a JSON snapshot of the installments'
feed fields as the planner saw them. Values were validated when the feed was read; the
snapshot is rebuilt without parsing them again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from remindkit.models import Borrower, Channel, Gender, Installment, Stage, Status
from remindkit.outbox.states import MessageState, Origin

_ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":"))


def snapshot(installments: Sequence[Installment]) -> str:
    """The JSON the ``context`` column holds for ``installments`` (one borrower)."""
    return _ENCODER.encode([_fields(item) for item in installments])


def _fields(item: Installment) -> dict[str, Any]:
    borrower = item.borrower
    return {
        "loan_id": item.loan_id,
        "installment_no": item.installment_no,
        "installments_total": item.installments_total,
        "amount_due": str(item.amount_due),
        "due_date": item.due_date.isoformat(),
        "status": item.status.value,
        "product": item.product,
        "segment": item.segment,
        "hardship": item.hardship,
        "extra": dict(item.extra),
        "borrower": {
            "id": borrower.id,
            "name": borrower.name,
            "gender": borrower.gender.value,
            "phone": borrower.phone,
            "push_token": borrower.push_token,
            "timezone": borrower.timezone,
            "opted_out": sorted(channel.value for channel in borrower.opted_out),
        },
    }


def restore(context: str) -> tuple[Installment, ...]:
    """The installments of a ``context`` column, as the planner saw them."""
    return tuple(_installment(data) for data in json.loads(context))


def _installment(data: Mapping[str, Any]) -> Installment:
    person = data["borrower"]
    borrower = Borrower(
        id=person["id"],
        name=person["name"],
        gender=Gender(person["gender"]),
        phone=person["phone"],
        push_token=person["push_token"],
        timezone=person["timezone"],
        opted_out=frozenset(Channel(value) for value in person["opted_out"]),
    )
    return Installment(
        loan_id=data["loan_id"],
        installment_no=data["installment_no"],
        installments_total=data["installments_total"],
        borrower=borrower,
        amount_due=Decimal(data["amount_due"]),
        due_date=date.fromisoformat(data["due_date"]),
        status=Status(data["status"]),
        product=data["product"],
        segment=data["segment"],
        hardship=data["hardship"],
        extra=MappingProxyType(dict(data["extra"])),
    )


def parse_channels(value: str) -> tuple[Channel, ...]:
    return tuple(Channel(part) for part in value.split(",") if part)


def join_channels(channels: Sequence[Channel]) -> str:
    return ",".join(channel.value for channel in channels)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxMessage:
    """One row of ``messages``: what it is about, where it stands, what was sent."""

    key: str
    state: MessageState
    origin: Origin
    parent_key: str | None
    borrower_id: str
    loan_ids: tuple[str, ...]
    stage: Stage
    template_id: str
    variant: str
    channel: Channel
    fallbacks: tuple[Channel, ...]
    day: date
    timezone: str
    send_at: datetime
    not_after: datetime
    next_attempt_at: datetime
    attempts: int
    lease_owner: str | None
    lease_expires_at: datetime | None
    provider: str | None
    provider_message_id: str | None
    address: str | None
    error_code: str | None
    reason: str | None
    text: str | None
    title: str | None
    template_hash: str | None
    context: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    sent_at: datetime | None
    delivery_status: str | None = None
    delivery_code: str | None = None
    delivered_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> OutboxMessage:
        values = dict(row)
        values["state"] = MessageState(values["state"])
        values["origin"] = Origin(values["origin"])
        values["stage"] = Stage(values["stage"])
        values["channel"] = Channel(values["channel"])
        values["fallbacks"] = parse_channels(values["fallbacks"])
        values["loan_ids"] = tuple(json.loads(values["loan_ids"]))
        return cls(**values)

    @property
    def installments(self) -> tuple[Installment, ...]:
        return restore(self.context)

    def to_json(self) -> dict[str, Any]:
        """The message for ``--format json``; the borrower's contact data stays out of it."""
        return {
            "key": self.key,
            "state": self.state.value,
            "origin": self.origin.value,
            "parent_key": self.parent_key,
            "borrower_id": self.borrower_id,
            "loan_ids": list(self.loan_ids),
            "stage": self.stage.value,
            "template_id": self.template_id,
            "channel": self.channel.value,
            "fallback_channels": [channel.value for channel in self.fallbacks],
            "day": self.day.isoformat(),
            "send_at": _iso(self.send_at),
            "not_after": _iso(self.not_after),
            "next_attempt_at": _iso(self.next_attempt_at),
            "attempts": self.attempts,
            "provider": self.provider,
            "provider_message_id": self.provider_message_id,
            "error_code": self.error_code,
            "reason": self.reason,
            "text": self.text,
            "title": self.title,
            "template_hash": self.template_hash,
            "created_at": _iso(self.created_at),
            "sent_at": _iso(self.sent_at),
            "delivery_status": self.delivery_status,
            "delivery_code": self.delivery_code,
            "delivered_at": _iso(self.delivered_at),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxEvent:
    """One row of ``events``: a transition (or a receipt) of one message."""

    id: int
    message_key: str
    at: datetime
    worker: str
    from_state: MessageState | None
    to_state: MessageState
    reason: str | None
    detail: Mapping[str, Any]

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> OutboxEvent:
        values = dict(row)
        values["from_state"] = MessageState(values["from_state"]) if values["from_state"] else None
        values["to_state"] = MessageState(values["to_state"])
        values["detail"] = MappingProxyType(json.loads(values["detail"] or "{}"))
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        return {
            "at": _iso(self.at),
            "worker": self.worker,
            "from": self.from_state.value if self.from_state else None,
            "to": self.to_state.value,
            "reason": self.reason,
            "detail": dict(self.detail),
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
