"""The step's next channel after a permanent refusal or a flagged contact (SPEC §6.4).

The fallback is a new outbox row (origin ``fallback``, ``parent_key`` the refused one): the
refused row stays ``failed`` (or ``suppressed bad_contact``) in the audit trail, and the new
one goes through the same re-check as any message, caps included.
"""

from __future__ import annotations

from datetime import datetime

from remindkit.errors import TemplateError
from remindkit.models import Installment, zone_for
from remindkit.outbox.records import OutboxMessage
from remindkit.plan import PlannedMessage, TemplatePicker
from remindkit.policy.decision import MessageStatus
from remindkit.policy.keys import message_key
from remindkit.policy.rules import choose_channel
from remindkit.policy.stages import template_group


def fallback_message(
    message: OutboxMessage,
    installments: tuple[Installment, ...],
    why: str,
    *,
    now: datetime,
    catalog: TemplatePicker,
    locale: str,
) -> PlannedMessage | None:
    """The message on the next usable channel of ``message``'s step, due now; ``None``
    when no channel is left (or it has no template)."""
    if not message.fallbacks:
        return None
    choice = choose_channel(message.fallbacks, installments[0].borrower)
    if not choice.usable:
        return None
    try:
        picked = catalog.pick(
            template_group(message.stage, choice.channel), message.borrower_id, locale
        )
    except TemplateError:
        return None
    refs = tuple(item.key for item in installments)
    return PlannedMessage(
        key=message_key(
            borrower_id=message.borrower_id,
            installments=refs,
            stage=message.stage,
            day=message.day,
            channel=choice.channel,
        ),
        borrower_id=message.borrower_id,
        loan_ids=message.loan_ids,
        installments=installments,
        stage=message.stage,
        template_id=picked.template_id,
        channel=choice.channel,
        fallback_channels=choice.fallbacks,
        day=message.day,
        send_at=now.astimezone(zone_for(message.timezone)),
        not_after=message.not_after,
        status=MessageStatus.PLANNED,
        reason=f"fallback: {why}",
    )
