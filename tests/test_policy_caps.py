from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remindkit.policy.caps import Caps, SlotRequest, _place, apply_caps, place_alone
from remindkit.policy.decision import Decision, MessageStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 1, hour, minute, tzinfo=SHANGHAI)


def _request(hour: int, *loans: str, rank: int = 0, minute: int = 0) -> SlotRequest:
    return SlotRequest(
        earliest=_at(hour, minute),
        closes=_at(20),
        installments=tuple((loan, 1) for loan in loans or ("L1",)),
        rank=(rank,),
    )


def test_second_message_waits_for_the_gap() -> None:
    decisions = apply_caps([_request(10, "L1"), _request(10, "L2")], Caps())
    assert decisions == [
        Decision.send(_at(10)),
        Decision.send(_at(12), "deferred: min_gap"),
    ]


def test_third_message_of_the_day_is_capped_by_rank() -> None:
    requests = [_request(10, "L1", rank=2), _request(10, "L2", rank=0), _request(10, "L3", rank=1)]
    decisions = apply_caps(requests, Caps())
    assert [d.status for d in decisions] == [
        MessageStatus.SUPPRESSED,
        MessageStatus.PLANNED,
        MessageStatus.PLANNED,
    ]
    assert decisions[0].reason == "frequency_cap"
    assert decisions[1].send_at == _at(10)
    assert decisions[2].send_at == _at(12)


def test_no_room_before_the_window_closes_is_min_gap() -> None:
    decisions = apply_caps([_request(19, "L1"), _request(19, "L2")], Caps())
    assert decisions[1] == Decision.suppress("min_gap")


def test_a_later_message_may_go_before_an_earlier_placed_one_if_the_gap_allows() -> None:
    decisions = apply_caps([_request(14, "L1", rank=0), _request(9, "L2", rank=1)], Caps())
    assert [d.send_at for d in decisions] == [_at(14), _at(9)]


def test_one_message_per_installment_per_day() -> None:
    decisions = apply_caps([_request(10, "L1"), _request(13, "L1")], Caps())
    assert decisions[1] == Decision.suppress("frequency_cap")


def test_window_already_closed_is_reported_first() -> None:
    late = SlotRequest(earliest=_at(20), closes=_at(20), installments=(("L1", 1),))
    assert apply_caps([late], Caps()) == [Decision.suppress("window_closed")]


def test_gap_is_real_elapsed_time_across_a_dst_change() -> None:
    zone = ZoneInfo("America/New_York")  # 2026-11-01 02:00 EDT → 01:00 EST
    first = datetime(2026, 11, 1, 0, 30, tzinfo=zone)
    closes = datetime(2026, 11, 1, 22, 0, tzinfo=zone)
    requests = [
        SlotRequest(earliest=first, closes=closes, installments=(("L1", 1),)),
        SlotRequest(earliest=first, closes=closes, installments=(("L2", 1),)),
    ]
    second = apply_caps(requests, Caps())[1].send_at
    assert second is not None
    assert second.isoformat() == "2026-11-01T01:30:00-05:00"  # the 01:00 hour repeats
    assert second - first == timedelta(hours=1)  # same-zone arithmetic is wall-clock
    assert second.timestamp() - first.timestamp() == 7200


@pytest.mark.parametrize("field", ["per_installment_per_day", "per_borrower_per_day"])
def test_negative_caps_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match="negative"):
        Caps(**{field: -1})  # type: ignore[arg-type]


def test_a_slot_exactly_at_the_window_end_is_too_late() -> None:
    decisions = apply_caps([_request(18, "L1"), _request(18, "L2")], Caps())
    assert decisions[1] == Decision.suppress("min_gap")


def test_send_times_are_given_in_the_zone_of_the_window() -> None:
    # ``earliest`` may be the planning time in another zone (``--at`` in UTC): the decision
    # still reads in the borrower's zone, the zone of ``closes``.
    urumqi = ZoneInfo("Asia/Urumqi")
    request = SlotRequest(
        earliest=datetime(2026, 12, 1, 7, 7, tzinfo=UTC),
        closes=datetime(2026, 12, 1, 20, tzinfo=urumqi),
        installments=(("L1", 1),),
    )
    later = replace(request, installments=(("L2", 1),))
    decisions = apply_caps([request, later], Caps())
    assert [d.send_at.isoformat() for d in decisions if d.send_at] == [
        "2026-12-01T13:07:00+06:00",
        "2026-12-01T15:07:00+06:00",
    ]


_ZONES = [ZoneInfo(name) for name in ("Asia/Shanghai", "Asia/Urumqi", "America/New_York")] + [UTC]
# Hypothesis takes naive bounds and attaches the zones itself.
_INSTANTS = st.datetimes(
    min_value=datetime(2026, 1, 1),  # noqa: DTZ001
    max_value=datetime(2027, 1, 1),  # noqa: DTZ001
    timezones=st.sampled_from(_ZONES),
)


@given(
    earliest=_INSTANTS,
    closes=_INSTANTS,
    per_installment=st.integers(0, 2),
    per_borrower=st.integers(0, 2),
    installments=st.booleans(),
)
def test_a_lone_message_is_placed_as_the_general_path_places_it(
    earliest: datetime,
    closes: datetime,
    per_installment: int,
    per_borrower: int,
    installments: bool,
) -> None:
    # The planner's shortcut for a borrower's only message of the day: the same decision as
    # the general placement with nothing placed yet, its send time in the same zone (the
    # window's, whatever zone ``earliest`` came in: the planning time may be in UTC).
    caps = Caps(per_installment_per_day=per_installment, per_borrower_per_day=per_borrower)
    request = SlotRequest(
        earliest=earliest, closes=closes, installments=(("L1", 1),) if installments else ()
    )
    alone = place_alone(earliest, closes, caps, installments=installments)
    general = _place(request, [], Counter(), caps)
    assert alone == general
    assert (alone.send_at and alone.send_at.isoformat()) == (
        general.send_at and general.send_at.isoformat()
    )
    assert apply_caps([request], caps) == [alone]
