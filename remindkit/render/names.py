"""How to address a borrower: surname detection and the honorific (SPEC §4.2).

Message text never carries the full name by default (collection-rules §5): the
honorific is the surname plus 先生/女士. When the gender is unknown there is no 先生/女士
at all (SPEC §13): guessing is worse than a neutral address, and 「周先生/女士」 reads as a
mail-merge slip. The neutral address is the platform's (``尊敬的客户``) or nothing, so
``{{ borrower.honorific }}您好`` reads 「您好」.
"""

from __future__ import annotations

import re
from functools import lru_cache

from remindkit.models import Gender

# Two-character surnames still in use (百家姓 compound surnames). A three-character or
# longer name starting with one of these takes both characters as the surname.
COMPOUND_SURNAMES = frozenset(
    {
        "欧阳",
        "司马",
        "诸葛",
        "上官",
        "皇甫",
        "令狐",
        "东方",
        "独孤",
        "南宫",
        "慕容",
        "夏侯",
        "尉迟",
        "公孙",
        "长孙",
        "宇文",
        "司徒",
        "司空",
        "澹台",
        "端木",
        "轩辕",
        "钟离",
        "闻人",
        "西门",
        "呼延",
        "万俟",
        "赫连",
        "拓跋",
        "申屠",
        "太史",
        "百里",
        "东郭",
        "公冶",
        "濮阳",
        "淳于",
        "单于",
        "仲孙",
        "第五",
        "梁丘",
        "左丘",
        "谷梁",
        "宰父",
        "段干",
        "亓官",
        "司寇",
        "巫马",
        "羊舌",
        "微生",
        "公羊",
        "乐正",
        "壤驷",
        "公良",
        "漆雕",
        "颛孙",
        "子车",
        "鲜于",
        "闾丘",
        "东门",
        "哥舒",
        "完颜",
        "纳兰",
        "爱新",
        "叶赫",
        "公西",
        "公伯",
        "南门",
        "太叔",
        "申叔",
    }
)

_TITLES = {Gender.MALE: "先生", Gender.FEMALE: "女士"}
_NAME_DOTS = ("·", "•", "・", "．")
_HAN = re.compile("[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")


@lru_cache(maxsize=65536)
def surname_of(name: str) -> str:
    """The part of ``name`` used in an address.

    - Han names: the compound surname (欧阳娜娜 → 欧阳) or the first character (王芳 → 王).
    - Transliterated names with a middle dot (买买提·艾力): the first part, which is how
      such names are addressed (买买提先生); they have no family name in the Han sense.
    - Names without Han characters (John Smith, José García): the last word.
    """
    name = name.strip()
    for dot in _NAME_DOTS:
        if dot in name:
            return name.split(dot, 1)[0].strip()
    if not _HAN.search(name):  # not isascii(): José García must not become J先生
        words = name.split()
        return words[-1] if words else name
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2]
    return name[:1]


def honorific_of(name: str, gender: Gender, neutral: str = "") -> str:
    """王先生 / 欧阳女士; gender unknown: ``neutral`` (尊敬的客户, or empty), never a guess."""
    title = _TITLES.get(gender)
    return neutral if title is None else f"{surname_of(name)}{title}"
