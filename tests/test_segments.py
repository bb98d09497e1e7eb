"""SMS length at the boundaries (SPEC §4.3).

Every expected value here was checked against Twilio's calculator
(sms-segments-calculator 1.3.0); tests/test_segments_twilio.py repeats the comparison
on generated texts whenever node is available.
"""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remindkit.render import segments
from remindkit.render._graphemes import cluster_unit_runs, clusters, utf16_units
from remindkit.render.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SmsLength,
    carrier_parts_of,
    measure_sms,
)

CJK = "中"
EMOJI = "😀"  # one code point, a surrogate pair in UTF-16
FAMILY = "👨\u200d👩\u200d👧"  # ZWJ sequence: 5 code points, 8 UTF-16 units
TELEPHONE = "☎\ufe0f"  # BMP symbol + variation selector: one cluster of 2 units
HEART_ON_FIRE = "❤\ufe0f\u200d🔥"  # Unicode 13.1 ZWJ sequence: two clusters for Twilio


def parts(text: str) -> int:
    return measure_sms(text).segments


def test_empty_text_is_one_gsm7_part_as_twilio_counts_it() -> None:
    assert measure_sms("") == SmsLength(chars=0, encoding="GSM-7", segments=1, code_units=0)


@pytest.mark.parametrize(
    ("size", "expected"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_septet_boundaries(size: int, expected: int) -> None:
    length = measure_sms("a" * size)
    assert (length.encoding, length.segments, length.code_units) == ("GSM-7", expected, size)


@pytest.mark.parametrize(
    ("size", "expected"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_ucs2_unit_boundaries(size: int, expected: int) -> None:
    length = measure_sms(CJK * size)
    assert length == SmsLength(chars=size, encoding="UCS-2", segments=expected, code_units=size)


def test_extension_characters_count_two_septets() -> None:
    assert measure_sms("a" * 158 + "€") == SmsLength(
        chars=159, encoding="GSM-7", segments=1, code_units=160
    )
    assert measure_sms("a" * 159 + "€") == SmsLength(
        chars=160, encoding="GSM-7", segments=2, code_units=161
    )
    assert parts("€" * 80) == 1
    assert parts("€" * 81) == 2


def test_extension_character_never_straddles_the_153rd_septet() -> None:
    # 306 septets would fill two parts exactly, but € sits on septets 153-154.
    assert parts("a" * 152 + "€" + "a" * 152) == 3
    # The same 306 septets with € on 152-153 fit in two parts.
    assert parts("a" * 151 + "€" + "a" * 153) == 2
    assert parts("{" * 77 + "a" * 153) == 3


@pytest.mark.parametrize("char", sorted(GSM7_EXTENSION))
def test_each_extension_character_at_the_160th_septet(char: str) -> None:
    assert measure_sms("a" * 158 + char).segments == 1
    assert measure_sms("a" * 159 + char).segments == 2


def test_gsm7_tables_match_the_calculator_map() -> None:
    assert len(GSM7_BASIC) == 127
    assert sorted(GSM7_EXTENSION) == sorted("\f[\\]^{|}~€")
    assert "`" not in GSM7_BASIC  # the calculator's map has no backtick


@pytest.mark.parametrize("text", ["`", "\u201chello\u201d", "café au lait ça va ô"])
def test_characters_outside_gsm7_switch_to_ucs2_without_smart_encoding(text: str) -> None:
    assert measure_sms(text).encoding == "UCS-2"


def test_emoji_counts_two_units_and_one_carrier_character() -> None:
    assert measure_sms(CJK * 68 + EMOJI) == SmsLength(
        chars=69, encoding="UCS-2", segments=1, code_units=70
    )
    assert measure_sms(CJK * 69 + EMOJI) == SmsLength(
        chars=70, encoding="UCS-2", segments=2, code_units=71
    )


def test_emoji_on_the_67th_unit_moves_whole_to_the_next_part() -> None:
    # 134 units: two parts of 67 if the pair could split, three because it cannot.
    assert parts(CJK * 66 + EMOJI + CJK * 66) == 3
    assert parts(CJK * 67 + EMOJI + CJK * 65) == 2


def test_zwj_family_and_variation_selector_stay_in_one_part() -> None:
    assert parts(CJK * 63 + FAMILY + CJK * 66) == 3
    assert parts(CJK * 66 + TELEPHONE + CJK * 66) == 3


def test_heart_on_fire_splits_after_the_zwj_as_the_calculator_does() -> None:
    # Modern rules keep the 5 units together (3 parts); Twilio's Unicode 10 splitter
    # ends a cluster after the ZWJ, so 64 + 3 units fill part one exactly.
    assert clusters(HEART_ON_FIRE) == ["❤\ufe0f\u200d", "🔥"]
    assert parts(CJK * 64 + HEART_ON_FIRE + CJK * 65) == 2


def test_regional_indicators_pair_into_flags() -> None:
    assert clusters("🇨🇳🇺🇸🇯") == ["🇨🇳", "🇺🇸", "🇯"]
    assert parts(CJK * 65 + "🇨🇳🇺🇸" + CJK * 60) == 3


def test_cluster_longer_than_a_part_overfills_its_own_part() -> None:
    assert parts("a" + "\u0301" * 80) == 2
    assert parts(CJK * 10 + "a" + "\u0301" * 80 + "b") == 3


def test_crlf_counts_as_two_characters_and_stays_gsm7() -> None:
    assert measure_sms("a\r\nb") == SmsLength(chars=4, encoding="GSM-7", segments=1, code_units=4)
    assert clusters("\r\n") == ["\r", "\n"]


def test_signature_counts_toward_the_70_characters() -> None:
    assert measure_sms("【还款助手】" + CJK * 64).segments == 1
    assert measure_sms("【还款助手】" + CJK * 65) == SmsLength(
        chars=71, encoding="UCS-2", segments=2, code_units=71
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", 1), (CJK * 70, 1), (CJK * 71, 2), (CJK * 134, 2), (CJK * 135, 3), ("a" * 71, 2)],
)
def test_carrier_parts_count_characters_by_70_and_67(text: str, expected: int) -> None:
    assert measure_sms(text).carrier_parts == expected


@given(st.text(alphabet=CJK + "a" + EMOJI, max_size=400))
def test_carrier_parts_of_splits_into_as_many_parts_as_counted(text: str) -> None:
    pieces = carrier_parts_of(text)
    assert "".join(pieces) == text
    assert len(pieces) == measure_sms(text).carrier_parts
    if len(pieces) > 1:
        assert {len(piece) for piece in pieces[:-1]} == {67}


def test_carrier_parts_of_keeps_70_characters_whole() -> None:
    assert carrier_parts_of(CJK * 70) == (CJK * 70,)
    assert carrier_parts_of(CJK * 71) == (CJK * 67, CJK * 4)


def test_carrier_counts_an_emoji_once_where_twilio_needs_a_part_more() -> None:
    length = measure_sms(CJK * 69 + EMOJI)
    assert (length.carrier_parts, length.segments) == (1, 2)


def test_sms_length_is_frozen() -> None:
    length = measure_sms("hi")
    with pytest.raises(dataclasses.FrozenInstanceError):
        length.segments = 2  # type: ignore[misc]


@given(st.text(alphabet=sorted(GSM7_BASIC), max_size=500))
def test_basic_gsm7_text_packs_160_then_153(text: str) -> None:
    size = len(text)
    expected = 1 if size <= 160 else -(-size // 153)
    assert measure_sms(text) == SmsLength(
        chars=size, encoding="GSM-7", segments=expected, code_units=size
    )


@given(st.text(alphabet="中文还款提醒【】，。：0123456789abc", max_size=400))
def test_plain_chinese_text_packs_70_then_67(body: str) -> None:
    text = "【还款助手】" + body
    size = len(text)
    expected = 1 if size <= 70 else -(-size // 67)
    assert measure_sms(text) == SmsLength(
        chars=size, encoding="UCS-2", segments=expected, code_units=size
    )


@given(st.text(max_size=300))
def test_code_units_are_utf16_units_for_ucs2(text: str) -> None:
    length = measure_sms(text)
    assert length.chars == len(text)
    if length.encoding == "UCS-2":
        assert length.code_units == len(text.encode("utf-16-le", "surrogatepass")) // 2
    assert length.segments >= 1


_UNIT_SIZES = st.sampled_from([1, 1, 1, 2, 2, 3, 5, 8, 11, 32, 40, 80])


@given(st.sampled_from([7, 16]), st.lists(_UNIT_SIZES, min_size=1, max_size=400))
def test_run_packing_equals_the_calculators_step_by_step_packing(
    unit_bits: int, units: list[int]
) -> None:
    if sum(units) * unit_bits <= 1120:
        return  # _pack_runs is only asked about texts longer than one part
    runs = [(size, len(list(group))) for size, group in itertools.groupby(units)]
    expected = segments._pack_like_calculator(size * unit_bits for size in units)
    assert segments._pack_runs(runs, unit_bits) == expected


_TRICKY = "\u0301\u200d\ufe0f\u20e3\u0903\u0600\u1100\u1161\u11a8\uac00\r\n€a中👨👩🏽🇨🔥❤♀"


@given(st.text(alphabet=_TRICKY + "中" * 20, max_size=80))
def test_cluster_runs_equal_the_full_cluster_walk(text: str) -> None:
    expanded = [units for units, count in cluster_unit_runs(text) for _ in range(count)]
    assert expanded == [utf16_units(cluster) for cluster in clusters(text)]
