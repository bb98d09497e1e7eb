"""The content team's filters at their edges (SPEC §4.2), directly and through the renderer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from remindkit.errors import TemplateError
from remindkit.models import Installment, Platform
from remindkit.render import MessageContext, Renderer, TemplateCatalog
from remindkit.render.filters import cn_weekday, mask_phone, relative_words, rmb_upper, yuan

InstallmentFactory = Callable[..., Installment]
TemplatesFactory = Callable[..., Path]
CST = timezone(timedelta(hours=8))


def render_body(
    tmp_templates: TemplatesFactory,
    platform: Platform,
    body: str,
    installments: list[Installment],
    now: datetime,
) -> str:
    """Render a one-off SMS template body and return the text after the signature."""
    root = tmp_templates({"pre_due/sms.j2": body})
    renderer = Renderer(TemplateCatalog(root), platform)
    rendered = renderer.render(
        "pre_due/sms", MessageContext(installments=tuple(installments), now=now)
    )
    assert rendered.text is not None
    return rendered.text.removeprefix("【禾苗金融】")


# --- money -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("0.01"), "0.01元"),
        (Decimal("1000000.00"), "1,000,000.00元"),
        (Decimal("1234.5"), "1,234.50元"),
        (Decimal("99999.99"), "99,999.99元"),
        (5, "5.00元"),
        (Decimal("0.125"), "0.13元"),  # 四舍五入, not banker's rounding
        ("645.3", "645.30元"),  # extra feed columns arrive as text
    ],
)
def test_yuan(amount: object, expected: str) -> None:
    assert yuan(amount) == expected


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("0.01"), "壹分"),
        (Decimal("1000000.00"), "壹佰万元整"),
        (Decimal("1234.5"), "壹仟贰佰叁拾肆元伍角"),
        (Decimal("99999.99"), "玖万玖仟玖佰玖拾玖元玖角玖分"),
        (5, "伍元整"),
        (Decimal("10.05"), "壹拾元零伍分"),
    ],
)
def test_rmb_upper(amount: object, expected: str) -> None:
    assert rmb_upper(amount) == expected


@pytest.mark.parametrize("money_filter", [yuan, rmb_upper])
@pytest.mark.parametrize("amount", [1234.5, 0.01, True, None])
def test_money_filters_refuse_floats_and_non_numbers(money_filter: object, amount: object) -> None:
    assert callable(money_filter)
    with pytest.raises(TypeError, match="needs a Decimal amount, got"):
        money_filter(amount)


@pytest.mark.parametrize("text", ["abc", "NaN", "Infinity"])
def test_money_filters_refuse_text_that_is_not_a_finite_amount(text: str) -> None:
    with pytest.raises(ValueError, match="yuan needs a"):
        yuan(text)
    with pytest.raises(ValueError, match="rmb_upper needs a"):
        rmb_upper(text)


def test_a_float_in_a_template_fails_the_render_naming_the_filter(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    with pytest.raises(TemplateError, match="yuan needs a Decimal amount, got float") as caught:
        render_body(tmp_templates, platform, "{{ 1234.5|yuan }}", [installment()], NOW)
    assert caught.value.line == 11


def test_money_filters_in_a_template(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    body = "{{ loan.amount_due|yuan }}（{{ loan.amount_due|rmb_upper }}）"
    text = render_body(tmp_templates, platform, body, [installment()], NOW)
    assert text == "1,234.50元（壹仟贰佰叁拾肆元伍角）"


# --- dates -------------------------------------------------------------------------------

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=CST)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 30), "星期一"),
        (date(2026, 12, 1), "星期二"),
        (date(2026, 12, 2), "星期三"),
        (date(2026, 12, 3), "星期四"),
        (date(2026, 12, 4), "星期五"),
        (date(2026, 12, 5), "星期六"),
        (date(2026, 12, 6), "星期日"),
        (datetime(2027, 1, 1, 9, 0, tzinfo=CST), "星期五"),
    ],
)
def test_cn_weekday(day: date, expected: str) -> None:
    assert cn_weekday(day) == expected


def test_cn_weekday_refuses_text() -> None:
    with pytest.raises(TypeError, match="cn_weekday needs a date, got str"):
        cn_weekday("2026-12-01")


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (-10, "10天前"),
        (-3, "3天前"),
        (-2, "前天"),
        (-1, "昨天"),
        (0, "今天"),
        (1, "明天"),
        (2, "后天"),
        (3, "3天后"),
        (10, "10天后"),
    ],
)
def test_relative_words(days: int, expected: str) -> None:
    assert relative_words(days) == expected


DATES_BODY = (
    "{% for l in loans %}{{ l.due_date|cn_date }}/{{ l.due_date|relative_day }};{% endfor %}"
)


def dates_for(
    installment: InstallmentFactory, days: list[date], **borrower: str
) -> list[Installment]:
    return [
        installment(loan_id=f"L{index:04d}", due_date=day, **borrower)
        for index, day in enumerate(days)
    ]


def test_relative_day_across_a_month_boundary(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    days = [NOW.date() + timedelta(days=offset) for offset in (-10, -3, -2, -1, 0, 1, 2, 3, 10)]
    text = render_body(tmp_templates, platform, DATES_BODY, dates_for(installment, days), NOW)
    assert text == (
        "11月20日/10天前;11月27日/3天前;11月28日/前天;11月29日/昨天;11月30日/今天;"
        "12月1日/明天;12月2日/后天;12月3日/3天后;12月10日/10天后;"
    )


def test_cn_date_shows_the_year_only_when_it_differs_from_nows(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    new_years_eve = datetime(2026, 12, 31, 10, 0, tzinfo=CST)
    days = [date(2026, 12, 21), date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 10)]
    text = render_body(
        tmp_templates, platform, DATES_BODY, dates_for(installment, days), new_years_eve
    )
    assert text == "12月21日/10天前;12月31日/今天;2027年1月1日/明天;2027年1月10日/10天后;"

    new_year = datetime(2027, 1, 1, 10, 0, tzinfo=CST)
    days = [date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 4)]
    text = render_body(tmp_templates, platform, DATES_BODY, dates_for(installment, days), new_year)
    assert text == "2026年12月30日/前天;2026年12月31日/昨天;1月1日/今天;1月4日/3天后;"


# --- the borrower's own zone -------------------------------------------------------------

CLOCK_BODY = (
    "{{ now.month }}-{{ now.day }} {{ now.hour }}:{{ now.minute }}"
    "|{{ loan.due_date|relative_day }}|{{ loan.due_date|cn_weekday }}"
)


@pytest.mark.parametrize(
    ("zone", "expected"),
    # 23:30 UTC on 11-30 is already 12-01 (a Tuesday) in both zones: due today in both.
    [("Asia/Shanghai", "12-1 7:30|今天|星期二"), ("Asia/Urumqi", "12-1 5:30|今天|星期二")],
)
def test_now_is_shown_in_the_borrowers_zone(
    tmp_templates: TemplatesFactory,
    platform: Platform,
    installment: InstallmentFactory,
    zone: str,
    expected: str,
) -> None:
    half_past_eleven_utc = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    inst = installment(timezone=zone)
    text = render_body(tmp_templates, platform, CLOCK_BODY, [inst], half_past_eleven_utc)
    assert text == expected


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        # 01:00 on 12-01 in Shanghai: the due day has begun.
        ("Asia/Shanghai", "12-1 1h|今天|12月1日|0|due_today"),
        # 23:00 on 11-30 in Urumqi (UTC+6): still the day before.
        ("Asia/Urumqi", "11-30 23h|明天|12月1日|-1|pre_due"),
    ],
)
def test_relative_day_follows_the_borrowers_calendar_not_utc(
    tmp_templates: TemplatesFactory,
    platform: Platform,
    installment: InstallmentFactory,
    zone: str,
    expected: str,
) -> None:
    five_pm_utc = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    body = (
        "{{ now.month }}-{{ now.day }} {{ now.hour }}h|{{ loan.due_date|relative_day }}"
        "|{{ loan.due_date|cn_date }}|{{ loan.days_past_due }}|{{ stage }}"
    )
    inst = installment(timezone=zone, due_date=date(2026, 12, 1))
    text = render_body(tmp_templates, platform, body, [inst], five_pm_utc)
    assert text == expected


def test_cn_date_year_follows_the_borrowers_zone_on_new_years_eve(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    # 2027-01-01 01:00 in Shanghai, 2026-12-31 23:00 in Urumqi.
    moment = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    body = "{{ loan.due_date|cn_date }}{{ loan.due_date|relative_day }}"
    due = date(2027, 1, 1)
    shanghai = render_body(tmp_templates, platform, body, [installment(due_date=due)], moment)
    urumqi = render_body(
        tmp_templates,
        platform,
        body,
        [installment(due_date=due, timezone="Asia/Urumqi")],
        moment,
    )
    assert (shanghai, urumqi) == ("1月1日今天", "2027年1月1日明天")


# --- phones ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("+8613800138000", "138****8000"),
        ("13800138000", "138****8000"),
        ("8613800138000", "138****8000"),
        ("138 0013 8000", "138****8000"),
        ("12345", "*****"),  # too short to keep any digit
        # Other countries: the country code is not part of the number shown.
        ("+14155550123", "415***0123"),
        ("+447911123456", "791***3456"),
        ("+85291234567", "912*4567"),
        ("+0123", "****"),  # no country code starts with 0
        ("+", ""),
        ("", ""),
    ],
)
def test_mask_phone(phone: str, expected: str) -> None:
    assert mask_phone(phone) == expected


def test_mask_phone_in_a_template(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    text = render_body(
        tmp_templates, platform, "{{ borrower.phone|mask_phone }}", [installment()], NOW
    )
    assert text == "138****8000"


def test_yuan_matches_babels_cldr_formatting() -> None:
    from babel.numbers import format_decimal

    amounts = [Decimal(n) / 100 for n in (1, 99, 100, 123456, 99999999, 10**12 + 7, -123456)]
    for amount in amounts:
        assert yuan(amount) == format_decimal(amount, format="#,##0.00", locale="zh_CN") + "元"


def test_rmb_upper_matches_cn2an_on_whole_amounts() -> None:
    import cn2an

    cents = [Decimal(c) / 100 for c in range(100)]
    amounts = [whole + cent for whole in (0, 1, 10, 1001, 100000, 10**8) for cent in cents]
    amounts += [Decimal("-10.05"), Decimal("1234.5"), Decimal("99999.99")]
    for amount in amounts:
        assert rmb_upper(amount) == cn2an.an2cn(f"{amount:.2f}", "rmb"), amount
