"""The JSON the studio's page reads: findings, previews, samples and the template list.

Labels are for writers, in Chinese. Stages are whatever the catalog holds: a stage
without a label here (a new one) is shown by its id, after the known ones.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from remindkit.lint.findings import Finding
from remindkit.models import Channel, Platform, Stage
from remindkit.render import Rendered
from remindkit.render.filters import yuan
from remindkit.render.names import honorific_of
from remindkit.render.segments import carrier_parts_of, measure_sms
from remindkit.studio.checks import DraftCheck, Preview, SampleChoice

STAGE_LABELS = {
    "pre_due": "到期前",
    "due_today": "到期当天",
    "overdue_early": "逾期 1–7 天",
    "overdue": "逾期 8–30 天",
    "overdue_late": "逾期 31 天以上",
    "payment_received": "还款成功",
    "plan_offer": "困难协商",
    "plan_installment": "按计划还款",
    "credit_notice": "征信告知",
}
CHANNEL_LABELS = {Channel.SMS.value: "短信", Channel.PUSH.value: "推送"}
# The stages remindkit knows, in their own order; others (a new folder) follow by name.
_STAGE_ORDER = {stage.value: index for index, stage in enumerate(Stage)}


def stage_label(stage: str) -> str:
    return STAGE_LABELS.get(stage, stage)


def channel_order(channel: str) -> tuple[int, str]:
    """SMS first: it is what most reminders are, and what costs money."""
    return (0 if channel == Channel.SMS.value else 1, channel)


def stage_order(stage: str) -> tuple[int, str]:
    return (_STAGE_ORDER.get(stage, len(_STAGE_ORDER)), stage)


def finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "template_id": finding.template_id,
        "line": finding.line,
        "rule": finding.rule.value,
        "severity": finding.severity.value,
        "message": finding.message,
        "explained": finding.explained,
    }


def check_json(check: DraftCheck) -> dict[str, Any]:
    return {
        "findings": [finding_json(f) for f in (*check.findings, *check.explained)],
        "errors": check.errors,
        "warnings": check.warnings,
        "explained": len(check.explained),
        "can_save": not check.blockers,
        "blockers": check.blockers,
    }


def preview_json(preview: Preview) -> dict[str, Any]:
    template = preview.template
    data: dict[str, Any] = {
        "template_id": template.template_id,
        "variant": template.variant,
        "channel": template.channel.value,
        "now": local_minutes(preview.now),
    }
    rendered, error = preview.rendered, preview.error
    if error is not None or rendered is None:
        message = error.message if error is not None else "未能渲染"
        line = error.line if error is not None else None
        return data | {"kind": "error", "message": message, "line": line}
    if rendered.channel is Channel.PUSH:
        return data | {
            "kind": "push",
            "title": rendered.title,
            "body": rendered.body,
            "app_name": preview.platform.app_name,
            "time": preview.now.strftime("%H:%M"),
        }
    return data | _sms_json(rendered, preview.platform, template.meta.max_parts)


def _sms_json(rendered: Rendered, platform: Platform, max_parts: int) -> dict[str, Any]:
    text = rendered.text or ""
    length = rendered.length or measure_sms(text)
    signature = f"【{platform.signature}】"
    return {
        "kind": "sms",
        "text": text,
        "signature": signature if text.startswith(signature) else "",
        "body": text.removeprefix(signature),
        "chars": length.chars,
        "encoding": length.encoding,
        "segments": length.segments,
        "carrier_parts": length.carrier_parts,
        "parts_count": max(length.segments, length.carrier_parts),
        "parts": list(carrier_parts_of(text)),
        "max_parts": max_parts,
    }


def sample_json(choice: SampleChoice) -> dict[str, Any]:
    context = choice.sample.context
    first = context.installments[0]
    borrower = first.borrower
    total = sum((item.amount_due for item in context.installments), Decimal(0))
    count = len(context.installments)
    local_now = context.now.astimezone(borrower.zone)
    days = first.days_past_due(local_now.date())
    detail = [honorific_of(borrower.name, borrower.gender), yuan(total), _when(days)]
    if count > 1:
        detail.append(f"{count} 笔合并")
    return {
        "id": choice.id,
        "label": choice.sample.name if choice.worst_case else choice.id.removesuffix(".json"),
        "detail": " · ".join(detail),
        "worst_case": choice.worst_case,
        "now": local_minutes(local_now),
        "timezone": borrower.timezone,
    }


def _when(days_past_due: int) -> str:
    if days_past_due < 0:
        return f"{-days_past_due} 天后到期"
    return f"逾期 {days_past_due} 天" if days_past_due else "今天到期"


def local_minutes(moment: datetime) -> str:
    """``2026-12-01T10:00``: the value of an ``<input type="datetime-local">``."""
    return moment.strftime("%Y-%m-%dT%H:%M")
