"""The renderer (SPEC §4.2): strict variables with template lines, syntax errors, whitespace
collapse, the signature, push blocks, consolidated messages, zones and the output shape."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from remindkit.errors import TemplateError, TemplateSyntaxError, UndefinedVariableError
from remindkit.models import Channel, Gender, Installment, Platform, Stage
from remindkit.render import (
    MessageContext,
    Rendered,
    Renderer,
    TemplateCatalog,
    collapse_whitespace,
)
from remindkit.render.renderer import PlatformView

TemplatesFactory = Callable[..., Path]
InstallmentFactory = Callable[..., Installment]
CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=CST)  # the day before the default due date
BODY_LINE = 11  # the standard metadata block takes lines 1-10
PUSH = "{% block title %}还款提醒{% endblock %}\n{% block body %}\n{{ borrower.honorific }}您好，\n尾号{{ loan.tail }}的借款{{ loan.due_date|relative_day }}到期。\n{% endblock %}\n"  # noqa: E501


def renderer_for(
    tmp_templates: TemplatesFactory, platform: Platform, files: dict[str, str]
) -> Renderer:
    return Renderer(TemplateCatalog(tmp_templates(files)), platform)


def context(*installments: Installment, now: datetime = NOW, **kw: object) -> MessageContext:
    return MessageContext(installments=installments, now=now, **kw)  # type: ignore[arg-type]


def sms(
    tmp_templates: TemplatesFactory, platform: Platform, body: str, ctx: MessageContext
) -> Rendered:
    return renderer_for(tmp_templates, platform, {"pre_due/sms.j2": body}).render(
        "pre_due/sms", ctx
    )


# --- strict variables and errors with lines ----------------------------------------------


def test_undefined_attribute_names_the_variable_and_the_file_line(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    body = "{{ borrower.honorific }}您好，\n您的借款\n{{ borrower.nmae }}明天到期。\n"
    with pytest.raises(UndefinedVariableError) as caught:
        sms(tmp_templates, platform, body, context(installment()))
    error = caught.value
    assert (error.template_id, error.variable, error.line) == ("pre_due/sms", "borrower.nmae", 13)
    assert str(error) == "pre_due/sms:13: undefined variable 'borrower.nmae'"


def test_undefined_top_level_name(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    with pytest.raises(UndefinedVariableError) as caught:
        sms(tmp_templates, platform, "您好\n\n{{ borrwer.name }}\n", context(installment()))
    assert (caught.value.variable, caught.value.line) == ("borrwer", BODY_LINE + 2)


@pytest.mark.parametrize(
    ("body", "variable", "line"),
    [
        ("{% if loan.tail %}\n\n{{ loan.amount }}{% endif %}", "loan.amount", BODY_LINE + 2),
        ("{% for l in loans %}\n{{ l.nmae }}{% endfor %}", "loan.nmae", BODY_LINE + 1),
        ("{% macro m() %}\n{{ loan.nope }}\n{% endmacro %}\n{{ m() }}", "loan.nope", BODY_LINE + 1),
        ("{{ loan.extra.channel }}", "loan.extra.channel", BODY_LINE),
        ("{{ loan.extra['channel'] }}", "loan.extra.channel", BODY_LINE),
        ("{{ platform.fax }}", "platform.fax", BODY_LINE),
        ("x\n{{ loans[5] }}", "loans[5]", BODY_LINE + 1),  # not "list object has no element 5"
        ("{{ [1, 2][5] }}", "[5]", BODY_LINE),
    ],
)
def test_undefined_inside_blocks_loops_macros_and_extra(
    tmp_templates: TemplatesFactory,
    platform: Platform,
    installment: InstallmentFactory,
    body: str,
    variable: str,
    line: int,
) -> None:
    with pytest.raises(UndefinedVariableError) as caught:
        sms(tmp_templates, platform, body, context(installment()))
    assert (caught.value.variable, caught.value.line) == (variable, line)


def test_undefined_in_a_push_block_names_the_template_line(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    body = "{% block title %}提醒{% endblock %}\n{% block body %}\n您好\n{{ borrower.nmae }}\n{% endblock %}\n"  # noqa: E501
    renderer = renderer_for(tmp_templates, platform, {"pre_due/push.j2": body})
    with pytest.raises(UndefinedVariableError) as caught:
        renderer.render("pre_due/push", context(installment()))
    assert (caught.value.variable, caught.value.line) == ("borrower.nmae", BODY_LINE + 3)


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("您好\n{{ foo( }}\n", BODY_LINE + 1, "unexpected '}', expected ')'"),
        ("您好\n{% endif %}\n", BODY_LINE + 1, "Encountered unknown tag 'endif'."),
        ("{% if loan.tail %}\n您好\n", BODY_LINE + 1, "Unexpected end of template."),
    ],
)
def test_jinja_syntax_errors_name_the_line(
    tmp_templates: TemplatesFactory,
    platform: Platform,
    installment: InstallmentFactory,
    body: str,
    line: int,
    message: str,
) -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        sms(tmp_templates, platform, body, context(installment()))
    assert (caught.value.template_id, caught.value.line) == ("pre_due/sms", line)
    assert caught.value.message.startswith(message)


def test_other_run_time_failures_are_template_errors_with_a_line(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    with pytest.raises(TemplateError) as caught:
        sms(tmp_templates, platform, "x\n{{ loan.installment_no // 0 }}", context(installment()))
    assert caught.value.line == BODY_LINE + 1
    assert caught.value.message.startswith("rendering failed: ZeroDivisionError")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{{ loan.amount_due / 0 }}", "DivisionByZero in arithmetic on an amount"),
        (
            "{{ (loan.amount_due * 10000000000000000000000)|round(10) }}",
            "InvalidOperation in arithmetic on an amount",
        ),
    ],
)
def test_amount_arithmetic_errors_show_no_python_repr(
    tmp_templates: TemplatesFactory,
    platform: Platform,
    installment: InstallmentFactory,
    body: str,
    message: str,
) -> None:
    with pytest.raises(TemplateError) as caught:
        sms(tmp_templates, platform, body, context(installment()))
    assert caught.value.message == f"rendering failed: {message}"


# --- whitespace and the signature --------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("您好，\n王先生", "您好，王先生"),  # CJK lines join without a space
        ("  尾号 0001  \n\n的借款", "尾号 0001的借款"),
        ("Please pay\nnow", "Please pay now"),  # a line break between Latin words is a space
        ("Hi,\nthere", "Hi, there"),  # ... and after Latin punctuation
        ("Done.\nThanks;\n2 days", "Done. Thanks; 2 days"),
        ("400-\n100", "400-100"),
        ("Hi,\n您好", "Hi,您好"),
        ("您好，\nHi", "您好，Hi"),
        ("App\n还款", "App还款"),
        ("尾号1234\n5元", "尾号1234 5元"),
        ("\u3000\u3000您好，\u3000\u3000王先生\u3000\n明天", "您好， 王先生明天"),  # full-width
        ("a\t\t b", "a b"),
        ("x\r\n\r\ny", "x y"),
        ("\n\n", ""),
    ],
)
def test_collapse_whitespace(raw: str, shown: str) -> None:
    assert collapse_whitespace(raw) == shown


def test_sms_text_is_collapsed_and_signed(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    body = (
        "{{ borrower.honorific }}您好，\n"
        "  您尾号{{ loan.tail }}的{{ loan.product }}\n"
        "{% if loan.days_past_due < 0 %}\n"
        "    {{ loan.due_date|relative_day }}到期，\n"
        "{% endif %}\n"
        "可在 {{ platform.app_name }} 还款。\n"
    )
    rendered = sms(tmp_templates, platform, body, context(installment()))
    assert (
        rendered.text
        == "【禾苗金融】王女士您好，您尾号0001的禾苗贷明天到期，可在 禾苗金融App 还款。"
    )


def test_the_signature_comes_from_the_platform(
    tmp_templates: TemplatesFactory, installment: InstallmentFactory
) -> None:
    other = Platform(
        name="青禾", signature="青禾消费金融", hotline="1", app_name="青禾", repay_url="u"
    )
    rendered = sms(tmp_templates, other, "您好", context(installment()))
    assert rendered.text == "【青禾消费金融】您好"
    assert Renderer(TemplateCatalog(Path()), other).with_signature("x") == "【青禾消费金融】x"


# --- push --------------------------------------------------------------------------------


def test_push_renders_title_and_body_without_signature(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    renderer = renderer_for(tmp_templates, platform, {"pre_due/push.j2": PUSH})
    rendered = renderer.render("pre_due/push", context(installment()))
    assert (rendered.title, rendered.body) == ("还款提醒", "王女士您好，尾号0001的借款明天到期。")
    # text is what the phone shows, as for an SMS: the title, then the body.
    assert rendered.text == "还款提醒\n王女士您好，尾号0001的借款明天到期。"
    assert (rendered.length, rendered.channel) == (None, Channel.PUSH)


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ("{% block title %}t{% endblock %}", "body"),
        ("{% block body %}b{% endblock %}", "title"),
        ("标题\n正文", "title"),
    ],
)
def test_push_needs_title_and_body_blocks(
    tmp_templates: TemplatesFactory,
    platform: Platform,
    installment: InstallmentFactory,
    body: str,
    missing: str,
) -> None:
    renderer = renderer_for(tmp_templates, platform, {"pre_due/push.j2": body})
    with pytest.raises(TemplateSyntaxError) as caught:
        renderer.render("pre_due/push", context(installment()))
    assert caught.value.line == BODY_LINE
    assert caught.value.message == f"a push template needs {{% block {missing} %}}…{{% endblock %}}"


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("说明\n" + PUSH, BODY_LINE, "text outside {% block title %} and {% block body %}"),
        (PUSH + "\n\n尾注{{ loan.tail }}\n", BODY_LINE + 7, "text outside {% block title %}"),
        ("{% set item = '借款' %}\n" + PUSH, BODY_LINE, "only {% block title %} and {% block"),
        (PUSH + "{% block footer %}f{% endblock %}", BODY_LINE + 5, "{% block footer %} is never"),
    ],
)
def test_push_refuses_what_it_would_silently_drop(
    tmp_templates: TemplatesFactory,
    platform: Platform,
    installment: InstallmentFactory,
    body: str,
    line: int,
    message: str,
) -> None:
    renderer = renderer_for(tmp_templates, platform, {"pre_due/push.j2": body})
    with pytest.raises(TemplateSyntaxError) as caught:
        renderer.render("pre_due/push", context(installment()))
    assert (caught.value.line, caught.value.message[: len(message)]) == (line, message)


def test_push_allows_blank_lines_and_comments_around_its_blocks(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    body = "\n  \n{# 标题要短 #}\n" + PUSH + "\n{# 结尾 #}\n\n"
    renderer = renderer_for(tmp_templates, platform, {"pre_due/push.j2": body})
    assert renderer.render("pre_due/push", context(installment())).title == "还款提醒"


# --- variables ---------------------------------------------------------------------------


def three_installments(installment: InstallmentFactory) -> tuple[Installment, ...]:
    return (
        installment(loan_id="HM2026021403", installment_no=10, amount_due=Decimal("1080.00")),
        installment(loan_id="HM2026052216", installment_no=7, amount_due=Decimal("645.30"),
                    product="安心分期"),
        installment(loan_id="HM2026090938", installment_no=3, installments_total=6,
                    amount_due=Decimal("399.00"), product=None),
    )  # fmt: skip


def test_a_consolidated_message_sees_every_installment_and_the_total(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    body = (
        "您有{{ loans|length }}笔账单明天到期，共{{ total_due|yuan }}：\n"
        "{% for l in loans %}尾号{{ l.tail }}第{{ l.installment_no }}/{{ l.installments_total }}期"
        "{{ l.product or '借款' }}{{ l.amount_due|yuan }}；{% endfor %}\n"
        "首笔{{ loan.tail }}"
    )
    rendered = sms(tmp_templates, platform, body, context(*three_installments(installment)))
    assert rendered.text == (
        "【禾苗金融】您有3笔账单明天到期，共2,124.30元："
        "尾号1403第10/12期禾苗贷1,080.00元；尾号2216第7/12期安心分期645.30元；"
        "尾号0938第3/6期借款399.00元；首笔1403"
    )


def test_loans_are_ordered_by_due_date_and_loan_is_the_earliest(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    later = installment(loan_id="HM20260001", due_date=date(2026, 12, 5))
    sooner = installment(loan_id="HM20260009", due_date=date(2026, 12, 1))
    body = "{{ loan.tail }}{{ loan.due_date|relative_day }}；{% for l in loans %}{{ l.tail }}{% endfor %}"  # noqa: E501
    rendered = sms(tmp_templates, platform, body, context(later, sooner))
    assert rendered.text == "【禾苗金融】0009明天；00090001"


def test_variables_hold_the_content_teams_vocabulary(
    platform: Platform, installment: InstallmentFactory
) -> None:
    renderer = Renderer(TemplateCatalog(Path()), platform)
    inst = installment(name="欧阳娜娜", gender=Gender.UNKNOWN, extra={"channel": "app"})
    variables = renderer.variables(context(inst, now=datetime(2026, 11, 30, 17, 0, tzinfo=UTC)))
    assert set(variables) == {"borrower", "loan", "loans", "total_due", "platform", "now", "stage"}
    borrower, loan = variables["borrower"], variables["loan"]
    assert (borrower.id, borrower.name, borrower.surname) == ("B1001", "欧阳娜娜", "欧阳")
    assert (borrower.honorific, borrower.gender) == ("", "")
    assert borrower.phone == "+8613800138000"
    assert (loan.id, loan.tail, loan.product) == ("HM20260001", "0001", "禾苗贷")
    assert (loan.amount_due, loan.due_date) == (Decimal("1234.50"), date(2026, 12, 1))
    assert (loan.installment_no, loan.installments_total, loan.status) == (3, 12, "due")
    assert loan.days_past_due == 0  # 01:00 on 12-01 in Shanghai
    assert dict(loan.extra) == {"channel": "app"}
    assert variables["loans"] == [loan]
    assert variables["total_due"] == Decimal("1234.50")
    assert variables["platform"] == PlatformView.of(platform)
    assert variables["platform"].offers_text == "分期、延期或部分还款"
    assert variables["now"] == datetime(2026, 12, 1, 1, 0, tzinfo=CST)
    assert variables["now"].utcoffset() == timedelta(hours=8)
    assert variables["stage"] == "due_today"


def test_missing_product_and_phone_are_empty_text(
    platform: Platform, installment: InstallmentFactory
) -> None:
    renderer = Renderer(TemplateCatalog(Path()), platform)
    variables = renderer.variables(context(installment(product=None, phone=None)))
    assert (variables["loan"].product, variables["borrower"].phone) == ("", "")


@pytest.mark.parametrize(
    ("due", "stage"),
    [
        (date(2026, 12, 10), "pre_due"),  # before the window: still the pre-due wording
        (date(2026, 12, 1), "pre_due"),
        (date(2026, 11, 30), "due_today"),
        (date(2026, 11, 23), "overdue_early"),
        (date(2026, 11, 22), "overdue"),
        (date(2026, 10, 31), "overdue"),
        (date(2026, 10, 30), "overdue_late"),
    ],
)
def test_stage_comes_from_days_past_due(
    platform: Platform, installment: InstallmentFactory, due: date, stage: str
) -> None:
    renderer = Renderer(TemplateCatalog(Path()), platform)
    assert renderer.variables(context(installment(due_date=due)))["stage"] == stage


def test_an_explicit_stage_wins(platform: Platform, installment: InstallmentFactory) -> None:
    renderer = Renderer(TemplateCatalog(Path()), platform)
    ctx = context(installment(), stage=Stage.PAYMENT_RECEIVED)
    assert renderer.variables(ctx)["stage"] == "payment_received"


@pytest.mark.parametrize(
    ("zone", "shown"), [("Asia/Shanghai", "12-1 7:30"), ("Asia/Urumqi", "12-1 5:30")]
)
def test_now_is_converted_to_the_borrowers_zone(
    tmp_templates: TemplatesFactory,
    platform: Platform,
    installment: InstallmentFactory,
    zone: str,
    shown: str,
) -> None:
    body = "{{ now.month }}-{{ now.day }} {{ now.hour }}:{{ now.minute }}"
    moment = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    rendered = sms(tmp_templates, platform, body, context(installment(timezone=zone), now=moment))
    assert rendered.text == "【禾苗金融】" + shown


def test_message_context_refuses_naive_now_and_no_installments(
    installment: InstallmentFactory,
) -> None:
    with pytest.raises(ValueError, match="now: must be timezone-aware"):
        MessageContext(installments=(installment(),), now=datetime(2026, 11, 30, 10, 0))  # noqa: DTZ001
    with pytest.raises(ValueError, match="at least one installment"):
        MessageContext(installments=(), now=NOW)


# --- variants and ids --------------------------------------------------------------------


def test_a_group_id_renders_the_borrowers_stable_variant(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    renderer = renderer_for(
        tmp_templates, platform, {"overdue_early/sms.j2": "A版", "overdue_early/sms.b.j2": "B版"}
    )
    for borrower_id in (f"B{n}" for n in range(40)):
        ctx = context(installment(borrower_id=borrower_id))
        picked = renderer.catalog.pick("overdue_early/sms", borrower_id)
        rendered = renderer.render("overdue_early/sms", ctx)
        assert (rendered.variant, rendered.group_id) == (picked.variant, "overdue_early/sms")
        assert rendered.text == f"【禾苗金融】{picked.variant.upper()}版"
    exact = renderer.render("overdue_early/sms.b", context(installment()))
    assert (exact.template_id, exact.text) == ("overdue_early/sms.b", "【禾苗金融】B版")
    base = renderer.render_file(renderer.catalog.get("overdue_early/sms"), context(installment()))
    assert (base.template_id, base.variant, base.text) == (
        "overdue_early/sms",
        "a",
        "【禾苗金融】A版",
    )


def test_other_locales_fall_back_to_zh_cn(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    renderer = renderer_for(tmp_templates, platform, {"pre_due/sms.j2": "您好"})
    rendered = renderer.render("pre_due/sms", context(installment()), "zh_HK")
    assert (rendered.locale, rendered.text) == ("zh_CN", "【禾苗金融】您好")


# --- the output shape --------------------------------------------------------------------


def test_sms_as_dict(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    rendered = sms(
        tmp_templates, platform, "您好，{{ loan.amount_due|yuan }}", context(installment())
    )
    length = rendered.length
    assert length is not None
    assert (length.chars, length.encoding, length.segments) == (18, "UCS-2", 1)
    assert rendered.as_dict() == {
        "template_id": "pre_due/sms",
        "channel": "sms",
        "locale": "zh_CN",
        "variant": "a",
        "text": "【禾苗金融】您好，1,234.50元",
        "chars": 18,
        "encoding": "UCS-2",
        "segments": 1,
    }


def test_a_long_sms_counts_its_parts(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    rendered = sms(tmp_templates, platform, "好" * 64 + "\n好", context(installment()))
    assert rendered.length is not None
    assert (rendered.length.chars, rendered.length.segments) == (71, 2)


def test_push_as_dict(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    renderer = renderer_for(tmp_templates, platform, {"pre_due/push.j2": PUSH})
    assert renderer.render("pre_due/push", context(installment())).as_dict() == {
        "template_id": "pre_due/push",
        "channel": "push",
        "locale": "zh_CN",
        "variant": "a",
        "title": "还款提醒",
        "body": "王女士您好，尾号0001的借款明天到期。",
    }
