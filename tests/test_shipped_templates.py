"""The shipped zh_CN templates against worst-case borrowers (SPEC §4, collection-rules §3–§7).

Worst case: a 4-character name with a compound surname (司马先生; with no gender the
message opens with a plain 「您好」), 99,999.99元, a 4-character product, a 4-character
signature, one or three consolidated installments, every day of the stage's range and
dates on both sides of a new year. A one-part SMS keeps a margin of 4 characters in the
worst case, so it stays one part with any signature of up to 8 characters.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from remindkit.models import Borrower, Channel, Gender, Installment
from remindkit.render import MessageContext, Rendered, Renderer, TemplateCatalog, TemplateFile
from remindkit.testing import demo_platform

ROOT = Path(__file__).resolve().parents[1]
CATALOG = TemplateCatalog(ROOT / "templates")
PLATFORM = demo_platform()
RENDERER = Renderer(CATALOG, PLATFORM)
SHANGHAI = ZoneInfo("Asia/Shanghai")

WORST_NAME = "司马相如"
WORST_AMOUNT = Decimal("99999.99")
WORST_PRODUCT = "禾苗分期"
# Days past due each stage's messages go out at; event stages can follow any stage.
STAGE_DAYS: dict[str, tuple[int, ...]] = {
    "pre_due": tuple(range(-7, 0)),
    "due_today": (0,),
    "overdue_early": tuple(range(1, 8)),
    "overdue": tuple(range(8, 31)),
    "overdue_late": (31, 99, 100, 999),
    "payment_received": (-7, -1, 0, 7, 30, 999),
    "plan_offer": (1, 7, 30, 999),
    "plan_installment": (-7, -3, -1, 0, 1, 7, 30, 999),
    "credit_notice": (1, 7, 15, 30, 999),
}
OVERDUE_STAGES = (
    "overdue_early", "overdue", "overdue_late", "plan_offer", "plan_installment", "credit_notice"
)  # fmt: skip
ONE_PART_MARGIN = 4
# Mid-year, and both sides of a new year: dates then carry the year (2027年1月4日).
NOWS = (
    datetime(2026, 6, 15, 10, tzinfo=SHANGHAI),
    datetime(2026, 12, 28, 10, tzinfo=SHANGHAI),
    datetime(2027, 1, 5, 10, tzinfo=SHANGHAI),
)
FORBIDDEN = (
    "!", "！", "¥", "￥", "★", "&", "※", "√",
    "否则", "如果不", "立即", "马上", "务必", "最后", "尽快",
    "黑名单", "起诉", "诉讼", "后果", "法院", "公安", "通讯录", "亲友",
    "优惠", "提额", "额度", "再借", "领取", "低至",
)  # fmt: skip

SMS_IDS = [tid for tid in CATALOG.ids() if CATALOG.get(tid).channel is Channel.SMS]
PUSH_IDS = [tid for tid in CATALOG.ids() if CATALOG.get(tid).channel is Channel.PUSH]


def installments(
    count: int,
    days_past_due: int,
    now: datetime,
    gender: Gender,
    amount: Decimal,
    spread: int = 0,
) -> tuple[Installment, ...]:
    """``count`` installments, the first ``days_past_due`` days past due and each next one
    ``spread`` days later (a custom cadence can merge installments of different dates)."""
    borrower = Borrower(id="B-worst", name=WORST_NAME, gender=gender, phone="+8613800138000")
    due = now.date() - timedelta(days=days_past_due)
    return tuple(
        Installment(
            loan_id=f"HM20260101{index:02d}",
            installment_no=12,
            installments_total=12,
            borrower=borrower,
            amount_due=amount,
            due_date=due + timedelta(days=index * spread),
            product=WORST_PRODUCT,
        )
        for index in range(count)
    )


def worst_contexts(stage: str, amount: Decimal = WORST_AMOUNT) -> Iterator[MessageContext]:
    for now in NOWS:
        for days in STAGE_DAYS[stage]:
            for gender in (Gender.MALE, Gender.UNKNOWN):
                for count, spread in ((1, 0), (3, 0), (3, 1)):
                    given = installments(count, days, now, gender, amount, spread)
                    yield MessageContext(installments=given, now=now)


def template(template_id: str) -> TemplateFile:
    return CATALOG.get(template_id)


def exact_id(template_id: str) -> str:
    """Render this very file, not the borrower's variant of its group."""
    return template_id if "." in template_id.partition("/")[2] else f"{template_id}.a"


@cache
def renderings(template_id: str) -> tuple[Rendered, ...]:
    stage = template(template_id).stage
    return tuple(RENDERER.render(exact_id(template_id), ctx) for ctx in worst_contexts(stage))


def shown(rendered: Rendered) -> str:
    return rendered.text if rendered.text is not None else f"{rendered.title}\n{rendered.body}"


def test_the_shipped_set_covers_every_stage_and_channel() -> None:
    groups = set(CATALOG.group_ids())
    # The credit notice goes by SMS only: a written record, never on a lock screen.
    expected = {f"{stage}/{channel}" for stage in STAGE_DAYS for channel in ("sms", "push")}
    assert groups == expected - {"credit_notice/push"}
    variants = CATALOG.variants("overdue_early/sms")
    assert [(f.variant, f.meta.weight) for f in variants] == [("a", 1), ("b", 1)]


@pytest.mark.parametrize("template_id", CATALOG.ids())
def test_metadata_is_a_borrower_notification(template_id: str) -> None:
    meta = template(template_id).meta
    assert meta.audience == "borrower"
    assert meta.purpose == "notification"
    assert meta.description
    if template(template_id).stage in ("overdue", "overdue_late"):
        assert meta.tone in ("caring", "firm")


def test_a_worst_case_borrower_really_is_the_worst_case() -> None:
    ctx = next(worst_contexts("pre_due"))
    variables = RENDERER.variables(ctx)
    assert len(variables["borrower"].name) == 4
    assert len(PLATFORM.signature) == 4
    unknown = [c for c in worst_contexts("pre_due") if c.installments[0].borrower.gender == ""]
    # Unknown gender: no 先生/女士 at all, the message opens with 「您好」 (SPEC §13).
    assert RENDERER.variables(unknown[0])["borrower"].honorific == ""
    assert RENDERER.render("pre_due/sms", unknown[0]).text.startswith("【禾苗金融】您好，")


@pytest.mark.parametrize("template_id", SMS_IDS)
def test_sms_fits_its_declared_parts(template_id: str) -> None:
    meta = template(template_id).meta
    if meta.max_parts > 1:
        assert meta.parts_reason.strip(), f"{template_id}: max_parts > 1 needs a reason"
    too_long = [
        f"{r.length.chars} chars, {r.length.segments} parts: {r.text}"
        for r in renderings(template_id)
        if r.length is not None and r.length.segments > meta.max_parts
    ]
    assert too_long == []


@pytest.mark.parametrize("template_id", SMS_IDS)
def test_sms_is_one_part_unless_declared_otherwise(template_id: str) -> None:
    longest = max(r.length.chars for r in renderings(template_id) if r.length is not None)
    if template(template_id).meta.max_parts == 1:
        # A margin for the lender's own signature (lint --config measures with it).
        assert longest <= 70 - ONE_PART_MARGIN
    else:
        assert longest > 70, f"{template_id} fits one SMS: drop max_parts"


@pytest.mark.parametrize("template_id", PUSH_IDS)
def test_push_never_shows_an_amount_or_the_full_name(template_id: str) -> None:
    stage = template(template_id).stage
    odd_amount = Decimal("1234.56")
    for ctx in [*worst_contexts(stage), *worst_contexts(stage, odd_amount)]:
        rendered = RENDERER.render(exact_id(template_id), ctx)
        text = shown(rendered)
        assert rendered.title
        assert rendered.body
        for shown_amount in ("元", "99,999", "99999", "299,999", "1,234", "234.56", "3,703"):
            assert shown_amount not in text, f"{template_id}: {text}"
        assert WORST_NAME not in text


@pytest.mark.parametrize("template_id", SMS_IDS)
def test_sms_never_shows_the_full_name(template_id: str) -> None:
    assert all(WORST_NAME not in shown(r) for r in renderings(template_id))


@pytest.mark.parametrize("template_id", CATALOG.ids())
def test_no_brackets_in_bodies(template_id: str) -> None:
    body = template(template_id).source.split("-#}", 1)[1]
    assert "【" not in body
    assert "】" not in body
    signature = f"【{PLATFORM.signature}】"
    for rendered in renderings(template_id):
        text = shown(rendered).removeprefix(signature)
        assert "【" not in text
        assert "】" not in text


@pytest.mark.parametrize(
    "template_id", [tid for tid in CATALOG.ids() if template(tid).stage in OVERDUE_STAGES]
)
def test_overdue_stage_templates_offer_help(template_id: str) -> None:
    for rendered in renderings(template_id):
        text = shown(rendered)
        assert PLATFORM.hotline in text or "还款帮助" in text, text


@pytest.mark.parametrize("template_id", CATALOG.ids())
def test_house_style(template_id: str) -> None:
    for rendered in renderings(template_id):
        text = shown(rendered)
        found = [word for word in FORBIDDEN if word in text]
        assert found == [], f"{template_id}: {found} in {text}"
        assert "13800138000" not in text


def test_installments_due_on_different_days_are_dated_by_the_earliest() -> None:
    now = NOWS[0]
    given = installments(3, -1, now, Gender.MALE, Decimal("100.00"), spread=2)[::-1]
    text = RENDERER.render("pre_due/sms", MessageContext(installments=given, now=now)).text
    assert text == (
        "【禾苗金融】司马先生您好，您有3笔账单自6月16日（明天）起到期，"
        "共应还300.00元，请在禾苗金融App还款。"
    )
    push = RENDERER.render("pre_due/push", MessageContext(installments=given, now=now))
    assert "您有3笔账单自6月16日（明天）起陆续到期，" in (push.body or "")


def test_due_date_carries_the_year_only_across_a_new_year() -> None:
    ctx = MessageContext(
        installments=installments(1, -7, NOWS[1], Gender.MALE, WORST_AMOUNT), now=NOWS[1]
    )
    assert ctx.installments[0].due_date == date(2027, 1, 4)
    rendered = RENDERER.render("pre_due/push", ctx)
    assert "于2027年1月4日（7天后）到期" in (rendered.body or "")
