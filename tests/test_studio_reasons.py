"""Writing a warning's reason into the metadata block, and nothing else."""

from __future__ import annotations

import pytest
from studio_support import DRAFT

from remindkit.render.catalog import parse_metadata
from remindkit.studio.reasons import ReasonError, with_reason


def test_the_reason_goes_into_the_lint_mapping_and_nothing_else_changes() -> None:
    updated = with_reason("overdue/sms", DRAFT, "tone", '法务同意："务必"用于逾期 8 天后')
    assert parse_metadata("overdue/sms", updated)[0].lint == {
        "tone": '法务同意："务必"用于逾期 8 天后'
    }
    before, after = DRAFT.split("\n"), updated.split("\n")
    assert len(before) == len(after)
    assert [a for a, b in zip(before, after, strict=True) if a != b] == ["lint: {}"]


def test_reasons_already_given_are_kept() -> None:
    block = DRAFT.replace("lint: {}", 'lint:\n  pii: "只显示尾号"\n  tone: "旧的"')
    updated = with_reason("overdue/sms", block, "tone", "新的")
    assert parse_metadata("overdue/sms", updated)[0].lint == {"pii": "只显示尾号", "tone": "新的"}
    assert "  pii:" not in updated


def test_a_block_without_lint_gets_one_before_its_end() -> None:
    updated = with_reason("overdue/sms", DRAFT.replace("lint: {}\n", ""), "tone", "理由")
    meta, end = parse_metadata("overdue/sms", updated)
    assert meta.lint == {"tone": "理由"}
    assert updated.split("\n")[end - 2] == 'lint: {tone: "理由"}'


@pytest.mark.parametrize(
    ("rule", "reason", "message"),
    [
        ("no-such-rule", "x", "没有这条规则"),
        ("tone", "   ", "理由"),
        ("tone", "x" * 201, "理由"),
        ("tone", "关闭注释 #} 之后的文字", "模板符号"),
        ("tone", "{{ borrower.name }}", "模板符号"),
    ],
)
def test_unusable_reasons_are_refused(rule: str, reason: str, message: str) -> None:
    with pytest.raises(ReasonError, match=message):
        with_reason("overdue/sms", DRAFT, rule, reason)


def test_a_broken_metadata_block_is_left_to_the_writer() -> None:
    with pytest.raises(ReasonError, match="元数据块有误"):
        with_reason("overdue/sms", DRAFT.replace("tone: caring", "tone: [caring"), "tone", "x")
