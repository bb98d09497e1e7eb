"""Grapheme clusters exactly as Twilio's SMS segment calculator splits them.

Twilio's calculator (npm ``sms-segments-calculator`` 1.3.0) never splits a grapheme
cluster across SMS parts, and it finds clusters with ``grapheme-splitter`` 1.0.4: the
Unicode 10.0 break properties (E_Base, E_Modifier, Glue_After_Zwj, E_Base_GAZ) and that
library's own reading of rules GB3-GB13.  Modern Unicode rules (Python's ``regex`` ``\\X``)
join more emoji ZWJ sequences (e.g. ❤️‍🔥 is two clusters here), so this module ports that
library rule by rule, quirks included, to count parts the way Twilio does.

The table below is grapheme-splitter 1.0.4's ``getGraphemeBreakProperty`` (hex code
points, "start-end" ranges); Hangul syllables (LV / LVT) are derived arithmetically.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from functools import lru_cache
from typing import Final

CR: Final = 0
LF: Final = 1
CONTROL: Final = 2
EXTEND: Final = 3
REGIONAL_INDICATOR: Final = 4
SPACING_MARK: Final = 5
L: Final = 6
V: Final = 7
T: Final = 8
LV: Final = 9
LVT: Final = 10
OTHER: Final = 11
PREPEND: Final = 12
E_BASE: Final = 13
E_MODIFIER: Final = 14
ZWJ: Final = 15
GLUE_AFTER_ZWJ: Final = 16
E_BASE_GAZ: Final = 17

_RANGES: Final[dict[int, str]] = {
    CR: "D",
    LF: "A",
    CONTROL: (
        "0-9 B-C E-1F 7F-9F AD 61C 180E 200B 200E-200F 2028-202E 2060-206F D800-DFFF FEFF "
        "FFF0-FFFB 1BCA0-1BCA3 1D173-1D17A E0000-E001F E0080-E00FF E01F0-E0FFF "
    ),
    EXTEND: (
        "300-36F 483-489 591-5BD 5BF 5C1-5C2 5C4-5C5 5C7 610-61A 64B-65F 670 6D6-6DC 6DF-6E4 "
        "6E7-6E8 6EA-6ED 711 730-74A 7A6-7B0 7EB-7F3 816-819 81B-823 825-827 829-82D 859-85B "
        "8D4-8E1 8E3-902 93A 93C 941-948 94D 951-957 962-963 981 9BC 9BE 9C1-9C4 9CD 9D7 "
        "9E2-9E3 A01-A02 A3C A41-A42 A47-A48 A4B-A4D A51 A70-A71 A75 A81-A82 ABC AC1-AC5 "
        "AC7-AC8 ACD AE2-AE3 AFA-AFF B01 B3C B3E-B3F B41-B44 B4D B56-B57 B62-B63 B82 BBE BC0 "
        "BCD BD7 C00 C3E-C40 C46-C48 C4A-C4D C55-C56 C62-C63 C81 CBC CBF CC2 CC6 CCC-CCD "
        "CD5-CD6 CE2-CE3 D00-D01 D3B-D3C D3E D41-D44 D4D D57 D62-D63 DCA DCF DD2-DD4 DD6 DDF "
        "E31 E34-E3A E47-E4E EB1 EB4-EB9 EBB-EBC EC8-ECD F18-F19 F35 F37 F39 F71-F7E F80-F84 "
        "F86-F87 F8D-F97 F99-FBC FC6 102D-1030 1032-1037 1039-103A 103D-103E 1058-1059 "
        "105E-1060 1071-1074 1082 1085-1086 108D 109D 135D-135F 1712-1714 1732-1734 1752-1753 "
        "1772-1773 17B4-17B5 17B7-17BD 17C6 17C9-17D3 17DD 180B-180D 1885-1886 18A9 1920-1922 "
        "1927-1928 1932 1939-193B 1A17-1A18 1A1B 1A56 1A58-1A5E 1A60 1A62 1A65-1A6C 1A73-1A7C "
        "1A7F 1AB0-1ABE 1B00-1B03 1B34 1B36-1B3A 1B3C 1B42 1B6B-1B73 1B80-1B81 1BA2-1BA5 "
        "1BA8-1BA9 1BAB-1BAD 1BE6 1BE8-1BE9 1BED 1BEF-1BF1 1C2C-1C33 1C36-1C37 1CD0-1CD2 "
        "1CD4-1CE0 1CE2-1CE8 1CED 1CF4 1CF8-1CF9 1DC0-1DF9 1DFB-1DFF 200C 20D0-20F0 2CEF-2CF1 "
        "2D7F 2DE0-2DFF 302A-302F 3099-309A A66F-A672 A674-A67D A69E-A69F A6F0-A6F1 A802 A806 "
        "A80B A825-A826 A8C4-A8C5 A8E0-A8F1 A926-A92D A947-A951 A980-A982 A9B3 A9B6-A9B9 A9BC "
        "A9E5 AA29-AA2E AA31-AA32 AA35-AA36 AA43 AA4C AA7C AAB0 AAB2-AAB4 AAB7-AAB8 AABE-AABF "
        "AAC1 AAEC-AAED AAF6 ABE5 ABE8 ABED FB1E FE00-FE0F FE20-FE2F FF9E-FF9F 101FD 102E0 "
        "10376-1037A 10A01-10A03 10A05-10A06 10A0C-10A0F 10A38-10A3A 10A3F 10AE5-10AE6 11001 "
        "11038-11046 1107F-11081 110B3-110B6 110B9-110BA 11100-11102 11127-1112B 1112D-11134 "
        "11173 11180-11181 111B6-111BE 111CA-111CC 1122F-11231 11234 11236-11237 1123E 112DF "
        "112E3-112EA 11300-11301 1133C 1133E 11340 11357 11366-1136C 11370-11374 11438-1143F "
        "11442-11444 11446 114B0 114B3-114B8 114BA 114BD 114BF-114C0 114C2-114C3 115AF "
        "115B2-115B5 115BC-115BD 115BF-115C0 115DC-115DD 11633-1163A 1163D 1163F-11640 116AB "
        "116AD 116B0-116B5 116B7 1171D-1171F 11722-11725 11727-1172B 11A01-11A06 11A09-11A0A "
        "11A33-11A38 11A3B-11A3E 11A47 11A51-11A56 11A59-11A5B 11A8A-11A96 11A98-11A99 "
        "11C30-11C36 11C38-11C3D 11C3F 11C92-11CA7 11CAA-11CB0 11CB2-11CB3 11CB5-11CB6 "
        "11D31-11D36 11D3A 11D3C-11D3D 11D3F-11D45 11D47 16AF0-16AF4 16B30-16B36 16F8F-16F92 "
        "1BC9D-1BC9E 1D165 1D167-1D169 1D16E-1D172 1D17B-1D182 1D185-1D18B 1D1AA-1D1AD "
        "1D242-1D244 1DA00-1DA36 1DA3B-1DA6C 1DA75 1DA84 1DA9B-1DA9F 1DAA1-1DAAF 1E000-1E006 "
        "1E008-1E018 1E01B-1E021 1E023-1E024 1E026-1E02A 1E8D0-1E8D6 1E944-1E94A E0020-E007F "
        "E0100-E01EF "
    ),
    REGIONAL_INDICATOR: "1F1E6-1F1FF",
    SPACING_MARK: (
        "903 93B 93E-940 949-94C 94E-94F 982-983 9BF-9C0 9C7-9C8 9CB-9CC A03 A3E-A40 A83 "
        "ABE-AC0 AC9 ACB-ACC B02-B03 B40 B47-B48 B4B-B4C BBF BC1-BC2 BC6-BC8 BCA-BCC C01-C03 "
        "C41-C44 C82-C83 CBE CC0-CC1 CC3-CC4 CC7-CC8 CCA-CCB D02-D03 D3F-D40 D46-D48 D4A-D4C "
        "D82-D83 DD0-DD1 DD8-DDE DF2-DF3 E33 EB3 F3E-F3F F7F 1031 103B-103C 1056-1057 1084 "
        "17B6 17BE-17C5 17C7-17C8 1923-1926 1929-192B 1930-1931 1933-1938 1A19-1A1A 1A55 1A57 "
        "1A6D-1A72 1B04 1B35 1B3B 1B3D-1B41 1B43-1B44 1B82 1BA1 1BA6-1BA7 1BAA 1BE7 1BEA-1BEC "
        "1BEE 1BF2-1BF3 1C24-1C2B 1C34-1C35 1CE1 1CF2-1CF3 1CF7 A823-A824 A827 A880-A881 "
        "A8B4-A8C3 A952-A953 A983 A9B4-A9B5 A9BA-A9BB A9BD-A9C0 AA2F-AA30 AA33-AA34 AA4D AAEB "
        "AAEE-AAEF AAF5 ABE3-ABE4 ABE6-ABE7 ABE9-ABEA ABEC 11000 11002 11082 110B0-110B2 "
        "110B7-110B8 1112C 11182 111B3-111B5 111BF-111C0 1122C-1122E 11232-11233 11235 "
        "112E0-112E2 11302-11303 1133F 11341-11344 11347-11348 1134B-1134D 11362-11363 "
        "11435-11437 11440-11441 11445 114B1-114B2 114B9 114BB-114BC 114BE 114C1 115B0-115B1 "
        "115B8-115BB 115BE 11630-11632 1163B-1163C 1163E 116AC 116AE-116AF 116B6 11720-11721 "
        "11726 11A07-11A08 11A39 11A57-11A58 11A97 11C2F 11C3E 11CA9 11CB1 11CB4 16F51-16F7E "
        "1D166 1D16D "
    ),
    L: "1100-115F A960-A97C",
    V: "1160-11A7 D7B0-D7C6",
    T: "11A8-11FF D7CB-D7FB",
    PREPEND: "600-605 6DD 70F 8E2 D4E 110BD 111C2-111C3 11A3A 11A86-11A89 11D46",
    E_BASE: (
        "261D 26F9 270A-270D 1F385 1F3C2-1F3C4 1F3C7 1F3CA-1F3CC 1F442-1F443 1F446-1F450 "
        "1F46E 1F470-1F478 1F47C 1F481-1F483 1F485-1F487 1F4AA 1F574-1F575 1F57A 1F590 "
        "1F595-1F596 1F645-1F647 1F64B-1F64F 1F6A3 1F6B4-1F6B6 1F6C0 1F6CC 1F918-1F91C "
        "1F91E-1F91F 1F926 1F930-1F939 1F93D-1F93E 1F9D1-1F9DD "
    ),
    E_MODIFIER: "1F3FB-1F3FF",
    ZWJ: "200D",
    GLUE_AFTER_ZWJ: (
        "2640 2642 2695-2696 2708 2764 1F308 1F33E 1F373 1F393 1F3A4 1F3A8 1F3EB 1F3ED 1F48B "
        "1F4BB-1F4BC 1F527 1F52C 1F5E8 1F680 1F692 "
    ),
    E_BASE_GAZ: "1F466-1F469",
}

_HANGUL_FIRST: Final = 0xAC00
_HANGUL_LAST: Final = 0xD7A3
_HANGUL_T_COUNT: Final = 28  # syllables per leading-consonant + vowel block


def _parse_table() -> tuple[list[int], list[int], list[int]]:
    rows: list[tuple[int, int, int]] = []
    for prop, spec in _RANGES.items():
        for item in spec.split():
            first, _, last = item.partition("-")
            rows.append((int(first, 16), int(last or first, 16), prop))
    rows.sort()
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


_STARTS, _ENDS, _PROPS = _parse_table()


def break_property(code_point: int) -> int:
    """The grapheme break property grapheme-splitter 1.0.4 gives `code_point`."""
    if _HANGUL_FIRST <= code_point <= _HANGUL_LAST:
        return LV if (code_point - _HANGUL_FIRST) % _HANGUL_T_COUNT == 0 else LVT
    index = bisect_right(_STARTS, code_point) - 1
    if index >= 0 and code_point <= _ENDS[index]:
        return _PROPS[index]
    return OTHER


def _joining_class() -> re.Pattern[str]:
    """Characters that may share a cluster with a neighbour (or take two UTF-16 units).

    Text free of them is one cluster and one UTF-16 unit per code point, which lets the
    caller skip the cluster walk: only BMP Extend, ZWJ, SpacingMark, Prepend and Hangul
    jamo (L, V, T) ever join in the BMP; E_Modifier and Regional_Indicator are astral.
    """
    joining = {EXTEND, ZWJ, SPACING_MARK, PREPEND, L, V, T}
    parts = [
        f"\\u{first:04x}-\\u{min(last, 0xFFFF):04x}"
        for first, last, prop in zip(_STARTS, _ENDS, _PROPS, strict=True)
        if prop in joining and first <= 0xFFFF
    ]
    return re.compile("[" + "".join(parts) + "\\ud800-\\udfff\\U00010000-\\U0010ffff]")


JOINING: Final = _joining_class()


def is_unit_per_cluster(text: str) -> bool:
    """True when every code point of `text` is its own cluster and one UTF-16 unit."""
    return JOINING.search(text) is None


def _last_index(props: Sequence[int], prop: int) -> int:
    for index in range(len(props) - 1, -1, -1):
        if props[index] == prop:
            return index
    return -1


def _only(props: Sequence[int], prop: int) -> bool:
    return all(p == prop for p in props)


def _lookahead_breaks(start: int, run: list[int], previous: int) -> bool:
    """grapheme-splitter's look-ahead terminators for GB10 and GB12/GB13."""
    modifier = _last_index(run, E_MODIFIER)
    if (
        modifier > 1
        and _only(run[1:modifier], EXTEND)
        and start not in (EXTEND, E_BASE, E_BASE_GAZ)
    ):
        return True
    indicator = _last_index(run, REGIONAL_INDICATOR)
    return (
        indicator > 0
        and _only(run[1:indicator], REGIONAL_INDICATOR)
        and previous not in (PREPEND, REGIONAL_INDICATOR)
    )


def _hangul_or_mark_joins(previous: int, following: int) -> bool | None:
    """GB6-GB9b; None when none of them decides."""
    if previous == L and following in (L, V, LV, LVT):
        return True
    if previous in (LV, V) and following in (V, T):
        return True
    if previous in (LVT, T) and following == T:
        return True
    if following in (EXTEND, ZWJ, SPACING_MARK) or previous == PREPEND:
        return True
    return None


def _emoji_joins(run: list[int], previous: int, following: int) -> bool:
    """GB10 and GB11 as grapheme-splitter reads them (its index arithmetic kept)."""
    base = _last_index(run, EXTEND) - 1 if EXTEND in run else len(run) - 2
    if (
        base >= 0
        and run[base] in (E_BASE, E_BASE_GAZ)
        and _only(run[base + 1 : -1], EXTEND)
        and following == E_MODIFIER
    ):
        return True
    return previous == ZWJ and following in (GLUE_AFTER_ZWJ, E_BASE_GAZ)


# The answer depends on the break properties alone, and few sequences occur: caching
# makes the walk over emoji and marks cheap enough for the render path.
@lru_cache(maxsize=8192)
def should_break(start: int, middle: tuple[int, ...], following: int) -> bool:
    """grapheme-splitter's ``shouldBreak``: every non-zero answer of it is a break."""
    run = [start, *middle, following]
    previous = run[-2]
    if _lookahead_breaks(start, run, previous):
        return True
    if previous == CR and following == LF:
        return False
    if previous in (CONTROL, CR, LF) or following in (CONTROL, CR, LF):
        return True
    joins = _hangul_or_mark_joins(previous, following)
    if joins is not None:
        return not joins
    if _emoji_joins(run, previous, following):
        return False
    return _regional_indicator_breaks(middle, previous, following)


def _regional_indicator_breaks(middle: tuple[int, ...], previous: int, following: int) -> bool:
    """GB12/GB13: flags pair up two by two."""
    if REGIONAL_INDICATOR in middle:
        return True
    return not (previous == REGIONAL_INDICATOR and following == REGIONAL_INDICATOR)


def _cluster_end(props: Sequence[int], begin: int) -> int:
    start = props[begin]
    middle: tuple[int, ...] = ()
    for index in range(begin + 1, len(props)):
        if should_break(start, middle, props[index]):
            return index
        middle = (*middle, props[index])
    return len(props)


def clusters(text: str) -> list[str]:
    """Grapheme clusters of `text` as the calculator sees them (CR LF counted apart)."""
    props = [break_property(ord(char)) for char in text]
    found: list[str] = []
    begin = 0
    while begin < len(props):
        end = _cluster_end(props, begin)
        cluster = text[begin:end]
        # The calculator re-splits CR LF so that each counts as one character.
        found.extend(("\r", "\n") if cluster == "\r\n" else (cluster,))
        begin = end
    return found


def utf16_units(text: str) -> int:
    """UTF-16 code units of `text` (astral code points take two)."""
    # surrogatepass: a lone surrogate (only from odd input) is one unit, as in JavaScript.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _joining_windows(text: str) -> list[tuple[int, int]]:
    """Spans around joining characters, each widened by one neighbour, merged."""
    windows: list[tuple[int, int]] = []
    for match in JOINING.finditer(text):
        start, end = max(match.start() - 1, 0), match.end() + 1
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


def cluster_unit_runs(text: str) -> list[tuple[int, int]]:
    """UTF-16 units of each cluster in order, as (units, repeat) runs.

    Two adjacent characters that are both outside ``JOINING`` always break (no rule
    joins them but CR LF, which the calculator splits anyway), so only the windows
    around joining characters need the cluster walk; the stretches between them are
    runs of one-unit clusters.
    """
    runs: list[tuple[int, int]] = []
    done = 0
    for start, end in _joining_windows(text):
        if start > done:
            runs.append((1, start - done))
        runs.extend((utf16_units(cluster), 1) for cluster in clusters(text[start:end]))
        done = min(end, len(text))
    if done < len(text):
        runs.append((1, len(text) - done))
    return runs
