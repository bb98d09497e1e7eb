"""Writing a warning's reason into a template's metadata: ``lint: {rule: "why"}``.

A warning the writer accepts on purpose needs its reason in the metadata before the studio
saves the template (the linter then counts it as explained). The studio edits that one key
of the block and leaves every other line as the writer wrote it; the result is parsed with
the catalog's own metadata parser before it goes back to the editor.
"""

from __future__ import annotations

import json

from remindkit.errors import TemplateSyntaxError
from remindkit.lint.findings import RULE_IDS
from remindkit.render.catalog import parse_metadata

MAX_REASON_CHARS = 200
# The block is a Jinja comment: "#}" in a reason would end it and leak the rest as text.
_JINJA_MARKS = ("{#", "#}", "{{", "}}", "{%", "%}")


class ReasonError(ValueError):
    """The reason cannot be written (unknown rule, empty text, a broken metadata block)."""


def with_reason(template_id: str, source: str, rule: str, reason: str) -> str:
    """``source`` with ``reason`` recorded for ``rule`` in the metadata's ``lint`` mapping."""
    reason = " ".join(reason.split())
    if rule not in RULE_IDS:
        raise ReasonError(f"没有这条规则：{rule}")
    if not reason or len(reason) > MAX_REASON_CHARS:
        raise ReasonError(f"请用一两句话写明理由（1–{MAX_REASON_CHARS} 个字）")
    if any(mark in reason for mark in _JINJA_MARKS):
        raise ReasonError("理由里不能有 {# #} {{ }} {% %} 这类模板符号")
    try:
        meta, end_line = parse_metadata(template_id, source)
    except TemplateSyntaxError as exc:
        raise ReasonError(f"元数据块有误，请先改正：{exc.message}") from exc
    lines = source.split("\n")
    reasons = {**meta.lint, rule: reason}
    entry = (
        "lint: {"
        + ", ".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in reasons.items())
        + "}"
    )
    start, stop = _lint_lines(lines, end_line)
    lines[start:stop] = [entry]
    updated = "\n".join(lines)
    if parse_metadata(template_id, updated)[0].lint != reasons:
        raise ReasonError("无法写入元数据，请手动在 lint 中写明理由")
    return updated


def _lint_lines(lines: list[str], end_line: int) -> tuple[int, int]:
    """The 0-based slice of the ``lint:`` key and its indented continuation lines inside
    the block (lines 2 … end_line - 1), or an empty slice before the closing line."""
    last = end_line - 1  # 0-based index of the closing `-#}` line
    for index in range(1, last):
        if lines[index].startswith("lint:"):
            stop = index + 1
            while stop < last and lines[stop][:1] in (" ", "\t"):
                stop += 1
            return index, stop
    return last, last
