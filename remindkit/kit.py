"""``Kit``: remindkit for a lending backend, built from a config file or from code (SPEC §7).

One object holds the settings, the template catalog, the renderer, the planner and — once
asked for — the outbox, the providers and the dispatcher, so a backend imports one name::

    kit = Kit.from_config("config/remindkit.toml")  # or Kit(Settings(platform=...))
    kit.run_once("loans.csv")                      # plan, enqueue, send what is due
    kit.record_status("HM2026072284", 2, "paid")   # cancels queued reminders, says thanks
    kit.dispatch_due()                             # from a worker, every few seconds
    plan = kit.plan(rows, at=now)                  # a feed path, or rows held in memory

Nothing goes out under a fictional lender: without a configured platform, planning,
rendering and sending raise :class:`~remindkit.errors.ConfigError` (key ``platform``). Every
entry point raises only :mod:`remindkit.errors` types naming the place, or ``TypeError`` for
an argument of the wrong type. The store and the providers are opened lazily: planning and
rendering need neither, and ``close()`` (or ``with Kit(...) as kit``) releases them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from remindkit.clock import Clock, SystemClock
from remindkit.config import Settings, load_settings
from remindkit.errors import ArgumentError, ConfigError, MessageStateError
from remindkit.feed import FeedItem, RejectedRow, read_feed, read_rows
from remindkit.models import Channel, Installment, Stage, Status
from remindkit.parse import parse_installment
from remindkit.plan import Plan, PlannedMessage, Planner
from remindkit.render import MessageContext, Rendered, Renderer, TemplateCatalog
from remindkit.resources import default_templates_dir

if TYPE_CHECKING:
    # The delivery side (SQLAlchemy, Alembic, threads) is imported when first used, so
    # rendering, linting and planning start fast (a pre-commit hook, a preview).
    from remindkit.dispatch import Dispatcher, DispatchReport, StatusCheck
    from remindkit.outbox.store import EnqueueResult, FirstPaid, Outbox, StatusUpdate
    from remindkit.providers.base import Provider

FeedRows = Iterable[FeedItem | Mapping[str, object]]


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusResult:
    """What recording statuses changed: messages cancelled, thank-yous planned."""

    cancelled: int = 0
    thanked: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedReport:
    """One feed planned into the outbox: what the plan decided, what entered the outbox,
    the statuses the feed brought."""

    planned: int
    suppressed: int
    rejected_rows: tuple[RejectedRow, ...]
    warnings: tuple[str, ...]
    enqueued: EnqueueResult
    statuses: StatusResult


@dataclass(frozen=True, slots=True, kw_only=True)
class RunReport:
    """One ``run_once``: what the plan decided, what entered the outbox, the statuses the
    feed brought, and the dispatch."""

    planned: int
    suppressed: int
    rejected_rows: tuple[RejectedRow, ...]
    warnings: tuple[str, ...]
    enqueued: EnqueueResult
    statuses: StatusResult
    dispatch: DispatchReport
    reaped_unknown: int = 0
    reaped_expired: int = 0

    @property
    def problems(self) -> int:
        return self.dispatch.problems + len(self.rejected_rows)


class Kit:
    """Settings, templates, renderer, planner; the outbox and dispatcher when needed."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        templates: Path | str | None = None,
        clock: Clock | None = None,
        store: Outbox | str | None = None,
        providers: Mapping[Channel, Provider] | None = None,
        status_check: StatusCheck | None = None,
        sleep: Callable[[float], None] = time.sleep,
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
        self.status_check = status_check
        self._renderer: Renderer | None = None
        self._store = store
        self._outbox: Outbox | None = None if store is None or isinstance(store, str) else store
        self._providers = dict(providers) if providers is not None else None
        self._dispatcher: Dispatcher | None = None
        self._sleep = sleep

    @classmethod
    def from_config(
        cls,
        path: Path | str | None = None,
        *,
        templates: Path | str | None = None,
        clock: Clock | None = None,
        store: Outbox | str | None = None,
    ) -> Kit:
        """A kit from a TOML config (``None``: ``$REMINDKIT_CONFIG``, ``config/remindkit.toml``
        or built-in defaults). Raises :class:`~remindkit.errors.ConfigError` naming the key."""
        if path is not None and not _pathlike(path):
            raise TypeError(f"Kit.from_config(path): expected a path, got {type(path).__name__}")
        settings = load_settings(Path(path) if path is not None else None)
        return cls(settings, templates=templates, clock=clock, store=store)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the dispatcher's threads, close providers and the store's connections."""
        if self._dispatcher is not None:
            self._dispatcher.close()
        for provider in {id(p): p for p in (self._providers or {}).values()}.values():
            provider.close()
        if self._outbox is not None and self._outbox is not self._store:
            self._outbox.close()

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
        return self.planner.plan(
            _feed_items(feed, "Kit.plan"), at=at or self.clock.now(), days=days
        )

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

    # -- the outbox -----------------------------------------------------------------------

    @property
    def outbox(self) -> Outbox:
        """The store, opened (and migrated, unless ``store.auto_migrate`` is off) on first use."""
        if self._outbox is None:
            from remindkit.outbox.store import Outbox  # noqa: PLC0415 - see TYPE_CHECKING

            url = self._store if isinstance(self._store, str) else self.settings.store.url
            store = self.settings.store
            self._outbox = Outbox.open(
                url,
                auto_migrate=store.auto_migrate,
                busy_timeout_seconds=store.busy_timeout_seconds,
            )
        return self._outbox

    @property
    def providers(self) -> Mapping[Channel, Provider]:
        """The provider of each channel, from ``[providers]`` unless given in code."""
        if self._providers is None:
            from remindkit.providers import registry  # noqa: PLC0415 - see TYPE_CHECKING

            built: dict[str, Provider] = {}
            chosen: dict[Channel, Provider] = {}
            for channel in Channel:
                name = self.settings.providers.for_channel(channel)
                if name not in built:
                    options = self.settings.providers.options(name)
                    built[name] = registry.build(name, options, f"providers.{channel.value}")
                chosen[channel] = built[name]
            self._providers = chosen
        return self._providers

    @property
    def dispatcher(self) -> Dispatcher:
        if self._dispatcher is None:
            from remindkit.dispatch import Dispatcher  # noqa: PLC0415 - see TYPE_CHECKING
            from remindkit.providers.base import pool_too_small  # noqa: PLC0415

            for channel, provider in self.providers.items():
                if channel not in provider.capabilities.channels:
                    raise ConfigError(
                        f"providers.{channel.value}",
                        f"provider {provider.name!r} does not carry {channel.value}",
                    )
                small = pool_too_small(provider, self.settings.dispatch.workers)
                if small is not None:
                    raise small
            self._dispatcher = Dispatcher(
                self.outbox,
                self.providers,
                self.renderer,
                settings=self.settings,
                clock=self.clock,
                status_check=self.status_check,
                sleep=self._sleep,
            )
        return self._dispatcher

    def enqueue(self, plan: Plan | Iterable[PlannedMessage]) -> EnqueueResult:
        """Put planned (and suppressed, with their reasons) messages into the outbox; keys it
        has seen are left as they are."""
        messages = plan.messages if isinstance(plan, Plan) else plan
        return self.outbox.enqueue(messages, now=self.clock.now())

    def run_once(
        self, feed: FeedRows | Path | str, *, at: datetime | None = None, days: int = 1
    ) -> RunReport:
        """``remindkit run --once``: reap, plan the feed, enqueue it borrower by borrower,
        apply the feed's stop statuses, and send what is due now."""
        self.settings.require_platform()
        now = at or self.clock.now()
        unknown, expired = self.outbox.reap(now=now)
        fed = self.enqueue_feed(feed, at=now, days=days)
        dispatch = self.dispatch_due(now=at)
        return RunReport(
            planned=fed.planned,
            suppressed=fed.suppressed,
            rejected_rows=fed.rejected_rows,
            warnings=fed.warnings,
            enqueued=fed.enqueued,
            statuses=fed.statuses,
            dispatch=dispatch,
            reaped_unknown=unknown,
            reaped_expired=expired,
        )

    def enqueue_feed(
        self,
        feed: FeedRows | Path | str,
        *,
        at: datetime | None = None,
        days: int = 1,
        keep: Callable[[PlannedMessage], bool] | None = None,
    ) -> FeedReport:
        """Plan the feed, enqueue the messages borrower by borrower (those ``keep`` accepts,
        when given), apply the feed's stop statuses and record its opt-outs; sends nothing."""
        from remindkit.outbox.opt_outs import OptOut, record_opt_outs, tap_opt_outs  # noqa: PLC0415
        from remindkit.payments import tap_statuses  # noqa: PLC0415 - see TYPE_CHECKING

        self.settings.require_platform()
        now = at or self.clock.now()
        updates: list[StatusUpdate] = []
        refusals: set[OptOut] = set()
        items = tap_statuses(_feed_items(feed, "Kit.enqueue_feed"), updates.extend)
        items = tap_opt_outs(items, refusals.update)
        counts = {True: 0, False: 0}

        def counted(stream: Iterable[PlannedMessage]) -> Iterable[PlannedMessage]:
            for message in stream:
                if keep is None or keep(message):
                    counts[message.planned] += 1
                    yield message

        with self.planner.stream(items, at=now, days=days) as stream:
            enqueued = self.outbox.enqueue(counted(stream), now=self.clock.now())
            rejected, warnings = stream.rejected_rows, stream.warnings
        statuses = self._apply_statuses(updates, now)
        record_opt_outs(self.outbox, refusals, now=now)
        return FeedReport(
            planned=counts[True],
            suppressed=counts[False],
            rejected_rows=rejected,
            warnings=warnings,
            enqueued=enqueued,
            statuses=statuses,
        )

    def dispatch_due(
        self, now: datetime | None = None, *, limit: int | None = None
    ) -> DispatchReport:
        """Send what is due at ``now`` (default: the kit's clock), at most once each. Stop
        statuses the ``status_check`` hook told are recorded as a feed's would be."""
        report = self.dispatcher.dispatch_due(now=now, limit=limit)
        if report.learned:
            self._apply_statuses(report.learned, now or self.clock.now())
        return report

    def reap(self, now: datetime | None = None) -> tuple[int, int]:
        """Sending rows whose lease expired → ``unknown``; rows past ``not_after`` →
        ``expired``. Returns (unknown, expired)."""
        return self.outbox.reap(now=now or self.clock.now())

    def record_status(
        self,
        loan_id: str,
        installment_no: int,
        status: Status | str,
        *,
        borrower_id: str | None = None,
    ) -> StatusResult:
        """The backend's word on one installment: a stop status cancels its queued messages;
        ``paid`` (the first time) plans the thank-you."""
        from remindkit.outbox.store import StatusUpdate  # noqa: PLC0415 - see TYPE_CHECKING

        try:
            value = Status(status)
        except ValueError:
            allowed = ", ".join(s.value for s in Status)
            raise MessageStateError(
                f"{loan_id}#{installment_no}", f"unknown status {status!r} ({allowed})"
            ) from None
        update = StatusUpdate(
            loan_id=loan_id,
            installment_no=installment_no,
            borrower_id=borrower_id or "",
            status=value,
        )
        return self._apply_statuses([update], self.clock.now())

    def cancel(self, key: str, *, reason: str = "cancelled_by_api") -> bool:
        """Cancel one queued message by key; ``False`` if it was no longer ``planned``."""
        return bool(self.outbox.cancel([key], reason=reason, now=self.clock.now()))

    def _apply_statuses(self, updates: Iterable[StatusUpdate], now: datetime) -> StatusResult:
        from remindkit.dispatch.recheck import STOP_REASONS  # noqa: PLC0415 - see TYPE_CHECKING

        reminded = timedelta(days=self.settings.dispatch.thank_you_reminded_within_days)
        cancelled, first_paid = self.outbox.record_statuses(
            updates, now=now, cancel=STOP_REASONS, reminded_within=reminded
        )
        thanked = self._thank(first_paid, now) if self.settings.dispatch.thank_you else 0
        return StatusResult(cancelled=cancelled, thanked=thanked)

    def _thank(self, first_paid: Sequence[FirstPaid], now: datetime) -> int:
        from remindkit.outbox.states import Origin  # noqa: PLC0415 - see TYPE_CHECKING
        from remindkit.payments import ThankYouPolicy  # noqa: PLC0415
        from remindkit.policy.window import SendWindow  # noqa: PLC0415

        policy = ThankYouPolicy(
            window=SendWindow(start=self.settings.window.start, end=self.settings.window.end),
            picker=self.catalog,
            locale=self.settings.locale,
        )
        thanked = 0
        for paid in first_paid:
            message = policy.message(paid, now)
            if message is not None and self.outbox.insert_one(
                message, now=now, origin=Origin.EVENT, parent_key=None
            ):
                thanked += 1
        return thanked

    def unknown_messages(self, limit: int = 100) -> list[str]:
        """Keys of messages whose outcome is unknown, oldest first (for a person to resolve)."""
        from remindkit.outbox.states import MessageState  # noqa: PLC0415 - see TYPE_CHECKING

        return [m.key for m in self.outbox.messages(states=(MessageState.UNKNOWN,), limit=limit)]


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


def _feed_items(feed: object, where: str) -> Iterable[FeedItem]:
    if isinstance(feed, Path | str):
        return read_feed(Path(feed))
    if isinstance(feed, Mapping) or not isinstance(feed, Iterable):
        raise TypeError(
            f"{where}(feed): expected a feed path or an iterable of rows, got {type(feed).__name__}"
        )
    return read_rows(feed)
