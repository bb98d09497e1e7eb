"""Turn feed rows and preview contexts (SPEC §3) into validated ``Installment`` values.

One function, :func:`parse_installment`, is shared by the CSV/JSONL/SQL feeds and by
``remindkit preview`` so a field means the same everywhere. It raises :class:`FieldError`
naming the field and the reason; callers add the row number or the context section.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfoNotFoundError

import phonenumbers

from remindkit.errors import FieldError
from remindkit.models import (
    DEFAULT_TIMEZONE,
    Borrower,
    Channel,
    Gender,
    Installment,
    Status,
    zone_for,
)

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


def _cn_mobile_pattern() -> str:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    pattern = metadata.mobile.national_number_pattern if metadata and metadata.mobile else None
    if not pattern:
        raise RuntimeError("phonenumbers ships no CN mobile pattern")
    return str(pattern)


# Mainland mobiles are most of every feed: match them with the national-number pattern from
# phonenumbers' own CN metadata instead of a full parse per row (a full parse costs ~30 µs).
_CN_MOBILE = re.compile(_cn_mobile_pattern())
_CN_DIGITS = re.compile(r"(?:\+?86)?(1\d{9,10})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
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
    """Validate one feed row (field names of SPEC §3) into an ``Installment``."""
    extra = {k: _text(v) for k, v in row.items() if k not in KNOWN_FIELDS and v is not None}
    borrower = Borrower(
        id=_required_text(row, "borrower_id", label),
        name=_required_text(row, "name", label),
        gender=_gender(row.get("gender"), label),
        phone=_phone(row.get("phone"), label),
        push_token=_optional_text(row, "push_token", label, limit=4096),
        timezone=_timezone(row.get("timezone"), label),
        opted_out=_channels(row.get("opted_out"), label),
    )
    return Installment(
        loan_id=_required_text(row, "loan_id", label),
        installment_no=_positive_int(row.get("installment_no"), "installment_no", label) or 1,
        installments_total=_positive_int(
            row.get("installments_total"), "installments_total", label
        ),
        borrower=borrower,
        amount_due=parse_amount(row.get("amount_due"), label("amount_due")),
        due_date=parse_date(row.get("due_date"), label("due_date")),
        status=_status(row.get("status"), label),
        product=_optional_text(row, "product", label),
        segment=_optional_text(row, "segment", label),
        hardship=_bool(row.get("hardship"), "hardship", label),
        extra=MappingProxyType(extra),
    )


def parse_amount(value: object, field: str = "amount_due") -> Decimal:
    """A CNY amount: > 0, at most 2 decimals, from text or int (floats are refused)."""
    if value is None or value == "":
        raise FieldError(field, "required")
    if isinstance(value, float | bool):
        raise FieldError(field, 'must be decimal text such as "1234.50", not a float')
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise FieldError(field, f"not a decimal amount: {value!r}") from None
    if not amount.is_finite():
        raise FieldError(field, f"not a decimal amount: {value!r}")
    if amount <= 0:
        raise FieldError(field, "must be greater than 0")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        raise FieldError(field, "at most 2 decimal places (fen)")
    return amount.quantize(Decimal("0.01"))


def parse_date(value: object, field: str = "due_date") -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        # A feed repeats a few hundred due dates over a million rows.
        known = _KNOWN_DATES.get(value)
        if known is not None:
            return known
    if value is None or value == "":
        raise FieldError(field, "required")
    text = str(value).strip()
    if not _ISO_DATE.fullmatch(text):
        raise FieldError(field, f"expected YYYY-MM-DD, got {text!r}")
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        raise FieldError(field, f"not a calendar date: {text!r}") from None
    if isinstance(value, str) and len(_KNOWN_DATES) < _KNOWN_DATES_MAX:
        _KNOWN_DATES[value] = parsed
    return parsed


def normalise_phone(value: str) -> str | None:
    """E.164 for a valid mobile number, else ``None``."""
    compact = value.replace(" ", "").replace("-", "")
    match = _CN_DIGITS.fullmatch(compact)
    if match and (compact.startswith("+86") or compact.startswith("86") or len(compact) == 11):
        national = match.group(1)
        return f"+86{national}" if _CN_MOBILE.fullmatch(national) else None
    return _parse_international(compact)


@lru_cache(maxsize=4096)
def _parse_international(compact: str) -> str | None:
    try:
        number = phonenumbers.parse(compact, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    kind = phonenumbers.number_type(number)
    if kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def _optional_text(
    row: Mapping[str, object], name: str, label: Label, limit: int = MAX_TEXT
) -> str | None:
    value = row.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(label(name), "must be text")
    text = value.strip()
    if len(text) > limit:
        raise FieldError(label(name), f"longer than {limit} characters")
    return text or None


def _required_text(row: Mapping[str, object], name: str, label: Label) -> str:
    value = row.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and name.endswith("_id"):
        return str(value)
    text = _optional_text(row, name, label)
    if text is None:
        raise FieldError(label(name), "required")
    return text


def _phone(value: object, label: Label) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FieldError(label("phone"), "must be text (E.164 or an 11-digit mainland mobile)")
    phone = normalise_phone(value.strip())
    if phone is None:
        raise FieldError(label("phone"), "not a valid mobile number")
    return phone


def _gender(value: object, label: Label) -> Gender:
    key = "" if value is None else str(value).strip().lower()
    try:
        return _GENDERS[key]
    except KeyError:
        raise FieldError(
            label("gender"), f"expected male, female or empty, got {value!r}"
        ) from None


def _timezone(value: object, label: Label) -> str:
    if value is None or value == "":
        return DEFAULT_TIMEZONE
    name = str(value).strip()
    try:
        zone_for(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise FieldError(label("timezone"), f"unknown IANA time zone {name!r}") from None
    return name


def _channels(value: object, label: Label) -> frozenset[Channel]:
    if value is None or value == "":
        return frozenset()
    parts = value if isinstance(value, list) else str(value).split(";")
    channels = set()
    for part in parts:
        name = str(part).strip().lower()
        if not name:
            continue
        try:
            channels.add(Channel(name))
        except ValueError:
            raise FieldError(label("opted_out"), f"unknown channel {name!r} (sms, push)") from None
    return frozenset(channels)


def _status(value: object, label: Label) -> Status:
    if value is None or value == "":
        return Status.DUE
    if isinstance(value, str) and value in _STATUSES:  # the common exact spelling, no Enum call
        return _STATUSES[value]
    try:
        return Status(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise FieldError(label("status"), f"expected one of {allowed}, got {value!r}") from None


def _positive_int(value: object, name: str, label: Label) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise FieldError(label(name), f"must be a whole number ≥ 1, got {value!r}")
    try:
        number = int(value) if isinstance(value, int | float) else int(str(value).strip())
    except ValueError:
        raise FieldError(label(name), f"must be a whole number ≥ 1, got {value!r}") from None
    if number < 1:
        raise FieldError(label(name), f"must be ≥ 1, got {number}")
    return number


def _bool(value: object, name: str, label: Label) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise FieldError(label(name), f"expected true or false, got {value!r}")
