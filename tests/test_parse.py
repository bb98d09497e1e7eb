"""Feed-field validation shared by the feed readers and preview contexts (SPEC §3)."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest

from remindkit.errors import FieldError
from remindkit.models import Channel, Gender, Installment, Status
from remindkit.parse import (
    normalise_phone,
    parse_amount,
    parse_date,
    parse_installment,
    section_label,
)
from remindkit.phones import CN_MOBILE, mobile_heads

ROW = {
    "loan_id": "HM20260001",
    "borrower_id": "B1",
    "name": "欧阳娜娜",
    "phone": "13800138000",
    "amount_due": "1234.5",
    "due_date": "2026-12-01",
}


def parsed(**changes: object) -> Installment:
    return parse_installment({**ROW, **changes})


def reason(field: str, **changes: object) -> str:
    with pytest.raises(FieldError) as caught:
        parse_installment({**ROW, **changes})
    assert caught.value.field == field
    return caught.value.reason


def test_minimal_row_gets_documented_defaults() -> None:
    item = parse_installment(ROW)
    assert item.installment_no == 1
    assert item.installments_total is None
    assert item.amount_due == Decimal("1234.50")
    assert item.due_date == date(2026, 12, 1)
    assert item.status is Status.DUE
    assert item.borrower.timezone == "Asia/Shanghai"
    assert item.borrower.gender is Gender.UNKNOWN
    assert item.borrower.phone == "+8613800138000"
    assert item.borrower.opted_out == frozenset()
    assert item.hardship is False


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "+8613800138000"),
        ("+8613800138000", "+8613800138000"),
        ("8613800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("138-0013-8000", "+8613800138000"),
        ("19912345678", "+8619912345678"),
        ("+14155552671", "+14155552671"),
        ("12345678901", None),  # 123 is no mainland mobile prefix
        ("1380013800", None),  # 10 digits
        ("02112345678", None),  # a Shanghai landline, not a mobile
        ("+862112345678", None),
        ("hello", None),
    ],
)
def test_phone_normalisation(raw: str, expected: str | None) -> None:
    assert normalise_phone(raw) == expected


def test_bad_phone_names_the_field_and_reason() -> None:
    assert reason("phone", phone="12345") == "not a valid mobile number"


def test_preview_sections_label_fields_like_the_context_file() -> None:
    with pytest.raises(FieldError) as caught:
        parse_installment({**ROW, "phone": "12345"}, section_label)
    assert str(caught.value) == "borrower.phone: not a valid mobile number"
    with pytest.raises(FieldError) as caught:
        parse_installment({**ROW, "amount_due": ""}, section_label)
    assert str(caught.value) == "loan.amount_due: required"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.01", "0.01"), ("1000000.00", "1000000.00"), ("1234.5", "1234.50"), (7, "7.00"),
     (Decimal("99999.99"), "99999.99"), (" 12.30 ", "12.30"), ("1.230", "1.23")],
)  # fmt: skip
def test_amounts_are_decimal_with_two_places(value: object, expected: str) -> None:
    amount = parse_amount(value)
    assert isinstance(amount, Decimal)
    assert str(amount) == expected


GRAMMAR = " (digits and a point, e.g. 1234.50)"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "required"),
        (None, "required"),
        ("0", "must be greater than 0"),
        ("-5", "must be greater than 0"),
        ("12.345", "at most 2 decimal places (fen)"),
        ("abc", "not a decimal amount: 'abc'" + GRAMMAR),
        ("NaN", "not a decimal amount: 'NaN'" + GRAMMAR),
        ("Infinity", "not a decimal amount: 'Infinity'" + GRAMMAR),
        (12.5, 'must be decimal text such as "1234.50", not a float'),
        (True, 'must be decimal text such as "1234.50", not a float'),
    ],
)
def test_bad_amounts_say_why(value: object, message: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse_amount(value)
    assert caught.value.reason == message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026/12/01", "expected YYYY-MM-DD, got '2026/12/01'"),
        ("20261201", "expected YYYY-MM-DD, got '20261201'"),
        ("2026-02-30", "not a calendar date: '2026-02-30'"),
        ("", "required"),
    ],
)
def test_bad_dates_say_why(value: str, message: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse_date(value)
    assert caught.value.reason == message


def test_enumerations_and_flags() -> None:
    item = parsed(gender="男", status="PAID", opted_out="sms; push", hardship="是")
    assert item.borrower.gender is Gender.MALE
    assert item.status is Status.PAID
    assert item.borrower.opted_out == {Channel.SMS, Channel.PUSH}
    assert item.hardship is True
    assert parsed(opted_out=["push"]).borrower.opted_out == {Channel.PUSH}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"gender": "x"}, "gender", "expected male, female or empty, got 'x'"),
        (
            {"status": "late"},
            "status",
            "expected one of due, paid, plan, dispute, paused, got 'late'",
        ),
        ({"opted_out": "sms;email"}, "opted_out", "unknown channel 'email' (sms, push)"),
        ({"hardship": "maybe"}, "hardship", "expected true or false, got 'maybe'"),
        ({"timezone": "Mars/Olympus"}, "timezone", "unknown IANA time zone 'Mars/Olympus'"),
        ({"installment_no": "0"}, "installment_no", "must be from 1 to 9999, got 0"),
        (
            {"installment_no": "3.5"},
            "installment_no",
            "must be a whole number from 1 to 9999, got '3.5'",
        ),
        (
            {"installments_total": 2.5},
            "installments_total",
            "must be a whole number from 1 to 9999, got 2.5",
        ),
        ({"loan_id": " "}, "loan_id", "required"),
        ({"name": None}, "name", "required"),
        ({"product": "x" * 201}, "product", "longer than 200 characters"),
    ],
)
def test_bad_fields_name_field_and_reason(
    changes: dict[str, object], field: str, message: str
) -> None:
    assert reason(field, **changes) == message


def test_unknown_columns_are_kept_as_extra_text() -> None:
    item = parsed(branch="杭州", score=7)
    assert dict(item.extra) == {"branch": "杭州", "score": "7"}


def test_numeric_ids_from_json_become_text() -> None:
    item = parsed(loan_id=12345, borrower_id=77)
    assert item.loan_id == "12345"
    assert item.borrower.id == "77"


def test_the_mobile_heads_answer_as_the_pattern_does() -> None:
    # The feed reader checks 11-digit numbers by their first five digits (columns.py): that
    # must give the pattern's answer for every number, whatever tail follows.
    heads = mobile_heads()
    rng = random.Random(11)
    numbers = [f"1{n:04d}" + f"{rng.randrange(10**6):06d}" for n in range(10**4)]
    numbers += [f"1{n:04d}{tail}" for n in range(10**4) for tail in ("000000", "999999", "555555")]
    for number in numbers:
        assert (number[:5] in heads) == bool(CN_MOBILE.fullmatch(number)), number
    assert "13800" in heads
    assert "10000" not in heads
