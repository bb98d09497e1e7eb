"""Mobile numbers as feeds spell them, to E.164 (``+8613800138000``), with phonenumbers."""

from __future__ import annotations

import re
from functools import cache, lru_cache

import phonenumbers

MAX_PHONE = 32  # characters of a phone field: E.164 has at most 16 with its "+"


def _cn_mobile_pattern() -> str:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    pattern = metadata.mobile.national_number_pattern if metadata and metadata.mobile else None
    if not pattern:
        raise RuntimeError("phonenumbers ships no CN mobile pattern")
    return str(pattern)


# Mainland mobiles are most of every feed: match them with the national-number pattern from
# phonenumbers' own CN metadata instead of a full parse per row (a full parse costs ~30 µs).
# ASCII: \d would accept full-width and Arabic-Indic digits into an E.164 number.
CN_MOBILE = re.compile(_cn_mobile_pattern(), re.ASCII)
# CN_MOBILE's alternatives each constrain at most the first five digits, then take any
# digits to eleven (a test holds this for the metadata installed).
_HEAD = 5


@cache
def mobile_heads() -> frozenset[str]:
    """The first five digits of every valid mainland mobile number: an 11-digit ASCII number
    is one (CN_MOBILE matches it) exactly when its first five digits are here. Cheaper than
    the pattern for the millions of numbers a feed holds."""
    tail = "0" * (11 - _HEAD)
    return frozenset(
        head
        for head in (f"1{n:0{_HEAD - 1}d}" for n in range(10 ** (_HEAD - 1)))
        if CN_MOBILE.fullmatch(head + tail)
    )


_CN_DIGITS = re.compile(r"(?:\+?86)?(1\d{9,10})", re.ASCII)


def normalise_phone(value: str) -> str | None:
    """E.164 for a valid mobile number, else ``None``."""
    if len(value) == 11 and value[0] == "1" and value.isdecimal():
        # The usual spelling, 13800138000: what the general path below concludes, sooner.
        return f"+86{value}" if CN_MOBILE.fullmatch(value) else None
    if len(value) > MAX_PHONE:
        return None
    compact = value.replace(" ", "").replace("-", "")
    match = _CN_DIGITS.fullmatch(compact)
    if match and (compact.startswith("+86") or compact.startswith("86") or len(compact) == 11):
        national = match.group(1)
        return f"+86{national}" if CN_MOBILE.fullmatch(national) else None
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
