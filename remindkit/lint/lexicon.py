"""The forbidden-language lexicon: a packaged TOML data file and its matcher.

Each entry belongs to a category (threat, insult, exposure, …) that carries the rule id,
severity, legal basis and advice shown to writers. Matching runs on normalised text
(:mod:`remindkit.lint.scantext`). A match is dropped when

* it lies inside an occurrence of one of the entry's ``allow`` patterns, or
* the entry is *negatable* and either a negation cue (不会, 请勿, 谨防 …) precedes it in the
  same clause with no breaker (以为, 逼, 就 …) in between, or its sentence is an
  anti-fraud warning (…均为诈骗);

and a match inside a longer (or equally long, more severe) match of another entry is
dropped so one phrase yields one finding: its longest reading decides, excused or not.
Literal terms (most of the lexicon) are found with a first-character index, an
Aho-Corasick-like single pass that needs no regex compilation (compiling ~700
alternatives costs ~0.2 s, a noticeable share of a lint run); only the few true patterns
are regexes.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from remindkit.errors import ConfigError
from remindkit.lint.findings import Rule, Severity
from remindkit.lint.scantext import ScanText, normalise

LEXICON_FILE = "lexicon_zh_CN.toml"


@dataclass(frozen=True, slots=True, kw_only=True)
class Category:
    name: str
    label: str
    rule: Rule
    severity: Severity
    basis: str
    advice: str
    negatable: bool
    notification_only: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    category: Category
    severity: Severity
    negatable: bool
    terms: tuple[str, ...]
    regex: re.Pattern[str] | None
    allow: re.Pattern[str] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Negation:
    window: int
    cues: re.Pattern[str]
    breakers: re.Pattern[str]
    frames: re.Pattern[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """One lexicon hit on normalised text ``[start, end)``."""

    entry: Entry
    start: int
    end: int
    phrase: str

    @property
    def category(self) -> Category:
        return self.entry.category

    @property
    def severity(self) -> Severity:
        return self.entry.severity

    def covers(self, other: Match) -> bool:
        """True when this match makes ``other`` redundant (longer, or same span but worse)."""
        if self is other or not (self.start <= other.start and other.end <= self.end):
            return False
        if (self.end - self.start) > (other.end - other.start):
            return True
        return _rank(self.severity) > _rank(other.severity)


def _rank(severity: Severity) -> int:
    return 1 if severity is Severity.ERROR else 0


@dataclass(frozen=True, slots=True)
class Lexicon:
    categories: Mapping[str, Category]
    entries: tuple[Entry, ...]
    negation: Negation
    index: Mapping[str, tuple[tuple[str, Entry], ...]]

    def scan(self, text: ScanText, *, notification: bool = True) -> list[Match]:
        """Every hit in ``text`` that no allowed context or negation excuses."""
        hits = [*self._term_hits(text.text), *self._pattern_hits(text.text)]
        if not notification:
            hits = [hit for hit in hits if not hit.category.notification_only]
        # Coverage first: a phrase is read as its longest match, so when "从未委托任何律师事务所"
        # excuses 律师事务所, the 律师 inside it is not reported on its own.
        longest = [hit for hit in hits if not any(other.covers(hit) for other in hits)]
        return _merge([hit for hit in longest if not self._excused(hit, text)], text)

    def _term_hits(self, text: str) -> Iterable[Match]:
        for start, char in enumerate(text):
            for term, entry in self.index.get(char, ()):
                if text.startswith(term, start):
                    yield Match(entry=entry, start=start, end=start + len(term), phrase=term)

    def _pattern_hits(self, text: str) -> Iterable[Match]:
        for entry in self.entries:
            if entry.regex is None:
                continue
            for m in entry.regex.finditer(text):
                if m.end() > m.start():
                    yield Match(entry=entry, start=m.start(), end=m.end(), phrase=m.group())

    def _excused(self, hit: Match, text: ScanText) -> bool:
        if hit.entry.allow is not None and _inside_allowed(hit, hit.entry.allow, text.text):
            return True
        return hit.entry.negatable and (self._negated(hit, text) or self._framed(hit, text))

    def _negated(self, hit: Match, text: ScanText) -> bool:
        start = max(text.clause_start(hit.start), hit.start - self.negation.window)
        window = text.text[start : hit.start]
        # Any breaker cancels: "别以为我们不会通知…" and "不还就…" are threats, not assurances.
        return bool(self.negation.cues.search(window)) and not self.negation.breakers.search(window)

    def _framed(self, hit: Match, text: ScanText) -> bool:
        start, end = text.sentence_span(hit.start)
        return self.negation.frames.search(text.text, start, end) is not None


def _merge(hits: list[Match], text: ScanText) -> list[Match]:
    """Fuse overlapping or touching hits of one category (加微信 + 微信联系 → 加微信联系)."""
    merged: list[Match] = []
    for hit in sorted(hits, key=lambda h: (h.category.name, h.start, -h.end)):
        last = merged[-1] if merged else None
        if last is not None and last.category is hit.category and hit.start <= last.end:
            end = max(last.end, hit.end)
            entry = last.entry if _rank(last.severity) >= _rank(hit.severity) else hit.entry
            merged[-1] = Match(
                entry=entry, start=last.start, end=end, phrase=text.text[last.start : end]
            )
        else:
            merged.append(hit)
    return sorted(merged, key=lambda h: (h.start, h.end))


def _inside_allowed(hit: Match, allow: re.Pattern[str], text: str) -> bool:
    # Allowed contexts are short phrases: looking 40 characters around the hit is enough.
    spans = allow.finditer(text, max(0, hit.start - 40), hit.end + 40)
    return any(m.start() <= hit.start and hit.end <= m.end() for m in spans)


def _alternation(terms: Iterable[str], patterns: Iterable[str]) -> str:
    literal = sorted({normalise(term) for term in terms}, key=len, reverse=True)
    parts = [re.escape(term) for term in literal if term] + list(patterns)
    return "|".join(f"(?:{part})" for part in parts)


def _build_index(entries: Iterable[Entry]) -> dict[str, tuple[tuple[str, Entry], ...]]:
    index: dict[str, list[tuple[str, Entry]]] = {}
    for entry in entries:
        for term in entry.terms:
            index.setdefault(term[0], []).append((term, entry))
    return {char: tuple(items) for char, items in index.items()}


def _category(name: str, raw: Mapping[str, Any]) -> Category:
    try:
        return Category(
            name=name,
            label=str(raw["label"]),
            rule=Rule(raw.get("rule", Rule.FORBIDDEN_PHRASE.value)),
            severity=Severity(raw["severity"]),
            basis=str(raw["basis"]),
            advice=str(raw["advice"]),
            negatable=bool(raw.get("negatable", False)),
            notification_only=raw.get("applies_to", "all") == "notification",
        )
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"lexicon.categories.{name}", f"invalid category: {exc}") from exc


def _entry(index: int, raw: Mapping[str, Any], categories: Mapping[str, Category]) -> Entry:
    where = f"lexicon.entry[{index}]"
    category = categories.get(str(raw.get("category")))
    if category is None:
        raise ConfigError(where, f"unknown category {raw.get('category')!r}")
    terms = tuple(sorted({t for t in (normalise(str(x)) for x in raw.get("terms", ())) if t}))
    patterns = [str(p) for p in raw.get("patterns", ())]
    if not terms and not patterns:
        raise ConfigError(where, "entry has neither terms nor patterns")
    allow = raw.get("allow", ())
    try:
        return Entry(
            category=category,
            severity=Severity(raw.get("severity", category.severity.value)),
            negatable=bool(raw.get("negatable", category.negatable)),
            terms=terms,
            regex=re.compile(_alternation((), patterns)) if patterns else None,
            allow=re.compile(_alternation((), allow)) if allow else None,
        )
    except (re.error, ValueError) as exc:
        raise ConfigError(where, f"invalid entry: {exc}") from exc


def _literals(terms: Iterable[str]) -> re.Pattern[str]:
    """One regex for a list of phrases; an empty list matches nothing (not everything)."""
    return re.compile(_alternation(terms, ()) or "(?!)")


def _negation(raw: Mapping[str, Any]) -> Negation:
    return Negation(
        window=int(raw.get("window", 16)),
        cues=_literals(raw.get("cues", ())),
        breakers=_literals(raw.get("breakers", ())),
        frames=_literals(raw.get("frames", ())),
    )


def parse_lexicon(data: Mapping[str, Any]) -> Lexicon:
    """Build a :class:`Lexicon` from the parsed TOML document."""
    categories = {name: _category(name, raw) for name, raw in data.get("categories", {}).items()}
    entries = tuple(_entry(i, raw, categories) for i, raw in enumerate(data.get("entry", [])))
    return Lexicon(categories, entries, _negation(data.get("negation", {})), _build_index(entries))


@cache
def default_lexicon() -> Lexicon:
    """The packaged zh_CN lexicon, parsed once per process."""
    text = resources.files("remindkit.lint").joinpath(LEXICON_FILE).read_text(encoding="utf-8")
    return parse_lexicon(tomllib.loads(text))
