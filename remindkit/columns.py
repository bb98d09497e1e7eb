"""CSV rows by column position: every row validated, values built only for rows wanted.

A large feed's rows are mostly rows nothing is sent for today (paid, or no step in the
horizon), and building the frozen ``Borrower`` and ``Installment`` values costs more than
checking the fields. :class:`ColumnParser` checks each field of a row where its column
is, with the usual spellings answered from per-feed caches (a feed repeats a few hundred
due dates, zones, statuses, products), asks ``wanted`` whether the row matters, and
builds the values only then.

The result is :func:`remindkit.parse.parse_installment`'s, by construction: each field is
checked by :func:`~remindkit.parse.parse_field` (or a shortcut accepting a subset of what
it accepts, to the same value), and any row with a problem — or anything unusual — goes
through ``parse_installment`` whole, which names the field it reports first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any

from remindkit.errors import FieldError
from remindkit.models import Borrower, Installment, Status
from remindkit.parse import (
    KNOWN_FIELDS,
    MAX_TEXT,
    MAX_TOKEN,
    extra_fields,
    parse_amount,
    parse_field,
    parse_installment,
)
from remindkit.phones import mobile_heads, normalise_phone

# status, segment, due date, time zone → does the caller want this row's values? (Asked
# once per distinct answer: it must depend on its arguments alone.)
Wanted = Callable[[Status, str | None, date, str], bool]

# The usual amount, "1234.50": the grammar of parse_amount, two places, no padding.
_PLAIN_AMOUNT = re.compile(r"[0-9]{1,10}\.[0-9]{2}")
_ZERO_AMOUNTS = frozenset({"", ".00"})  # an amount of only zeros, once its leading 0s go
# Distinct spellings cached per small-domain column; past this each is checked alone.
CACHE_LIMIT = 4096
_CACHED = (
    "gender",
    "timezone",
    "opted_out",
    "installment_no",
    "installments_total",
    "due_date",
    "status",
    "product",
    "segment",
    "hardship",
)


_MISS = object()
_NO_EXTRA = extra_fields({})  # a feed of only SPEC §3 columns: every row's (empty) extra


_POSITIONS = (
    "status",
    "segment",
    "due_date",
    "timezone",
    "gender",
    "opted_out",
    "installment_no",
    "installments_total",
    "product",
    "hardship",
    "borrower_id",
    "name",
    "loan_id",
    "phone",
    "push_token",
    "amount_due",
)
# The columns of a few spellings each (a feed has a handful of statuses, zones, products):
# looked up together, one cache entry per combination of their spellings.
_SMALL = ("status", "segment", "timezone", "gender", "opted_out", "product", "hardship")
# Past this many combinations, a row's small columns are looked up one by one.
JOINT_LIMIT = 4096


class _UnusualSpellingError(Exception):
    """A field a shortcut does not answer: the row goes through parse_installment whole."""


class ColumnParser:
    """Parses the rows of one CSV feed whose header is ``header`` (names stripped)."""

    def __init__(self, header: Sequence[str], wanted: Wanted | None = None) -> None:
        self.header = list(header)
        self._wanted = wanted
        # wanted's answers: a feed has a few thousand (status, segment, due, zone) at most.
        self._answers: dict[tuple[Status, str | None, date, str], bool] = {}
        width = len(self.header)
        where = {name: index for index, name in enumerate(self.header)}
        absent = sorted(KNOWN_FIELDS - set(where))
        # A column the header lacks reads as "", which every optional field takes as it
        # takes an absent one (tests pin this): the row is padded with "" for it.
        self._padding = [""] * len(absent)
        where.update({name: width + offset for offset, name in enumerate(absent)})
        self._positions = tuple(where[name] for name in _POSITIONS)
        self._has_extra = not set(self.header) <= KNOWN_FIELDS
        self._caches: dict[str, dict[str, Any]] = {name: {} for name in _CACHED}
        # installment_no and installments_total parse alike: one cache.
        self._caches["installments_total"] = self._caches["installment_no"]
        self._small_of = itemgetter(*(where[name] for name in _SMALL))
        self._small: dict[tuple[str, ...], tuple[Any, ...]] = {}
        self._dates, self._numbers = self._caches["due_date"], self._caches["installment_no"]
        self._mobile_heads = mobile_heads()

    def parse(self, values: list[str]) -> Installment | None:
        """The row's installment; ``None`` when it is valid but not wanted.

        Raises :class:`~remindkit.errors.FieldError` as ``parse_installment`` does.
        """
        if self._padding:
            values = values + self._padding
        try:
            return self._parse(values)
        except (_UnusualSpellingError, FieldError):
            # Widths were compared already; the padding (past the header) is left out.
            item = parse_installment(dict(zip(self.header, values)))  # noqa: B905
            key = (item.status, item.segment, item.due_date, item.borrower.timezone)
            return item if self._is_wanted(key) else None

    def _is_wanted(self, key: tuple[Status, str | None, date, str]) -> bool:
        if self._wanted is None:
            return True
        answer = self._answers.get(key)
        if answer is None:
            answer = self._answers[key] = self._wanted(*key)
        return answer

    def _parse(self, values: list[str]) -> Installment | None:  # noqa: PLR0912
        # One function, fields inline, caches as locals (hence its length): it runs for every
        # row of a feed of millions, and a call per field cost more than the field's check.
        miss, seen = _MISS, self._first_seen
        (_, _, at_due, _, _, _, at_number, at_total, _, _, at_borrower, at_name, at_loan,
         at_phone, at_token, at_amount) = self._positions  # fmt: skip
        small = self._small.get(raws := self._small_of(values))
        if small is None:
            small = self._small_fields(raws)
        status, segment, timezone, gender, opted_out, product, hardship, dues = small
        # The due date and wanted's answer, per spelling of the date under these columns.
        known = dues.get(raw := values[at_due])
        if known is None:
            known = self._due_and_answer(dues, raw, (status, segment, timezone))
        due, wanted = known
        numbers = self._numbers
        number = numbers.get(raw := values[at_number], miss)
        if number is miss:
            number = seen("installment_no", raw)
        total = numbers.get(raw := values[at_total], miss)
        if total is miss:
            total = seen("installments_total", raw)
        if number is not None and total is not None and number > total:
            raise _UnusualSpellingError
        borrower_id, loan_id = values[at_borrower], values[at_loan]
        ids = borrower_id + loan_id
        # Ids such as B0001 and HM2026072284, both at once: nothing to strip or refuse.
        if not (
            ids.isascii()
            and ids.isalnum()
            and borrower_id
            and loan_id
            and len(borrower_id) <= MAX_TEXT
            and len(loan_id) <= MAX_TEXT
        ):
            borrower_id, loan_id = _text(borrower_id), _text(loan_id)
        name = _text(values[at_name])
        raw = values[at_phone]
        if len(raw) == 11 and raw[:5] in self._mobile_heads and raw.isdecimal() and raw.isascii():
            phone: str | None = "+86" + raw  # normalise_phone's answer for 13812345678
        else:
            phone = normalise_phone(raw.strip()) if raw else None
            if raw and phone is None:
                raise _UnusualSpellingError
        token = values[at_token].strip()
        if len(token) > MAX_TOKEN:
            raise _UnusualSpellingError
        amount = values[at_amount]
        if _PLAIN_AMOUNT.fullmatch(amount) and amount.lstrip("0") not in _ZERO_AMOUNTS:
            amount_due = None  # the usual "1234.50": made a Decimal only if wanted
        else:
            amount_due = parse_amount(amount)
        if not wanted:
            return None
        borrower = Borrower(
            id=borrower_id,
            name=name,
            gender=gender,
            phone=phone,
            push_token=token or None,
            timezone=timezone,
            opted_out=opted_out,
        )
        return Installment(
            loan_id=loan_id,
            installment_no=number or 1,
            installments_total=total,
            borrower=borrower,
            amount_due=Decimal(amount) if amount_due is None else amount_due,
            due_date=due,
            status=status,
            product=product,
            segment=segment,
            hardship=hardship,
            extra=self._extra(values),
        )

    def _small_fields(self, raws: tuple[str, ...]) -> tuple[Any, ...]:
        """The small columns of a row whose combination of spellings is new."""
        parsed = []
        for name, raw in zip(_SMALL, raws, strict=True):
            value = self._caches[name].get(raw, _MISS)
            parsed.append(self._first_seen(name, raw) if value is _MISS else value)
        small = (*parsed, {})  # + the due dates seen under this combination (_parse)
        if len(self._small) < JOINT_LIMIT:
            self._small[raws] = small
        return small

    def _due_and_answer(
        self, dues: dict[str, tuple[date, bool]], raw: str, small: tuple[Status, str | None, str]
    ) -> tuple[date, bool]:
        """A due date spelled ``raw`` (raises FieldError if it is not one) and whether a row
        with it and these small columns is wanted, remembered in ``dues``."""
        due = self._dates.get(raw, _MISS)
        if due is _MISS:
            due = self._first_seen("due_date", raw)
        status, segment, timezone = small
        known = (due, self._is_wanted((status, segment, due, timezone)))
        if len(dues) < CACHE_LIMIT:
            dues[raw] = known
        return known

    def _first_seen(self, name: str, raw: str) -> Any:
        parsed = parse_field(name, raw)  # a FieldError sends the row the slow way
        cache = self._caches[name]
        if len(cache) < CACHE_LIMIT:
            cache[raw] = parsed
        return parsed

    def _extra(self, values: list[str]) -> Mapping[str, str]:
        if not self._has_extra:
            return _NO_EXTRA
        return extra_fields(dict(zip(self.header, values)))  # noqa: B905 - see parse()


def _text(raw: str) -> str:
    """Text a message can show (ids, the name): the shortcut of parse's required text."""
    if raw.isascii() and raw.isalnum() and len(raw) <= MAX_TEXT:
        return raw  # an id such as HM2026072284: nothing to strip, nothing invisible
    text = raw.strip()
    if (
        text
        and len(text) <= MAX_TEXT
        and text.isprintable()
        and "【" not in text
        and "】" not in text
    ):
        return text
    raise _UnusualSpellingError
