"""Surnames and honorifics (SPEC §4.2): compound surnames, transliterated and Latin names."""

from __future__ import annotations

import pytest

from remindkit.models import Gender
from remindkit.render.names import COMPOUND_SURNAMES, honorific_of, surname_of


@pytest.mark.parametrize(
    ("name", "surname"),
    [
        ("欧阳娜娜", "欧阳"),
        ("司马相如", "司马"),
        ("诸葛亮", "诸葛"),
        ("上官婉儿", "上官"),
        ("皇甫嵩", "皇甫"),
        ("令狐冲", "令狐"),
        ("司马", "司"),  # two characters: surname 司, given name 马
        ("欧阳", "欧"),
        ("王芳", "王"),
        ("李", "李"),
        (" 张伟 ", "张"),
        ("马建国", "马"),
        ("买买提·艾力", "买买提"),
        ("买买提・艾力", "买买提"),  # katakana middle dot, a common input-method variant
        ("阿依古丽•吐尔逊", "阿依古丽"),
        ("John Smith", "Smith"),
        ("José García", "García"),
        ("Alice", "Alice"),
    ],
)
def test_surname_of(name: str, surname: str) -> None:
    assert surname_of(name) == surname


def test_every_compound_surname_is_two_han_characters() -> None:
    assert all(len(surname) == 2 for surname in COMPOUND_SURNAMES)
    assert {"欧阳", "司马", "诸葛", "上官", "皇甫", "令狐"} <= COMPOUND_SURNAMES


@pytest.mark.parametrize(
    ("name", "gender", "honorific"),
    [
        ("王芳", Gender.MALE, "王先生"),
        ("王芳", Gender.FEMALE, "王女士"),
        ("王芳", Gender.UNKNOWN, ""),
        ("欧阳娜娜", Gender.FEMALE, "欧阳女士"),
        ("欧阳娜娜", Gender.UNKNOWN, ""),
        ("诸葛亮", Gender.MALE, "诸葛先生"),
        ("买买提·艾力", Gender.MALE, "买买提先生"),
        ("买买提·艾力", Gender.UNKNOWN, ""),
        ("John Smith", Gender.FEMALE, "Smith女士"),
    ],
)
def test_honorific_of(name: str, gender: Gender, honorific: str) -> None:
    assert honorific_of(name, gender) == honorific


@pytest.mark.parametrize("name", ["王芳", "王娜", "王建国", "欧阳娜娜"])
def test_unknown_gender_is_never_guessed_from_the_given_name(name: str) -> None:
    # No 先生/女士 at all (SPEC §13): a plain 「您好」, or the platform's neutral address.
    assert honorific_of(name, Gender.UNKNOWN) == ""
    assert honorific_of(name, Gender.UNKNOWN, "尊敬的客户") == "尊敬的客户"
