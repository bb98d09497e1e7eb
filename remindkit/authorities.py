"""Names that impersonate an authority: police, courts, procurators, regulators, law firms.

Impersonating police, courts or other authorities is one of the eight prohibitions of the
China Banking Association's 2026 collection guideline (collection-rules §2). Templates are
checked for it by the linter's ``impersonation`` family; the lender's own names — the SMS
signature every message starts with, the platform and app names — are checked here
against the same family, at config load and by ``remindkit lint``.

This module reads that family straight from the linter's lexicon file, without the
linter itself, so loading a configuration stays light (the words are read once, on the
first name checked).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LEXICON = Path(__file__).resolve().parent / "lint" / "lexicon_zh_CN.toml"
FAMILY = "impersonation"
RULE = (
    "impersonating police, courts or other authorities is forbidden (CBA collection "
    "guideline 2026; collection-rules §2): a lender signs with its own name"
)


@dataclass(frozen=True, slots=True)
class _Family:
    terms: tuple[str, ...]
    patterns: re.Pattern[str] | None
    allow: re.Pattern[str] | None


def _normalised(text: str) -> str:
    # As the linter reads text: full-width forms folded, lower case, no spaces.
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def _either(patterns: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


@cache
def _family() -> _Family:
    data = tomllib.loads(LEXICON.read_text(encoding="utf-8"))
    entries = [entry for entry in data.get("entry", []) if entry.get("category") == FAMILY]
    terms = {_normalised(str(term)) for entry in entries for term in entry.get("terms", ())}
    return _Family(
        terms=tuple(sorted(term for term in terms if term)),
        patterns=_either([str(p) for entry in entries for p in entry.get("patterns", ())]),
        allow=_either([str(p) for entry in entries for p in entry.get("allow", ())]),
    )


def authority_words(name: str) -> list[str]:
    """The authority words ``name`` contains (``法院执行局`` → ``["法院"]``), in order;
    empty for a name of the lender's own. No negation excuses a name."""
    family = _family()
    text = _normalised(name)
    if family.allow is not None:
        text = family.allow.sub("\u3000", text)  # allowed phrases (央行征信) are not names
    found = [(text.find(term), term) for term in family.terms if term in text]
    if family.patterns is not None:
        found += [(m.start(), m.group()) for m in family.patterns.finditer(text) if m.group()]
    words: list[str] = []
    for _, word in sorted(found):
        if not any(word in longer for longer in words):
            words = [kept for kept in words if kept not in word] + [word]
    return words
