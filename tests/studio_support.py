"""What the studio's request-level and browser tests share: a copy of the shipped templates
and a studio app over it (never the repository's own files)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from starlette.applications import Starlette

from remindkit.resources import shipped_samples_dir, shipped_templates_dir
from remindkit.studio import StudioOptions, create_studio_app
from remindkit.testing import demo_platform

TOKEN = "studio-test-token-0123456789abcdef"


def copy_templates(target: Path) -> Path:
    shutil.copytree(shipped_templates_dir(), target)
    return target


def studio_app(templates: Path, *, writable: bool = True) -> Starlette:
    return create_studio_app(
        StudioOptions(
            templates_dir=templates,
            platform=demo_platform(),
            samples_dir=shipped_samples_dir(),
            token=TOKEN,
            writable=writable,
        )
    )


def tree_digest(root: Path) -> dict[str, str]:
    """Every file below ``root`` (symlinks as their target text) with the digest of its bytes."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            found[str(path.relative_to(root))] = f"-> {path.readlink()}"
        elif path.is_file():
            found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found
