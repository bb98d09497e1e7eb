"""What ships with remindkit for previews: templates, sample contexts, feeds, the sample lender.

A wheel carries the files under ``remindkit/_data/`` (see ``pyproject.toml``); a source
checkout has them at the repository root beside the package.

The sample lender (禾苗金融) is fictional. It signs previews, lint runs and the demo, and
nothing else: settings carry no default platform, so ``Kit.plan`` and ``Kit.render`` refuse
until the lender configures its own (:meth:`remindkit.config.Settings.require_platform`).
A command that previews asks for the sample explicitly with :func:`with_sample_platform`
and says so (:data:`SAMPLE_PLATFORM_NOTE`).
"""

from __future__ import annotations

from pathlib import Path

from remindkit.config import PlatformSettings, Settings
from remindkit.models import Platform

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


SAMPLE_PLATFORM_NOTE = "未配置 [platform]，以下使用虚构的示例平台「禾苗金融」，仅供预览"


def sample_platform_settings() -> PlatformSettings:
    """The fictional lender of the shipped samples, offering 分期, 延期 and 部分还款."""
    return PlatformSettings(
        name="禾苗金融",
        signature="禾苗金融",
        hotline="400-100-2026",
        app_name="禾苗金融App",
        repay_url="https://hm.example.cn/r",
        offers=("分期", "延期", "部分还款"),
    )


def sample_platform() -> Platform:
    """:func:`sample_platform_settings` as the value object templates are rendered with."""
    return sample_platform_settings().to_platform()


def with_sample_platform(settings: Settings) -> tuple[Settings, bool]:
    """``settings`` with the sample lender where no platform is configured, and whether it
    was substituted (a preview then says so, e.g. with :data:`SAMPLE_PLATFORM_NOTE`)."""
    if settings.platform is not None:
        return settings, False
    return settings.model_copy(update={"platform": sample_platform_settings()}), True


def is_installed_copy(path: Path) -> bool:
    """Whether ``path`` lies in the files installed with the package (``_data``), which
    belong to the installation and are never edited in place."""
    return path.resolve().is_relative_to(_PACKAGE / "_data")
