"""Which stage (and so which template group) a message uses on the day it goes out (SPEC §5.1)."""

from __future__ import annotations

from remindkit.models import Channel, Installment, Stage, Status

# Severity when a borrower has more messages in a day than the caps allow: the message
# about the oldest debt is kept first (SPEC §5.3 caps leave the choice to us).
_SEVERITY = {
    Stage.PRE_DUE: 0,
    Stage.DUE_TODAY: 1,
    Stage.OVERDUE_EARLY: 2,
    Stage.OVERDUE: 3,
    Stage.OVERDUE_LATE: 4,
    Stage.PLAN_OFFER: 5,
    Stage.PAYMENT_RECEIVED: 6,
}


def stage_for(days_past_due: int, *, plan_wording: bool = False) -> Stage:
    """The stage of a reminder sent ``days_past_due`` days after the due date.

    A step moved earlier than seven days before the due date (Spring Festival pause) is
    still a ``pre_due`` reminder. Overdue stages use ``plan_offer`` wording for borrowers in
    hardship or already on a repayment plan.
    """
    stage = Stage.for_days_past_due(days_past_due) or Stage.PRE_DUE
    if plan_wording and stage.is_overdue:
        return Stage.PLAN_OFFER
    return stage


def wants_plan_wording(installment: Installment) -> bool:
    """Hardship (SPEC §3) or an agreed plan (status ``plan``) asks for ``plan_offer`` wording."""
    return installment.hardship or installment.status is Status.PLAN


def severity(stage: Stage) -> int:
    return _SEVERITY[stage]


def template_group(stage: Stage, channel: Channel) -> str:
    """The template id without a variant: ``overdue_early/sms``."""
    return f"{stage.value}/{channel.value}"
