"""The corpus: realistic bad lines are all caught, kind reminders raise nothing at all.

Bad lines need an error, except the pressure family (a warning by collection-rules §3).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from remindkit.lint import lint_text

CORPUS = Path(__file__).resolve().parent / "lint_corpus"
BAD_FAMILIES = {
    "threat", "insult", "exposure", "fake_legal", "impersonation", "new_borrowing",
    "private_channel", "extra_fees", "pii", "pressure",
    "fee_growth", "relatives", "homophone", "condemnation",
}  # fmt: skip
# collection-rules.md §3 makes harassment/pressure a warning (human review), not an error.
WARNING_FAMILIES = {"pressure"}


def read(name: str) -> list[tuple[str, str]]:
    rows = []
    for raw in (CORPUS / name).read_text(encoding="utf-8").splitlines():
        if raw.strip() and not raw.startswith("#"):
            kind, line = raw.split("\t", 1)
            rows.append((kind, line))
    return rows


BAD = read("bad.txt")
GOOD = read("good.txt")


def test_the_corpus_is_large_enough_and_covers_every_family() -> None:
    assert len(BAD) >= 60
    assert len(GOOD) >= 60
    counts = Counter(kind for kind, _ in BAD)
    assert all(counts[family] >= 5 for family in BAD_FAMILIES), counts


@pytest.mark.parametrize(("family", "line"), BAD, ids=[line[:12] for _, line in BAD])
def test_every_bad_line_is_caught(family: str, line: str) -> None:
    findings = lint_text(line)
    caught = findings if family in WARNING_FAMILIES else [f for f in findings if f.is_error]
    assert caught, f"{family}: not caught: {line}"


@pytest.mark.parametrize(("kind", "line"), GOOD, ids=[line[:12] for _, line in GOOD])
def test_no_good_line_has_any_finding(kind: str, line: str) -> None:
    assert [(f.rule.value, f.excerpt) for f in lint_text(line)] == []


def test_pii_lines_are_reported_as_pii() -> None:
    for kind, line in BAD:
        if kind == "pii":
            assert "pii" in {f.rule.value for f in lint_text(line)}, line
