"""``Kit``: remindkit for a lending backend, built from a config file or from code (SPEC §7).

One object holds the settings, the template catalog, the renderer and the planner, so a
backend imports one name::

    kit = Kit.from_config("config/remindkit.toml")
    plan = kit.plan(read_feed(Path("loans.csv")), at=now)
    text = kit.render("pre_due/sms", installments, now=now).text

The outbox, dispatch and providers join this object as they land; nothing here sends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from remindkit.clock import Clock, SystemClock
from remindkit.config import Settings, load_settings
from remindkit.feed import FeedItem, read_feed
from remindkit.models import Installment, Stage
from remindkit.plan import Plan, Planner
from remindkit.render import MessageContext, Rendered, Renderer, TemplateCatalog
from remindkit.resources import default_templates_dir


class Kit:
    """Settings, templates, renderer and planner, wired once and reused."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        templates: Path | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.clock: Clock = clock or SystemClock()
        root = templates or self.settings.templates_dir or default_templates_dir()
        self.catalog = TemplateCatalog(root)
        self.renderer = Renderer(self.catalog, self.settings.platform.to_platform())
        self.planner = Planner(self.settings, catalog=self.catalog)

    @classmethod
    def from_config(
        cls,
        path: Path | str | None = None,
        *,
        templates: Path | None = None,
        clock: Clock | None = None,
    ) -> Kit:
        """A kit from a TOML config (``None``: ``$REMINDKIT_CONFIG``, ``config/remindkit.toml``
        or built-in defaults). Raises :class:`~remindkit.errors.ConfigError` naming the key."""
        settings = load_settings(Path(path) if path is not None else None)
        return cls(settings, templates=templates, clock=clock)

    def render(
        self,
        template_id: str,
        installments: Installment | Sequence[Installment],
        *,
        now: datetime | None = None,
        stage: Stage | None = None,
        locale: str | None = None,
    ) -> Rendered:
        """Render a template for one installment or a consolidated group of one borrower."""
        items = (installments,) if isinstance(installments, Installment) else tuple(installments)
        context = MessageContext(installments=items, now=now or self.clock.now(), stage=stage)
        return self.renderer.render(template_id, context, locale or self.settings.locale)

    def plan(
        self, feed: Iterable[FeedItem] | Path | str, *, at: datetime | None = None, days: int = 1
    ) -> Plan:
        """Decide what goes out for the borrower-local day of ``at`` (default: now) and the
        ``days - 1`` days after it. ``feed`` is a CSV/JSONL path or parsed feed items."""
        items = read_feed(Path(feed)) if isinstance(feed, Path | str) else feed
        return self.planner.plan(items, at=at or self.clock.now(), days=days)
