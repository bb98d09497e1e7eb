import pytest

from remindkit.models import Channel, Stage
from remindkit.policy.stages import severity, stage_for, template_group


@pytest.mark.parametrize(
    ("dpd", "stage"),
    [
        (-12, Stage.PRE_DUE),
        (-7, Stage.PRE_DUE),
        (-1, Stage.PRE_DUE),
        (0, Stage.DUE_TODAY),
        (1, Stage.OVERDUE_EARLY),
        (7, Stage.OVERDUE_EARLY),
        (8, Stage.OVERDUE),
        (30, Stage.OVERDUE),
        (31, Stage.OVERDUE_LATE),
    ],
)
def test_stage_by_days_past_due(dpd: int, stage: Stage) -> None:
    assert stage_for(dpd) is stage


@pytest.mark.parametrize("dpd", [1, 8, 31])
def test_plan_wording_replaces_every_overdue_stage(dpd: int) -> None:
    assert stage_for(dpd, plan_wording=True) is Stage.PLAN_OFFER


@pytest.mark.parametrize("dpd", [-3, 0])
def test_plan_wording_leaves_reminders_before_the_due_date(dpd: int) -> None:
    assert stage_for(dpd, plan_wording=True) is not Stage.PLAN_OFFER


def test_template_group_and_severity() -> None:
    assert template_group(Stage.OVERDUE_EARLY, Channel.SMS) == "overdue_early/sms"
    assert severity(Stage.OVERDUE_LATE) > severity(Stage.OVERDUE) > severity(Stage.PRE_DUE)
