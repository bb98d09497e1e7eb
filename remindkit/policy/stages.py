"""Which stage (and so which template group) a message uses on the day it goes out (SPEC §5.1)."""

from __future__ import annotations

from remindkit.models import Channel, Installment, Stage, Status

# Severity when a borrower has more messages in a day than the caps allow: the message
# about the oldest debt is kept first (SPEC §5.3 caps leave the choice to us).
_SEVERITY = {
    Stage.PRE_DUE: 0,
    Stage.DUE_TODAY: 1,
    Stage.PLAN_INSTALLMENT: 1,
    Stage.OVERDUE_EARLY: 2,
    Stage.OVERDUE: 3,
    Stage.OVERDUE_LATE: 4,
    Stage.CREDIT_NOTICE: 5,
    Stage.PLAN_OFFER: 6,
    Stage.PAYMENT_RECEIVED: 7,
}


def stage_for(days_past_due: int, *, plan_wording: bool = False, on_plan: bool = False) -> Stage:
    """The stage of a reminder sent ``days_past_due`` days after the due date.

    A step moved earlier than seven days before the due date (Spring Festival pause) is
    still a ``pre_due`` reminder. An installment of an agreed plan (``on_plan``) always gets
    ``plan_installment`` wording (this period's amount under the plan, how to pay, how to
    adjust; SPEC §13), never an offer of the plan it has. Overdue stages use ``plan_offer``
    wording for borrowers in hardship (``plan_wording``).
    """
    if on_plan:
        return Stage.PLAN_INSTALLMENT
    stage = Stage.for_days_past_due(days_past_due) or Stage.PRE_DUE
    if plan_wording and stage.is_overdue:
        return Stage.PLAN_OFFER
    return stage


def stage_of(installment: Installment, days_past_due: int) -> Stage:
    """The stage of a reminder about ``installment`` sent ``days_past_due`` after it is due."""
    return stage_for(
        days_past_due,
        plan_wording=wants_plan_wording(installment),
        on_plan=installment.status is Status.PLAN,
    )


def wants_plan_wording(installment: Installment) -> bool:
    """A borrower in hardship (SPEC §3) is offered a plan in overdue stages (``plan_offer``)."""
    return installment.hardship


def severity(stage: Stage) -> int:
    return _SEVERITY[stage]


def template_group(stage: Stage, channel: Channel) -> str:
    """The template id without a variant: ``overdue_early/sms``."""
    return f"{stage}/{channel}"  # StrEnums: their values
