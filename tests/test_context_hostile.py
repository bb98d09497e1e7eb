"""Hostile preview contexts: every one is a clear error naming the field (exit 2), never a
traceback, whatever the file holds."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from remindkit.cli import _register, app
from remindkit.context import MAX_CONTEXT_BYTES, MAX_LOANS

_register()
REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "templates"
SAMPLE = json.loads((REPO / "config" / "samples" / "pre_due.json").read_text(encoding="utf-8"))

Change = Callable[[dict[str, Any]], object]


def borrower(**values: Any) -> Change:
    return lambda data: data["borrower"].update(values)


def loan(**values: Any) -> Change:
    return lambda data: data["loan"].update(values)


# (change to the sample context, the field the error names, a phrase of the reason)
HOSTILE: list[tuple[Change, str, str]] = [
    (loan(due_date="9999-12-31"), "loan.due_date", "from 2000-01-01 to 2099-12-31"),
    (loan(due_date="0001-01-01"), "loan.due_date", "from 2000-01-01 to 2099-12-31"),
    (lambda d: d.update(now="9999-12-31T23:00:00+00:00"), "now", "from 2000-01-01"),
    (lambda d: d.update(now="0001-01-01T00:00:00+00:00"), "now", "from 2000-01-01"),
    (lambda d: d.update(now="2026-12-01T10:00+08:00" + "0" * 5000), "now", "expected ISO 8601"),
    (loan(amount_due="1e3"), "loan.amount_due", "not a decimal amount"),
    (loan(amount_due="１２３"), "loan.amount_due", "not a decimal amount"),
    (loan(installment_no="9" * 50), "loan.installment_no", "from 1 to 9999"),
    (loan(installment_no=13, installments_total=12), "loan.installment_no", "above"),
    (loan(product="【公安局】"), "loan.product", "【】"),
    (borrower(name="王芳\u202e"), "borrower.name", "U+202E"),
    (borrower(name="王\u200b芳"), "borrower.name", "U+200B"),
    (borrower(name="【法院】王芳"), "borrower.name", "【】"),
    (borrower(timezone="../../etc/passwd"), "borrower.timezone", "unknown IANA"),
    (borrower(phone=["13800138000"]), "borrower.phone", "must be text"),
    (lambda d: d.update(loans=[d["loan"]] * (MAX_LOANS + 1)), "loans", "at most 100"),
    (lambda d: d.update(platform={"signature": "禾苗】【公安"}), "platform.signature", "【】"),
    (lambda d: d.update(platform={"signature": "公安局"}), "platform.signature", "公安局"),
    (lambda d: d.update(platform={"name": "法院执行局"}), "platform.name", "法院"),
    (lambda d: d.update(platform=[1]), "platform", "must be a JSON object"),
]


def preview(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["preview", "pre_due/sms", "--context", str(path), "--templates", str(TEMPLATES)]
    )
    assert isinstance(result.exception, SystemExit | None), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr


@pytest.mark.parametrize(("change", "field", "phrase"), HOSTILE)
def test_a_hostile_value_names_its_field(
    tmp_path: Path, change: Change, field: str, phrase: str
) -> None:
    data = json.loads(json.dumps(SAMPLE))
    change(data)
    path = tmp_path / "context.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    code, err = preview(path)
    assert code == 2
    assert f"{field}: " in err
    assert phrase in err
    assert len(err) < 400


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("[" * 100_000, "nested too deeply"),
        ('{"borrower": ' * 30_000, "nested too deeply"),
        (json.dumps(SAMPLE).replace('"2026-12-01T10:00:00+08:00"', "1" * 5000), "must be"),
        (json.dumps(SAMPLE).replace('"1234.50"', "9" * 5000), "at most 10 digits"),
        (" " * (MAX_CONTEXT_BYTES + 1), "larger than"),
        ('{"borrower": NaN}', "must be a JSON object"),
    ],
)
def test_hostile_files_are_refused_clearly(tmp_path: Path, text: str, phrase: str) -> None:
    path = tmp_path / "context.json"
    path.write_text(text, encoding="utf-8")
    code, err = preview(path)
    assert code == 2
    assert phrase in err
