"""Turn feed rows and preview contexts (SPEC §3) into validated ``Installment`` values.

One function, :func:`parse_installment`, is shared by the CSV/JSONL/SQL feeds and by
``remindkit preview`` so a field means the same everywhere. It raises :class:`FieldError`
naming the field and the reason; callers add the row number or the context section.

Feeds come from other systems and are untrusted; what each field accepts (README, "The
loan feed"):

* ``amount_due``: ASCII digits, at most 10 before an optional ``.``, and a value of at
  most 2 decimal places (``1234.5``, ``1234.50``, ``1234.5000``); no sign, exponent,
  thousands separator, ``_`` or non-ASCII digits. From JSON a number or such text; from
  Python an ``int`` or a ``Decimal``.
* ``installment_no`` / ``installments_total``: a whole number from 1 to
  :data:`MAX_INSTALLMENTS` in ASCII digits; the number is at most the total.
* ``due_date``: ``YYYY-MM-DD`` in ASCII digits from :data:`EARLIEST_DATE` to
  :data:`LATEST_DATE` (``remindkit.models``).
* Text that can reach a message (``name``, ``product``, ``loan_id``, ``borrower_id``):
  no 【 or 】 (they mark the SMS signature) and no invisible characters — control
  characters, bidirectional controls such as U+202E, zero-width characters, line
  separators, private-use or unassigned code points. Such a row is rejected naming the
  character. Values of extra columns are cleaned instead (a column nobody uses must not
  lose a row): invisible characters are dropped, control whitespace becomes a space and
  【】 become []; non-text JSON values become their JSON text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from zoneinfo import ZoneInfoNotFoundError

from remindkit.errors import FieldError
from remindkit.feedtext import extra_text, refuse_unsafe, shown
from remindkit.models import (
    DEFAULT_TIMEZONE,
    EARLIEST_DATE,
    LATEST_DATE,
    Borrower,
    Channel,
    Gender,
    Installment,
    Status,
    zone_for,
)
from remindkit.phones import normalise_phone

BORROWER_FIELDS = frozenset(
    {"borrower_id", "name", "gender", "phone", "push_token", "timezone", "opted_out"}
)
LOAN_FIELDS = frozenset(
    {
        "loan_id",
        "installment_no",
        "installments_total",
        "amount_due",
        "due_date",
        "status",
        "product",
        "segment",
        "hardship",
    }
)
KNOWN_FIELDS = BORROWER_FIELDS | LOAN_FIELDS
MAX_TEXT = 200
MAX_TOKEN = 4096  # push tokens: FCM's are ~160 characters, APNs' 64 hex digits
MAX_INSTALLMENTS = 9999
MAX_AMOUNT_DIGITS = 10  # before the point: up to 9,999,999,999.99 yuan
MAX_ZONE_NAME = 64  # the longest IANA name has 32 characters


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_AMOUNT = re.compile(rf"[0-9]{{1,{MAX_AMOUNT_DIGITS}}}(?:\.[0-9]{{1,{MAX_AMOUNT_DIGITS}}})?")
_MAX_AMOUNT = Decimal(10) ** MAX_AMOUNT_DIGITS
_GENDERS = {
    "male": Gender.MALE,
    "m": Gender.MALE,
    "男": Gender.MALE,
    "female": Gender.FEMALE,
    "f": Gender.FEMALE,
    "女": Gender.FEMALE,
    "": Gender.UNKNOWN,
    "unknown": Gender.UNKNOWN,
}
_STATUSES = {status.value: status for status in Status}
_KNOWN_DATES: dict[str, date] = {}
_KNOWN_DATES_MAX = 100_000
_FEN = Decimal("0.01")
# Raw spellings of small-domain fields seen in this process, to skip re-validation.
_SMALL_CACHE_MAX = 1_000
_KNOWN_ZONES: dict[str, str] = {}
_KNOWN_OPT_OUTS: dict[str, frozenset[Channel]] = {}
_NO_CHANNELS: frozenset[Channel] = frozenset()
_NO_EXTRA: Mapping[str, str] = MappingProxyType({})
_TRUE = {"true", "1", "yes", "y", "是"}
_FALSE = {"false", "0", "no", "n", "否", ""}

Label = Callable[[str], str]


def plain_label(name: str) -> str:
    return name


def section_label(name: str) -> str:
    """``phone`` → ``borrower.phone``: how preview context files name their fields."""
    if name in BORROWER_FIELDS:
        return f"borrower.{name}"
    return f"loan.{name}"


def parse_installment(row: Mapping[str, object], label: Label = plain_label) -> Installment:
    """Validate one feed row (field names of SPEC §3) into an ``Installment``.

    This runs once per feed row (a million times for a large lender): fields are read
    once, small-domain fields (zone, status, gender, opt-outs) come from caches, and the
    field is labelled only when an error is raised.
    """
    get = row.get
    try:
        borrower = Borrower(
            id=_required_text(get("borrower_id"), "borrower_id"),
            name=_required_text(get("name"), "name"),
            gender=_gender(get("gender")),
            phone=_phone(get("phone")),
            push_token=_optional_text(get("push_token"), "push_token", limit=MAX_TOKEN),
            timezone=_timezone(get("timezone")),
            opted_out=_channels(get("opted_out")),
        )
        number = _positive_int(get("installment_no"), "installment_no") or 1
        total = _positive_int(get("installments_total"), "installments_total")
        if total is not None and number > total:
            raise FieldError("installment_no", f"{number} is above installments_total ({total})")
        return Installment(
            loan_id=_required_text(get("loan_id"), "loan_id"),
            installment_no=number,
            installments_total=total,
            borrower=borrower,
            amount_due=parse_amount(get("amount_due")),
            due_date=parse_date(get("due_date")),
            status=_status(get("status")),
            product=_message_text(get("product"), "product"),
            segment=_optional_text(get("segment"), "segment"),
            hardship=_bool(get("hardship"), "hardship"),
            extra=extra_fields(row),
        )
    except FieldError as exc:
        if label is plain_label:
            raise
        raise FieldError(label(exc.field), exc.reason) from None


def parse_field(name: str, value: object) -> object:
    """One known field (SPEC §3) validated alone, as :func:`parse_installment` does it.

    Fast readers cache what each spelling of a field gives; the checks between fields
    (``installment_no`` ≤ ``installments_total``) and the order errors are reported in
    stay :func:`parse_installment`'s.
    """
    return _FIELD_PARSERS[name](value)


def extra_fields(row: Mapping[str, object]) -> Mapping[str, str]:
    """The row's columns outside SPEC §3, cleaned for templates (``loan.extra``)."""
    if row.keys() <= KNOWN_FIELDS:
        return _NO_EXTRA
    return MappingProxyType(
        {k: extra_text(v) for k, v in row.items() if k not in KNOWN_FIELDS and v is not None}
    )


def parse_amount(value: object, field: str = "amount_due") -> Decimal:
    """A CNY amount in the grammar of the module docstring: > 0, at most 2 decimal places."""
    if isinstance(value, str):
        text = value.strip()
        if not _AMOUNT.fullmatch(text):
            raise FieldError(field, _amount_problem(text))
        amount = Decimal(text)
        if text[-3:-2] == "." and amount:
            return amount  # the usual "1234.50": two places already, and under the maximum
    elif isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise FieldError(field, f"not a decimal amount: {shown(value)}")
        amount = value
    elif value is None:
        raise FieldError(field, "required")
    elif isinstance(value, float | bool):
        raise FieldError(field, 'must be decimal text such as "1234.50", not a float')
    else:
        raise FieldError(field, f'must be decimal text such as "1234.50", got {shown(value)}')
    return _in_fen(amount, field)


def _in_fen(amount: Decimal, field: str) -> Decimal:
    if amount <= 0:
        raise FieldError(field, "must be greater than 0")
    if amount >= _MAX_AMOUNT:
        raise FieldError(field, f"at most {MAX_AMOUNT_DIGITS} digits before the decimal point")
    in_fen = amount.quantize(_FEN)
    if in_fen != amount:
        raise FieldError(field, "at most 2 decimal places (fen)")
    return in_fen


def _amount_problem(text: str) -> str:
    """Why ``text`` is not an amount, in the words a data team acts on."""
    if not text:
        return "required"
    if text[0] == "-" and _AMOUNT.fullmatch(text[1:]):
        return "must be greater than 0"
    whole = text.partition(".")[0]
    if whole.isascii() and whole.isdigit() and len(whole) > MAX_AMOUNT_DIGITS:
        return f"at most {MAX_AMOUNT_DIGITS} digits before the decimal point"
    if "," in text and _AMOUNT.fullmatch(text.replace(",", "")):
        return f"write it without thousands separators, got {shown(text)}"
    # The grammar is in the module docstring and the README; the reason stays one line.
    return f"not a decimal amount: {shown(text)} (digits and a point, e.g. 1234.50)"


def parse_date(value: object, field: str = "due_date") -> date:
    if isinstance(value, str):
        # A feed repeats a few hundred due dates over a million rows.
        known = _KNOWN_DATES.get(value)
        if known is not None:
            return known
    elif isinstance(value, datetime):
        raise FieldError(field, f"expected a date, got a date and time {shown(value.isoformat())}")
    elif isinstance(value, date):
        return _date_in_range(value, field)
    if value is None or value == "":
        raise FieldError(field, "required")
    text = str(value).strip()
    if not _ISO_DATE.fullmatch(text):
        raise FieldError(field, f"expected YYYY-MM-DD, got {shown(text)}")
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        raise FieldError(field, f"not a calendar date: {shown(text)}") from None
    _date_in_range(parsed, field)
    if isinstance(value, str) and len(_KNOWN_DATES) < _KNOWN_DATES_MAX:
        _KNOWN_DATES[value] = parsed
    return parsed


def _date_in_range(day: date, field: str) -> date:
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise FieldError(
            field, f"must be from {EARLIEST_DATE} to {LATEST_DATE}, got {day.isoformat()}"
        )
    return day


def _optional_text(value: object, name: str, limit: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    if value.__class__ is not str:
        raise FieldError(name, "must be text")
    text = value.strip()
    if len(text) > limit:
        raise FieldError(name, f"longer than {limit} characters")
    return text or None


def _message_text(value: object, name: str) -> str | None:
    """Optional text a template can show: checked like :func:`_required_text`'s."""
    text = _optional_text(value, name)
    if text is not None and (not text.isprintable() or "【" in text or "】" in text):
        refuse_unsafe(text, name)
    return text


def _required_text(value: object, name: str) -> str:
    """Text a template can show (ids, the name): no 【】, nothing invisible."""
    if type(value) is str:
        text = value.strip()
        # The usual case, in a few C calls (`in` returns at once on text without CJK);
        # else the checks below say why.
        if (
            text
            and len(text) <= MAX_TEXT
            and text.isprintable()
            and "【" not in text
            and "】" not in text
        ):
            return text
    elif isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # ids from JSON numbers
    checked = _message_text(value, name)
    if checked is None:
        raise FieldError(name, "required")
    return checked


def _phone(value: object) -> str | None:
    if value is None or value == "":
        return None
    if value.__class__ is not str:
        raise FieldError("phone", "must be text (E.164 or an 11-digit mainland mobile)")
    phone = normalise_phone(value.strip())
    if phone is None:
        raise FieldError("phone", "not a valid mobile number")
    return phone


def _gender(value: object) -> Gender:
    known = _GENDERS.get(value) if isinstance(value, str) else None
    if known is not None:
        return known
    key = "" if value is None else str(value).strip().lower()
    try:
        return _GENDERS[key]
    except KeyError:
        raise FieldError("gender", f"expected male, female or empty, got {shown(value)}") from None


def _timezone(value: object) -> str:
    if value is None or value == "":
        return DEFAULT_TIMEZONE
    known = _KNOWN_ZONES.get(value) if isinstance(value, str) else None
    if known is not None:
        return known
    name = str(value).strip()
    try:
        if len(name) > MAX_ZONE_NAME or not name.isprintable():
            raise ValueError(name)
        zone_for(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise FieldError("timezone", f"unknown IANA time zone {shown(name)}") from None
    if isinstance(value, str) and len(_KNOWN_ZONES) < _SMALL_CACHE_MAX:
        _KNOWN_ZONES[value] = name
    return name


def _channels(value: object) -> frozenset[Channel]:
    if value is None or value == "":
        return _NO_CHANNELS
    known = _KNOWN_OPT_OUTS.get(value) if isinstance(value, str) else None
    if known is not None:
        return known
    channels = _parse_channels(value)
    if isinstance(value, str) and len(_KNOWN_OPT_OUTS) < _SMALL_CACHE_MAX:
        _KNOWN_OPT_OUTS[value] = channels
    return channels


def _parse_channels(value: object) -> frozenset[Channel]:
    parts = value if isinstance(value, list) else str(value).split(";")
    channels = set()
    for part in parts:
        name = part.strip().lower() if isinstance(part, str) else shown(part)
        if not name:
            continue
        try:
            channels.add(Channel(name))
        except ValueError:
            raise FieldError("opted_out", f"unknown channel {shown(name)} (sms, push)") from None
    return frozenset(channels)


def _status(value: object) -> Status:
    if value is None or value == "":
        return Status.DUE
    if isinstance(value, str) and value in _STATUSES:  # the common exact spelling, no Enum call
        return _STATUSES[value]
    try:
        return Status(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise FieldError("status", f"expected one of {allowed}, got {shown(value)}") from None


def _positive_int(value: object, name: str) -> int | None:
    if value is None or value == "":
        return None
    if (
        value.__class__ is str
        and len(value) <= 4
        and value.isascii()
        and value.isdecimal()
        and value[0] != "0"
    ):
        return int(value)
    return _whole_number(value, name)


def _whole_number(value: object, name: str) -> int:
    """The slow path of :func:`_positive_int`: JSON and Python numbers, padded text, errors."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = value.strip() if isinstance(value, str) else ""
        if not (
            text.isascii() and text.isdecimal() and len(text) <= 2 * len(str(MAX_INSTALLMENTS))
        ):
            raise FieldError(
                name, f"must be a whole number from 1 to {MAX_INSTALLMENTS}, got {shown(value)}"
            )
        number = int(text)
    if not 1 <= number <= MAX_INSTALLMENTS:
        raise FieldError(name, f"must be from 1 to {MAX_INSTALLMENTS}, got {shown(number)}")
    return number


def _field_parsers() -> dict[str, Callable[[object], object]]:
    return {
        "borrower_id": lambda value: _required_text(value, "borrower_id"),
        "name": lambda value: _required_text(value, "name"),
        "gender": _gender,
        "phone": _phone,
        "push_token": lambda value: _optional_text(value, "push_token", limit=MAX_TOKEN),
        "timezone": _timezone,
        "opted_out": _channels,
        "installment_no": lambda value: _positive_int(value, "installment_no"),
        "installments_total": lambda value: _positive_int(value, "installments_total"),
        "loan_id": lambda value: _required_text(value, "loan_id"),
        "amount_due": parse_amount,
        "due_date": parse_date,
        "status": _status,
        "product": lambda value: _message_text(value, "product"),
        "segment": lambda value: _optional_text(value, "segment"),
        "hardship": lambda value: _bool(value, "hardship"),
    }


def _bool(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if value is None or value == "":
        return False
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise FieldError(name, f"expected true or false, got {shown(value)}")


_FIELD_PARSERS = _field_parsers()
