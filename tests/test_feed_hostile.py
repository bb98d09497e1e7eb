"""Hostile feeds: each bad row is rejected alone with row, field and reason; the rest is planned.

The corpus is what a careless data team or an attacker writes: dates at the ends of the
calendar, amounts in other grammars, names that would add a second signature or reverse
the text on a phone, numbers of thousands of digits, lines of megabytes, broken gzip.
Every case goes through ``remindkit plan`` exactly as an operator runs it.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from remindkit.cli import _register, app
from remindkit.feed import GZIP_MAX_RATIO, MAX_LINE, read_feed
from remindkit.models import Installment

_register()
runner = CliRunner()
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
AT = "2026-12-01T08:00+08:00"
COLUMNS = ("loan_id", "borrower_id", "name", "phone", "amount_due", "due_date", "installment_no",
           "installments_total", "product", "timezone", "status", "gender", "opted_out",
           "hardship")  # fmt: skip


def good(number: int) -> dict[str, Any]:
    """A row that plans a pre-due SMS at --at."""
    return {"loan_id": f"OK{number}", "borrower_id": f"G{number}", "name": "王芳",
            "phone": "13800138000", "amount_due": "100.00", "due_date": "2026-12-02",
            "installment_no": "1", "installments_total": "12", "product": "禾苗贷",
            "timezone": "", "status": "due", "gender": "female", "opted_out": "",
            "hardship": ""}  # fmt: skip


# (changes to a good row, the field named, a phrase of the reason)
BAD_FIELDS: list[tuple[dict[str, Any], str, str]] = [
    ({"due_date": "9999-12-31"}, "due_date", "from 2000-01-01 to 2099-12-31"),
    ({"due_date": "0001-01-01"}, "due_date", "from 2000-01-01 to 2099-12-31"),
    ({"due_date": "1999-12-31"}, "due_date", "from 2000-01-01 to 2099-12-31"),
    ({"due_date": "２０２６-１２-０２"}, "due_date", "expected YYYY-MM-DD"),
    ({"due_date": "٢٠٢٦-١٢-٠٢"}, "due_date", "expected YYYY-MM-DD"),
    ({"due_date": "2026-12-02T00:00"}, "due_date", "expected YYYY-MM-DD"),
    ({"amount_due": "1_000"}, "amount_due", "not a decimal amount"),
    ({"amount_due": "1e3"}, "amount_due", "not a decimal amount"),
    ({"amount_due": "+5"}, "amount_due", "not a decimal amount"),
    ({"amount_due": "-5"}, "amount_due", "greater than 0"),
    ({"amount_due": "１０００"}, "amount_due", "not a decimal amount"),
    ({"amount_due": "١٠٠٠"}, "amount_due", "not a decimal amount"),
    ({"amount_due": "1,000.00"}, "amount_due", "without thousands separators"),
    ({"amount_due": "1000."}, "amount_due", "not a decimal amount"),
    ({"amount_due": ".5"}, "amount_due", "not a decimal amount"),
    ({"amount_due": "0x10"}, "amount_due", "not a decimal amount"),
    ({"amount_due": "Infinity"}, "amount_due", "not a decimal amount"),
    ({"amount_due": "9" * 50}, "amount_due", "at most 10 digits"),
    ({"amount_due": "10000000000"}, "amount_due", "at most 10 digits"),
    ({"amount_due": "100.001"}, "amount_due", "at most 2 decimal places"),
    ({"name": "王芳【公安局】"}, "name", "【】 mark the SMS signature"),
    ({"name": "】王芳"}, "name", "【】 mark the SMS signature"),
    ({"name": "王\u202e芳"}, "name", "U+202E"),
    ({"name": "王\u2066芳\u2069"}, "name", "U+2066"),
    ({"name": "王\u200b芳"}, "name", "U+200B"),
    ({"name": "王\u200d芳"}, "name", "U+200D"),
    ({"name": "王芳\u0007"}, "name", "U+0007"),
    ({"name": "王\x00芳"}, "name", "U+0000"),
    ({"name": "王\u2028芳"}, "name", "U+2028"),
    ({"name": "王\ue000芳"}, "name", "U+E000"),
    ({"name": "王" * 201}, "name", "longer than 200"),
    ({"product": "【法院】禾苗贷"}, "product", "【】 mark the SMS signature"),
    ({"product": "禾苗\u202e贷"}, "product", "U+202E"),
    ({"loan_id": "L\ufeff1"}, "loan_id", "U+FEFF"),
    ({"borrower_id": "B\u200c1"}, "borrower_id", "U+200C"),
    ({"installment_no": "9" * 50}, "installment_no", "from 1 to 9999"),
    ({"installment_no": "13"}, "installment_no", "above installments_total (12)"),
    ({"installment_no": "３"}, "installment_no", "whole number"),
    ({"installment_no": "+3"}, "installment_no", "whole number"),
    ({"installment_no": "1_0"}, "installment_no", "whole number"),
    ({"installments_total": "0"}, "installments_total", "from 1 to 9999"),
    ({"timezone": "../../../etc/passwd"}, "timezone", "unknown IANA time zone"),
    ({"timezone": "/etc/localtime"}, "timezone", "unknown IANA time zone"),
    ({"timezone": "Asia/" + "x" * 5000}, "timezone", "unknown IANA time zone"),
    ({"timezone": "Asia/Shang\u202ehai"}, "timezone", "unknown IANA time zone"),
    ({"phone": "1" * 5000}, "phone", "not a valid mobile number"),
    ({"phone": "138\u202e00138000"}, "phone", "not a valid mobile number"),
    ({"status": "due\u200b"}, "status", "expected one of"),
    ({"gender": "女\u200d"}, "gender", "expected male, female"),
    ({"opted_out": "sms;\u200bpush"}, "opted_out", "unknown channel"),
    ({"hardship": "maybe" * 1000}, "hardship", "expected true or false"),
]


def plan(path: Path) -> tuple[int, dict[str, Any], str]:
    result = runner.invoke(
        app, ["plan", "--feed", str(path), "--at", AT, "--format", "json",
              "--templates", str(TEMPLATES)],
    )  # fmt: skip
    assert isinstance(result.exception, SystemExit | None), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout) if result.stdout else {}, result.stderr


def planned_loans(document: dict[str, Any]) -> set[str]:
    return {loan for message in document["messages"] for loan in message["loan_ids"]}


def interleaved() -> list[dict[str, Any]]:
    """good, bad, good, bad, …, good: row 2k is the k-th bad row."""
    rows = [good(0)]
    for index, (changes, _, _) in enumerate(BAD_FIELDS, start=1):
        rows += [{**good(index), "loan_id": f"BAD{index}", **changes}, good(index + 1000)]
    return rows


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    lines = [",".join(COLUMNS)] + [",".join(_cell(row[c]) for c in COLUMNS) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _cell(value: Any) -> str:
    text = str(value)
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


def write_jsonl(path: Path, rows: list[dict[str, Any] | str]) -> Path:
    lines = [row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def expected_rejections() -> list[tuple[int, str]]:
    return [(2 * index, field) for index, (_, field, _) in enumerate(BAD_FIELDS, start=1)]


def assert_each_bad_row_alone(document: dict[str, Any]) -> None:
    rejected = document["rejected_rows"]
    assert [(r["row"], r["field"]) for r in rejected] == expected_rejections()
    for entry, (_, _, phrase) in zip(rejected, BAD_FIELDS, strict=True):
        assert phrase in entry["reason"], entry
        assert len(entry["reason"]) < 300, entry  # a 5,000-character value is not echoed
    good_loans = {"OK0"} | {f"OK{n + 1000}" for n in range(1, len(BAD_FIELDS) + 1)}
    assert planned_loans(document) == good_loans


def test_the_corpus_is_large() -> None:
    assert len(BAD_FIELDS) >= 50


def test_a_csv_of_hostile_rows_rejects_each_alone_and_plans_the_rest(tmp_path: Path) -> None:
    code, document, _ = plan(write_csv(tmp_path / "feed.csv", interleaved()))
    assert code == 1
    assert_each_bad_row_alone(document)


def test_a_jsonl_of_hostile_rows_rejects_each_alone_and_plans_the_rest(tmp_path: Path) -> None:
    code, document, _ = plan(write_jsonl(tmp_path / "feed.jsonl", [*interleaved()]))
    assert code == 1
    assert_each_bad_row_alone(document)


def test_the_same_corpus_gzipped(tmp_path: Path) -> None:
    text = write_csv(tmp_path / "feed.csv", interleaved()).read_bytes()
    path = tmp_path / "feed.csv.gz"
    path.write_bytes(gzip.compress(text))
    code, document, _ = plan(path)
    assert code == 1
    assert_each_bad_row_alone(document)


# --- JSON Lines: numbers, nesting, types -----------------------------------------------------

GOOD_JSON = {**good(0), "installment_no": 1, "installments_total": 12, "amount_due": 100.5}
BAD_JSON: list[tuple[str, str, str]] = [
    (json.dumps(GOOD_JSON).replace("100.5", "1" * 5000), "amount_due", "at most 10 digits"),
    (json.dumps({**GOOD_JSON, "loan_id": 0}).replace(": 0,", ": " + "7" * 5000 + ","),
     "loan_id", "must be text"),
    (json.dumps(GOOD_JSON).replace(": 1,", ": " + "1" * 50 + ",", 1), "installment_no",
     "from 1 to 9999"),
    (json.dumps(GOOD_JSON).replace("100.5", "1e3"), "amount_due", "not a decimal amount"),
    (json.dumps(GOOD_JSON).replace("100.5", "NaN"), "amount_due", "not a decimal amount"),
    (json.dumps(GOOD_JSON).replace("100.5", "-Infinity"), "amount_due", "not a decimal amount"),
    (json.dumps(GOOD_JSON).replace("100.5", "true"), "amount_due", "not a float"),
    (json.dumps({**GOOD_JSON, "name": {"a": 1}}), "name", "must be text"),
    (json.dumps({**GOOD_JSON, "name": ["王芳"]}), "name", "must be text"),
    (json.dumps({**GOOD_JSON, "due_date": 20261202}), "due_date", "expected YYYY-MM-DD"),
    (json.dumps({**GOOD_JSON, "opted_out": [["sms"]]}), "opted_out", "unknown channel"),
    ("[" * 100_000, "", "nested too deeply"),
    ('{"a":' * 50_000 + "1" + "}" * 50_000, "", "nested too deeply"),
    ("[1, 2]", "", "expected a JSON object"),
    ('"' + "x" * (MAX_LINE + 10) + '"', "", "line longer than"),
    ("{" + "\u202e" * 10, "", "invalid JSON"),
]  # fmt: skip


def test_jsonl_numbers_nesting_and_long_lines_reject_their_row(tmp_path: Path) -> None:
    rows: list[dict[str, Any] | str] = [good(0)]
    for index, (line, _, _) in enumerate(BAD_JSON, start=1):
        rows += [line, good(index)]
    code, document, _ = plan(write_jsonl(tmp_path / "feed.jsonl", rows))
    assert code == 1
    rejected = document["rejected_rows"]
    assert [(r["row"], r["field"]) for r in rejected] == [
        (2 * index, field) for index, (_, field, _) in enumerate(BAD_JSON, start=1)
    ]
    for entry, (_, _, phrase) in zip(rejected, BAD_JSON, strict=True):
        assert phrase in entry["reason"], entry
    assert planned_loans(document) == {f"OK{n}" for n in range(len(BAD_JSON) + 1)}


def test_extra_columns_are_cleaned_and_never_python_reprs(tmp_path: Path) -> None:
    row = {**GOOD_JSON, "branch": "浦东\u202e\n【新区】", "flags": {"vip": True}, "ok": False}
    [item] = list(read_feed(write_jsonl(tmp_path / "feed.jsonl", [row])))
    assert isinstance(item, Installment)
    assert dict(item.extra) == {"branch": "浦东 [新区]", "flags": '{"vip": true}', "ok": "false"}


def test_a_utf8_bom_does_not_cost_the_first_row(tmp_path: Path) -> None:
    for suffix in ("jsonl", "csv"):
        path = tmp_path / f"feed.{suffix}"
        (write_jsonl if suffix == "jsonl" else write_csv)(path, [good(0), good(1)])
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
        code, document, _ = plan(path)
        assert (code, document["rejected_rows"]) == (0, []), suffix
        assert planned_loans(document) == {"OK0", "OK1"}


# --- lines, fields and files too large --------------------------------------------------------


def test_a_csv_line_of_megabytes_is_one_rejected_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "feed.csv", [good(0), good(1), good(2)])
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(2, "x" * (3 * MAX_LINE) + "\n")  # data row 2
    lines.insert(4, '"' + "y" * 200_000 + '",1,2\n')  # data row 4: one field too large
    path.write_text("".join(lines), encoding="utf-8")
    code, document, _ = plan(path)
    assert code == 1
    assert [(r["row"], r["reason"][:24]) for r in document["rejected_rows"]] == [
        (2, "line longer than 1,048,5"),
        (4, "malformed CSV: field lar"),
    ]
    assert planned_loans(document) == {"OK0", "OK1", "OK2"}


def test_a_gzip_bomb_stops_at_the_expansion_limit(tmp_path: Path) -> None:
    path = tmp_path / "bomb.csv.gz"
    header = ",".join(COLUMNS) + "\n" + ",".join(good(0)[c] for c in COLUMNS) + "\n"
    size = 17 << 20  # just past the floor of the limit; one line ("\n"-free) of zeros after
    path.write_bytes(gzip.compress(header.encode() + b"0" * size + b"\n", compresslevel=9))
    assert size > GZIP_MAX_RATIO * path.stat().st_size
    code, document, _ = plan(path)
    assert code == 1
    assert planned_loans(document) == {"OK0"}
    [rejected] = document["rejected_rows"]
    assert rejected["row"] == 2
    assert "decompresses to more than 16,777,216 bytes" in rejected["reason"]


def test_a_plain_file_named_gz_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "feed.csv.gz"
    write_csv(path, [good(0)])
    code, _, err = plan(path)
    assert code == 2
    assert "not a gzip file" in err


def test_a_truncated_gzip_keeps_the_rows_before_the_cut(tmp_path: Path) -> None:
    rows = [good(n) for n in range(3000)]
    data = gzip.compress(write_csv(tmp_path / "feed.csv", rows).read_bytes())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) - 200])
    code, document, _ = plan(path)
    assert code == 1
    [rejected] = document["rejected_rows"]
    assert "ends in the middle of its data" in rejected["reason"]
    # Every row before the cut is planned, none after it.
    assert planned_loans(document) == {f"OK{n}" for n in range(rejected["row"] - 1)}
    corrupt = tmp_path / "corrupt.csv.gz"
    corrupt.write_bytes(data[:200] + bytes(200) + data[400:])
    code, document, _ = plan(corrupt)
    assert code in (1, 2)


# --- warnings: the same loan under two borrowers, duplicates that disagree -------------------


def test_a_loan_under_two_borrowers_is_named(tmp_path: Path) -> None:
    rows = [good(0), {**good(1), "loan_id": "OK0"}]
    code, document, _ = plan(write_csv(tmp_path / "feed.csv", rows))
    assert code == 0
    assert document["warnings"] == [
        "loan 'OK0' appears under borrowers 'G0' and 'G1'; each is reminded of it: check the feed"
    ]


def test_duplicates_that_disagree_name_the_conflict_not_the_phone(tmp_path: Path) -> None:
    rows = [good(0), {**good(0), "amount_due": "200.00", "phone": "13900139000"}]
    code, document, _ = plan(write_csv(tmp_path / "feed.csv", rows))
    assert code == 0
    [warning] = document["warnings"]
    assert warning == (
        "installment OK0#1 of borrower 'G0' appears in several feed rows that disagree "
        "(amount_due 100.00 / 200.00; phone); planned once, with the first value of each pair"
    )
    assert "139" not in warning


# --- --at and context files ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "at", ["9999-12-31T23:00:00+00:00", "0001-01-01T00:00:00+00:00", "2100-01-01T00:00+08:00",
           "1999-12-31T23:59+08:00", "2026-12-01T08:00+08:00" + " " * 100]
)  # fmt: skip
def test_at_outside_the_sane_range_is_a_usage_error(tmp_path: Path, at: str) -> None:
    path = write_csv(tmp_path / "feed.csv", [good(0)])
    result = runner.invoke(app, ["plan", "--feed", str(path), "--at", at])
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    assert "--at" in result.stderr
