"""Text as the linter scans it: normalised for matching, mapped back to lines and excerpts.

Writers break SMS lines anywhere and the renderer joins them, so matching ignores all
whitespace; full-width letters and digits fold to ASCII (``ＶＸ`` → ``vx``), ASCII
punctuation folds to the full-width forms the lexicon is written with, and Latin letters
are lower-cased. Each normalised character remembers the line and the raw character it
came from, so a finding can point at the ``.j2`` line and quote what the writer wrote.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

PLACEHOLDER = "\ufffc"  # stands for one template expression ({{ ... }})
BOUNDARY = "\u2029"  # separates pieces that are never read together (title | body)
CLAUSE_ENDS = frozenset("。，！？；：\n" + BOUNDARY)
SENTENCE_ENDS = frozenset("。！？；\n" + BOUNDARY)
_ASCII_TO_WIDE = str.maketrans({",": "，", ";": "；", "!": "！", "?": "？", ":": "："})


@lru_cache(maxsize=4096)
def fold(char: str) -> str:
    """The normalised form of one raw character ('' for whitespace)."""
    if char in (PLACEHOLDER, BOUNDARY):
        return char
    if char.isspace():
        return ""
    return unicodedata.normalize("NFKC", char).translate(_ASCII_TO_WIDE).lower()


def normalise(text: str) -> str:
    """Normalise a phrase the way scanned text is normalised (used for lexicon terms)."""
    return "".join(fold(char) for char in text)


@dataclass(frozen=True, slots=True)
class ScanText:
    """Normalised ``text`` with, per character, its raw index and its line."""

    raw: str
    text: str
    origin: tuple[int, ...]
    lines: tuple[int, ...]

    @classmethod
    def build(cls, pieces: list[tuple[str, int]]) -> ScanText:
        """Join raw ``(text, first_line)`` pieces; line numbers advance on each newline."""
        raw_parts: list[str] = []
        norm: list[str] = []
        origin: list[int] = []
        lines: list[int] = []
        offset = 0
        for piece, first_line in pieces:
            line = first_line
            for index, char in enumerate(piece):
                for folded in fold(char):
                    norm.append(folded)
                    origin.append(offset + index)
                    lines.append(line)
                if char == "\n":
                    line += 1
            raw_parts.append(piece)
            offset += len(piece)
        return cls("".join(raw_parts), "".join(norm), tuple(origin), tuple(lines))

    @classmethod
    def of(cls, text: str, line: int = 1) -> ScanText:
        return cls.build([(text, line)])

    def line_at(self, index: int) -> int:
        if not self.lines:
            return 0
        return self.lines[min(index, len(self.lines) - 1)]

    def excerpt(self, start: int, end: int) -> str:
        """The raw text behind normalised ``[start, end)``, placeholders shown as ``{{…}}``."""
        if start >= end or not self.origin:
            return ""
        raw = self.raw[self.origin[start] : self.origin[end - 1] + 1]
        return raw.replace(PLACEHOLDER, "{{…}}").replace(BOUNDARY, " ")

    def clause_start(self, index: int) -> int:
        """Index of the first character of the clause holding ``index``."""
        return _scan_back(self.text, index, CLAUSE_ENDS)

    def sentence_span(self, index: int) -> tuple[int, int]:
        start = _scan_back(self.text, index, SENTENCE_ENDS)
        end = index
        while end < len(self.text) and self.text[end] not in SENTENCE_ENDS:
            end += 1
        return start, end


def _scan_back(text: str, index: int, stops: frozenset[str]) -> int:
    start = index
    while start > 0 and text[start - 1] not in stops:
        start -= 1
    return start
