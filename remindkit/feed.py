"""Loan feeds from files (SPEC §3): CSV with a header row, or JSON Lines; gzip optional.

Readers stream: memory stays constant however many rows the file has. Each row goes
through :func:`remindkit.parse.parse_installment`; a bad row comes out as a
:class:`RejectedRow` (1-based data row, field, reason) and reading goes on.

Feeds come from other systems, so every read is bounded:

* a line longer than :data:`MAX_LINE` characters (CSV) or bytes (JSONL) is rejected as
  one row and skipped without being held in memory; a CSV field is at most the ``csv``
  module's 131,072 characters; JSON nesting deeper than Python's stack rejects its line;
* a gzip file may expand to at most :data:`GZIP_MAX_RATIO` times its size (and at least
  :data:`GZIP_MIN_LIMIT` bytes): a small file cannot make a plan read gigabytes;
* a file that stops being readable part-way (a truncated or corrupt gzip, the expansion
  limit) ends with a :class:`RejectedRow` saying why after the rows read so far; one that
  cannot be read at all (not gzip, no header) raises :class:`InputError`.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, AnyStr

from remindkit.columns import ColumnParser, Wanted
from remindkit.errors import FieldError, InputError
from remindkit.feedtext import loads_json
from remindkit.models import Installment
from remindkit.parse import parse_installment

REQUIRED_COLUMNS = ("loan_id", "borrower_id", "name", "amount_due", "due_date")
CSV_SUFFIXES = (".csv", ".csv.gz")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8 (surrogateescape)
_NOT_UTF8 = "not valid UTF-8 text (save the feed as UTF-8)"
MAX_LINE = 1 << 20
GZIP_MAX_RATIO = 100
GZIP_MIN_LIMIT = 16 << 20
# What a CSV reader gets instead of a line past MAX_LINE: one private-use character, which
# a feed cannot carry into a row (names refuse it), so it cannot be mistaken for data.
_TOO_LONG_TEXT = "\ue000\n"
_TOO_LONG = f"longer than {MAX_LINE:,} characters (a line without its line break?)"
# Why a file stops being readable part-way; the rows before the failure were handed out.
_UNREADABLE = (OSError, EOFError, zlib.error)
# Compared by identity: made at run time, so no line read (nor a cached one-byte bytes)
# is this object; its bytes are not UTF-8 besides.
_TOO_LONG_BYTES = bytes(bytearray(b"\xff\n"))
PROGRESS_EVERY = 10_000
Progress = Callable[[int], None]


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


class FeedFile(Iterator[FeedItem]):
    """A feed file read once, row by row: an iterator of :data:`FeedItem`.

    A reader that needs the values of some rows only (the planner: rows with something to
    send in its horizon) calls :meth:`select` instead of iterating: every row is still
    validated and every bad row rejected, but installments are built only for the rows
    ``wanted`` accepts.
    """

    def __init__(
        self,
        path: Path,
        rows: Callable[[Path, Wanted | None, Progress | None], Iterator[FeedItem]],
    ) -> None:
        _require_file(path)
        self.path = path
        self._rows = rows
        self._progress: Progress | None = None
        self._done: Callable[[], None] | None = None
        self._iterator: Iterator[FeedItem] | None = None

    def __iter__(self) -> FeedFile:
        return self

    def __next__(self) -> FeedItem:
        if self._iterator is None:
            self._iterator = self._read(None)
        return next(self._iterator)

    def watched(self, progress: Progress, done: Callable[[], None]) -> FeedFile:
        """This feed, calling ``progress`` with the row count every :data:`PROGRESS_EVERY`
        rows and ``done`` when reading ends."""
        self._progress, self._done = progress, done
        return self

    @property
    def started(self) -> bool:
        return self._iterator is not None

    def select(self, wanted: Wanted) -> Iterator[FeedItem]:
        """Rejected rows, and the installments of the valid rows ``wanted`` accepts."""
        if self._iterator is not None:
            raise RuntimeError(f"{self.path}: the feed is already being read")
        self._iterator = self._read(wanted)
        return self._iterator

    def _read(self, wanted: Wanted | None) -> Iterator[FeedItem]:
        rows = self._rows(self.path, wanted, self._progress)
        if self._done is None:
            return rows
        return _then(rows, self._done)


def _then(rows: Iterator[FeedItem], done: Callable[[], None]) -> Iterator[FeedItem]:
    try:
        yield from rows
    finally:
        done()


def read_feed(path: Path) -> FeedFile:
    """Read a feed file, choosing the format by suffix (.csv, .jsonl, .ndjson; + .gz)."""
    name = path.name.lower()
    if name.endswith(CSV_SUFFIXES):
        return read_csv(path)
    if name.endswith(JSONL_SUFFIXES):
        return read_jsonl(path)
    known = ", ".join(CSV_SUFFIXES + JSONL_SUFFIXES)
    raise InputError(f"{path}: unknown feed format (expected a file ending in {known})")


def read_csv(path: Path) -> FeedFile:
    """Stream a CSV feed: UTF-8 (a BOM is fine), a header row naming the fields of SPEC §3."""
    return FeedFile(path, _csv_items)


def read_jsonl(path: Path) -> FeedFile:
    """Stream a JSON Lines feed: one object per line; blank lines are skipped but counted."""
    return FeedFile(path, _jsonl_items)


def _require_file(path: Path) -> None:
    # Checked eagerly so a wrong path fails when the reader is created, not mid-plan.
    if not path.is_file():
        raise InputError(f"{path}: feed file not found")


class GzipLimitError(OSError):
    """A gzip feed expands past its limit (see the module docstring)."""


class _LimitedGzip(io.RawIOBase):
    """A gzip file's decompressed bytes, refusing to produce more than ``limit``."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        size = path.stat().st_size
        self.limit = max(GZIP_MIN_LIMIT, GZIP_MAX_RATIO * size)
        self.produced = 0
        self.inner = gzip.GzipFile(path, "rb")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = self.inner.readinto(buffer)
        self.produced += count
        if self.produced > self.limit:
            raise GzipLimitError(
                f"decompresses to more than {self.limit:,} bytes ({GZIP_MAX_RATIO}× the file "
                "or more): not read further; split the feed or check the file"
            )
        return count

    def close(self) -> None:
        self.inner.close()
        super().close()


def _open_binary(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".gz"):
        return io.BufferedReader(_LimitedGzip(path))
    return path.open("rb")


def _open_text(path: Path, errors: str) -> IO[str]:
    binary = _open_binary(path)
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors=errors, newline="")


def _lines(handle: IO[AnyStr], too_long: AnyStr | None) -> Iterator[AnyStr]:
    """The file's lines, none longer than MAX_LINE: a longer one is skipped, chunk by chunk,
    and ``too_long`` (if not ``None``) stands in its place."""
    empty = handle.read(0)
    for line in iter(partial(handle.readline, MAX_LINE + 1), empty):
        if len(line) <= MAX_LINE or line[-1:] in _LINE_ENDS:
            yield line
            continue
        _skip_line(handle, empty)
        if too_long is not None:
            yield too_long


_LINE_ENDS = ("\n", "\r", b"\n", b"\r")


def _skip_line(handle: IO[AnyStr], empty: AnyStr) -> None:
    # Bounded by the file (and a gzip file by its expansion limit).
    while True:
        chunk = handle.readline(MAX_LINE)
        if chunk == empty or chunk[-1:] in _LINE_ENDS:
            return


def _unreadable(path: Path, exc: BaseException) -> str:
    if isinstance(exc, GzipLimitError):
        return str(exc)
    if isinstance(exc, gzip.BadGzipFile):
        return f"not a gzip file ({path.name} ends in .gz): {exc}"
    if isinstance(exc, EOFError):
        return "the gzip file ends in the middle of its data (truncated?): rows after it are lost"
    if isinstance(exc, zlib.error):
        return f"the gzip data is corrupt here: {exc}"
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return f"cannot read the file further: {reason}"


def _csv_items(path: Path, wanted: Wanted | None, progress: Progress | None) -> Iterator[FeedItem]:
    # Clean UTF-8, the usual case, is read strictly with no per-row check. At the first
    # undecodable byte the file is read again tolerantly (surrogateescape), resuming after
    # the last row already handed out, and each row carrying bad bytes is rejected alone.
    # Text is decoded a whole chunk at a time, so no row of the failing chunk was handed out.
    done = 0
    try:
        for number, item in _csv_records(path, "strict", 0, wanted, progress):
            done = number
            yield item
    except UnicodeDecodeError:
        for _, item in _csv_records(path, "surrogateescape", done, wanted, progress):
            yield item


def _csv_records(  # noqa: PLR0912 - the per-row loop inline: a call per row costs ~5%
    path: Path, errors: str, after: int, wanted: Wanted | None, progress: Progress | None
) -> Iterator[tuple[int, FeedItem]]:
    """(row number, item) for the data rows after row ``after`` that give an item: a blank
    line or a row ``wanted`` refuses gives none, but keeps its number."""
    tolerant = errors != "strict"
    with _open_text(path, errors) as handle:
        reader = csv.reader(_lines(handle, _TOO_LONG_TEXT), strict=True)
        header = _header(path, reader)
        width, parse = len(header), ColumnParser(header, wanted).parse
        number = 0
        while True:  # the inner loop ends with the file, or raises for one bad row
            try:
                for values in reader:
                    number += 1
                    if number <= after:
                        continue
                    if progress is not None and not number % PROGRESS_EVERY:
                        progress(number)
                    if len(values) != width:
                        if values:  # a blank line is skipped but keeps its number
                            yield number, _odd_width(number, width, values)
                    elif tolerant and _UNDECODABLE.search("".join(values)):
                        yield number, _undecodable(number, header, values)
                    else:
                        try:
                            item = parse(values)
                        except FieldError as exc:
                            yield number, RejectedRow(number, exc.field, exc.reason)
                        else:
                            if item is not None:
                                yield number, item
                return
            except csv.Error as exc:
                number += 1
                if number > after:
                    yield number, RejectedRow(number, "", f"malformed CSV: {exc}")
            except _UNREADABLE as exc:
                number += 1
                if number > after:
                    yield number, RejectedRow(number, "", _unreadable(path, exc))
                return


def _header(path: Path, reader: Iterator[list[str]]) -> list[str]:
    try:
        header = [_printable_name(name.strip()) for name in next(reader)]
    except StopIteration:
        raise InputError(f"{path}: empty file, expected a header row") from None
    except csv.Error as exc:
        raise InputError(f"{path}: header row: malformed CSV: {exc}") from None
    except _UNREADABLE as exc:
        raise InputError(f"{path}: {_unreadable(path, exc)}") from None
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise InputError(f"{path}: header row lacks required columns: {', '.join(missing)}")
    duplicated = sorted(name for name, count in Counter(header).items() if count > 1)
    if duplicated:
        raise InputError(f"{path}: header row repeats columns: {', '.join(duplicated)}")
    return header


def _printable_name(name: str) -> str:
    """A column name whose undecodable bytes (read tolerantly) show as U+FFFD: names appear
    in rejected rows and JSON output, which cannot carry lone surrogates."""
    if not _UNDECODABLE.search(name):
        return name
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _odd_width(number: int, width: int, values: list[str]) -> RejectedRow:
    if values == [_TOO_LONG_TEXT[0]]:
        return RejectedRow(number, "", f"line {_TOO_LONG}")
    return RejectedRow(number, "", f"expected {width} columns as in the header, got {len(values)}")


def _undecodable(number: int, header: list[str], values: list[str]) -> RejectedRow:
    field = next(
        name for name, value in zip(header, values, strict=True) if _UNDECODABLE.search(value)
    )
    return RejectedRow(number, field, _NOT_UTF8)


def _jsonl_items(
    path: Path, wanted: Wanted | None, progress: Progress | None
) -> Iterator[FeedItem]:
    number = 0
    with _open_binary(path) as handle:
        try:
            for number, line in enumerate(_lines(handle, _TOO_LONG_BYTES), start=1):
                if progress is not None and not number % PROGRESS_EVERY:
                    progress(number)
                if line is _TOO_LONG_BYTES:
                    yield RejectedRow(
                        number, "", f"line {_TOO_LONG.replace('characters', 'bytes')}"
                    )
                elif line.strip():
                    item = _json_row(number, line)
                    if wanted is None or _is_wanted(item, wanted):
                        yield item
        except _UNREADABLE as exc:
            if number == 0:
                raise InputError(f"{path}: {_unreadable(path, exc)}") from None
            yield RejectedRow(number + 1, "", _unreadable(path, exc))


def _json_row(number: int, line: bytes) -> FeedItem:
    try:
        # utf-8-sig: a BOM at the start of the file is dropped, as in the CSV reader.
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        return RejectedRow(number, "", _NOT_UTF8)
    try:
        data = loads_json(text)
    except RecursionError:
        return RejectedRow(number, "", "invalid JSON: nested too deeply")
    except ValueError as exc:
        return RejectedRow(number, "", _json_problem(exc, text))
    if not isinstance(data, dict):
        return RejectedRow(number, "", f"expected a JSON object, got {type(data).__name__}")
    try:
        return parse_installment(data)
    except FieldError as exc:
        return RejectedRow(number, exc.field, exc.reason)


def _is_wanted(item: FeedItem, wanted: Wanted) -> bool:
    if isinstance(item, RejectedRow):
        return True
    return wanted(item.status, item.segment, item.due_date, item.borrower.timezone)


def _json_problem(exc: ValueError, text: str) -> str:
    if not isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON: {exc}"
    # Point inside the line, not past its newline (JSON errors at the end report that).
    column = min(exc.pos, len(text.rstrip())) + 1
    return f"invalid JSON: {exc.msg} (column {column})"
