from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from remindkit.models import Borrower, Channel, Installment, Stage
from remindkit.policy.consolidate import Candidate, consolidate
from remindkit.policy.decision import Reason

BORROWER = Borrower(id="b1", name="王伟", phone="+8613800138000", push_token="tok")
DAY = date(2026, 12, 1)


def _candidate(loan: str, stage: Stage = Stage.PRE_DUE, **changes: object) -> Candidate:
    fields: dict[str, object] = {
        "installment": Installment(
            loan_id=loan, borrower=BORROWER, amount_due=Decimal("10.00"), due_date=DAY
        ),
        "day": DAY,
        "stage": stage,
        "channel": Channel.SMS,
        "wanted": datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("Asia/Shanghai")),
    }
    fields.update(changes)
    return Candidate(**fields)  # type: ignore[arg-type]


def test_same_day_stage_and_channel_merge_into_one_message() -> None:
    drafts = consolidate([_candidate("L3"), _candidate("L1"), _candidate("L2")])
    assert len(drafts) == 1
    assert [item.loan_id for item in drafts[0].installments] == ["L1", "L2", "L3"]


def test_stage_channel_or_suppression_keep_messages_apart() -> None:
    drafts = consolidate(
        [
            _candidate("L1"),
            _candidate("L2", Stage.OVERDUE),
            _candidate("L3", channel=Channel.PUSH),
            _candidate("L4", reason=Reason.OPTED_OUT),
        ]
    )
    assert len(drafts) == 4
    assert len({draft.key for draft in drafts}) == 4


def test_merge_is_independent_of_order_and_keeps_the_earliest_time() -> None:
    early = datetime(2026, 12, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    items = [_candidate("L1"), _candidate("L2", wanted=early, note="deferred: weekend")]
    forward, backward = consolidate(items), consolidate(list(reversed(items)))
    assert forward == backward
    assert forward[0].wanted == early
    assert forward[0].note == "deferred: weekend"


def test_fallbacks_must_suit_every_merged_installment() -> None:
    drafts = consolidate(
        [
            _candidate("L1", channel=Channel.PUSH, fallbacks=(Channel.SMS,)),
            _candidate("L2", channel=Channel.PUSH),
        ]
    )
    assert drafts[0].fallbacks == ()
