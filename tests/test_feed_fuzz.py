"""Fuzzing the feed: any row is an installment or a FieldError; any file a plan or a clear error.

Examples are bounded so the suite stays fast; every example runs under a wall-clock guard,
so a hang fails the test instead of stalling it.
"""

from __future__ import annotations

import gzip
import json
import signal
import string
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from remindkit.cli import _register, app
from remindkit.errors import FieldError
from remindkit.feed import RejectedRow, read_feed
from remindkit.models import EARLIEST_DATE, LATEST_DATE, Installment
from remindkit.parse import KNOWN_FIELDS, MAX_INSTALLMENTS, parse_installment

_register()
runner = CliRunner()
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
GUARD_SECONDS = 20
HEADER = "loan_id,borrower_id,name,phone,amount_due,due_date,installment_no,status,timezone\n"
VALID = HEADER + "".join(
    f"L{n},B{n},王芳,1380013800{n},{n}00.50,2026-12-0{n},{n},due,Asia/Shanghai\n"
    for n in range(1, 6)
)


@contextmanager
def hang_guard(seconds: int = GUARD_SECONDS) -> Iterator[None]:
    """Fail with TimeoutError instead of hanging (SIGALRM: the main thread, POSIX)."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# Near-valid spellings mixed with anything: the checks between the two are where bugs hide.
TRICKY_TEXT = st.sampled_from(
    ["", " ", "0", "1", "01", "12", "100.00", "1,000", "1e3", "+5", "-1", "NaN", "１２", "٣",
     "2026-12-01", "9999-12-31", "2026-02-30", "13800138000", "+8613800138000", "due", "PAID",
     "male", "女", "sms;push", "true", "是", "Asia/Shanghai", "../x", "王芳", "【】", "\u202e",
     "\u200b", "\x00", "\ufeff", "\ud800", "9" * 60]
)  # fmt: skip
VALUES = st.one_of(
    st.none(),
    TRICKY_TEXT,
    st.text(max_size=12),
    st.text(alphabet=string.digits + ".-+e,_ ", max_size=14),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.decimals(),
    st.dates(),
    st.datetimes(),
    st.lists(st.one_of(TRICKY_TEXT, st.integers()), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
ROWS = st.dictionaries(st.sampled_from([*sorted(KNOWN_FIELDS), "branch", "note"]), VALUES)
BASE = {"loan_id": "L1", "borrower_id": "B1", "name": "王芳", "amount_due": "10",
        "due_date": "2026-12-01"}  # fmt: skip


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(changes=ROWS)
def test_any_row_is_an_installment_or_a_field_error(changes: dict[str, Any]) -> None:
    item = parsed_or_error({**BASE, **changes})
    if isinstance(item, FieldError):
        assert item.field in KNOWN_FIELDS
        assert 0 < len(item.reason) < 300
    else:
        assert_sane(item)


def parsed_or_error(row: dict[str, Any]) -> Installment | FieldError:
    try:
        return parse_installment(row)
    except FieldError as exc:
        return exc


def assert_sane(item: Installment) -> None:
    assert item.amount_due > 0
    assert item.amount_due.as_tuple().exponent == -2
    assert isinstance(item.due_date, date)
    assert not isinstance(item.due_date, datetime)
    assert EARLIEST_DATE <= item.due_date <= LATEST_DATE
    assert 1 <= item.installment_no <= MAX_INSTALLMENTS
    total = item.installments_total
    assert total is None or item.installment_no <= total <= MAX_INSTALLMENTS
    shown = [item.borrower.name, item.borrower.id, item.loan_id, item.product or ""]
    for text in [*shown, *item.extra.values()]:
        assert "【" not in text
        assert "】" not in text
        assert all(char.isprintable() or char.isspace() for char in text), text
    phone = item.borrower.phone
    assert phone is None or (phone.isascii() and phone[0] == "+" and phone[1:].isdigit())


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.one_of(st.binary(max_size=80), st.text(max_size=40).map(str.encode),
                                st.builds(json.dumps, st.dictionaries(
                                    st.sampled_from(sorted(KNOWN_FIELDS)), VALUES.filter(
                                        lambda v: not isinstance(v, Decimal | date)
                                    ))).map(str.encode)), max_size=6))  # fmt: skip
def test_any_jsonl_line_is_an_installment_or_a_rejected_row(
    lines: list[bytes], tmp_path_factory: Any
) -> None:
    path = tmp_path_factory.mktemp("feed") / "feed.jsonl"
    data = b"\n".join(lines)
    path.write_bytes(data)
    with hang_guard():
        items = list(read_feed(path))
    for item in items:
        if isinstance(item, Installment):
            assert_sane(item)
        else:
            assert isinstance(item, RejectedRow)
            assert 1 <= item.row <= data.count(b"\n") + 1


def mutate(data: bytes, edits: list[tuple[int, bytes]]) -> bytes:
    for position, inserted in edits:
        cut = position % (len(data) + 1)
        data = data[:cut] + inserted + data[cut + len(inserted) // 2 :]
    return data


def assert_plan_survives(path: Path) -> None:
    with hang_guard():
        result = runner.invoke(
            app, ["plan", "--feed", str(path), "--at", "2026-12-01T08:00+08:00",
                  "--format", "json", "--templates", str(TEMPLATES)],
        )  # fmt: skip
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert result.stderr.startswith("error: ")
    else:
        json.loads(result.stdout)


SUFFIXES = st.sampled_from(["feed.csv", "feed.jsonl", "feed.csv.gz", "feed.ndjson.gz"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=600), name=SUFFIXES, compress=st.booleans())
def test_plan_on_random_bytes_never_tracebacks(
    data: bytes, name: str, compress: bool, tmp_path_factory: Any
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(gzip.compress(data) if compress else data)
    assert_plan_survives(path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.binary(min_size=1, max_size=6)),
                   min_size=1, max_size=4),
    name=SUFFIXES,
)  # fmt: skip
def test_plan_on_a_mangled_feed_never_tracebacks(
    edits: list[tuple[int, bytes]], name: str, tmp_path_factory: Any
) -> None:
    valid = VALID.encode()
    if "jsonl" in name or "ndjson" in name:
        rows = [dict(zip(HEADER.split(","), line.split(","), strict=True))
                for line in VALID.strip().splitlines()[1:]]  # fmt: skip
        valid = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()
    data = mutate(valid, edits)
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    assert_plan_survives(path)
    if name.endswith(".gz"):  # the compressed bytes mangled too
        path.write_bytes(mutate(gzip.compress(data), edits))
        assert_plan_survives(path)
