"""The studio in a real browser: Playwright for Python driving Debian's Chromium.

Each test serves the studio over a copy of the shipped templates on a free port and
drives it as a writer would: pick a template, type, read the phone, save. Every wait is
on a condition (Playwright's ``expect``), never a fixed sleep. Keystroke-to-mark times
are measured and printed (``-s``), not asserted: the machine is shared.

Without ``/usr/bin/chromium`` the tests skip, except under ``CI=true``, where they fail.
Screenshots go to ``$REMINDKIT_SCREENSHOTS_DIR`` (the README's are made with
``REMINDKIT_SCREENSHOTS_DIR=docs``), else to the test's temporary directory.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
from studio_support import TOKEN, copy_templates, studio_app
from typer.testing import CliRunner

from remindkit.cli import _register, app
from remindkit.lint import lint_report
from remindkit.resources import shipped_samples_dir
from remindkit.web import running_server

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=zh-CN",  # date and time inputs as a writer in China sees them
]
WAIT_MS = 15_000  # generous: the machine is shared; a pass is usually far quicker
THREAT = "后果自负。"
LONGER = "如您已经还款，请忽略本条提醒。"


def _missing(reason: str) -> NoReturn:
    message = f"{reason}: the browser tests need Debian's chromium (make test installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    if not CHROMIUM.is_file():
        _missing(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _missing("playwright for Python is not installed")
    expect.set_options(timeout=WAIT_MS)
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            viewport={"width": 1440, "height": 960},
            env={**os.environ, "LANGUAGE": "zh_CN", "LANG": "zh_CN.UTF-8"},
        )
        yield context
        context.close()


@dataclass
class Studio:
    page: Page
    templates: Path
    problems: list[str] = field(default_factory=list)

    def open(self, template_id: str) -> None:
        from playwright.sync_api import expect

        self.page.locator(f"[data-template='{template_id}']").click()
        expect(self.page.locator(".template-item.active")).to_have_attribute(
            "data-template", template_id
        )
        self.settle()

    def settle(self) -> None:
        """Wait until the answer to the latest draft is on screen."""
        from playwright.sync_api import expect

        expect(self.page.locator("body")).to_have_attribute("data-checking", "false")

    def line(self, number: int) -> Any:
        return self.page.locator(".cm-content .cm-line").nth(number - 1)

    def caret_at_start_of(self, number: int) -> None:
        self.line(number).click(position={"x": 1, "y": 4})
        self.page.keyboard.press("Home")

    def file(self, template_id: str) -> Path:
        stage, name = template_id.split("/")
        return self.templates / "zh_CN" / stage / f"{name}.j2"


@pytest.fixture
def studio(browser: BrowserContext, tmp_path: Path) -> Iterator[Studio]:
    from playwright.sync_api import expect

    templates = copy_templates(tmp_path / "templates")
    with running_server(studio_app(templates)) as base:
        page = browser.new_page()
        studio = Studio(page, templates)
        page.on("pageerror", lambda error: studio.problems.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: (
                studio.problems.append(f"console {message.type}: {message.text}")
                if message.type in ("error", "warning")
                else None
            ),
        )
        page.goto(f"{base}/?token={TOKEN}")
        assert "token=" not in page.url  # moved into a cookie, out of the address bar
        expect(page.locator("[data-template]").first).to_be_visible()
        yield studio
        page.close()
    assert studio.problems == []  # no script error, no CSP violation, nothing fetched in vain


def body_lines(source: str) -> list[int]:
    """Numbers of the lines after the metadata block that hold text, not only a tag."""
    lines = source.splitlines()
    end = next(n for n, line in enumerate(lines, start=1) if line.strip().endswith("#}"))
    return [
        n
        for n, line in enumerate(lines, start=1)
        if n > end and line.strip() and not line.strip().startswith("{%")
    ]


def error_on(studio: Studio, rule: str, line: int) -> Any:
    return studio.page.locator(f".finding-error[data-rule='{rule}'][data-line='{line}']")


# -- the acceptance walk-through --------------------------------------------------------------
def test_a_threat_is_marked_on_its_line_and_goes_when_removed(studio: Studio) -> None:
    from playwright.sync_api import expect

    page = studio.page
    studio.open("overdue/sms")
    expect(page.locator("#check-summary")).to_have_text("没有发现问题")
    source = studio.file("overdue/sms").read_text(encoding="utf-8")
    target = body_lines(source)[-1]
    studio.caret_at_start_of(target)
    page.keyboard.type(THREAT)
    typed = time.perf_counter()
    marked = studio.line(target).locator(".cm-lintRange-error")
    expect(marked).to_have_count(1)
    seen = time.perf_counter()
    finding = error_on(studio, "forbidden-phrase", target)
    expect(finding).to_contain_text(f"第 {target} 行")
    expect(finding.locator(".message")).to_contain_text("后果自负")
    expect(page.locator(".cm-gutter-lint .cm-lint-marker-error").first).to_be_visible()
    print(f"\nthreat typed → marked on line {target}: {(seen - typed) * 1000:.0f} ms")

    for _ in THREAT:
        page.keyboard.press("Backspace")
    studio.settle()
    expect(page.locator(".cm-lintRange-error")).to_have_count(0)
    expect(page.locator(".finding[data-rule='forbidden-phrase']")).to_have_count(0)
    expect(page.locator("#check-summary")).to_have_text("没有发现问题")
    expect(page.locator("#dirty")).to_be_hidden()


def test_past_70_characters_the_parts_go_to_two_and_saving_is_refused(studio: Studio) -> None:
    from playwright.sync_api import expect

    page = studio.page
    studio.open("overdue/sms")
    expect(page.locator("[data-testid=parts]")).to_have_text("1 条")
    expect(page.locator("[data-testid=part-break]")).to_have_count(0)
    path = studio.file("overdue/sms")
    before = path.read_bytes()
    studio.caret_at_start_of(body_lines(before.decode())[-1])
    page.keyboard.type(LONGER)
    expect(page.locator("[data-testid=parts]")).to_have_text("2 条")
    expect(page.locator("[data-testid=part-break]")).to_have_count(1)
    expect(page.locator("[data-testid=part-break]")).to_have_text("第 2 条从这里开始")
    chars = int(page.locator("[data-testid=chars]").inner_text().split(" ")[0])
    assert chars > 70
    first_part = page.locator(".sms-part[data-part='1']").inner_text()
    assert len(first_part) == 67
    expect(page.locator(".finding[data-rule='sms-length']")).to_have_count(1)

    page.locator("#save").click()
    dialog = page.locator("#save-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#save-blockers")).to_contain_text("错误")
    expect(page.locator("#save-diff .diff-add")).to_contain_text(LONGER)
    expect(page.locator("#save-confirm")).to_be_disabled()
    page.locator("#save-cancel").click()
    expect(dialog).to_be_hidden()
    assert path.read_bytes() == before


def test_a_clean_edit_is_saved_after_its_diff_and_lint_agrees(studio: Studio) -> None:
    from playwright.sync_api import expect

    page = studio.page
    studio.open("overdue/sms")
    path = studio.file("overdue/sms")
    source = path.read_text(encoding="utf-8")
    description = next(
        n for n, line in enumerate(source.splitlines(), start=1) if line.startswith("description:")
    )
    studio.line(description).click()
    page.keyboard.press("End")
    page.keyboard.type("（已复核）")
    studio.settle()
    expect(page.locator("#dirty")).to_be_visible()
    expect(page.locator("#check-summary")).to_have_text("没有发现问题")

    page.keyboard.press("Control+s")
    expect(page.locator("#save-dialog")).to_be_visible()
    expect(page.locator("#save-blockers")).to_be_hidden()
    expect(page.locator("#save-diff .diff-add")).to_contain_text("（已复核）")
    expect(page.locator("#save-diff .diff-del")).to_have_count(1)
    page.locator("#save-confirm").click()
    expect(page.locator("#save-dialog")).to_be_hidden()
    expect(page.locator("#check-summary")).to_contain_text("已保存")
    expect(page.locator("#dirty")).to_be_hidden()

    saved = path.read_text(encoding="utf-8")
    assert saved != source
    assert "（已复核）" in saved.splitlines()[description - 1]
    assert lint_report([path], samples_dir=shipped_samples_dir()).errors == 0
    _register()
    result = CliRunner().invoke(app, ["lint", str(path)])
    assert result.exit_code == 0, result.output


def test_a_warning_saves_once_its_reason_is_in_the_metadata(studio: Studio) -> None:
    from playwright.sync_api import Dialog, expect

    page = studio.page
    studio.open("overdue/sms")
    path = studio.file("overdue/sms")
    studio.caret_at_start_of(body_lines(path.read_text(encoding="utf-8"))[-1])
    page.keyboard.type("务必")
    warning = page.locator(".finding-warning[data-rule='tone']")
    expect(warning).to_have_count(1)
    page.locator("#save").click()
    expect(page.locator("#save-blockers")).to_contain_text("没有说明理由")
    expect(page.locator("#save-confirm")).to_be_disabled()
    page.locator("#save-cancel").click()

    def answer(dialog: Dialog) -> None:
        dialog.accept("法务已审：逾期 8 天后需要明确提醒")

    page.once("dialog", answer)
    warning.locator(".explain").click()
    explained = page.locator(".finding-explained[data-rule='tone']")
    expect(explained).to_contain_text("法务已审")
    expect(page.locator(".cm-content")).to_contain_text('lint: {tone: "法务已审')
    page.locator("#save").click()
    expect(page.locator("#save-diff .diff-add").first).to_be_visible()
    expect(page.locator("#save-confirm")).to_be_enabled()
    page.locator("#save-confirm").click()
    expect(page.locator("#save-dialog")).to_be_hidden()
    report = lint_report([path], samples_dir=shipped_samples_dir())
    assert (report.errors, report.warnings, len(report.explained)) == (0, 0, 1)


def test_switching_the_sample_changes_honorific_and_amount(studio: Studio) -> None:
    from playwright.sync_api import expect

    page = studio.page
    studio.open("pre_due/sms")
    bubble = page.locator("[data-testid=sms-bubble]").first
    options = page.locator("#sample option:not([value^='worst-'])")
    chosen = page.locator("#sample").input_value()
    texts = {}
    for index in range(options.count()):
        value, label = options.nth(index).get_attribute("value"), options.nth(index).inner_text()
        if value == chosen or value is None:
            continue
        page.select_option("#sample", value)
        studio.settle()
        _, honorific, amount, _ = label.split(" · ", 3)
        expect(bubble).to_contain_text(honorific)
        expect(bubble).to_contain_text(amount)
        texts[value] = bubble.inner_text()
        if len(texts) == 2:
            break
    assert len(set(texts.values())) == 2  # two borrowers, two different messages


def test_variants_side_by_side_for_the_same_borrower(studio: Studio) -> None:
    from playwright.sync_api import expect

    page = studio.page
    studio.open("overdue_early/sms")
    cards = page.locator("#variants .variant-card")
    expect(cards).to_have_count(2)
    expect(cards.nth(0)).to_have_attribute("data-variant", "a")
    expect(cards.nth(1)).to_have_attribute("data-variant", "b")
    honorific = page.locator("#sample option:checked").inner_text().split(" · ")[1]
    for index in range(2):
        expect(cards.nth(index).locator(".bubble")).to_contain_text(honorific)
    assert (
        cards.nth(0).locator(".bubble").inner_text() != cards.nth(1).locator(".bubble").inner_text()
    )
    page.locator("[data-template='overdue_early/sms.b']").click()
    studio.settle()
    expect(page.locator("#variants .variant-card.current")).to_have_attribute("data-variant", "b")


def test_screenshots_of_the_sms_and_the_push(studio: Studio, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = studio.page
    target = Path(os.environ.get("REMINDKIT_SCREENSHOTS_DIR") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    # The test's copy lives in a temporary directory; show the path a team would have.
    page.locator(".where code").evaluate("node => { node.textContent = '~/content/templates'; }")
    shots = []

    studio.open("overdue_early/sms")
    expect(page.locator("[data-testid=sms-bubble]").first).to_be_visible()
    shots.append(target / "studio-sms.png")
    page.screenshot(path=str(shots[-1]), full_page=True)

    studio.open("pre_due/push")
    expect(page.locator("[data-testid=push-card]").first).to_be_visible()
    shots.append(target / "studio-push.png")
    page.screenshot(path=str(shots[-1]), full_page=True)

    studio.open("overdue/sms")
    source = studio.file("overdue/sms").read_text(encoding="utf-8")
    studio.caret_at_start_of(body_lines(source)[-1])
    page.keyboard.type(LONGER + THREAT)
    expect(page.locator("[data-testid=parts]")).to_have_text("2 条")
    expect(page.locator(".finding-error[data-rule='forbidden-phrase']")).to_have_count(1)
    shots.append(target / "studio-findings.png")
    page.screenshot(path=str(shots[-1]), full_page=True)

    for shot in shots:
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert shot.stat().st_size > 20_000
