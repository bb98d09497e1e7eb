"""The credit-reporting notice (SPEC §13): off by default, one per loan, keyed by the loan."""

from __future__ import annotations

from pathlib import Path

import pytest

from remindkit.config import CreditNotice, Settings, default_settings, load_settings
from remindkit.models import Stage
from remindkit.plan import Plan
from remindkit.policy.notices import notice_key
from remindkit.render import TemplateCatalog
from tests.test_plan import TEMPLATES, at, row, run


@pytest.fixture(scope="module")
def catalog() -> TemplateCatalog:
    return TemplateCatalog(TEMPLATES)


def reporting(days_past_due: int = 15) -> Settings:
    notice = CreditNotice(enabled=True, days_past_due=days_past_due)
    return default_settings().model_copy(update={"credit_notice": notice})


def notices(result: Plan) -> list[tuple[str, str, tuple[str, ...], str]]:
    return [
        (m.day.isoformat(), m.template_id, m.loan_ids, m.key)
        for m in result.messages
        if m.stage is Stage.CREDIT_NOTICE
    ]


def test_off_by_default(catalog: TemplateCatalog) -> None:
    feed = [row(due_date="2026-11-16")]  # 15 days past due on 2026-12-01
    assert notices(run(feed, at("2026-12-01T08:00"), 3, catalog)) == []


def test_one_notice_per_loan_on_its_day_keyed_by_the_loan(catalog: TemplateCatalog) -> None:
    feed = [
        row(loan_id="L1", installment_no=1, due_date="2026-11-16"),
        # A later installment of the same loan reaches the step inside the horizon too.
        row(loan_id="L1", installment_no=2, due_date="2026-11-17"),
        row(loan_id="L2", borrower_id="B2", due_date="2026-11-17"),
    ]
    result = run(feed, at("2026-12-01T08:00"), 3, catalog, reporting())
    assert notices(result) == [
        ("2026-12-01", "credit_notice/sms", ("L1",), notice_key(Stage.CREDIT_NOTICE, "L1")),
        ("2026-12-02", "credit_notice/sms", ("L2",), notice_key(Stage.CREDIT_NOTICE, "L2")),
    ]
    # The key is the loan's alone: re-planning another day, or from another installment,
    # gives the same key, so the outbox's unique key keeps one notice per loan.
    later = run(feed[1:2], at("2026-12-02T08:00"), 1, catalog, reporting())
    assert [key for *_, key in notices(later)] == [notice_key(Stage.CREDIT_NOTICE, "L1")]


def test_no_notice_for_an_agreed_plan(catalog: TemplateCatalog) -> None:
    feed = [row(due_date="2026-11-16", status="plan")]
    assert notices(run(feed, at("2026-12-01T08:00"), 1, catalog, reporting())) == []


def test_the_notice_waits_for_a_workday_like_an_overdue_reminder(
    catalog: TemplateCatalog,
) -> None:
    # 15 days after 2026-11-20 is Saturday 5 December.
    result = run([row(due_date="2026-11-20")], at("2026-12-05T08:00"), 3, catalog, reporting())
    assert [day for day, *_ in notices(result)] == ["2026-12-07"]


def test_the_notice_is_configured_in_the_shipped_file(tmp_path: Path) -> None:
    config = tmp_path / "remindkit.toml"
    config.write_text("[credit_notice]\nenabled = true\ndays_past_due = 25\n", encoding="utf-8")
    notice = load_settings(config).credit_notice
    assert (notice.enabled, notice.days_past_due) == (True, 25)
