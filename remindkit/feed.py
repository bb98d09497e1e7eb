"""Loan feeds from files (SPEC §3): CSV with a header row, or JSON Lines; gzip optional.

Readers stream: memory stays constant however many rows the file has. Each row goes
through :func:`remindkit.parse.parse_installment`; a bad row comes out as a
:class:`RejectedRow` (1-based data row, field, reason) and reading goes on.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, cast

from remindkit.errors import FieldError, InputError
from remindkit.models import Installment
from remindkit.parse import parse_installment

REQUIRED_COLUMNS = ("loan_id", "borrower_id", "name", "amount_due", "due_date")
CSV_SUFFIXES = (".csv", ".csv.gz")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8 (surrogateescape)
_NOT_UTF8 = "not valid UTF-8 text (save the feed as UTF-8)"


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A feed row that could not be used; ``row`` is the 1-based data row number."""

    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.field or '-'}: {self.reason}"


FeedItem = Installment | RejectedRow
"""What a feed yields per row: a valid installment, or the row rejected with its reason."""


def read_rows(rows: Iterable[object]) -> Iterator[FeedItem]:
    """Rows held in memory as feed items: each mapping of feed fields (SPEC §3) is validated
    like a file's row and numbered from 1; installments and rejected rows pass through; a bad
    row is rejected alone and the rest goes on."""
    for number, row in enumerate(rows, start=1):
        if isinstance(row, Installment | RejectedRow):
            yield row
        elif isinstance(row, Mapping):
            try:
                yield parse_installment(row)
            except FieldError as exc:
                yield RejectedRow(number, exc.field, exc.reason)
        else:
            yield RejectedRow(
                number, "", f"expected a mapping of feed fields, got {type(row).__name__}"
            )


def read_feed(path: Path) -> Iterator[FeedItem]:
    """Read a feed file, choosing the format by suffix (.csv, .jsonl, .ndjson; + .gz)."""
    name = path.name.lower()
    if name.endswith(CSV_SUFFIXES):
        return read_csv(path)
    if name.endswith(JSONL_SUFFIXES):
        return read_jsonl(path)
    known = ", ".join(CSV_SUFFIXES + JSONL_SUFFIXES)
    raise InputError(f"{path}: unknown feed format (expected a file ending in {known})")


def read_csv(path: Path) -> Iterator[FeedItem]:
    """Stream a CSV feed: UTF-8 (a BOM is fine), a header row naming the fields of SPEC §3."""
    _require_file(path)
    return _csv_items(path)


def read_jsonl(path: Path) -> Iterator[FeedItem]:
    """Stream a JSON Lines feed: one object per line; blank lines are skipped but counted."""
    _require_file(path)
    return _jsonl_items(path)


def _require_file(path: Path) -> None:
    # Checked eagerly so a wrong path fails when the reader is created, not mid-plan.
    if not path.is_file():
        raise InputError(f"{path}: feed file not found")


def _open_text(path: Path, errors: str) -> IO[str]:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", errors=errors, newline="")
    return path.open(encoding="utf-8-sig", errors=errors, newline="")


def _open_binary(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".gz"):
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def _csv_items(path: Path) -> Iterator[FeedItem]:
    # Clean UTF-8, the usual case, is read strictly with no per-row check. At the first
    # undecodable byte the file is read again tolerantly (surrogateescape), resuming after
    # the last row already handed out, and each row carrying bad bytes is rejected alone.
    # Text is decoded a whole chunk at a time, so no row of the failing chunk was handed out.
    done = 0
    try:
        for number, item in _csv_records(path, "strict", after=0):
            done = number
            if item is not None:
                yield item
    except UnicodeDecodeError:
        for _, item in _csv_records(path, "surrogateescape", after=done):
            if item is not None:
                yield item


def _csv_records(path: Path, errors: str, after: int) -> Iterator[tuple[int, FeedItem | None]]:
    """(row number, item) for every data row after row ``after``; ``None`` for blank lines."""
    tolerant = errors != "strict"
    with _open_text(path, errors) as handle:
        reader = csv.reader(handle, strict=True)
        header = _header(path, reader)
        width = len(header)
        number = 0
        while True:  # ends with the file (StopIteration below)
            number += 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if number > after:
                    yield number, RejectedRow(number, "", f"malformed CSV: {exc}")
                continue
            if number <= after:
                continue
            if len(values) != width:
                # A blank line is skipped but keeps its number.
                yield number, _wrong_width(number, width, len(values)) if values else None
            elif tolerant and _UNDECODABLE.search("".join(values)):
                yield number, _undecodable(number, header, values)
            else:
                yield number, _csv_row(number, header, values)


def _header(path: Path, reader: Iterator[list[str]]) -> list[str]:
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise InputError(f"{path}: empty file, expected a header row") from None
    except csv.Error as exc:
        raise InputError(f"{path}: header row: malformed CSV: {exc}") from None
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise InputError(f"{path}: header row lacks required columns: {', '.join(missing)}")
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise InputError(f"{path}: header row repeats columns: {', '.join(duplicated)}")
    return header


def _wrong_width(number: int, width: int, got: int) -> RejectedRow:
    return RejectedRow(number, "", f"expected {width} columns as in the header, got {got}")


def _csv_row(number: int, header: list[str], values: list[str]) -> FeedItem:
    try:
        # Widths were compared already; a strict zip would only cost time.
        return parse_installment(dict(zip(header, values)))  # noqa: B905
    except FieldError as exc:
        return RejectedRow(number, exc.field, exc.reason)


def _undecodable(number: int, header: list[str], values: list[str]) -> RejectedRow:
    field = next(
        name for name, value in zip(header, values, strict=True) if _UNDECODABLE.search(value)
    )
    return RejectedRow(number, field, _NOT_UTF8)


def _jsonl_items(path: Path) -> Iterator[FeedItem]:
    with _open_binary(path) as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield _json_row(number, line)


def _json_row(number: int, line: bytes) -> FeedItem:
    try:
        # utf-8-sig: a BOM at the start of the file is dropped, as in the CSV reader.
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        return RejectedRow(number, "", _NOT_UTF8)
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        # Point inside the line, not past its newline (JSON errors at the end report that).
        column = min(exc.pos, len(text.rstrip())) + 1
        return RejectedRow(number, "", f"invalid JSON: {exc.msg} (column {column})")
    if not isinstance(data, dict):
        return RejectedRow(number, "", f"expected a JSON object, got {type(data).__name__}")
    try:
        return parse_installment(data)
    except FieldError as exc:
        return RejectedRow(number, exc.field, exc.reason)
