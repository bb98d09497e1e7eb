"""The template catalog: files, ids, metadata, variants and locale fallback (SPEC §4.1, §5.4).

Layout: ``<root>/<locale>/<stage>/<channel>.j2`` and variants ``<channel>.<variant>.j2``.
The template id is ``<stage>/<channel>`` (the base file, variant ``a``) or
``<stage>/<channel>.<variant>``. Every file opens with a metadata block: YAML inside a
Jinja comment, so the file stays plain Jinja and line numbers stay the file's own.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import reprlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

from remindkit.errors import TemplateBudgetError, TemplateNotFoundError, TemplateSyntaxError
from remindkit.models import Channel
from remindkit.render.budget import MAX_TEMPLATE_BYTES

DEFAULT_LOCALE = "zh_CN"
BASE_VARIANT = "a"
SUFFIX = ".j2"
Tone = Literal["gentle", "caring", "firm"]
Purpose = Literal["notification", "marketing"]
_META = re.compile(r"\A\{#-?[ \t]*\n(?P<yaml>.*?)\n[ \t]*-?#\}", re.DOTALL)
_VARIANT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
# YAML aliases can nest a value a billion items deep in a few lines: show a bad value cut
# short instead of walking it.
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring = 2, 4, 4, 40
_META_KEYS = frozenset(
    {"description", "tone", "weight", "audience", "purpose", "max_parts", "parts_reason", "lint"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateMeta:
    """What the content team declares about a template in its metadata block."""

    description: str
    tone: Tone = "gentle"
    weight: float = 1.0
    audience: Literal["borrower"] = "borrower"
    purpose: Purpose = "notification"
    max_parts: int = 1
    parts_reason: str = ""
    lint: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class TemplateFile:
    """One template file of the catalog with its parsed metadata."""

    template_id: str
    group_id: str
    stage: str
    channel: Channel
    variant: str
    locale: str
    path: Path
    source: str
    meta: TemplateMeta
    meta_end_line: int  # last line of the metadata block (0 if none)


@lru_cache(maxsize=64)
def locale_chain(locale: str) -> tuple[str, ...]:
    """``zh_HK`` → (zh_HK, zh, zh_CN): a locale's own files first, then Simplified Chinese."""
    normalised = locale.replace("-", "_")
    chain = [normalised, normalised.split("_", 1)[0], DEFAULT_LOCALE]
    return tuple(dict.fromkeys(chain))


def is_variant_name(name: str) -> bool:
    """A variant name a file may carry: lower-case letters, digits, ``_`` or ``-``, ≤ 32."""
    return _VARIANT_NAME.fullmatch(name) is not None


def split_template_id(template_id: str) -> tuple[str, str, str]:
    """``overdue_early/sms.b`` → (stage, channel, variant); the base file is variant ``a``."""
    stage, sep, rest = template_id.partition("/")
    if not sep or not stage or not rest:
        raise ValueError(template_id)
    channel, _, variant = rest.partition(".")
    return stage, channel, variant or BASE_VARIANT


class TemplateCatalog:
    """Discovers template files under a root and answers by template id and locale."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._files: dict[tuple[str, str], TemplateFile] = {}
        self._variants: dict[tuple[str, str], list[TemplateFile]] = {}

    @cached_property
    def _paths(self) -> dict[tuple[str, str], Path]:
        """(locale, template id) → file path, for every ``.j2`` under the root."""
        found: dict[tuple[str, str], Path] = {}
        for path in sorted(self.root.glob(f"*/*/*{SUFFIX}")):
            locale, stage = path.parent.parent.name, path.parent.name
            name = path.name.removesuffix(SUFFIX)
            variant = name.partition(".")[2]
            template_id = f"{stage}/{name}"
            if variant == BASE_VARIANT:
                continue  # `sms.a.j2` would shadow the base file's id; the base file is `a`
            found[(locale, template_id)] = path
        return found

    def locales(self) -> list[str]:
        return sorted({locale for locale, _ in self._paths})

    def ids(self, locale: str = DEFAULT_LOCALE) -> list[str]:
        """Every template id (variants included) available for ``locale``."""
        chain = locale_chain(locale)
        return sorted({tid for loc, tid in self._paths if loc in chain})

    def group_ids(self, locale: str = DEFAULT_LOCALE) -> list[str]:
        return sorted({tid.split(".", 1)[0] for tid in self.ids(locale)})

    def get(self, template_id: str, locale: str = DEFAULT_LOCALE) -> TemplateFile:
        """The file for ``template_id``, from the first locale of the fallback chain that has it."""
        normalised = template_id.removesuffix(SUFFIX)
        if normalised.endswith(f".{BASE_VARIANT}"):
            normalised = normalised.removesuffix(f".{BASE_VARIANT}")
        for candidate in locale_chain(locale):
            path = self._paths.get((candidate, normalised))
            if path is not None:
                return self._load(candidate, normalised, path)
        raise TemplateNotFoundError(template_id, self.suggest(template_id, locale))

    def variants(self, group_id: str, locale: str = DEFAULT_LOCALE) -> list[TemplateFile]:
        """The base file and every variant of ``<stage>/<channel>``, base first."""
        cached = self._variants.get((group_id, locale))
        if cached is not None:
            return cached
        prefix = f"{group_id}."
        ids = [tid for tid in self.ids(locale) if tid == group_id or tid.startswith(prefix)]
        if not ids:
            raise TemplateNotFoundError(group_id, self.suggest(group_id, locale))
        found = sorted((self.get(tid, locale) for tid in ids), key=lambda f: f.variant)
        self._variants[(group_id, locale)] = found
        return found

    def pick(self, group_id: str, borrower_id: str, locale: str = DEFAULT_LOCALE) -> TemplateFile:
        """A stable weighted choice among the variants of ``group_id`` for one borrower (§5.4).

        The hash of (borrower id, group id) places the borrower on [0, 1); the variants'
        weights cut that interval. The same borrower always sees the same voice, and
        adding a variant moves only the borrowers whose slice changed owner.
        """
        options = self.variants(group_id, locale)
        if len(options) == 1:
            return options[0]
        digest = hashlib.sha256(f"{borrower_id}\x1f{group_id}".encode()).digest()
        point = int.from_bytes(digest[:8], "big") / 2**64 * sum(f.meta.weight for f in options)
        for option in options:
            point -= option.meta.weight
            if point < 0:
                return option
        return options[-1]

    def suggest(self, template_id: str, locale: str = DEFAULT_LOCALE) -> list[str]:
        return difflib.get_close_matches(template_id, self.ids(locale), n=3, cutoff=0.5)

    def _load(self, locale: str, template_id: str, path: Path) -> TemplateFile:
        cached = self._files.get((locale, template_id))
        if cached is not None:
            return cached
        size = path.stat().st_size
        if size > MAX_TEMPLATE_BYTES:
            raise TemplateBudgetError(
                template_id,
                "template size",
                f"over the template size budget ({MAX_TEMPLATE_BYTES // 1024} KiB): the file "
                f"has {size:,} bytes",
                1,
            )
        # utf-8-sig: editors on Windows save a BOM, which would hide the metadata block.
        source = path.read_text(encoding="utf-8-sig")
        stage, channel, variant = split_template_id(template_id)
        meta, meta_end = parse_metadata(template_id, source)
        try:
            channel_value = Channel(channel)
        except ValueError:
            raise TemplateSyntaxError(
                template_id, f"unknown channel '{channel}' in the file name (sms, push)"
            ) from None
        if not is_variant_name(variant):
            raise TemplateSyntaxError(template_id, f"bad variant name '{variant}'")
        loaded = TemplateFile(
            template_id=template_id,
            group_id=f"{stage}/{channel}",
            stage=stage,
            channel=channel_value,
            variant=variant,
            locale=locale,
            path=path,
            source=source,
            meta=meta,
            meta_end_line=meta_end,
        )
        self._files[(locale, template_id)] = loaded
        return loaded


def parse_metadata(template_id: str, source: str) -> tuple[TemplateMeta, int]:
    """The metadata block at the top of a template, validated; errors name the line."""
    match = _META.match(source)
    if match is None:
        raise TemplateSyntaxError(
            template_id, "the file must start with a metadata block ({#- … -#} with YAML)", 1
        )
    end_line = source.count("\n", 0, match.end()) + 1
    try:
        data = yaml.safe_load(match.group("yaml")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        # PyYAML's own text counts lines of the YAML alone and names "<unicode string>".
        problem = getattr(exc, "problem", None) or "not valid YAML"
        column = f", column {mark.column + 1}" if mark is not None else ""
        raise TemplateSyntaxError(
            template_id, f"metadata: invalid YAML: {problem}{column}", line
        ) from exc
    if not isinstance(data, dict):
        raise TemplateSyntaxError(template_id, "metadata must be a YAML mapping", 2)
    return _validate_meta(template_id, data, match.group("yaml")), end_line


_CHOICES: dict[str, tuple[str, ...]] = {
    "tone": ("gentle", "caring", "firm"),
    "audience": ("borrower",),
    "purpose": ("notification", "marketing"),
}


def _validate_meta(template_id: str, data: dict[str, Any], text: str) -> TemplateMeta:
    def fail(key: str, reason: str) -> TemplateSyntaxError:
        return TemplateSyntaxError(template_id, f"metadata.{key}: {reason}", _key_line(text, key))

    unknown = sorted(set(data) - _META_KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown key (allowed: {', '.join(sorted(_META_KEYS))})")
    if not isinstance(data.get("description"), str) or not data["description"].strip():
        raise fail("description", "required text")
    for key, allowed in _CHOICES.items():
        if key in data and data[key] not in allowed:
            raise fail(key, f"expected one of {', '.join(allowed)}, got {_shown(data[key])}")
    weight = data.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
        raise fail("weight", f"must be a number > 0, got {_shown(weight)}")
    max_parts, reason = _parts(data, fail)
    lint = data.get("lint") or {}
    if not isinstance(lint, dict) or not all(isinstance(v, str) for v in lint.values()):
        raise fail("lint", "must map rule ids to the reason a warning is accepted")
    return TemplateMeta(
        description=data["description"].strip(),
        tone=data.get("tone", "gentle"),
        weight=float(weight),
        audience="borrower",
        purpose=data.get("purpose", "notification"),
        max_parts=max_parts,
        parts_reason=reason,
        lint={str(k): v for k, v in lint.items()},
    )


def _parts(
    data: dict[str, Any], fail: Callable[[str, str], TemplateSyntaxError]
) -> tuple[int, str]:
    """``max_parts`` and its ``parts_reason``, required above one part."""
    max_parts = data.get("max_parts", 1)
    if isinstance(max_parts, bool) or not isinstance(max_parts, int) or not 1 <= max_parts <= 7:
        raise fail("max_parts", f"must be a whole number from 1 to 7, got {_shown(max_parts)}")
    reason = str(data.get("parts_reason") or "").strip()
    if max_parts > 1 and not reason:
        raise fail(
            "parts_reason", "required when max_parts is above 1: say why it needs more parts"
        )
    return max_parts, reason


def _shown(value: object) -> str:
    return _REPR.repr(value)


def _key_line(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), start=2):
        if line.lstrip().startswith(f"{key}:"):
            return number
    return 1
