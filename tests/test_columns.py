"""The column parser gives parse_installment's answer for every row, faster for the usual ones."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remindkit.columns import ColumnParser
from remindkit.errors import FieldError
from remindkit.feed import RejectedRow, read_feed
from remindkit.models import Installment, Status
from remindkit.parse import KNOWN_FIELDS, parse_field, parse_installment

REQUIRED = ["loan_id", "borrower_id", "name", "amount_due", "due_date"]
OPTIONAL = sorted(KNOWN_FIELDS - set(REQUIRED))
# Usual spellings mixed with near misses: where a shortcut and the full check could part.
SPELLINGS = {
    "loan_id": ["HM000000001", " HM1 ", "HM-1", "", "L【1", "L1】", "\u202eL1", "x" * 201, "贷款1"],
    "borrower_id": ["B00000001", "B1", " B1", "", "B\u200b1"],
    "name": ["王芳", " 欧阳娜娜 ", "", "王【芳", "王芳】", "王\x00芳", "A" * 201, "Ann Lee"],
    "amount_due": ["1234.50", "0.01", "0.00", "00.00", "1234.5", "1234", "0", "1,234.50",
                   "-1.00", " 12.30 ", "1234.505", "12345678901.00", "9999999999.99", "１.00",
                   "1e3", ""],
    "due_date": ["2026-12-01", "2026-02-30", "1999-12-31", "2100-01-01", " 2026-12-01",
                 "2026-1-1", ""],
    "installment_no": ["3", "", "1", "12", "0", "01", "10000", "x", " 2", "١"],
    "installments_total": ["", "12", "2", "0", "9999"],  # installment_no 1, 3, 12 above
    "gender": ["", "male", "female", "女", "M", "x", " female"],
    "phone": ["", "13812345678", "12345678901", "+8613812345678", "138 1234 5678", "x",
              " 13812345678", "+14155552671", "１３８１２３４５６７８"],
    "push_token": ["", "tok", " tok ", "t" * 4096, "t" * 4097],
    "timezone": ["", "Asia/Shanghai", "America/Vancouver", "Mars/Base", " Asia/Urumqi", "../x"],
    "opted_out": ["", "sms", "sms;push", "fax", "SMS"],
    "status": ["", "due", "paid", "plan", "PAID", " due", "late"],
    "product": ["", "禾苗贷", " 禾苗贷 ", "【贷】", "x" * 201],
    "segment": ["", "new", "prime", " new", "x" * 201],
    "hardship": ["", "true", "false", "1", "是", "TRUE", "maybe"],
    "branch": ["", "深圳", "【深圳】", "\x07"],
}  # fmt: skip


@st.composite
def feeds(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """A header (required columns, some optional ones, maybe an extra) in any order, rows."""
    columns = REQUIRED + [name for name in [*OPTIONAL, "branch"] if draw(st.booleans())]
    header = draw(st.permutations(columns))
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        # A valid row with one or two fields changed: a change decides the answer.
        row = {name: SPELLINGS[name][0] for name in header}
        for name in draw(st.lists(st.sampled_from(header), max_size=2)):
            row[name] = draw(st.sampled_from(SPELLINGS[name]) | st.text(max_size=6))
        rows.append([row[name] for name in header])
    return list(header), rows


def expected(header: list[str], values: list[str]) -> Installment | tuple[str, str]:
    try:
        return parse_installment(dict(zip(header, values, strict=True)))
    except FieldError as exc:
        return exc.field, exc.reason


def answer(parser: ColumnParser, values: list[str]) -> Installment | tuple[str, str] | None:
    try:
        return parser.parse(values)
    except FieldError as exc:
        return exc.field, exc.reason


def wanted(status: Status, segment: str | None, due: date, timezone: str) -> bool:
    return status is Status.DUE and due.day % 2 == 1 and segment != "prime"


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(feeds())
def test_every_row_gets_parse_installments_answer(feed: tuple[list[str], list[list[str]]]) -> None:
    header, rows = feed
    everything, some = ColumnParser(header), ColumnParser(header, wanted)
    for values in rows + rows:  # the second time from the caches
        reference = expected(header, values)
        assert answer(everything, values) == reference
        if isinstance(reference, Installment):
            key = (reference.status, reference.segment, reference.due_date)
            keep = wanted(*key, reference.borrower.timezone)
            assert answer(some, values) == (reference if keep else None)
        else:
            assert answer(some, values) == reference


def test_the_usual_rows_take_no_detour(monkeypatch: pytest.MonkeyPatch) -> None:
    header = ["loan_id", "borrower_id", "name", "phone", "amount_due", "due_date", "status"]
    parser = ColumnParser(header)
    parser.parse(["HM1", "B1", "王芳", "13812345678", "980.00", "2026-12-04", "due"])

    def detour(row: object) -> Installment:
        raise AssertionError("the usual spelling went the slow way")

    monkeypatch.setattr("remindkit.columns.parse_installment", detour)
    item = parser.parse(["HM2", "B2", "欧阳娜娜", "13912345678", "1.50", "2026-12-04", "due"])
    assert item is not None
    assert (item.loan_id, str(item.amount_due), item.borrower.phone) == (
        "HM2",
        "1.50",
        "+8613912345678",
    )


@pytest.mark.parametrize("name", OPTIONAL)
def test_an_absent_optional_column_reads_like_an_empty_one(name: str) -> None:
    # The parser pads a row with "" for columns its header lacks.
    assert parse_field(name, None) == parse_field(name, "")


def test_select_validates_every_row_and_builds_only_the_wanted(tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    path.write_text(
        "loan_id,borrower_id,name,amount_due,due_date,status\n"
        "L1,B1,王芳,10.00,2026-12-01,due\n"
        "L2,B2,王芳,10.00,2026-12-02,due\n"
        "L3,B3,王芳,-1,2026-12-02,paid\n"
        "L4,B4,王芳,10.00,2026-12-03,paid\n",
        encoding="utf-8",
    )
    items = list(read_feed(path).select(wanted))
    assert [getattr(item, "loan_id", None) for item in items] == ["L1", None]
    assert items[1] == RejectedRow(3, "amount_due", "must be greater than 0")
    feed = read_feed(path)
    next(feed)
    with pytest.raises(RuntimeError, match="already being read"):
        feed.select(wanted)


def test_rows_past_the_joint_cache_get_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    # The small columns are cached by their combination of spellings, up to JOINT_LIMIT
    # combinations; past it each column is looked up alone, to the same values.
    monkeypatch.setattr("remindkit.columns.JOINT_LIMIT", 3)
    header = ["loan_id", "borrower_id", "name", "amount_due", "due_date", "status", "product"]
    header += ["segment", "timezone", "gender", "opted_out", "hardship"]
    parser = ColumnParser(header)
    person = ["HM1", "B1", "王芳", "980.00", "2026-12-04"]
    rows = [
        [*person, status, product, segment, zone, gender, opted_out, hardship]
        for status in ("due", "plan", "paid")
        for product in ("", "禾苗贷")
        for segment in ("", "new")
        for zone in ("", "Asia/Urumqi")
        for gender in ("", "female")
        for opted_out in ("", "sms")
        for hardship in ("", "true")
    ]
    for values in rows + rows:
        assert answer(parser, values) == expected(header, values)
    assert len(parser._small) == 3
