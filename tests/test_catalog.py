"""The template catalog (SPEC §4.1, §5.4): ids, variants, locale fallback, stable weighted
picks, and metadata errors that name the line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from remindkit.errors import TemplateNotFoundError, TemplateSyntaxError
from remindkit.models import Channel
from remindkit.render import TemplateCatalog, locale_chain, shipped_templates_dir

TemplatesFactory = Callable[..., Path]


def meta(**fields: object) -> str:
    """A metadata block with the given fields, one per line, in the given order."""
    lines = [f"{key}: {value}" for key, value in fields.items()]
    return "{#-\n" + "\n".join(lines) + "\n-#}\n"


def catalog_with(tmp_templates: TemplatesFactory, files: dict[str, str]) -> TemplateCatalog:
    return TemplateCatalog(tmp_templates(files, meta=False))


BASIC = {
    "pre_due/sms.j2": meta(description="提醒") + "明天到期\n",
    "pre_due/push.j2": meta(description="推送")
    + "{% block title %}t{% endblock %}{% block body %}b{% endblock %}\n",
    "overdue_early/sms.j2": meta(description="A 版", weight=1) + "A\n",
    "overdue_early/sms.b.j2": meta(description="B 版", weight=3, tone="caring") + "B\n",
}


@pytest.fixture
def catalog(tmp_templates: TemplatesFactory) -> TemplateCatalog:
    return catalog_with(tmp_templates, BASIC)


# --- ids and variants --------------------------------------------------------------------


def test_ids_list_every_file_including_variants_sorted(catalog: TemplateCatalog) -> None:
    assert catalog.ids() == [
        "overdue_early/sms",
        "overdue_early/sms.b",
        "pre_due/push",
        "pre_due/sms",
    ]
    assert catalog.group_ids() == ["overdue_early/sms", "pre_due/push", "pre_due/sms"]
    assert catalog.locales() == ["zh_CN"]


def test_a_variant_file_carries_its_ids_and_metadata(catalog: TemplateCatalog) -> None:
    variant = catalog.get("overdue_early/sms.b")
    assert (variant.template_id, variant.group_id) == ("overdue_early/sms.b", "overdue_early/sms")
    assert (variant.stage, variant.channel, variant.variant) == ("overdue_early", Channel.SMS, "b")
    assert variant.locale == "zh_CN"
    assert variant.path.name == "sms.b.j2"
    assert variant.meta.weight == 3.0
    assert variant.meta.tone == "caring"
    assert variant.meta.description == "B 版"
    assert variant.meta_end_line == 5  # {#-, three fields, -#}
    assert variant.source.endswith("B\n")


def test_the_base_file_is_variant_a_under_either_id(catalog: TemplateCatalog) -> None:
    base = catalog.get("overdue_early/sms")
    assert base.variant == "a"
    assert catalog.get("overdue_early/sms.a") is base
    assert catalog.get("overdue_early/sms.j2") is base
    assert catalog.get("pre_due/push").channel is Channel.PUSH


def test_variants_come_base_first(catalog: TemplateCatalog) -> None:
    assert [f.variant for f in catalog.variants("overdue_early/sms")] == ["a", "b"]
    assert [f.template_id for f in catalog.variants("pre_due/sms")] == ["pre_due/sms"]


def test_a_file_named_variant_a_does_not_shadow_the_base(tmp_templates: TemplatesFactory) -> None:
    catalog = catalog_with(
        tmp_templates,
        {"pre_due/sms.j2": meta(description="base") + "base\n", "pre_due/sms.a.j2": "shadow\n"},
    )
    assert catalog.ids() == ["pre_due/sms"]
    assert catalog.get("pre_due/sms.a").source.endswith("base\n")


def test_unknown_channel_or_variant_name_is_a_syntax_error(tmp_templates: TemplatesFactory) -> None:
    catalog = catalog_with(
        tmp_templates,
        {
            "pre_due/email.j2": meta(description="x") + "x\n",
            "pre_due/sms.B.j2": meta(description="x") + "x\n",
        },
    )
    with pytest.raises(TemplateSyntaxError, match="unknown channel 'email'"):
        catalog.get("pre_due/email")
    with pytest.raises(TemplateSyntaxError, match="bad variant name 'B'"):
        catalog.get("pre_due/sms.B")


def test_the_shipped_set_covers_every_stage_for_sms_and_push() -> None:
    catalog = TemplateCatalog(shipped_templates_dir())
    stages = ["due_today", "overdue", "overdue_early", "overdue_late", "payment_received",
              "plan_installment", "plan_offer", "pre_due"]  # fmt: skip
    expected = [f"{s}/{c}" for s in stages for c in ("push", "sms")] + ["credit_notice/sms"]
    assert catalog.group_ids() == sorted(expected)
    assert "overdue_early/sms.b" in catalog.ids()


# --- unknown ids -------------------------------------------------------------------------


def test_unknown_id_suggests_close_matches(catalog: TemplateCatalog) -> None:
    with pytest.raises(TemplateNotFoundError) as caught:
        catalog.get("pre_due/sm")
    assert caught.value.suggestions[0] == "pre_due/sms"
    assert "pre_due/sms" in caught.value.suggestions
    assert str(caught.value).startswith(
        "pre_due/sm: unknown template id (did you mean: pre_due/sms"
    )


def test_unknown_group_in_variants_and_pick(catalog: TemplateCatalog) -> None:
    with pytest.raises(TemplateNotFoundError, match="overdue_erly/sms") as caught:
        catalog.pick("overdue_erly/sms", "B1")
    assert "overdue_early/sms" in caught.value.suggestions


def test_nothing_close_gives_no_suggestions(catalog: TemplateCatalog) -> None:
    with pytest.raises(TemplateNotFoundError) as caught:
        catalog.get("zzzz")
    assert caught.value.suggestions == []
    assert str(caught.value) == "zzzz: unknown template id"


# --- locale fallback ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "chain"),
    [
        ("zh_CN", ("zh_CN", "zh")),
        ("zh_HK", ("zh_HK", "zh", "zh_CN")),
        ("zh-TW", ("zh_TW", "zh", "zh_CN")),
        ("zh", ("zh", "zh_CN")),
        ("en_US", ("en_US", "en", "zh_CN")),
    ],
)
def test_locale_chain(locale: str, chain: tuple[str, ...]) -> None:
    assert locale_chain(locale) == chain


@pytest.mark.parametrize("locale", ["zh_HK", "zh_TW", "zh", "zh-HK"])
def test_chinese_locales_fall_back_to_zh_cn(catalog: TemplateCatalog, locale: str) -> None:
    found = catalog.get("pre_due/sms", locale)
    assert found.locale == "zh_CN"
    assert catalog.ids(locale) == catalog.ids()


def test_a_locale_with_its_own_file_wins(tmp_templates: TemplatesFactory) -> None:
    tmp_templates(BASIC, meta=False)
    root = tmp_templates({"pre_due/sms.j2": meta(description="港版") + "明日到期\n"}, "zh_HK")
    catalog = TemplateCatalog(root)
    hk = catalog.get("pre_due/sms", "zh_HK")
    assert (hk.locale, hk.meta.description) == ("zh_HK", "港版")
    assert hk.source.endswith("明日到期\n")
    # Files the locale lacks still come from zh_CN, and other locales are untouched.
    assert catalog.get("pre_due/push", "zh_HK").locale == "zh_CN"
    assert catalog.get("pre_due/sms", "zh_TW").locale == "zh_CN"
    assert catalog.get("pre_due/sms").locale == "zh_CN"
    assert catalog.locales() == ["zh_CN", "zh_HK"]


def test_a_variant_only_in_zh_cn_still_joins_the_hk_group(tmp_templates: TemplatesFactory) -> None:
    tmp_templates(BASIC, meta=False)
    root = tmp_templates({"overdue_early/sms.j2": meta(description="港版 A") + "A\n"}, "zh_HK")
    variants = TemplateCatalog(root).variants("overdue_early/sms", "zh_HK")
    assert [(f.variant, f.locale) for f in variants] == [("a", "zh_HK"), ("b", "zh_CN")]


# --- stable weighted variant pick (§5.4) -------------------------------------------------


def test_the_same_borrower_always_gets_the_same_variant(catalog: TemplateCatalog) -> None:
    first = catalog.pick("overdue_early/sms", "B1001")
    picks = {catalog.pick("overdue_early/sms", "B1001").template_id for _ in range(1000)}
    assert picks == {first.template_id}


def test_the_pick_does_not_depend_on_the_process_or_instance(
    tmp_templates: TemplatesFactory,
) -> None:
    one = catalog_with(tmp_templates, BASIC)
    other = TemplateCatalog(one.root)
    ids = [f"B{n}" for n in range(200)]
    assert [one.pick("overdue_early/sms", b).variant for b in ids] == [
        other.pick("overdue_early/sms", b).variant for b in reversed(ids)
    ][::-1]
    variants = {one.pick("overdue_early/sms", b).variant for b in ids}
    assert variants == {"a", "b"}


def test_weights_one_to_three_split_borrowers_a_quarter_to_three_quarters(
    catalog: TemplateCatalog,
) -> None:
    total = 20_000
    base = sum(catalog.pick("overdue_early/sms", f"B{n:06d}").variant == "a" for n in range(total))
    assert abs(base / total - 0.25) <= 0.02


def test_a_group_without_variants_always_picks_its_base(catalog: TemplateCatalog) -> None:
    assert {catalog.pick("pre_due/sms", f"B{n}").template_id for n in range(50)} == {"pre_due/sms"}


# --- metadata errors name the line -------------------------------------------------------


def load_error(tmp_templates: TemplatesFactory, text: str) -> TemplateSyntaxError:
    catalog = catalog_with(tmp_templates, {"pre_due/sms.j2": text})
    with pytest.raises(TemplateSyntaxError) as caught:
        catalog.get("pre_due/sms")
    assert caught.value.template_id == "pre_due/sms"
    return caught.value


def test_missing_metadata_block_is_line_1(tmp_templates: TemplatesFactory) -> None:
    error = load_error(tmp_templates, "{{ borrower.honorific }}您好\n")
    assert error.line == 1
    assert "must start with a metadata block" in error.message


def test_metadata_block_must_come_first(tmp_templates: TemplatesFactory) -> None:
    error = load_error(tmp_templates, "\n" + meta(description="x") + "x\n")
    assert error.line == 1


def test_bad_yaml_names_the_file_line(tmp_templates: TemplatesFactory) -> None:
    text = "{#-\ndescription: x\ntone: [gentle\nweight: 1\n-#}\nx\n"
    error = load_error(tmp_templates, text)
    assert error.line == 4  # `weight: 1`, where the unclosed list is noticed
    assert error.message == "metadata: invalid YAML: expected ',' or ']', but got ':', column 7"
    assert "unicode string" not in str(error)


def test_unknown_key(tmp_templates: TemplatesFactory) -> None:
    error = load_error(tmp_templates, meta(description="x", tone="gentle", colour="red") + "x\n")
    assert error.line == 4
    assert error.message.startswith("metadata.colour: unknown key (allowed: audience, description")


def test_max_parts_above_one_needs_a_reason(tmp_templates: TemplatesFactory) -> None:
    text = meta(description="x", max_parts=2, parts_reason='""') + "x\n"
    error = load_error(tmp_templates, text)
    assert error.line == 4
    assert error.message.startswith("metadata.parts_reason: required when max_parts is above 1")


def test_max_parts_with_a_reason_loads(tmp_templates: TemplatesFactory) -> None:
    text = meta(description="x", max_parts=2, parts_reason="协商方案需要列出分期") + "x\n"
    loaded = catalog_with(tmp_templates, {"pre_due/sms.j2": text}).get("pre_due/sms")
    assert (loaded.meta.max_parts, loaded.meta.parts_reason) == (2, "协商方案需要列出分期")


@pytest.mark.parametrize(
    ("fields", "line", "message"),
    [
        ({"description": "x", "weight": 2, "tone": "angry"}, 4,
         "metadata.tone: expected one of gentle, caring, firm, got 'angry'"),
        ({"description": "x", "weight": 0}, 3, "metadata.weight: must be a number > 0, got 0"),
        ({"description": "x", "max_parts": 8}, 3,
         "metadata.max_parts: must be a whole number from 1 to 7, got 8"),
        ({"description": "x", "purpose": "sales"}, 3,
         "metadata.purpose: expected one of notification, marketing, got 'sales'"),
        ({"description": "x", "audience": "guarantor"}, 3,
         "metadata.audience: expected one of borrower, got 'guarantor'"),
        ({"tone": "gentle"}, 1, "metadata.description: required text"),
        ({"description": "x", "lint": "{tone: 3}"}, 3,
         "metadata.lint: must map rule ids to the reason a warning is accepted"),
    ],
)  # fmt: skip
def test_bad_metadata_values(
    tmp_templates: TemplatesFactory, fields: dict[str, object], line: int, message: str
) -> None:
    error = load_error(tmp_templates, meta(**fields) + "x\n")
    assert (error.line, error.message) == (line, message)


def test_a_file_saved_with_a_bom_and_crlf_loads(tmp_templates: TemplatesFactory) -> None:
    root = tmp_templates({}, meta=False)
    path = root / "zh_CN" / "pre_due" / "sms.j2"
    path.parent.mkdir(parents=True)
    path.write_bytes("\ufeff{#-\r\ndescription: 提醒\r\n-#}\r\n您好\r\n".encode())
    loaded = TemplateCatalog(root).get("pre_due/sms")
    assert loaded.meta.description == "提醒"
    assert loaded.meta_end_line == 3
