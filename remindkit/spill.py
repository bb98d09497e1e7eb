"""Feed rows kept for planning, held on disk once there are too many (an external merge sort).

Planning needs all of one borrower's rows together (consolidation and caps, SPEC §5.3,
§5.5), and a feed's rows may come in any order. :class:`RowSpill` takes batches of rows
already sorted by (borrower id, feed position) and writes each as a *run* to a private
temporary directory; :meth:`RowSpill.merged` reads the runs back merged in that order,
holding one chunk per run in memory. A feed grouped and sorted by borrower (a SQL source
with ``ORDER BY borrower_id``) extends one run instead of starting new ones, so its rows
come back by one sequential read.

Rows are written with :mod:`marshal` as tuples of plain values (no code runs on reading),
only by and for this process; the directory is removed by :meth:`RowSpill.close`.
"""

from __future__ import annotations

import heapq
import marshal
import shutil
import struct
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any, Generic, TypeVar

from remindkit.models import Borrower, Channel, Gender, Installment, Status

# Rows per marshal record: few calls, and merging holds one chunk per run in memory.
CHUNK_ROWS = 256
_LENGTH = struct.Struct("<Q")
# Past this many runs they are merged into one, so open files stay few whatever the feed size.
MAX_RUNS = 64

_LoanPayload = tuple[
    str, int, int | None, str, int, str, str | None, str | None, bool, tuple[tuple[str, str], ...]
]
_BorrowerPayload = tuple[str, str, str, str | None, str | None, str, tuple[str, ...]]
Payload = tuple[_LoanPayload, _BorrowerPayload]
# (borrower id, position in the feed, the encoded installment): tuples order by the first
# two, which are unique, so the payload itself is never compared.
Record = tuple[str, int, Payload]
_NO_EXTRA = MappingProxyType[str, str]({})
R = TypeVar("R", bound=tuple[Any, ...])
# Decoding looks small domains up instead of calling an Enum per row (a few hundred due
# dates, a handful of opt-out sets: these stay small).
_GENDERS = {gender.value: gender for gender in Gender}
_STATUSES = {status.value: status for status in Status}
_OPT_OUTS: dict[tuple[str, ...], frozenset[Channel]] = {}
_DAYS: dict[int, date] = {}


class BorrowerRows:
    """Installments grouped by borrower: in memory up to ``limit`` rows, then on disk.

    :meth:`borrowers` hands out each borrower's rows, in feed order, borrower by borrower
    in borrower-id order: the same lists whatever the limit and whatever the feed order.
    """

    def __init__(self, limit: int, directory: Path | None = None) -> None:
        self.limit = limit
        self._groups: dict[str, list[Installment]] = {}
        self._held = 0
        self._spill = RowSpill[Record](directory)

    @property
    def spilled_rows(self) -> int:
        return self._spill.rows

    def add(self, item: Installment) -> None:
        group = self._groups.get(item.borrower.id)
        if group is None:
            self._groups[item.borrower.id] = [item]
        else:
            group.append(item)
        self._held += 1
        if self._held >= self.limit:
            self._spill_held()

    def borrowers(self) -> Iterator[list[Installment]]:
        if not self._spill.rows:
            groups = self._groups
            for borrower_id in sorted(groups):
                yield groups.pop(borrower_id)
            return
        self._spill_held()
        for _, records in groupby(self._spill.merged(), key=itemgetter(0)):
            yield decode_group(payload for _, _, payload in records)

    def close(self) -> None:
        self._groups = {}
        self._spill.close()

    def _spill_held(self) -> None:
        position = self._spill.rows
        records: list[Record] = []
        for borrower_id in sorted(self._groups):
            for item in self._groups[borrower_id]:
                records.append((borrower_id, position, encode(item)))
                position += 1
        self._spill.write(records)
        self._groups = {}
        self._held = 0


class LoanOwners:
    """The borrowers each loan id appears under, bounded in memory like :class:`BorrowerRows`.

    In memory a loan keeps its first borrower, and only a loan met under another one keeps
    the others: nothing is sorted unless rows went to disk, where the (loan, borrower)
    pairs are written in sorted runs and merged.
    """

    def __init__(self, limit: int, directory: Path | None = None) -> None:
        self.limit = limit
        self._first: dict[str, str] = {}
        self._others: dict[str, set[str]] = {}
        self._extra = 0  # borrowers held in _others
        self._spill = RowSpill[tuple[str, str]](directory)

    def add(self, loan_id: str, borrower_id: str) -> None:
        first = self._first.setdefault(loan_id, borrower_id)
        if first != borrower_id:
            others = self._others.setdefault(loan_id, set())
            if borrower_id in others:
                return
            others.add(borrower_id)
            self._extra += 1
        if len(self._first) + self._extra >= self.limit:
            self._spill.write(sorted(self._pairs()))
            self._first, self._others, self._extra = {}, {}, 0

    def shared(self) -> Iterator[tuple[str, list[str]]]:
        """(loan id, its borrowers in id order) for every loan under several borrowers."""
        if not self._spill.rows:
            for loan_id in sorted(self._others):
                yield loan_id, sorted({self._first[loan_id], *self._others[loan_id]})
            return
        pairs = heapq.merge(sorted(self._pairs()), self._spill.merged())
        for loan_id, group in groupby(pairs, key=itemgetter(0)):
            borrowers = sorted({borrower for _, borrower in group})
            if len(borrowers) > 1:
                yield loan_id, borrowers

    def close(self) -> None:
        self._first, self._others, self._extra = {}, {}, 0
        self._spill.close()

    def _pairs(self) -> Iterator[tuple[str, str]]:
        yield from self._first.items()
        for loan_id, others in self._others.items():
            for borrower_id in others:
                yield loan_id, borrower_id


class RowSpill(Generic[R]):
    """Sorted runs of records (tuples of plain values, all distinct) in a temporary
    directory, created on first use."""

    def __init__(self, directory: Path | None = None) -> None:
        self._parent = directory
        self._directory: Path | None = None
        self._runs: list[Path] = []
        self._made = 0
        self._last: R | None = None  # the end of the last run
        self._greatest: R | None = None
        self.rows = 0

    def write(self, records: list[R]) -> None:
        """Add a batch of records in sorted order."""
        if not records:
            return
        if self._last is not None and records[0] > self._last:
            path = self._runs[-1]  # the feed is sorted so far: one run
        else:
            path = self._new_run()
        with path.open("ab") as handle:
            _dump(records, handle)
        self._last = records[-1]
        if self._greatest is None or self._last > self._greatest:
            self._greatest = self._last
        self.rows += len(records)
        if len(self._runs) > MAX_RUNS:
            self._compact()

    def merged(self) -> Iterator[R]:
        """Every record written, in order."""
        return heapq.merge(*(_load(path) for path in self._runs))

    def close(self) -> None:
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None
        self._runs = []

    def _new_run(self) -> Path:
        if self._directory is None:
            self._directory = Path(tempfile.mkdtemp(prefix="remindkit-plan-", dir=self._parent))
        path = self._directory / f"run-{self._made:05d}"
        self._made += 1
        self._runs.append(path)
        return path

    def _compact(self) -> None:
        old, self._runs = self._runs, []
        merged = heapq.merge(*(_load(path) for path in old))
        target = self._new_run()
        with target.open("wb") as handle:
            batch: list[R] = []
            for record in merged:
                batch.append(record)
                if len(batch) == CHUNK_ROWS:
                    _dump(batch, handle)
                    batch = []
            _dump(batch, handle)
        for path in old:
            path.unlink()
        # The one run left ends with the greatest borrower written so far.
        self._last = self._greatest


def _dump(records: list[Any], handle: IO[bytes]) -> None:
    # Each chunk is its length, then marshal.dumps' bytes: marshal.load() on a file reads
    # object by object (a read call each, ~20 µs a row); loads() of bytes read whole does not.
    for start in range(0, len(records), CHUNK_ROWS):
        data = marshal.dumps(records[start : start + CHUNK_ROWS])
        handle.write(_LENGTH.pack(len(data)))
        handle.write(data)


def _load(path: Path) -> Iterator[Any]:
    with path.open("rb") as handle:
        while True:  # ends at the end of the file
            prefix = handle.read(_LENGTH.size)
            if len(prefix) < _LENGTH.size:
                return
            chunk: list[Any] = marshal.loads(handle.read(_LENGTH.unpack(prefix)[0]))
            yield from chunk


def encode(item: Installment) -> Payload:
    """An installment as tuples of plain values that :mod:`marshal` writes."""
    borrower = item.borrower
    loan: _LoanPayload = (
        item.loan_id,
        item.installment_no,
        item.installments_total,
        str(item.amount_due),
        item.due_date.toordinal(),
        item.status.value,
        item.product,
        item.segment,
        item.hardship,
        tuple(item.extra.items()),
    )
    person: _BorrowerPayload = (
        borrower.id,
        borrower.name,
        borrower.gender.value,
        borrower.phone,
        borrower.push_token,
        borrower.timezone,
        tuple(sorted(channel.value for channel in borrower.opted_out)),
    )
    return loan, person


def decode_group(payloads: Iterable[Payload]) -> list[Installment]:
    """One borrower's installments; rows with the same borrower details share one Borrower."""
    borrowers: dict[_BorrowerPayload, Borrower] = {}
    items = []
    for loan, person in payloads:
        borrower = borrowers.get(person)
        if borrower is None:
            borrower = borrowers[person] = _borrower(person)
        items.append(_installment(loan, borrower))
    return items


def _borrower(person: _BorrowerPayload) -> Borrower:
    identifier, name, gender, phone, push_token, timezone, opted_out = person
    channels = _OPT_OUTS.get(opted_out)
    if channels is None:
        channels = _OPT_OUTS[opted_out] = frozenset(Channel(value) for value in opted_out)
    return Borrower(
        id=identifier,
        name=name,
        gender=_GENDERS[gender],
        phone=phone,
        push_token=push_token,
        timezone=timezone,
        opted_out=channels,
    )


def _installment(loan: _LoanPayload, borrower: Borrower) -> Installment:
    loan_id, number, total, amount, due, status, product, segment, hardship, extra = loan
    day = _DAYS.get(due)
    if day is None:
        day = _DAYS[due] = date.fromordinal(due)
    return Installment(
        loan_id=loan_id,
        installment_no=number,
        installments_total=total,
        borrower=borrower,
        amount_due=Decimal(amount),
        due_date=day,
        status=_STATUSES[status],
        product=product,
        segment=segment,
        hardship=hardship,
        extra=MappingProxyType(dict(extra)) if extra else _NO_EXTRA,
    )
