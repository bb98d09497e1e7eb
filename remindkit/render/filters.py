"""The content team's filters (SPEC §4.2): money, dates and masking in Chinese.

Costly parts (Babel's CLDR patterns, cn2an) are cached: a reminder run formats the
same few dates many thousands of times. Amounts repeat far less across a large feed, so
``yuan`` formats with CLDR's zh_CN symbols read once rather than through Babel per amount.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from babel.dates import format_date, format_skeleton
from babel.numbers import get_decimal_symbol, get_group_symbol
from jinja2 import pass_context
from jinja2.runtime import Context
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from remindkit.render.budget import MAX_DIGITS

LOCALE = "zh_CN"
MAX_AMOUNT_DIGITS = MAX_DIGITS  # the render's number budget
MAX_AMOUNT_TEXT = 64
CENT = Decimal("0.01")
_RELATIVE_NAMES = {-2: "前天", -1: "昨天", 0: "今天", 1: "明天", 2: "后天"}
# CLDR's pattern for zh_CN amounts is #,##0.00 with these symbols; Python's own grouping
# gives the same text in ~1 µs where Babel's format_decimal takes ~40 µs.
_CLDR_SYMBOLS = {",": get_group_symbol(LOCALE), ".": get_decimal_symbol(LOCALE)}
_TO_CLDR = None if _CLDR_SYMBOLS == {",": ",", ".": "."} else str.maketrans(_CLDR_SYMBOLS)


def _as_decimal(value: object, filter_name: str) -> Decimal:
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    elif isinstance(value, str):  # e.g. an extra feed column
        try:
            amount = Decimal(value.strip()[:MAX_AMOUNT_TEXT])
        except InvalidOperation:
            raise ValueError(f"{filter_name} needs a decimal amount, got {value[:40]!r}") from None
    else:
        raise TypeError(f"{filter_name} needs a Decimal amount, got {type(value).__name__}")
    if not amount.is_finite():  # "NaN" would print as NaN.00元
        raise ValueError(f"{filter_name} needs a finite amount, got {amount}")
    if amount.adjusted() >= MAX_AMOUNT_DIGITS:  # "1e999999" would print a million digits
        raise ValueError(f"{filter_name}: an amount of at most {MAX_AMOUNT_DIGITS} digits")
    return amount


def _to_fen(amount: Decimal) -> Decimal:
    # 四舍五入 as on statements, not Decimal's default banker's rounding (0.125 → 0.13).
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@lru_cache(maxsize=16384)
def _yuan(amount: Decimal) -> str:
    text = f"{_to_fen(amount):,.2f}"
    return (text if _TO_CLDR is None else text.translate(_TO_CLDR)) + "元"


def yuan(value: object) -> str:
    """``Decimal('1234.5')`` → ``1,234.50元`` (never ``¥``: carriers garble it)."""
    return _yuan(_as_decimal(value, "yuan"))


@lru_cache(maxsize=16384)
def _rmb_upper(amount: Decimal) -> str:
    # cn2an takes ~25 µs an amount, and amounts rarely repeat; whole yuan and the 100
    # possible cents repeat a lot. Joined as cn2an joins them (tests compare the two).
    fen = int(_to_fen(amount) * 100)
    sign = "负" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    if cents == 0:
        return sign + _rmb_whole(whole)
    if whole == 0:
        return sign + _rmb_cents(cents)
    # 10.05 → 壹拾元零伍分: a 零 stands for the missing 角.
    zero = "零" if cents < 10 else ""
    return sign + _rmb_whole(whole).removesuffix("整") + zero + _rmb_cents(cents)


@lru_cache(maxsize=65536)
def _rmb_whole(yuan: int) -> str:
    return _cn2an_rmb(f"{yuan}.00")  # 壹仟贰佰叁拾肆元整


@lru_cache(maxsize=100)
def _rmb_cents(cents: int) -> str:
    return _cn2an_rmb(f"0.{cents:02d}")  # 伍角 / 伍分 / 伍角伍分


def _cn2an_rmb(text: str) -> str:
    # Imported here: cn2an takes ~0.3 s to import and most commands never need it.
    import cn2an  # noqa: PLC0415

    result: str = cn2an.an2cn(text, "rmb")
    return result


def rmb_upper(value: object) -> str:
    """``Decimal('1234.50')`` → ``壹仟贰佰叁拾肆元伍角`` (大写金额, as on contracts)."""
    return _rmb_upper(_as_decimal(value, "rmb_upper"))


def _as_date(value: object, filter_name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise TypeError(f"{filter_name} needs a date, got {type(value).__name__}")


@lru_cache(maxsize=4096)
def _cn_date(day: date, with_year: bool) -> str:
    return str(format_skeleton("yMMMd" if with_year else "MMMd", day, locale=LOCALE))


@pass_context
def cn_date(context: Context, value: object) -> str:
    """``12月1日``; ``2027年1月4日`` when the year differs from ``now``'s."""
    day = _as_date(value, "cn_date")
    now = context.get("now")
    with_year = not isinstance(now, datetime) or now.year != day.year
    return _cn_date(day, with_year)


@lru_cache(maxsize=7)
def _weekday_name(weekday: int) -> str:
    # 2024-01-01 was a Monday: weekday 0.
    return str(format_date(date(2024, 1, 1 + weekday), "EEEE", locale=LOCALE))


def cn_weekday(value: object) -> str:
    """``星期二``."""
    return _weekday_name(_as_date(value, "cn_weekday").weekday())


def relative_words(days: int) -> str:
    """0 → 今天, 1 → 明天, 2 → 后天, 3 → 3天后, -1 → 昨天, -2 → 前天, -3 → 3天前."""
    named = _RELATIVE_NAMES.get(days)
    if named is not None:
        return named
    return f"{days}天后" if days > 0 else f"{-days}天前"


@pass_context
def relative_day(context: Context, value: object) -> str:
    """The date relative to ``now`` in the borrower's own calendar."""
    now = context.get("now")
    if not isinstance(now, datetime):
        raise TypeError("relative_day needs 'now' in the context")
    return relative_words((_as_date(value, "relative_day") - now.date()).days)


def mask_phone(value: object) -> str:
    """``+8613800138000`` / ``13800138000`` → ``138****8000``; ``+14155550123`` → ``415***0123``."""
    text = str(value)
    if len(text) == 14 and text.startswith("+861") and text[1:].isdigit():
        return f"{text[3:6]}****{text[-4:]}"  # the E.164 mainland mobile of every context
    digits = _national_digits(text)
    if len(digits) < 8:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def _national_digits(text: str) -> str:
    """The digits without the country code: kept, ``+1`` would show as ``141****0123``."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if not text.lstrip().startswith("+"):
        # 8613800138000: a mainland mobile written with its country code but no plus.
        return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits
    # Country codes are prefix-free (ITU-T E.164): at most one of 1, 2 or 3 digits matches.
    for size in (1, 2, 3):
        if digits[:1] != "0" and int(digits[:size] or 0) in COUNTRY_CODE_TO_REGION_CODE:
            return digits[size:]
    return digits


FILTERS: dict[str, Any] = {
    "yuan": yuan,
    "rmb_upper": rmb_upper,
    "cn_date": cn_date,
    "cn_weekday": cn_weekday,
    "relative_day": relative_day,
    "mask_phone": mask_phone,
}
