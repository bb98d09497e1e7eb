"""SMS length: characters, encoding and parts (SPEC §4.3).

Parts are counted exactly as Twilio's segment calculator (npm ``sms-segments-calculator``
1.3.0, default options: encoding ``auto``, Smart Encoding off) counts them:

* **GSM-7** when every character is in the GSM 03.38 basic table or its extension table
  (``\\f [ \\ ] ^ { | } ~ €`` take two septets).  One part holds 160 septets; a split
  message holds 153 per part, and an extension character never straddles two parts.
* **UCS-2** otherwise.  One part holds 70 UTF-16 code units; a split message holds 67 per
  part.  A grapheme cluster (an emoji's surrogate pair, a ZWJ family, a character with
  its variation selector) is never split across parts, so a part may hold fewer units.
  Clusters are found with the calculator's own (Unicode 10) rules, see ``_graphemes``.
* An empty text is one part, as the calculator reports.

``SmsLength.chars`` is what mainland carriers bill by (collection-rules.md §4): the
number of Unicode code points of the whole text, 【signature】 included, so ``len(text)``.
Carriers send ≤ 70 characters as one SMS and bill longer ones in parts of 67
(``carrier_parts``).  For text without astral code points (no emoji) ``chars`` equals the
UTF-16 units Twilio counts, and both rules agree unless a cluster with a combining mark or
variation selector straddles a part boundary; an emoji is one character for the carrier
but two code units for Twilio.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from typing import Final, Literal

from remindkit.render._graphemes import JOINING, cluster_unit_runs, utf16_units

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "Encoding",
    "SmsLength",
    "carrier_parts_of",
    "measure_sms",
]

Encoding = Literal["GSM-7", "UCS-2"]

# The calculator's Unicode → GSM-7 map, split by septet count (ESC 0x1B has no entry).
GSM7_BASIC: Final = frozenset(
    "\n\r !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
    "abcdefghijklmnopqrstuvwxyz¡£¤¥§¿ÄÅÆÇÉÑÖØÜßàäåæèéìñòöøùüΓΔΘΛΞΠΣΦΨΩ"
)
GSM7_EXTENSION: Final = frozenset("\f[\\]^{|}~€")

GSM7_SINGLE_SEPTETS: Final = 160
GSM7_PART_SEPTETS: Final = 153
UCS2_SINGLE_UNITS: Final = 70
UCS2_PART_UNITS: Final = 67
CARRIER_SINGLE_CHARS: Final = 70
CARRIER_PART_CHARS: Final = 67

# A part is 140 octets; a split message spends 6 of them on the concatenation header.
_PART_BITS: Final = 1120
_HEADER_BITS: Final = 48
_SEPTET_BITS: Final = 7
_UCS2_UNIT_BITS: Final = 16

# The greedy run packing equals the calculator's while the header, the characters
# spilled from the first part (under 48 + 512 bits) and the overflowing one (512) still
# fit one part of 1120 bits.
_LARGEST_PACKED_BITS: Final = (_PART_BITS - 2 * _HEADER_BITS) // 2

_NON_GSM7: Final = re.compile("[^" + re.escape("".join(sorted(GSM7_BASIC | GSM7_EXTENSION))) + "]")
_EXTENSION_CHAR: Final = re.compile("[" + re.escape("".join(sorted(GSM7_EXTENSION))) + "]")
_ESC: Final = "\x1b"
_ESCAPED_EXTENSION: Final = {ord(char): _ESC + char for char in GSM7_EXTENSION}


@dataclass(frozen=True, slots=True)
class SmsLength:
    """Length of one SMS text as billed.

    chars: Unicode code points, signature included (the mainland carriers' count).
    encoding: ``GSM-7`` or ``UCS-2``, as Twilio's calculator picks it.
    segments: parts Twilio's calculator counts.
    code_units: septets for GSM-7 (extension characters count two), UTF-16 code units
        for UCS-2.
    """

    chars: int
    encoding: Encoding
    segments: int
    code_units: int

    @property
    def carrier_parts(self) -> int:
        """Parts a mainland carrier bills: ≤ 70 characters is one, else parts of 67."""
        return _uniform_parts(self.chars, CARRIER_SINGLE_CHARS, CARRIER_PART_CHARS)


# SmsLength is immutable, so equal lengths can share one instance: a cache hit is
# several times cheaper than the frozen dataclass's __init__ on the hot render path.
_length: Final = lru_cache(maxsize=4096)(SmsLength)


def measure_sms(text: str) -> SmsLength:
    """Characters, encoding and parts of `text` (the full SMS, 【signature】 included)."""
    if not isinstance(text, str):
        raise TypeError(f"text: expected str, got {type(text).__name__}")
    if _NON_GSM7.search(text) is None:
        return _measure_gsm7(text)
    if JOINING.search(text) is None:
        # The hot case (Chinese text, no emoji): one unit per character, no cluster walk.
        size = len(text)
        return _length(
            size, "UCS-2", _uniform_parts(size, UCS2_SINGLE_UNITS, UCS2_PART_UNITS), size
        )
    return _measure_ucs2_clusters(text)


def carrier_parts_of(text: str) -> tuple[str, ...]:
    """The parts a mainland carrier sends ``text`` in (the full SMS, 【signature】 included):
    the whole text up to 70 characters, else pieces of 67, as ``carrier_parts`` counts."""
    if len(text) <= CARRIER_SINGLE_CHARS:
        return (text,)
    step = CARRIER_PART_CHARS
    return tuple(text[start : start + step] for start in range(0, len(text), step))


def _uniform_parts(size: int, single: int, per_part: int) -> int:
    if size <= single:
        return 1
    return -(-size // per_part)


def _measure_gsm7(text: str) -> SmsLength:
    size = len(text)
    if _EXTENSION_CHAR.search(text) is None:
        parts = _uniform_parts(size, GSM7_SINGLE_SEPTETS, GSM7_PART_SEPTETS)
        return _length(size, "GSM-7", parts, size)
    # One string position per septet: an extension character becomes ESC + itself, as
    # on the air.  ESC is not in the calculator's map, so GSM-7 text never holds one.
    septets = text.translate(_ESCAPED_EXTENSION)
    if len(septets) <= GSM7_SINGLE_SEPTETS:
        return _length(size, "GSM-7", 1, len(septets))
    return _length(size, "GSM-7", _gsm7_parts(septets), len(septets))


def _gsm7_parts(septets: str) -> int:
    parts = start = 0
    while start < len(septets):
        end = start + GSM7_PART_SEPTETS
        if end < len(septets) and septets[end - 1] == _ESC:
            end -= 1  # the extension character would straddle: it opens the next part
        start = end
        parts += 1
    return parts


def _measure_ucs2_clusters(text: str) -> SmsLength:
    units = utf16_units(text)
    if units <= UCS2_SINGLE_UNITS:
        parts = 1
    else:
        parts = _pack_runs(cluster_unit_runs(text), _UCS2_UNIT_BITS)
    return _length(len(text), "UCS-2", parts, units)


def _pack_runs(runs: Sequence[tuple[int, int]], unit_bits: int) -> int:
    """Parts for a text longer than one part, given (units per cluster, repeat) runs.

    Every part then carries the header and is filled greedily; a character is never
    split.  This equals the calculator's packing while no character exceeds
    ``_LARGEST_PACKED_BITS``; longer clusters take the exact, slower simulation.
    """
    if any(units * unit_bits > _LARGEST_PACKED_BITS for units, _ in runs):
        return _pack_like_calculator(
            size for units, count in runs for size in repeat(units * unit_bits, count)
        )
    parts, used = 1, _HEADER_BITS
    for units, count in runs:
        size = units * unit_bits
        fit = (_PART_BITS - used) // size
        if count <= fit:
            used += count * size
            continue
        rest = count - fit
        per_part = (_PART_BITS - _HEADER_BITS) // size
        extra = -(-rest // per_part)
        parts += extra
        used = _HEADER_BITS + (rest - (extra - 1) * per_part) * size
    return parts


def _pack_like_calculator(sizes: Iterable[int]) -> int:
    """The calculator's packing, step by step, for characters of the given bit sizes.

    The first part is filled without a header; on the first overflow it gains the
    header and hands the characters that no longer fit to the second part, then the
    overflowing character follows them unchecked.  Later parts are filled greedily.  A
    character larger than a part (a very long cluster) overfills the part it lands in.
    """
    first: list[int] = []
    first_bits = 0
    parts = 1
    bits = 0
    for size in sizes:
        if parts == 1:
            if _PART_BITS - first_bits >= size:
                first.append(size)
                first_bits += size
                continue
            parts = 2
            first_bits += _HEADER_BITS
            spilled = 0
            while first_bits > _PART_BITS:
                moved = first.pop()
                first_bits -= moved
                spilled += moved
            bits = _HEADER_BITS + spilled + size
        elif _PART_BITS - bits < size:
            parts += 1
            bits = _HEADER_BITS + size
        else:
            bits += size
    return parts
