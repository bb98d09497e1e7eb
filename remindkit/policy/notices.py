"""The credit-reporting notice: one per loan, before the first negative report (SPEC §13).

征信业管理条例 第十五条: a lender that reports negative information to the credit bureau tells
the borrower beforehand. Where the lender reports (``[credit_notice] enabled``), the notice is
one step of its own — ``days_past_due`` after an installment's due date, moved by the same
holiday rules as an overdue reminder — sent on SMS (a written record) with the
``credit_notice`` templates. Collection templates no longer carry 征信 at all, so it never
reads as leverage.

Once per loan: the notice's key depends only on the loan and the notice kind
(:func:`notice_key`), so the outbox's unique key keeps one however many installments of the
loan reach the step and however often the day is re-planned; within one plan the first of a
loan's installments to reach it carries the notice. Installments on an agreed plan (status
``plan``) get no notice: the lender agreed how they are repaid.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import time

from remindkit.models import Channel, Stage
from remindkit.policy.cadence import CadenceStep
from remindkit.policy.keys import KEY_PREFIX
from remindkit.policy.schedule import Hit

NOTICE_CHANNELS = (Channel.SMS,)
_HEX_CHARS = 32


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeHit(Hit):
    """A notice step firing on ``day`` for one due date (a :class:`Hit` of its own kind)."""

    stage: Stage = Stage.CREDIT_NOTICE


def notice_step(days_past_due: int, send_time: time) -> CadenceStep:
    return CadenceStep(offset_days=days_past_due, channels=NOTICE_CHANNELS, send_time=send_time)


def as_notice(hit: Hit) -> NoticeHit:
    return NoticeHit(day=hit.day, step=hit.step, note=hit.note)


def notice_key(stage: Stage, loan_id: str) -> str:
    """The outbox key of a per-loan notice: the notice kind and the loan, nothing else."""
    parts = ("notice", stage.value, loan_id)
    payload = "".join(f"{len(part)}:{part}" for part in parts)
    return KEY_PREFIX + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:_HEX_CHARS]
