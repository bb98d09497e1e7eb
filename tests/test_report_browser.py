"""The HTML report in a real browser: Playwright for Python driving Debian's Chromium.

The page is written to a file and opened from disk, as a lender would open a report sent to
them: it must load nothing from anywhere, and its chart (inline SVG from matplotlib) must
render — drawn with area and colour, its Chinese labels set as text.

Without ``/usr/bin/chromium`` the test skips, except under ``CI=true``, where it fails.
Screenshots go to ``$REMINDKIT_SCREENSHOTS_DIR`` (the README's is made with
``REMINDKIT_SCREENSHOTS_DIR=docs``), else to the test's temporary directory.
"""

from __future__ import annotations

import io
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import NoReturn

import pytest

from remindkit.models import Channel, Stage
from remindkit.outbox.store import Outbox
from remindkit.report import build_report
from remindkit.report.sample import Experiment, Step, fill

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--lang=zh-CN"]  # fmt: skip
START = datetime.fromisoformat("2026-11-02T10:00:00+08:00")


def _missing(reason: str) -> NoReturn:
    message = f"{reason}: the browser tests need Debian's chromium (make test installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def report_page(tmp_path: Path) -> Path:
    from remindkit.report.html import render_html

    outbox = Outbox.open(f"sqlite:///{tmp_path / 'outbox.db'}")
    steps = (
        Step(stage=Stage.PRE_DUE, channel=Channel.PUSH, day=0),
        Step(stage=Stage.OVERDUE_EARLY, channel=Channel.SMS, day=4),
        Step(stage=Stage.OVERDUE_EARLY, channel=Channel.SMS, day=6),
        Step(stage=Stage.OVERDUE_EARLY, channel=Channel.SMS, day=10),
    )
    experiment = Experiment(name="page", start=START, borrowers=3000, steps=steps,
                            tested=(Stage.OVERDUE_EARLY, Channel.SMS),
                            repay_within={"a": 0.22, "b": 0.30})  # fmt: skip
    fill(outbox, experiment, seed=2)
    report = build_report(outbox, as_of=START + timedelta(days=40), curve_days=14)
    outbox.close()
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    return page


def test_the_html_report_opens_offline_and_its_chart_renders(tmp_path: Path) -> None:
    if not CHROMIUM.is_file():
        _missing(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _missing("playwright for Python is not installed")
    from PIL import Image

    page_file = report_page(tmp_path)
    shots = Path(os.environ.get("REMINDKIT_SCREENSHOTS_DIR") or tmp_path)
    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=ARGS)  # fmt: skip
        page = browser.new_page(locale="zh-CN", viewport={"width": 1100, "height": 900})
        page.on("request", lambda request: requested.append(request.url))
        page.goto(page_file.as_uri())
        chart = page.locator("#repayment-chart svg")
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box is not None
        assert box["width"] > 500
        assert box["height"] > 300
        # Two panels (pre_due · push, overdue_early · sms); the variants' curves and bands.
        expect(chart.locator("text", has_text="overdue_early · sms")).to_have_count(1)
        expect(chart.locator("text", has_text="变体 b")).to_have_count(1)
        assert chart.locator("g[id^='line2d']").count() > 10
        assert (
            chart.locator("g[id^='FillBetweenPolyCollection'], g[id^='PolyCollection']").count()
            >= 3
        )
        drawn = Image.open(io.BytesIO(chart.screenshot())).convert("RGB")
        colours = drawn.getcolors(maxcolors=1_000_000) or []
        assert len(colours) > 50  # lines, bands, anti-aliased text: not a blank box
        expect(page.locator(".conclusion.better")).to_contain_text("b 优于 a")
        page.screenshot(path=str(shots / "report.png"), full_page=False)
        browser.close()
    assert requested == [page_file.as_uri()]
