"""Preview context files (SPEC §9): feed field names, errors naming the field as the file does."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from remindkit.context import PreviewInput, load_preview_input, preview_input_from
from remindkit.errors import FieldError
from remindkit.models import Gender, Platform

CST = timezone(timedelta(hours=8))


def sample() -> dict[str, Any]:
    return {
        "borrower": {
            "borrower_id": "B1001",
            "name": "王芳",
            "gender": "female",
            "phone": "13800138000",
            "timezone": "Asia/Shanghai",
        },
        "loan": {
            "loan_id": "HM2026030118",
            "installment_no": 9,
            "installments_total": 12,
            "amount_due": "1234.50",
            "due_date": "2026-12-02",
            "status": "due",
            "product": "禾苗贷",
            "channel_hint": "app",
        },
        "now": "2026-12-01T10:00:00+08:00",
    }


def write(tmp_path: Path, text: str, name: str = "context.json") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, platform: Platform, data: object) -> PreviewInput:
    return load_preview_input(write(tmp_path, json.dumps(data, ensure_ascii=False)), platform)


def field_error(tmp_path: Path, platform: Platform, data: object) -> FieldError:
    with pytest.raises(FieldError) as caught:
        load(tmp_path, platform, data)
    return caught.value


def test_a_sample_context_loads(tmp_path: Path, platform: Platform) -> None:
    given = load(tmp_path, platform, sample())
    (inst,) = given.installments
    assert (inst.borrower.id, inst.borrower.name, inst.borrower.gender) == (
        "B1001",
        "王芳",
        Gender.FEMALE,
    )
    assert inst.borrower.phone == "+8613800138000"
    assert (inst.loan_id, inst.installment_no, inst.installments_total) == ("HM2026030118", 9, 12)
    assert (inst.amount_due, inst.due_date) == (Decimal("1234.50"), date(2026, 12, 2))
    assert dict(inst.extra) == {"channel_hint": "app"}
    assert given.now == datetime(2026, 12, 1, 10, 0, tzinfo=CST)
    assert given.platform is platform


def test_now_is_optional_and_z_means_utc(tmp_path: Path, platform: Platform) -> None:
    data = sample()
    del data["now"]
    assert load(tmp_path, platform, data).now is None
    data["now"] = "2026-12-01T02:00:00Z"
    assert load(tmp_path, platform, data).now == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def test_several_installments_under_loans(tmp_path: Path, platform: Platform) -> None:
    data = sample()
    first = data.pop("loan")
    second = {**first, "loan_id": "HM2026052216", "amount_due": "645.30"}
    given = load(tmp_path, platform, {**data, "loans": [first, second]})
    assert [i.loan_id for i in given.installments] == ["HM2026030118", "HM2026052216"]
    assert {i.borrower.id for i in given.installments} == {"B1001"}


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (lambda d: d.pop("borrower"), "borrower", "required"),
        (lambda d: d.pop("loan"), "loan", "required"),
        (lambda d: d.update(borrower=["王芳"]), "borrower", "must be a JSON object"),
        (lambda d: d["loan"].pop("amount_due"), "loan.amount_due", "required"),
        (lambda d: d["loan"].pop("loan_id"), "loan.loan_id", "required"),
        (lambda d: d["borrower"].pop("name"), "borrower.name", "required"),
        (lambda d: d["borrower"].update(phone="12345"), "borrower.phone",
         "not a valid mobile number"),
        (lambda d: d["borrower"].update(phone="+86 10 6552 9988"), "borrower.phone",
         "not a valid mobile number"),  # a Beijing landline cannot take SMS
        (lambda d: d["borrower"].update(timezone="Mars/Base"), "borrower.timezone",
         "unknown IANA time zone 'Mars/Base'"),
        (lambda d: d["borrower"].update(gender="x"), "borrower.gender",
         "expected male, female or empty, got 'x'"),
        (lambda d: d["loan"].update(due_date="2026-13-01"), "loan.due_date",
         "not a calendar date: '2026-13-01'"),
        (lambda d: d["loan"].update(amount_due="-5"), "loan.amount_due", "must be greater than 0"),
        (lambda d: d["loan"].update(status="written_off"), "loan.status",
         "expected one of due, paid, plan, dispute, paused, got 'written_off'"),
        (lambda d: d.update(loans=[]), "loans", "must be a non-empty list of loan objects"),
        (lambda d: d.update(now=1764554400), "now", "must be ISO 8601 text with an offset"),
        (lambda d: d.update(now="tomorrow"), "now",
         "expected ISO 8601 such as 2026-12-01T10:00+08:00, got 'tomorrow'"),
        (lambda d: d.update(now="2026-12-01T10:00:00"), "now",
         "needs a UTC offset such as +08:00, got '2026-12-01T10:00:00'"),
    ],
)  # fmt: skip
def test_errors_name_the_field_as_the_file_does(
    tmp_path: Path, platform: Platform, change: Any, field: str, reason: str
) -> None:
    data = sample()
    change(data)
    error = field_error(tmp_path, platform, data)
    assert (error.field, error.reason) == (field, reason)
    assert str(error) == f"{field}: {reason}"


def test_an_error_in_the_second_loan_names_it(tmp_path: Path, platform: Platform) -> None:
    data = sample()
    first = data.pop("loan")
    second = {key: value for key, value in first.items() if key != "amount_due"}
    error = field_error(tmp_path, platform, {**data, "loans": [first, second]})
    assert error.field == "loans[1].amount_due"


def test_the_context_must_be_an_object(tmp_path: Path, platform: Platform) -> None:
    error = field_error(tmp_path, platform, [sample()])
    assert (error.field, error.reason) == (
        "context",
        "must be a JSON object with borrower and loan",
    )


# --- amounts: JSON numbers are read as Decimal, never float ------------------------------


def test_a_json_number_amount_is_read_as_decimal(tmp_path: Path, platform: Platform) -> None:
    text = json.dumps(sample()).replace('"1234.50"', "1234.5")
    assert '"amount_due": 1234.5,' in text
    (inst,) = load_preview_input(write(tmp_path, text), platform).installments
    assert inst.amount_due == Decimal("1234.50")
    assert str(inst.amount_due) == "1234.50"


@pytest.mark.parametrize("number", ["1234.567", "0.001"])
def test_more_than_two_decimal_places_is_refused(
    tmp_path: Path, platform: Platform, number: str
) -> None:
    text = json.dumps(sample()).replace('"1234.50"', number)
    with pytest.raises(FieldError) as caught:
        load_preview_input(write(tmp_path, text), platform)
    assert (caught.value.field, caught.value.reason) == (
        "loan.amount_due",
        "at most 2 decimal places (fen)",
    )


@pytest.mark.parametrize("number", ["1e3", "1E+3", "1e-3", "-5", "NaN", "Infinity"])
def test_json_numbers_outside_the_amount_grammar_are_refused(
    tmp_path: Path, platform: Platform, number: str
) -> None:
    text = json.dumps(sample()).replace('"1234.50"', number)
    with pytest.raises(FieldError) as caught:
        load_preview_input(write(tmp_path, text), platform)
    assert caught.value.field == "loan.amount_due"
    assert caught.value.reason.startswith(("not a decimal amount", "must be greater than 0"))


@pytest.mark.parametrize(("number", "amount"), [("1234.500", "1234.50"), ("100", "100.00")])
def test_trailing_zeros_and_whole_numbers_are_fine(
    tmp_path: Path, platform: Platform, number: str, amount: str
) -> None:
    text = json.dumps(sample()).replace('"1234.50"', number)
    (inst,) = load_preview_input(write(tmp_path, text), platform).installments
    assert inst.amount_due == Decimal(amount)
    assert str(inst.amount_due) == amount


def test_a_python_float_amount_is_refused(platform: Platform) -> None:
    data = sample()
    data["loan"]["amount_due"] = 1234.5
    with pytest.raises(FieldError) as caught:
        preview_input_from(data, platform)
    assert caught.value.field == "loan.amount_due"
    assert "not a float" in caught.value.reason


# --- platform override -------------------------------------------------------------------


def test_the_file_may_override_the_platform(tmp_path: Path, platform: Platform) -> None:
    data = {**sample(), "platform": {"signature": "青禾金融", "app_name": "青禾App"}}
    given = load(tmp_path, platform, data)
    assert (given.platform.signature, given.platform.app_name) == ("青禾金融", "青禾App")
    assert (given.platform.name, given.platform.hotline) == ("禾苗金融", "400-100-2026")


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        ("【禾苗金融】", "write the signature without 【】; they are added when sending"),
        ("", 'letters, digits or Chinese characters only, got ""'),
        ("一二三四五六七八九十一二三四五六七八九十", "must be 2–12 characters, got 20"),
    ],
)
def test_a_bad_signature_override_is_refused(
    tmp_path: Path, platform: Platform, signature: str, reason: str
) -> None:
    error = field_error(tmp_path, platform, {**sample(), "platform": {"signature": signature}})
    assert (error.field, error.reason) == ("platform.signature", reason)


def test_platform_must_be_an_object_without_unknown_keys(
    tmp_path: Path, platform: Platform
) -> None:
    assert field_error(tmp_path, platform, {**sample(), "platform": "x"}).field == "platform"
    error = field_error(tmp_path, platform, {**sample(), "platform": {"colour": "red"}})
    assert error.field == "platform.colour"


# --- the file itself ---------------------------------------------------------------------


def test_missing_file(tmp_path: Path, platform: Platform) -> None:
    with pytest.raises(FieldError) as caught:
        load_preview_input(tmp_path / "nope.json", platform)
    assert caught.value.field == "--context"
    assert caught.value.reason == f"{tmp_path / 'nope.json'}: file not found"


def test_invalid_json_names_the_line(tmp_path: Path, platform: Platform) -> None:
    path = write(tmp_path, '{\n  "borrower": {},\n  "loan": {,}\n}\n')
    with pytest.raises(FieldError) as caught:
        load_preview_input(path, platform)
    assert caught.value.reason.startswith(f"{path}: invalid JSON at line 3: ")


def test_a_bom_is_accepted(tmp_path: Path, platform: Platform) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(sample()).encode())
    assert load_preview_input(path, platform).installments[0].borrower.name == "王芳"


def test_non_utf8_and_directories_are_field_errors(tmp_path: Path, platform: Platform) -> None:
    gbk = tmp_path / "gbk.json"
    gbk.write_bytes(json.dumps(sample(), ensure_ascii=False).encode("gbk"))
    with pytest.raises(FieldError, match=r"not UTF-8 text \(byte \d+\)"):
        load_preview_input(gbk, platform)
    with pytest.raises(FieldError, match="Is a directory"):
        load_preview_input(tmp_path, platform)


def test_every_shipped_sample_loads(platform: Platform) -> None:
    samples = sorted((Path(__file__).parent.parent / "config" / "samples").glob("*.json"))
    assert len(samples) >= 10
    for path in samples:
        given = load_preview_input(path, platform)
        assert given.installments, path.name
        assert given.now is None or given.now.utcoffset() is not None


@pytest.mark.parametrize(
    ("where", "key", "field", "reason"),
    [
        ("borrower", "gendr", "borrower.gendr", "unknown field (did you mean gender?)"),
        ("loan", "amout_due", "loan.amout_due", "unknown field (did you mean amount_due?)"),
        (None, "nwo", "nwo", "unknown field (did you mean now?)"),
    ],
)
def test_an_unknown_field_is_refused_with_the_closest_name(
    tmp_path: Path, platform: Platform, where: str | None, key: str, field: str, reason: str
) -> None:
    data = sample()
    (data if where is None else data[where])[key] = "female"
    error = field_error(tmp_path, platform, data)
    assert (error.field, error.reason) == (field, reason)


def test_other_loan_keys_are_extra_columns_as_in_a_feed(tmp_path: Path, platform: Platform) -> None:
    data = sample()
    data["loan"]["branch"] = "杭州"
    extra = load(tmp_path, platform, data).installments[0].extra
    assert extra == {"branch": "杭州", "channel_hint": "app"}
