"""What the studio's request-level and browser tests share: a copy of the shipped templates
and a studio app over it (never the repository's own files)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from starlette.applications import Starlette

from remindkit.resources import shipped_samples_dir, shipped_templates_dir
from remindkit.studio import StudioOptions, create_studio_app
from remindkit.testing import demo_platform

TOKEN = "studio-test-token-0123456789abcdef"
# The tests edit their own short draft of overdue/sms (63 characters at worst, one part), so
# what they type does not depend on the shipped wording, which the content team changes.
DRAFT_ID = "overdue/sms"
DRAFT = """{#-
description: 逾期8至30天的提醒（测试用的短稿）
tone: caring
weight: 1
audience: borrower
purpose: notification
max_parts: 1
parts_reason: ""
lint: {}
-#}
{{ borrower.honorific }}您好，您尾号{{ loan.tail }}的借款已逾期{{ loan.days_past_due }}天，
请在{{ platform.app_name }}还款。如有困难请致电{{ platform.hotline }}。
"""


def copy_templates(target: Path) -> Path:
    """The shipped templates under ``target``, with :data:`DRAFT` as overdue/sms."""
    shutil.copytree(shipped_templates_dir(), target)
    (target / "zh_CN" / "overdue" / "sms.j2").write_text(DRAFT, encoding="utf-8")
    return target


def studio_app(templates: Path, *, writable: bool = True, notice: str | None = None) -> Starlette:
    return create_studio_app(
        StudioOptions(
            templates_dir=templates,
            platform=demo_platform(),
            samples_dir=shipped_samples_dir(),
            token=TOKEN,
            writable=writable,
            notice=notice,
        )
    )


def tree_digest(root: Path) -> dict[str, str]:
    """Every file below ``root`` (symlinks as their target text) with the digest of its bytes."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            found[str(path.relative_to(root))] = f"-> {path.readlink()}"
        elif path.is_file():
            found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found
