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
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from remindkit.render._graphemes import clusters, is_unit_per_cluster, utf16_units

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "Encoding",
    "SmsLength",
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

_NON_GSM7: Final = re.compile("[^" + re.escape("".join(sorted(GSM7_BASIC | GSM7_EXTENSION))) + "]")
_EXTENSION_CHARS: Final = tuple(sorted(GSM7_EXTENSION))


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


def measure_sms(text: str) -> SmsLength:
    """Characters, encoding and parts of `text` (the full SMS, 【signature】 included)."""
    if _NON_GSM7.search(text) is None:
        return _measure_gsm7(text)
    if is_unit_per_cluster(text):
        # The common case (Chinese text, no emoji): one unit per character, no cluster walk.
        size = len(text)
        parts = _uniform_parts(size, UCS2_SINGLE_UNITS, UCS2_PART_UNITS)
        return SmsLength(chars=size, encoding="UCS-2", segments=parts, code_units=size)
    return _measure_ucs2_clusters(text)


def _uniform_parts(size: int, single: int, per_part: int) -> int:
    if size <= single:
        return 1
    return -(-size // per_part)


def _measure_gsm7(text: str) -> SmsLength:
    extension = sum(map(text.count, _EXTENSION_CHARS))
    septets = len(text) + extension
    if septets <= GSM7_SINGLE_SEPTETS or extension == 0:
        parts = _uniform_parts(septets, GSM7_SINGLE_SEPTETS, GSM7_PART_SEPTETS)
    else:
        # An extension character at a boundary moves whole to the next part.
        parts = _pack_parts(
            2 * _SEPTET_BITS if char in GSM7_EXTENSION else _SEPTET_BITS for char in text
        )
    return SmsLength(chars=len(text), encoding="GSM-7", segments=parts, code_units=septets)


def _measure_ucs2_clusters(text: str) -> SmsLength:
    units = utf16_units(text)
    if units <= UCS2_SINGLE_UNITS:
        parts = 1
    else:
        parts = _pack_parts(_UCS2_UNIT_BITS * utf16_units(cluster) for cluster in clusters(text))
    return SmsLength(chars=len(text), encoding="UCS-2", segments=parts, code_units=units)


def _pack_parts(sizes: Iterable[int]) -> int:
    """Parts needed for characters of the given bit sizes (the calculator's packing).

    The first part is filled without a header; on the first overflow it gains the
    header and hands the characters that no longer fit to the second part.  Later parts
    are filled greedily; a character is never split.  A character larger than a whole
    part (a very long cluster) overfills the part it lands in, as in the calculator.
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
