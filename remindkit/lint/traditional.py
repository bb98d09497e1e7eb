"""Traditional-character detection with OpenCC (the ``opencc`` package, OpenCC's own binding).

The text is converted Traditional → Simplified as a whole, so OpenCC's phrase tables
keep legitimate simplified words intact (乾隆, 显著, 著作, 瞭望); characters that change
are traditional forms. A few characters OpenCC converts are nevertheless valid in
simplified text (all in GB2312: 乾 as in 乾坤, the surnames 甯 and 麴, 哪吒's 吒 …) and
are never reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Protocol, cast

# In GB2312 and valid in simplified writing although OpenCC's t2s table maps them.
# Deliberately *not* here: 後 於 麽 徵 夥 菸 摺, which in a reminder are slips.
LEGITIMATE_SIMPLIFIED = frozenset("乾薹吒榘甯麴醣捱")


class _Converter(Protocol):
    def convert(self, text: str) -> str: ...


@cache
def _converter() -> _Converter:
    import opencc  # noqa: PLC0415  # lazy: the dictionaries load only when CJK text is checked

    return cast(_Converter, opencc.OpenCC("t2s"))


@dataclass(frozen=True, slots=True)
class TraditionalChar:
    index: int
    char: str
    simplified: str


def _might_be_cjk(text: str) -> bool:
    return any("\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" for char in text)


def find_traditional(text: str) -> Iterator[TraditionalChar]:
    """Every traditional character in ``text`` with its simplified form."""
    if not _might_be_cjk(text):
        return
    converter = _converter()
    converted = converter.convert(text)  # ~1 µs for a reminder-sized text
    if converted == text:
        return
    if len(converted) == len(text):
        pairs: Iterable[tuple[str, str]] = zip(text, converted, strict=True)
    else:  # a phrase changed length: positions no longer align, compare char by char
        pairs = ((char, converter.convert(char)) for char in text)
    for index, (char, simple) in enumerate(pairs):
        if char != simple and char not in LEGITIMATE_SIMPLIFIED:
            yield TraditionalChar(index, char, simple)
