"""Shared fixtures: a platform, an installment factory and a template directory factory."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from remindkit.models import Borrower, Gender, Installment, Platform
from remindkit.resources import SAMPLE_PLATFORM_NOTE
from remindkit.testing import demo_platform

# What a preview prints on stderr when no [platform] is configured (a line at 80 columns).
SAMPLE_NOTE = f"提示：{SAMPLE_PLATFORM_NOTE}\n"

META = """{#-
description: test template
tone: gentle
weight: 1
audience: borrower
purpose: notification
max_parts: 1
parts_reason: ""
lint: {}
-#}
"""
META_LINES = META.count("\n")  # the body of a `tmp_templates` file starts on line META_LINES + 1

# CI replays the same examples on every run: a property test may not fail a submission by
# drawing a new random case there. Developers' runs keep exploring new examples.
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI") == "true":
    hypothesis_settings.load_profile("ci")

InstallmentFactory = Callable[..., Installment]
TemplatesFactory = Callable[..., Path]


@pytest.fixture
def platform() -> Platform:
    return demo_platform()


def make_installment(**overrides: Any) -> Installment:
    """An installment due 2026-12-01 for 王芳 (female, Shanghai).

    Borrower fields go in ``borrower=Borrower(...)`` or one by one as ``borrower_id=``,
    ``name=``, ``gender=``, ``phone=``, ``timezone=``; the rest are ``Installment`` fields.
    """
    borrower_keys = {"borrower_id": "id", "name": "name", "gender": "gender", "phone": "phone",
                     "timezone": "timezone"}  # fmt: skip
    borrower_fields: dict[str, Any] = {
        "id": "B1001",
        "name": "王芳",
        "gender": Gender.FEMALE,
        "phone": "+8613800138000",
        "timezone": "Asia/Shanghai",
    }
    for key, target in borrower_keys.items():
        if key in overrides:
            borrower_fields[target] = overrides.pop(key)
    fields: dict[str, Any] = {
        "loan_id": "HM20260001",
        "installment_no": 3,
        "installments_total": 12,
        "borrower": Borrower(**borrower_fields),
        "amount_due": Decimal("1234.50"),
        "due_date": date(2026, 12, 1),
        "product": "禾苗贷",
    }
    fields.update(overrides)
    return Installment(**fields)


@pytest.fixture
def installment() -> InstallmentFactory:
    return make_installment


@pytest.fixture
def tmp_templates(tmp_path: Path) -> TemplatesFactory:
    """``tmp_templates({"pre_due/sms.j2": "body"}, locale="zh_CN")`` → the templates root.

    A body without a metadata block gets the standard one (``META``, 10 lines) prepended;
    pass ``meta=False`` to write the text exactly as given.
    """
    root = tmp_path / "templates"

    def write(files: dict[str, str], locale: str = "zh_CN", meta: bool = True) -> Path:
        for relative, body in files.items():
            path = root / locale / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            text = body if not meta or body.startswith("{#") else META + body
            path.write_text(text, encoding="utf-8")
        return root

    return write
