from datetime import date
from decimal import Decimal

import pytest

from remindkit.models import Borrower, Channel, Installment, Status
from remindkit.policy.decision import Reason
from remindkit.policy.rules import ChannelChoice, choose_channel, is_remindable

PUSH_SMS = (Channel.PUSH, Channel.SMS)


def _borrower(**changes: object) -> Borrower:
    fields: dict[str, object] = {
        "id": "b1",
        "name": "王伟",
        "phone": "+8613800138000",
        "push_token": "tok",
    }
    fields.update(changes)
    return Borrower(**fields)  # type: ignore[arg-type]


def test_first_usable_channel_wins_and_the_rest_are_fallbacks() -> None:
    assert choose_channel(PUSH_SMS, _borrower()) == ChannelChoice(
        channel=Channel.PUSH, fallbacks=(Channel.SMS,)
    )


def test_missing_push_token_falls_through_to_sms() -> None:
    assert choose_channel(PUSH_SMS, _borrower(push_token=None)) == ChannelChoice(
        channel=Channel.SMS
    )


def test_sms_opted_out_with_a_push_token_uses_push_only() -> None:
    choice = choose_channel(PUSH_SMS, _borrower(opted_out=frozenset({Channel.SMS})))
    assert choice == ChannelChoice(channel=Channel.PUSH)


def test_sms_opted_out_without_a_push_token_is_opted_out() -> None:
    borrower = _borrower(push_token=None, opted_out=frozenset({Channel.SMS}))
    choice = choose_channel(PUSH_SMS, borrower)
    assert (choice.channel, choice.reason, choice.usable) == (Channel.PUSH, Reason.OPTED_OUT, False)


def test_sms_only_step_does_not_switch_to_push_when_sms_is_refused() -> None:
    choice = choose_channel((Channel.SMS,), _borrower(opted_out=frozenset({Channel.SMS})))
    assert choice.reason is Reason.OPTED_OUT


def test_no_contact_when_nothing_was_refused() -> None:
    choice = choose_channel(PUSH_SMS, _borrower(phone=None, push_token=None))
    assert choice.reason is Reason.NO_CONTACT


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (Status.DUE, True),
        (Status.PLAN, True),
        (Status.PAID, False),
        (Status.DISPUTE, False),
        (Status.PAUSED, False),
    ],
)
def test_stop_statuses(status: Status, expected: bool) -> None:
    item = Installment(
        loan_id="L1",
        borrower=_borrower(),
        amount_due=Decimal("1.00"),
        due_date=date(2026, 12, 1),
        status=status,
    )
    assert is_remindable(item) is expected
