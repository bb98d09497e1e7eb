"""What the outbox learns about installments: stop statuses cancel, first payments count.

Only installments the outbox has messages for are recorded: it has nothing to say about the
others (a paid installment with no message was never reminded, and the outcome report
counts repayments of reminded installments only). The first time one is seen ``paid`` is
recorded once, whichever process saw it: a conditional ``UPDATE … WHERE paid_at IS NULL``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, tuple_, update

from remindkit.models import Stage, Status
from remindkit.outbox.schema import installments, message_installments, messages
from remindkit.outbox.states import MessageState
from remindkit.outbox.transitions import apply_moves
from remindkit.outbox.values import FirstPaid, InstallmentRef, StatusUpdate, Transition
from remindkit.outbox.writes import upsert_statuses


def record_batch(
    connection: Connection,
    batch: list[StatusUpdate],
    now: datetime,
    *,
    worker: str,
    cancel: Mapping[Status, str],
    reminded_within: timedelta,
) -> tuple[int, list[FirstPaid]]:
    known = _known(connection, batch)
    if not known:
        return 0, []
    upsert_statuses(connection, known, now)
    cancelled = _cancel_stopped(connection, known, now, worker, cancel)
    return cancelled, _first_paid(connection, known, now, reminded_within)


def _known(connection: Connection, batch: list[StatusUpdate]) -> list[StatusUpdate]:
    refs = {update_.ref: update_ for update_ in batch}
    pairs = tuple_(message_installments.c.loan_id, message_installments.c.installment_no)
    found = connection.execute(
        select(message_installments.c.loan_id, message_installments.c.installment_no)
        .where(pairs.in_(list(refs)))
        .distinct()
    )
    return [refs[(loan_id, number)] for loan_id, number in found]


def _cancel_stopped(
    connection: Connection,
    known: list[StatusUpdate],
    now: datetime,
    worker: str,
    cancel: Mapping[Status, str],
) -> int:
    stopped = {u.ref: cancel[u.status] for u in known if u.status in cancel}
    if not stopped:
        return 0
    pairs = tuple_(message_installments.c.loan_id, message_installments.c.installment_no)
    rows = connection.execute(
        select(
            messages.c.key, message_installments.c.loan_id, message_installments.c.installment_no
        )
        .join(message_installments, message_installments.c.message_key == messages.c.key)
        .where(
            messages.c.state == MessageState.PLANNED.value,
            # A thank-you is about the payment itself: a stop status never cancels it.
            messages.c.stage != Stage.PAYMENT_RECEIVED.value,
            pairs.in_(list(stopped)),
        )
    ).all()
    reasons: dict[str, str] = {}
    for key, loan_id, number in rows:
        reasons.setdefault(key, stopped[(loan_id, number)])
    moves = [Transition(key=k, to=MessageState.CANCELLED, reason=r) for k, r in reasons.items()]
    return len(apply_moves(connection, moves, now, worker=worker, expect=(MessageState.PLANNED,)))


def _first_paid(
    connection: Connection, known: list[StatusUpdate], now: datetime, reminded_within: timedelta
) -> list[FirstPaid]:
    first: list[FirstPaid] = []
    for update_ in known:
        if update_.status is not Status.PAID:
            continue
        claimed = connection.execute(
            update(installments)
            .where(
                installments.c.loan_id == update_.loan_id,
                installments.c.installment_no == update_.installment_no,
                installments.c.paid_at.is_(None),
            )
            .values(paid_at=now)
            .returning(installments.c.loan_id)
        ).first()
        if claimed is None:
            continue  # seen paid before, by this process or another
        reminded, context = _reminder_context(connection, update_.ref, now - reminded_within)
        first.append(
            FirstPaid(
                update=update_, paid_at=now, context=update_.context or context, reminded=reminded
            )
        )
    return first


def _reminder_context(
    connection: Connection, ref: InstallmentRef, since: datetime
) -> tuple[bool, str]:
    """Whether a reminder about ``ref`` was sent since ``since``, and the latest snapshot of
    the installment the outbox holds (for a thank-you the backend asked for)."""
    linked = (
        select(messages.c.state, messages.c.sent_at, messages.c.context)
        .join(message_installments, message_installments.c.message_key == messages.c.key)
        .where(
            message_installments.c.loan_id == ref[0],
            message_installments.c.installment_no == ref[1],
        )
        .order_by(messages.c.created_at.desc())
    )
    reminded, context = False, ""
    for state, sent_at, row_context in connection.execute(linked):
        context = context or _only(row_context, ref)
        if state == MessageState.SENT.value and sent_at is not None and sent_at >= since:
            reminded = True
    return reminded, context


def _only(context: str, ref: InstallmentRef) -> str:
    """The snapshot of one installment out of a (consolidated) message's snapshot."""
    items = [
        item for item in json.loads(context) if (item["loan_id"], item["installment_no"]) == ref
    ]
    return json.dumps(items, ensure_ascii=False) if items else ""
