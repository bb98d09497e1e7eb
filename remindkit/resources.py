"""Where the files shipped with remindkit live: templates, sample contexts, sample feeds.

A wheel carries them under ``remindkit/_data/`` (see ``pyproject.toml``); a source
checkout has them at the repository root beside the package.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped_path(*parts: str) -> Path:
    """``shipped_path("config", "samples")`` → the shipped folder or file; raises
    ``FileNotFoundError`` naming it when this installation lacks it."""
    for root in (_PACKAGE / "_data", _PACKAGE.parent):
        candidate = root.joinpath(*parts)
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{'/'.join(parts)} is missing from this remindkit installation")


def shipped_templates_dir() -> Path:
    return shipped_path("templates")


def shipped_samples_dir() -> Path:
    """The sample borrower contexts (``config/samples``)."""
    return shipped_path("config", "samples")


def shipped_sample_feed() -> Path:
    """A small loan feed exercising the policy (``config/feeds/sample.csv``)."""
    return shipped_path("config", "feeds", "sample.csv")


def default_templates_dir() -> Path:
    """``./templates`` when the working directory has one (a content repository), else the
    shipped set."""
    local = Path("templates")
    return local if local.is_dir() else shipped_templates_dir()


def is_installed_copy(path: Path) -> bool:
    """Whether ``path`` lies in the files installed with the package (``_data``), which
    belong to the installation and are never edited in place."""
    return path.resolve().is_relative_to(_PACKAGE / "_data")
