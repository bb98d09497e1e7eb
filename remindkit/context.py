"""Preview context files (SPEC §9): ``{"borrower": {...}, "loan": {...}, "now"?, "platform"?}``.

Fields carry the feed's names (§3), so a sample context and a feed row mean the same;
errors name the field as the file does (``borrower.phone: not a valid mobile number``).
``"loans": [{...}, ...]`` may list several installments of the borrower (a consolidated
message, §5.5) instead of one ``"loan"``.

Context files are read like feed rows (:mod:`remindkit.parse`), and bounded like them: at
most :data:`MAX_CONTEXT_BYTES`, :data:`MAX_LOANS` installments, nesting within Python's
stack; ``now`` from 2000 to 2099 like ``--at``.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from remindkit.clock import parse_instant
from remindkit.config import PlatformSettings
from remindkit.errors import ConfigError, FieldError
from remindkit.feedtext import loads_json
from remindkit.models import Installment, Platform
from remindkit.parse import (
    BORROWER_FIELDS,
    KNOWN_FIELDS,
    LOAN_FIELDS,
    Label,
    parse_installment,
    section_label,
)

MAX_CONTEXT_BYTES = 1 << 20
# A consolidated message lists one borrower's installments of a day; the planner never
# merges more than a borrower has, and a template loops over them within its budget.
MAX_LOANS = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class PreviewInput:
    """A borrower's installments, the platform to sign with, and the context's ``now``."""

    installments: tuple[Installment, ...]
    platform: Platform
    now: datetime | None


def load_preview_input(path: Path, platform: Platform) -> PreviewInput:
    """Read and validate a context file; ``platform`` is used unless the file overrides it."""
    try:
        # utf-8-sig: Windows editors save a BOM, which json.loads refuses.
        data = loads_json(_read_bounded(path).decode("utf-8-sig"))
    except FileNotFoundError:
        raise FieldError("--context", f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise FieldError("--context", f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:  # a directory, no permission: a message, not a traceback
        raise FieldError("--context", f"{path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise FieldError(
            "--context", f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise FieldError("--context", f"{path}: invalid JSON: nested too deeply") from None
    return preview_input_from(data, platform)


def _read_bounded(path: Path) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(MAX_CONTEXT_BYTES + 1)
    if len(data) > MAX_CONTEXT_BYTES:
        raise FieldError("--context", f"{path}: larger than {MAX_CONTEXT_BYTES:,} bytes")
    return data


def preview_input_from(data: object, platform: Platform) -> PreviewInput:
    """Validate an already parsed context; errors name the field as the file spells it."""
    if not isinstance(data, Mapping):
        raise FieldError("context", "must be a JSON object with borrower and loan")
    _known_keys(data, "", _TOP_LEVEL)
    borrower = _section(data, "borrower")
    _known_keys(borrower, "borrower.", BORROWER_FIELDS | LOAN_FIELDS)
    loans = _loans(data)
    for index, loan in enumerate(loans):
        where = "loan." if "loan" in data else f"loans[{index}]."
        _no_typos(loan, where, KNOWN_FIELDS)
    installments = tuple(
        parse_installment({**borrower, **loan}, _label_for(index, len(loans)))
        for index, loan in enumerate(loans)
    )
    now = data.get("now")
    if now is not None and type(now) is not str:
        raise FieldError("now", "must be ISO 8601 text with an offset")
    try:
        parsed_now = parse_instant(now, "now") if now else None
    except ValueError as exc:
        raise FieldError("now", str(exc).removeprefix("now: ")) from None
    return PreviewInput(
        installments=installments,
        platform=_platform(data.get("platform"), platform),
        now=parsed_now,
    )


_TOP_LEVEL = frozenset({"borrower", "loan", "loans", "now", "platform"})


def _known_keys(section: Mapping[str, Any], prefix: str, known: frozenset[str]) -> None:
    """An unknown key is an error naming it, with the closest known one (``gendr``)."""
    for key in section:
        if key not in known:
            raise FieldError(f"{prefix}{key}", _unknown(str(key), known))


def _no_typos(loan: Mapping[str, Any], prefix: str, known: frozenset[str]) -> None:
    """A loan's other keys are extra columns (``loan.extra``, as in a feed), unless one is
    a near miss of a field (``amout_due``): that is a typo, not a column."""
    for key in loan:
        if key not in known and difflib.get_close_matches(str(key), known, n=1, cutoff=0.8):
            raise FieldError(f"{prefix}{key}", _unknown(str(key), known))


def _unknown(key: str, known: frozenset[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1)
    return (
        f"unknown field (did you mean {close[0]}?)"
        if close
        else (f"unknown field (known: {', '.join(sorted(known))})")
    )


def _section(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    section = data.get(name)
    if section is None:
        raise FieldError(name, "required")
    if not isinstance(section, Mapping):
        raise FieldError(name, "must be a JSON object")
    return section


def _loans(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if "loans" not in data:
        return [_section(data, "loan")]
    loans = data["loans"]
    if not isinstance(loans, list) or not loans:
        raise FieldError("loans", "must be a non-empty list of loan objects")
    if len(loans) > MAX_LOANS:
        raise FieldError("loans", f"at most {MAX_LOANS} installments, got {len(loans)}")
    for index, loan in enumerate(loans):
        if not isinstance(loan, Mapping):
            raise FieldError(f"loans[{index}]", "must be a JSON object")
    return loans


def _label_for(index: int, count: int) -> Label:
    if count == 1:
        return section_label

    def label(name: str) -> str:
        full = section_label(name)
        return full.replace("loan.", f"loans[{index}].", 1) if full.startswith("loan.") else full

    return label


def _platform(override: object, default: Platform) -> Platform:
    if override is None:
        return default
    if not isinstance(override, Mapping):
        raise FieldError("platform", "must be a JSON object")
    merged = asdict(default) | dict(override)
    try:
        return PlatformSettings.model_validate(merged).to_platform()
    except ConfigError as exc:
        raise FieldError(f"platform.{exc.key}", exc.reason) from None
