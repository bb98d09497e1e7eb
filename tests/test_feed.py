"""Feed readers: CSV and JSON Lines rows become installments or rejected rows, one by one."""

from __future__ import annotations

import gzip
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from remindkit.errors import InputError
from remindkit.feed import FeedItem, RejectedRow, read_csv, read_feed, read_jsonl
from remindkit.models import Channel, Gender, Installment, Status

HEADER = "loan_id,borrower_id,name,gender,phone,amount_due,due_date,status,opted_out,branch\n"
GOOD = "L1,B1,王芳,female,13800138000,1234.5,2026-12-01,due,push,浦东\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def installments(items: list[FeedItem]) -> list[Installment]:
    return [item for item in items if isinstance(item, Installment)]


def rejected(items: list[FeedItem]) -> list[RejectedRow]:
    return [item for item in items if isinstance(item, RejectedRow)]


# --- CSV -----------------------------------------------------------------------------------


def test_csv_row_becomes_an_installment(tmp_path: Path) -> None:
    [item] = list(read_csv(write(tmp_path, "feed.csv", HEADER + GOOD)))
    assert isinstance(item, Installment)
    assert item.key == ("L1", 1)
    assert item.borrower.id == "B1"
    assert item.borrower.name == "王芳"
    assert item.borrower.gender is Gender.FEMALE
    assert item.borrower.phone == "+8613800138000"
    assert item.borrower.opted_out == frozenset({Channel.PUSH})
    assert item.amount_due == Decimal("1234.50")
    assert item.due_date == date(2026, 12, 1)
    assert item.status is Status.DUE
    assert dict(item.extra) == {"branch": "浦东"}


def test_csv_bad_rows_are_rejected_alone_with_data_row_numbers(tmp_path: Path) -> None:
    text = (
        HEADER
        + GOOD  # 1
        + "L2,B2,李四,male,13800138001,0,2026-12-01,due,,\n"  # 2: amount
        + "L3,B3,张三,male,13800138002,10,2026-12-01,due,\n"  # 3: one column short
        + "\n"  # 4: blank, skipped but counted
        + "L4,B4,赵六,,13800138003,10,2026-12-01,due,,,extra\n"  # 5: one column too many
        + 'L5,B5,"钱"七,,13800138004,10,2026-12-01,due,,\n'  # 6: malformed quoting
        + "L6,B6,孙八,,12345,10,2026-12-01,due,,\n"  # 7: phone
        + "L7,B7,周九,,13800138005,10,2026-02-30,due,,\n"  # 8: date
        + 'L8,B8,吴十,,13800138006,10,2026-12-02,due,,"浦东\n新区"\n'  # 9: quoted newline
        + "L9,B9,郑一,,13800138007,10,2026-12-03,due,,\n"  # 10
    )
    items = list(read_csv(write(tmp_path, "feed.csv", text)))
    assert [i.loan_id for i in installments(items)] == ["L1", "L8", "L9"]
    # An extra column is cleaned, not refused: the line break a phone cannot show is a space.
    assert installments(items)[1].extra["branch"] == "浦东 新区"
    assert rejected(items) == [
        RejectedRow(2, "amount_due", "must be greater than 0"),
        RejectedRow(3, "", "expected 10 columns as in the header, got 9"),
        RejectedRow(5, "", "expected 10 columns as in the header, got 11"),
        RejectedRow(6, "", "malformed CSV: ',' expected after '\"'"),
        RejectedRow(7, "phone", "not a valid mobile number"),
        RejectedRow(8, "due_date", "not a calendar date: '2026-02-30'"),
    ]


def test_csv_with_bom_and_padded_header(tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    path.write_bytes(
        b"\xef\xbb\xbf" + HEADER.replace(",name,", ", name ,").encode() + GOOD.encode()
    )
    [item] = list(read_csv(path))
    assert isinstance(item, Installment)
    assert item.borrower.name == "王芳"


def test_csv_undecodable_bytes_reject_only_their_row(tmp_path: Path) -> None:
    # Enough rows on both sides that the bad byte sits deep inside a later read chunk.
    rows = [f"L{n},B{n},王芳,,13800138000,10,2026-12-01,due,,\n".encode() for n in range(1, 801)]
    rows[499] = "L500,B500,王".encode() + b"\xff" + b",,13800138000,10,2026-12-01,due,,\n"
    path = tmp_path / "feed.csv"
    path.write_bytes(HEADER.encode() + b"".join(rows))
    items = list(read_csv(path))
    assert rejected(items) == [
        RejectedRow(500, "name", "not valid UTF-8 text (save the feed as UTF-8)")
    ]
    loan_ids = [i.loan_id for i in installments(items)]
    assert loan_ids == [f"L{n}" for n in range(1, 801) if n != 500]


def test_csv_header_problems_stop_the_read(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="header row lacks required columns: amount_due"):
        list(read_csv(write(tmp_path, "a.csv", "loan_id,borrower_id,name,due_date\n")))
    with pytest.raises(InputError, match="header row repeats columns: name"):
        list(read_csv(write(tmp_path, "b.csv", HEADER.replace("branch", "name") + GOOD)))
    with pytest.raises(InputError, match="empty file, expected a header row"):
        list(read_csv(write(tmp_path, "c.csv", "")))


def test_header_only_csv_has_no_rows(tmp_path: Path) -> None:
    assert list(read_csv(write(tmp_path, "feed.csv", HEADER))) == []


# --- JSON Lines ----------------------------------------------------------------------------


def jsonl(*rows: object) -> str:
    return "".join(row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) + "\n"
                   for row in rows)  # fmt: skip


GOOD_JSON = {
    "loan_id": 42,
    "borrower_id": "B1",
    "name": "欧阳娜娜",
    "phone": "+8613800138000",
    "amount_due": 99.9,
    "due_date": "2026-12-01",
    "installment_no": 3,
    "installments_total": 12,
    "hardship": True,
}


def test_jsonl_row_becomes_an_installment_with_decimal_amount(tmp_path: Path) -> None:
    [item] = list(read_jsonl(write(tmp_path, "feed.jsonl", jsonl(GOOD_JSON))))
    assert isinstance(item, Installment)
    assert item.key == ("42", 3)
    assert item.installments_total == 12
    assert item.amount_due == Decimal("99.90")
    assert item.hardship is True


def test_jsonl_amount_keeps_its_decimal_digits(tmp_path: Path) -> None:
    text = '{"loan_id": "L1", "borrower_id": "B1", "name": "王芳", "amount_due": 0.1, ' \
           '"due_date": "2026-12-01"}\n'  # fmt: skip
    [item] = list(read_jsonl(write(tmp_path, "feed.jsonl", text)))
    assert isinstance(item, Installment)
    assert item.amount_due == Decimal("0.10")
    too_fine = text.replace("0.1,", "0.105,")
    assert list(read_jsonl(write(tmp_path, "fine.jsonl", too_fine))) == [
        RejectedRow(1, "amount_due", "at most 2 decimal places (fen)")
    ]


def test_jsonl_bad_lines_are_rejected_alone(tmp_path: Path) -> None:
    text = jsonl(
        GOOD_JSON,  # 1
        "\n",  # 2: blank, counted
        "   \n",  # 3: blank, counted
        '{"loan_id": "L2", \n',  # 4: invalid JSON
        [1, 2],  # 5: not an object
        {**GOOD_JSON, "gender": "x"},  # 6
        {**GOOD_JSON, "loan_id": "L7"},  # 7
    )
    items = list(read_jsonl(write(tmp_path, "feed.ndjson", text)))
    assert [i.loan_id for i in installments(items)] == ["42", "L7"]
    assert rejected(items) == [
        RejectedRow(4, "", "invalid JSON: Expecting property name enclosed in double quotes "
                    "(column 18)"),
        RejectedRow(5, "", "expected a JSON object, got list"),
        RejectedRow(6, "gender", "expected male, female or empty, got 'x'"),
    ]  # fmt: skip


def test_jsonl_bom_and_undecodable_line(tmp_path: Path) -> None:
    good = json.dumps(GOOD_JSON, ensure_ascii=False).encode()
    path = tmp_path / "feed.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + good + b"\n" + good.replace(b"B1", b"B\xff") + b"\n" + good)
    items = list(read_jsonl(path))
    assert len(installments(items)) == 2
    assert rejected(items) == [RejectedRow(2, "", "not valid UTF-8 text (save the feed as UTF-8)")]


# --- read_feed -----------------------------------------------------------------------------


def test_read_feed_chooses_the_reader_by_suffix(tmp_path: Path) -> None:
    csv_gz = tmp_path / "feed.csv.gz"
    csv_gz.write_bytes(gzip.compress((HEADER + GOOD).encode()))
    jsonl_gz = tmp_path / "feed.JSONL.gz"
    jsonl_gz.write_bytes(gzip.compress(jsonl(GOOD_JSON).encode()))
    for path in (
        write(tmp_path, "feed.csv", HEADER + GOOD),
        write(tmp_path, "feed.jsonl", jsonl(GOOD_JSON)),
        write(tmp_path, "feed.ndjson", jsonl(GOOD_JSON)),
        csv_gz,
        jsonl_gz,
    ):
        [item] = list(read_feed(path))
        assert isinstance(item, Installment), path


def test_read_feed_refuses_unknown_suffix_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown feed format"):
        read_feed(write(tmp_path, "feed.xlsx", ""))
    with pytest.raises(InputError, match="feed file not found"):
        read_feed(tmp_path / "absent.csv")  # raised when the reader is made, not when read


def test_readers_stream(tmp_path: Path) -> None:
    path = write(tmp_path, "feed.csv", HEADER + GOOD * 3)
    reader = read_feed(path)
    first = next(reader)
    assert isinstance(first, Installment)
    # Rows appended after reading started are still read: nothing was loaded up front.
    with path.open("a", encoding="utf-8") as handle:
        handle.write(GOOD.replace("L1", "L9") * 2000)
    assert sum(1 for _ in reader) == 2 + 2000


def test_rejected_row_reads_well() -> None:
    assert str(RejectedRow(7, "phone", "not a valid mobile number")) == (
        "row 7: phone: not a valid mobile number"
    )
    assert str(RejectedRow(3, "", "invalid JSON")) == "row 3: -: invalid JSON"
