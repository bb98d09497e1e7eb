"""The templates directory as the studio reads and writes it: safe paths, atomic writes.

Template ids arrive from a web page, so a path is never taken from the request: an id
must read ``<stage>/<channel>`` or ``<stage>/<channel>.<variant>`` (no ``/`` beyond the
first, no ``..``, nothing absolute), is turned into ``<locale>/<stage>/<file>.j2`` under
the root, and the path it *resolves* to (symlinks followed) must lie inside the resolved
root. A save writes a temporary file beside the target, flushes it to disk and renames
it over the file, so a crash leaves the old text or the new one, never half of either;
it first checks that the file still holds the text the writer started from.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from remindkit.errors import TemplateNotFoundError, UnsafePathError
from remindkit.models import Channel
from remindkit.render import DEFAULT_LOCALE, TemplateCatalog
from remindkit.render.catalog import BASE_VARIANT, SUFFIX, is_variant_name, locale_chain

_TEMPLATE_ID = re.compile(
    r"(?P<stage>[a-z][a-z0-9_]{0,63})/(?P<channel>[a-z]+)(?:\.(?P<variant>[^/]+))?"
)
_CHANNELS = frozenset(channel.value for channel in Channel)
_NEW_FILE_MODE = 0o644


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredText:
    """A template file's text and the digest of its bytes (what a save must still find)."""

    template_id: str
    path: Path
    text: str
    sha256: str


class SaveConflictError(Exception):
    """The file changed on disk since the writer opened it; ``current`` is its text now."""

    def __init__(self, current: StoredText) -> None:
        self.current = current
        super().__init__(f"{current.template_id}: changed on disk since it was opened")


class Workspace:
    """One templates root: lists its templates, maps ids to safe paths, reads and writes."""

    def __init__(self, root: Path, *, locale: str = DEFAULT_LOCALE, writable: bool = True) -> None:
        self.root = Path(root).resolve(strict=True)
        self.locale = locale
        self.writable = writable
        self._lock = threading.Lock()

    def catalog(self) -> TemplateCatalog:
        """A fresh catalog: files are added and changed while the studio runs."""
        return TemplateCatalog(self.root)

    def template_ids(self) -> list[str]:
        """Every template id of the locale whose file stays inside the root."""
        ids = []
        for template_id in self.catalog().ids(self.locale):
            with contextlib.suppress(UnsafePathError, TemplateNotFoundError):
                self.path_of(template_id)
                ids.append(template_id)
        return ids

    # -- paths ------------------------------------------------------------------------------
    def path_of(self, template_id: str) -> Path:
        """The existing file of ``template_id`` (own locale first, then its fallbacks)."""
        for locale in locale_chain(self.locale):
            candidate = self._candidate(template_id, locale)
            if candidate.exists() or candidate.is_symlink():
                resolved = self._inside(template_id, candidate)
                if resolved.is_file():
                    return resolved
        catalog = self.catalog()
        raise TemplateNotFoundError(template_id, catalog.suggest(template_id, self.locale))

    def new_path(self, template_id: str) -> Path:
        """Where a new template ``template_id`` goes: the studio's own locale directory."""
        return self._inside(template_id, self._candidate(template_id, self.locale))

    def _candidate(self, template_id: str, locale: str) -> Path:
        stage, channel, variant = parse_template_id(template_id)
        name = channel if variant == BASE_VARIANT else f"{channel}.{variant}"
        return self.root / locale / stage / f"{name}{SUFFIX}"

    def _inside(self, template_id: str, candidate: Path) -> Path:
        resolved = candidate.resolve()
        if not resolved.is_relative_to(self.root):
            raise UnsafePathError(template_id, "文件链接到模板目录之外，已拒绝")
        return resolved

    # -- reading and writing ---------------------------------------------------------------
    def read(self, template_id: str) -> StoredText:
        path = self.path_of(template_id)
        data = path.read_bytes()
        return StoredText(template_id, path, data.decode("utf-8-sig"), digest(data))

    def save(self, template_id: str, text: str, expected_sha256: str) -> StoredText:
        """Replace the file's text atomically if it still has digest ``expected_sha256``."""
        self.require_writable()
        with self._lock:
            current = self.read(template_id)
            if current.sha256 != expected_sha256:
                raise SaveConflictError(current)
            data = text.encode("utf-8")
            write_atomically(current.path, data)
        return StoredText(template_id, current.path, text, digest(data))

    def create(self, template_id: str, text: str) -> StoredText:
        """Write a new template file; ``FileExistsError`` if ``template_id`` has one."""
        self.require_writable()
        path = self.new_path(template_id)
        data = text.encode("utf-8")
        with self._lock:
            create_atomically(path, data)
        return StoredText(template_id, path, text, digest(data))

    def require_writable(self) -> None:
        if not self.writable:
            raise PermissionError("这个模板目录只读，不能保存")

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def parse_template_id(template_id: str) -> tuple[str, str, str]:
    """(stage, channel, variant) of a well-formed id; ``UnsafePathError`` otherwise."""
    match = _TEMPLATE_ID.fullmatch(template_id)
    if match is None or match["channel"] not in _CHANNELS:
        raise UnsafePathError(
            template_id, "模板编号无效：应写作“阶段/渠道”或“阶段/渠道.版本”，如 overdue/sms.b"
        )
    variant = match["variant"] or BASE_VARIANT
    if not is_variant_name(variant):
        raise UnsafePathError(
            template_id, "版本名只能用小写字母、数字、下划线或连字符，最多 32 个字符"
        )
    return match["stage"], match["channel"], variant


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: a synced temporary file renamed over it."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else _NEW_FILE_MODE
    temporary = _synced_temporary(path, data, mode)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)


def create_atomically(path: Path, data: bytes) -> None:
    """Create ``path`` holding ``data`` whole, or raise ``FileExistsError`` and leave it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _synced_temporary(path, data, _NEW_FILE_MODE)
    try:
        os.link(temporary, path)  # fails if the name exists: no check-then-write race
    finally:
        temporary.unlink(missing_ok=True)
    _sync_directory(path.parent)


def _synced_temporary(path: Path, data: bytes, mode: int) -> Path:
    # The name ends in .tmp: the catalog only reads *.j2, so a crash leaves nothing it uses.
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        temporary.chmod(mode)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
