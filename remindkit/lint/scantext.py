"""Text as the linter scans it: normalised for matching, mapped back to lines and excerpts.

Writers break SMS lines anywhere and the renderer joins them, so matching ignores all
whitespace; full-width letters and digits fold to ASCII (``ＶＸ`` → ``vx``), ASCII
punctuation folds to the full-width forms the lexicon is written with, and Latin letters
are lower-cased. Invisible characters (zero-width space, soft hyphen) are dropped, and so
are runs of filler symbols between two Chinese characters (``后-果-自-负``, ``曝*光``): a
spammer's way round keyword filters, never needed between two hanzi of a reminder.
Each normalised character remembers the line and the raw character it came from, so a
finding can point at the ``.j2`` line and quote what the writer wrote.
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
_INVISIBLE = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")
# Folded forms of the symbols dropped between two hanzi (see the module docstring).
FILLERS = frozenset("-_*~.·•・‧'`^|/\\+=#—–‐")


def is_hanzi(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


@lru_cache(maxsize=4096)
def fold(char: str) -> str:
    """The normalised form of one raw character ('' for whitespace)."""
    if char in (PLACEHOLDER, BOUNDARY):
        return char
    if char.isspace() or char in _INVISIBLE:
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
        out = _Builder()
        offset = 0
        for piece, first_line in pieces:
            line = first_line
            for index, char in enumerate(piece):
                for folded in fold(char):
                    out.add(folded, offset + index, line)
                if char == "\n":
                    line += 1
            offset += len(piece)
        out.flush()
        return cls("".join(piece for piece, _ in pieces), "".join(out.norm), *out.positions())

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


class _Builder:
    """Collects normalised characters, holding fillers back until the next one decides."""

    def __init__(self) -> None:
        self.norm: list[str] = []
        self.origin: list[int] = []
        self.lines: list[int] = []
        self.held: list[tuple[str, int, int]] = []

    def add(self, folded: str, origin: int, line: int) -> None:
        if folded in FILLERS and (self.held or (self.norm and is_hanzi(self.norm[-1]))):
            self.held.append((folded, origin, line))
            return
        if self.held and is_hanzi(folded):
            self.held.clear()  # 后-果: the fillers between two hanzi go
        else:
            self.flush()
        self._keep(folded, origin, line)

    def flush(self) -> None:
        for held in self.held:
            self._keep(*held)
        self.held.clear()

    def _keep(self, folded: str, origin: int, line: int) -> None:
        self.norm.append(folded)
        self.origin.append(origin)
        self.lines.append(line)

    def positions(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return tuple(self.origin), tuple(self.lines)


def _scan_back(text: str, index: int, stops: frozenset[str]) -> int:
    start = index
    while start > 0 and text[start - 1] not in stops:
        start -= 1
    return start
