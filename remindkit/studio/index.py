"""The template list: every template of the catalog with its lint status and SMS parts.

Linting all templates takes a few hundred milliseconds, so each entry is kept with the
digest of the file it describes and recomputed only when the file's bytes change.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from remindkit.studio.checks import DraftChecker
from remindkit.studio.views import CHANNEL_LABELS, channel_order, stage_label, stage_order
from remindkit.studio.workspace import StoredText, Workspace


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One template as the list shows it."""

    template_id: str
    group_id: str
    stage: str
    channel: str
    variant: str
    description: str
    path: str
    errors: int
    warnings: int
    explained: int
    longest_parts: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "template_id": self.template_id,
            "group_id": self.group_id,
            "stage": self.stage,
            "stage_label": stage_label(self.stage),
            "channel": self.channel,
            "channel_label": CHANNEL_LABELS.get(self.channel, self.channel),
            "variant": self.variant,
            "description": self.description,
            "path": self.path,
            "errors": self.errors,
            "warnings": self.warnings,
            "explained": self.explained,
            "longest_parts": self.longest_parts,
        }


class TemplateIndex:
    """Entries for the workspace's templates, cached by file digest."""

    def __init__(self, workspace: Workspace, checker: DraftChecker) -> None:
        self.workspace = workspace
        self.checker = checker
        self._cache: dict[str, tuple[str, Entry]] = {}
        self._lock = threading.Lock()

    def entries(self) -> list[Entry]:
        found = []
        for template_id in self.workspace.template_ids():
            try:
                stored = self.workspace.read(template_id)
            except OSError:
                continue  # removed or unreadable since the listing: the next one shows it
            found.append(self.entry(stored))
        with self._lock:
            live = {entry.template_id for entry in found}
            self._cache = {k: v for k, v in self._cache.items() if k in live}
        return sorted(
            found, key=lambda e: (stage_order(e.stage), channel_order(e.channel), e.variant)
        )

    def entry(self, stored: StoredText) -> Entry:
        with self._lock:
            cached = self._cache.get(stored.template_id)
        if cached is not None and cached[0] == stored.sha256:
            return cached[1]
        entry = self._compute(stored)
        with self._lock:
            self._cache[stored.template_id] = (stored.sha256, entry)
        return entry

    def _compute(self, stored: StoredText) -> Entry:
        template = self.checker.template(stored.path, stored.text)
        check = self.checker.check(stored.path, stored.text)
        return Entry(
            template_id=stored.template_id,
            group_id=template.group_id,
            stage=template.stage,
            channel=template.channel.value,
            variant=template.variant,
            description=template.meta.description,
            path=self.workspace.relative(stored.path),
            errors=check.errors,
            warnings=check.warnings,
            explained=len(check.explained),
            longest_parts=self.checker.longest_parts(template),
        )
