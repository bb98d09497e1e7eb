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
            push_token=_optional_text(get("push_token"), "push_token", limit=4096),
            timezone=_timezone(get("timezone")),
            opted_out=_channels(get("opted_out")),
        )
        return Installment(
            loan_id=_required_text(get("loan_id"), "loan_id"),
            installment_no=_positive_int(get("installment_no"), "installment_no") or 1,
            installments_total=_positive_int(get("installments_total"), "installments_total"),
            borrower=borrower,
            amount_due=parse_amount(get("amount_due")),
            due_date=parse_date(get("due_date")),
            status=_status(get("status")),
            product=_optional_text(get("product"), "product"),
            segment=_optional_text(get("segment"), "segment"),
            hardship=_bool(get("hardship"), "hardship"),
            extra=_extra(row),
        )
    except FieldError as exc:
        if label is plain_label:
            raise
        raise FieldError(label(exc.field), exc.reason) from None


def _extra(row: Mapping[str, object]) -> Mapping[str, str]:
    if row.keys() <= KNOWN_FIELDS:
        return _NO_EXTRA
    return MappingProxyType(
        {k: _text(v) for k, v in row.items() if k not in KNOWN_FIELDS and v is not None}
    )


def parse_amount(value: object, field: str = "amount_due") -> Decimal:
    """A CNY amount: > 0, at most 2 decimals, from text or int (floats are refused)."""
    if value is None or value == "":
        raise FieldError(field, "required")
    if isinstance(value, float | bool):
        raise FieldError(field, 'must be decimal text such as "1234.50", not a float')
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
        in_fen = amount.quantize(_FEN)
    except InvalidOperation:
        raise FieldError(field, f"not a decimal amount: {value!r}") from None
    if in_fen.is_nan():
        raise FieldError(field, f"not a decimal amount: {value!r}")
    if amount <= 0:
        raise FieldError(field, "must be greater than 0")
    if in_fen != amount:
        raise FieldError(field, "at most 2 decimal places (fen)")
    return in_fen


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
    if len(value) == 11 and value[0] == "1" and value.isdecimal():
        # The usual spelling, 13800138000: what the general path below concludes, sooner.
        return f"+86{value}" if _CN_MOBILE.fullmatch(value) else None
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


def _optional_text(value: object, name: str, limit: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    if value.__class__ is not str:
        raise FieldError(name, "must be text")
    text = value.strip()
    if len(text) > limit:
        raise FieldError(name, f"longer than {limit} characters")
    return text or None


def _required_text(value: object, name: str) -> str:
    if type(value) is str:
        stripped = value.strip()
        if stripped and len(stripped) <= MAX_TEXT:  # the usual case; else the checks below say why
            return stripped
    elif isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # ids from JSON numbers
    text = _optional_text(value, name)
    if text is None:
        raise FieldError(name, "required")
    return text


def _phone(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
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
        raise FieldError("gender", f"expected male, female or empty, got {value!r}") from None


def _timezone(value: object) -> str:
    if value is None or value == "":
        return DEFAULT_TIMEZONE
    known = _KNOWN_ZONES.get(value) if isinstance(value, str) else None
    if known is not None:
        return known
    name = str(value).strip()
    try:
        zone_for(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise FieldError("timezone", f"unknown IANA time zone {name!r}") from None
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
        name = str(part).strip().lower()
        if not name:
            continue
        try:
            channels.add(Channel(name))
        except ValueError:
            raise FieldError("opted_out", f"unknown channel {name!r} (sms, push)") from None
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
        raise FieldError("status", f"expected one of {allowed}, got {value!r}") from None


def _positive_int(value: object, name: str) -> int | None:
    if value is None or value == "":
        return None
    if value.__class__ is str and value.isdecimal() and value[0] != "0":
        return int(value)
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise FieldError(name, f"must be a whole number ≥ 1, got {value!r}")
    try:
        number = int(value) if isinstance(value, int | float) else int(str(value).strip())
    except ValueError:
        raise FieldError(name, f"must be a whole number ≥ 1, got {value!r}") from None
    if number < 1:
        raise FieldError(name, f"must be ≥ 1, got {number}")
    return number


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
    raise FieldError(name, f"expected true or false, got {value!r}")
