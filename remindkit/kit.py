"""``Kit``: remindkit for a lending backend, built from a config file or from code (SPEC §7).

One object holds the settings, the template catalog, the renderer and the planner, so a
backend imports one name::

    kit = Kit(Settings(platform=PlatformSettings(...)))   # or Kit.from_config(path)
    plan = kit.plan(rows, at=now)          # a feed path, or rows held in memory
    text = kit.render("pre_due/sms", installment, now=now).text

Nothing goes out under a fictional lender: without a configured platform, ``plan`` and
``render`` raise :class:`~remindkit.errors.ConfigError` (key ``platform``). Every entry
point raises only :mod:`remindkit.errors` types naming the place, or ``TypeError`` for an
argument of the wrong type. The outbox, dispatch and providers join this object as they
land; nothing here sends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from remindkit.clock import Clock, SystemClock
from remindkit.config import Settings, load_settings
from remindkit.errors import ArgumentError, ConfigError
from remindkit.feed import FeedItem, read_feed, read_rows
from remindkit.models import Installment, Stage
from remindkit.parse import parse_installment
from remindkit.plan import Plan, Planner
from remindkit.render import MessageContext, Rendered, Renderer, TemplateCatalog
from remindkit.resources import default_templates_dir

FeedRows = Iterable[FeedItem | Mapping[str, object]]


class Kit:
    """Settings, templates, renderer and planner, wired once and reused."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        templates: Path | str | None = None,
        clock: Clock | None = None,
    ) -> None:
        if settings is not None and not isinstance(settings, Settings):
            raise TypeError(
                f"Kit(settings): expected Settings, got {type(settings).__name__}"
                + ("; for a config file use Kit.from_config(path)" if _pathlike(settings) else "")
            )
        self.settings = settings or Settings()
        self.clock: Clock = clock or SystemClock()
        self.catalog = TemplateCatalog(self._templates_root(templates))
        self.planner = Planner(self.settings, catalog=self.catalog)
        self._renderer: Renderer | None = None

    @classmethod
    def from_config(
        cls,
        path: Path | str | None = None,
        *,
        templates: Path | str | None = None,
        clock: Clock | None = None,
    ) -> Kit:
        """A kit from a TOML config (``None``: ``$REMINDKIT_CONFIG``, ``config/remindkit.toml``
        or built-in defaults). Raises :class:`~remindkit.errors.ConfigError` naming the key."""
        if path is not None and not _pathlike(path):
            raise TypeError(f"Kit.from_config(path): expected a path, got {type(path).__name__}")
        settings = load_settings(Path(path) if path is not None else None)
        return cls(settings, templates=templates, clock=clock)

    @property
    def renderer(self) -> Renderer:
        """The renderer signing with the configured platform; ``ConfigError`` without one."""
        if self._renderer is None:
            self._renderer = Renderer(self.catalog, self.settings.require_platform())
        return self._renderer

    def render(
        self,
        template_id: str,
        installments: Installment | Mapping[str, object] | Sequence[Installment],
        *,
        now: datetime | None = None,
        stage: Stage | None = None,
        locale: str | None = None,
    ) -> Rendered:
        """Render a template for one installment (or a mapping of feed fields) or a
        consolidated group of one borrower's installments."""
        context = MessageContext(
            installments=_installments(installments), now=now or self.clock.now(), stage=stage
        )
        return self.renderer.render(template_id, context, locale or self.settings.locale)

    def plan(
        self, feed: FeedRows | Path | str, *, at: datetime | None = None, days: int = 1
    ) -> Plan:
        """Decide what goes out for the borrower-local day of ``at`` (default: now) and the
        ``days - 1`` days after it. ``feed`` is a CSV/JSONL path, or rows held in memory:
        mappings of feed fields (validated and numbered from 1, a bad one rejected alone, as
        in a file), installments or rejected rows."""
        self.settings.require_platform()
        if isinstance(feed, Path | str):
            items: Iterable[FeedItem] = read_feed(Path(feed))
        elif isinstance(feed, Mapping) or not isinstance(feed, Iterable):
            raise TypeError(
                f"Kit.plan(feed): expected a feed path or an iterable of rows, "
                f"got {type(feed).__name__}"
            )
        else:
            items = read_rows(feed)
        return self.planner.plan(items, at=at or self.clock.now(), days=days)

    def _templates_root(self, templates: Path | str | None) -> Path:
        if templates is not None:
            if not _pathlike(templates):
                raise TypeError(f"templates: expected a path, got {type(templates).__name__}")
            root = Path(templates)
            if not root.is_dir():
                raise ArgumentError("templates", f"{root} is not a directory")
            return root
        configured = self.settings.templates_dir
        if configured is not None:
            if not configured.is_dir():
                raise ConfigError("templates.dir", f"{configured} is not a directory")
            return configured
        return default_templates_dir()


def _pathlike(value: object) -> bool:
    return isinstance(value, str | Path)


def _installments(
    given: Installment | Mapping[str, object] | Sequence[Installment],
) -> tuple[Installment, ...]:
    if isinstance(given, Installment):
        return (given,)
    if isinstance(given, Mapping):
        return (parse_installment(given),)
    if isinstance(given, str) or not isinstance(given, Sequence):
        raise TypeError(
            "installments: expected an Installment, a mapping of feed fields or a sequence of "
            f"installments, got {type(given).__name__}"
        )
    items = tuple(given)
    for index, item in enumerate(items):
        if not isinstance(item, Installment):
            raise TypeError(
                f"installments[{index}]: expected an Installment, got {type(item).__name__}"
            )
    if not items:
        raise ArgumentError("installments", "needs at least one installment")
    return items
