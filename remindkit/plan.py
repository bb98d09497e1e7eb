"""Feed → decisions: which reminder goes to whom, on which channel, when, or why not (SPEC §5).

Planning is a pure function of (feed, settings, templates, ``at``, ``days``): the same
input gives the same plan whatever the feed order, and every message has a stable key
(SPEC §5.6), so re-planning never duplicates a message in the outbox.

The feed streams through once. A row costs a few cached look-ups (its zone's planned days,
its profile's steps for its due date); rows with nothing to send in the horizon are
dropped at once. The rows kept are grouped by borrower, because consolidation (§5.5) and
the caps (§5.3) need all of one borrower's messages of a day together; past a threshold
they go to disk in sorted runs (:mod:`remindkit.spill`), so memory stays bounded however
large the feed and in whatever order its rows come. :meth:`Planner.stream` hands the
messages out borrower by borrower; :meth:`Planner.plan` collects them into a :class:`Plan`.

No message goes out before the whole feed is read: a borrower's last row may be the feed's
last, and a message handed out cannot be taken back. A feed grouped and sorted by
borrower still gains: its rows go to disk as one run, read back sequentially.

The decisions taken where the SPEC is silent are listed in :mod:`remindkit.policy`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypedDict

from remindkit.config import Settings
from remindkit.errors import TemplateError
from remindkit.feed import FeedFile, FeedItem, RejectedRow
from remindkit.models import Channel, Installment, Stage, Status, require_aware
from remindkit.policy.cadence import Cadence
from remindkit.policy.calendar import HolidayCalendar
from remindkit.policy.caps import Caps, SlotRequest, apply_caps, place_alone
from remindkit.policy.consolidate import Candidate, Draft, consolidate
from remindkit.policy.decision import Decision, MessageStatus, Reason, join_notes
from remindkit.policy.horizon import HitFinder, Horizon
from remindkit.policy.notices import NoticeHit, as_notice, notice_key, notice_step
from remindkit.policy.rules import REMINDABLE, choose_channel
from remindkit.policy.schedule import (
    Hit,
    OverdueOnWorkdays,
    SpringFestivalPause,
    StepRule,
    StepSchedule,
)
from remindkit.policy.stages import severity, stage_of, template_group
from remindkit.policy.window import SendWindow, local_time
from remindkit.spill import BorrowerRows, LoanOwners

# Kept rows held in memory before they go to disk: ~1 KB each in memory (~0.2 KB on disk).
SPILL_AFTER_ROWS = 100_000


class PickedTemplate(Protocol):
    @property
    def template_id(self) -> str: ...


class TemplatePicker(Protocol):
    """``remindkit.render.TemplateCatalog.pick``: a stable variant per borrower (SPEC §5.4)."""

    def pick(self, group_id: str, borrower_id: str, locale: str = ...) -> PickedTemplate: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedMessage:
    """One outbox row to be: a merged message for one borrower's day, stage and channel."""

    key: str
    borrower_id: str
    loan_ids: tuple[str, ...]
    installments: tuple[Installment, ...]
    stage: Stage
    template_id: str
    channel: Channel
    fallback_channels: tuple[Channel, ...]
    day: date
    send_at: datetime
    not_after: datetime
    status: MessageStatus
    reason: str | None = None

    def __post_init__(self) -> None:
        require_aware(self.send_at, "send_at")
        require_aware(self.not_after, "not_after")

    @property
    def planned(self) -> bool:
        return self.status is MessageStatus.PLANNED

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "borrower_id": self.borrower_id,
            "loan_ids": list(self.loan_ids),
            "stage": self.stage.value,
            "template_id": self.template_id,
            "channel": self.channel.value,
            "fallback_channels": [channel.value for channel in self.fallback_channels],
            "send_at": self.send_at.isoformat(),
            "not_after": self.not_after.isoformat(),
            "status": self.status.value,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """Every message decided for the horizon, the feed rows rejected, and warnings."""

    messages: tuple[PlannedMessage, ...]
    rejected_rows: tuple[RejectedRow, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def planned(self) -> tuple[PlannedMessage, ...]:
        return tuple(message for message in self.messages if message.planned)

    @property
    def suppressed(self) -> tuple[PlannedMessage, ...]:
        return tuple(message for message in self.messages if not message.planned)

    def to_json(self) -> dict[str, Any]:
        """The ``remindkit plan --format json`` document (SPEC §9), plus ``warnings``."""
        return {
            "messages": [message.to_json() for message in self.messages],
            "rejected_rows": [
                {"row": rejected.row, "field": rejected.field, "reason": rejected.reason}
                for rejected in self.rejected_rows
            ],
            "warnings": list(self.warnings),
        }


class Planner:
    """Plans reminders from settings; reusable across runs (each ``plan`` call is pure).

    ``spill_after``: how many kept feed rows (rows with something to send in the horizon)
    are held in memory before they go to sorted runs on disk, in a private temporary
    directory under ``spill_directory`` (default: the system's). The plan is the same
    whatever the threshold; only memory and time change.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        catalog: TemplatePicker | None = None,
        locale: str | None = None,
        spill_after: int = SPILL_AFTER_ROWS,
        spill_directory: Path | None = None,
    ) -> None:
        if spill_after < 1:
            raise ValueError(f"spill_after must be at least 1 row, got {spill_after}")
        self.settings = settings
        self.catalog = catalog
        self.locale = locale or settings.locale
        self.spill_after = spill_after
        self.spill_directory = spill_directory
        self.cadence = Cadence.from_settings(settings.cadence)
        self.window = SendWindow(start=settings.window.start, end=settings.window.end)
        self.caps = Caps(
            per_installment_per_day=settings.caps.per_installment_per_day,
            per_borrower_per_day=settings.caps.per_borrower_per_day,
            min_gap=timedelta(minutes=settings.caps.min_gap_minutes),
        )

    def plan(self, feed: Iterable[FeedItem], *, at: datetime, days: int = 1) -> Plan:
        """Plan the borrower-local day of ``at`` and the ``days - 1`` days after it."""
        with self.stream(feed, at=at, days=days) as stream:
            messages = sorted(stream, key=_plan_order)
        return Plan(
            messages=tuple(messages),
            rejected_rows=stream.rejected_rows,
            warnings=stream.warnings,
        )

    def stream(self, feed: Iterable[FeedItem], *, at: datetime, days: int = 1) -> PlanStream:
        """The messages of :meth:`plan`, borrower by borrower, without holding the plan.

        The feed is read whole at the first ``next()`` (a borrower's rows may come last);
        then messages come in borrower-id order, each borrower's by day. Rejected rows and
        warnings are known once the stream is exhausted.
        """
        warnings: set[str] = set()
        calendar = HolidayCalendar.from_file(
            self.settings.holidays.override_file, warn=warnings.add
        )
        run = _Run(self, Horizon(at, days), self.schedule(calendar), warnings.add)
        return PlanStream(run, feed, warnings)

    def schedule(self, calendar: HolidayCalendar) -> StepSchedule:
        """The holiday rules the settings ask for, in the order they apply."""
        policy = self.settings.holidays
        rules: list[StepRule] = []
        if policy.spring_festival_pause:
            rules.append(SpringFestivalPause(calendar, policy.spring_festival_last_day))
        if policy.overdue_on_holidays == "defer":
            rules.append(OverdueOnWorkdays(calendar))
        return StepSchedule(tuple(rules))


class PlanStream(Iterator[PlannedMessage]):
    """An iterator of planned messages; ``rejected_rows`` and ``warnings`` once exhausted.

    Use it in a ``with`` block (or call :meth:`close`) when it may be left unfinished: the
    rows spilled to disk are removed then, or when it is exhausted.
    """

    def __init__(self, run: _Run, feed: Iterable[FeedItem], warnings: set[str]) -> None:
        self._run = run
        self._warnings = warnings
        self._messages = run.messages(feed)
        self._done = False

    def __iter__(self) -> PlanStream:
        return self

    def __next__(self) -> PlannedMessage:
        try:
            return next(self._messages)
        except StopIteration:
            self._done = True
            raise

    def __enter__(self) -> PlanStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._messages.close()

    @property
    def rejected_rows(self) -> tuple[RejectedRow, ...]:
        """The feed rows rejected, by row number."""
        self._require_done("rejected_rows")
        return tuple(sorted(self._run.rejected, key=lambda r: (r.row, r.field)))

    @property
    def warnings(self) -> tuple[str, ...]:
        self._require_done("warnings")
        return tuple(sorted(self._warnings))

    @property
    def spilled_rows(self) -> int:
        """Feed rows that went through disk (0 when every kept row fitted in memory)."""
        return self._run.spilled_rows

    def _require_done(self, what: str) -> None:
        if not self._done:
            raise RuntimeError(f"PlanStream.{what} is known once every message was read")


def plan(
    feed: Iterable[FeedItem],
    settings: Settings,
    *,
    at: datetime,
    days: int = 1,
    catalog: TemplatePicker | None = None,
) -> Plan:
    """Plan reminders for ``feed``; see :class:`Planner`."""
    return Planner(settings, catalog=catalog).plan(feed, at=at, days=days)


def _plan_order(message: PlannedMessage) -> tuple[object, ...]:
    return (message.send_at.timestamp(), message.borrower_id, not message.planned, message.key)


_Kept = tuple[Installment, tuple[Hit, ...]]


class _StepFields(TypedDict):
    """The fields a step gives a candidate (and a lone candidate's draft)."""

    day: date
    stage: Stage
    channel: Channel
    fallbacks: tuple[Channel, ...]
    wanted: datetime
    note: str | None
    reason: Reason | None


_Templated = tuple[Draft, str]
_HitKey = tuple[str | None, date, str]


class _Run:
    """The state of one plan: caches, warnings, rejected rows, the rows kept."""

    def __init__(
        self,
        planner: Planner,
        horizon: Horizon,
        schedule: StepSchedule,
        warn: Callable[[str], None],
    ) -> None:
        self.planner = planner
        self.horizon = horizon
        self.finder = HitFinder(planner.cadence, schedule, horizon)
        self.schedule = schedule
        notice = planner.settings.credit_notice
        self.notice = (
            notice_step(notice.days_past_due, notice.send_time) if notice.enabled else None
        )
        self.warn = warn
        self.rejected: list[RejectedRow] = []
        self.spilled_rows = 0
        self._hits: dict[_HitKey, tuple[Hit, ...]] = {}
        self._profiles: dict[str | None, str] = {}
        self._missing_templates: dict[str, bool] = {}

    def messages(self, feed: Iterable[FeedItem]) -> Generator[PlannedMessage]:
        kept = BorrowerRows(self.planner.spill_after, self.planner.spill_directory)
        owners = LoanOwners(self.planner.spill_after, self.planner.spill_directory)
        try:
            self._collect(feed, kept, owners)
            owners.close()
            for rows in kept.borrowers():
                self.spilled_rows = kept.spilled_rows
                yield from self._plan_borrower([(item, self.hits(item)) for item in rows])
        finally:
            kept.close()
            owners.close()

    def hits(self, item: Installment) -> tuple[Hit, ...]:
        key = (item.segment, item.due_date, item.borrower.timezone)
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = self._step_hits(self._profile(key[0]), key[1], key[2])
        return hits

    def _step_hits(self, profile: str, due: date, timezone: str) -> tuple[Hit, ...]:
        """The cadence's steps firing in the horizon, and the credit notice's if enabled."""
        hits = self.finder.hits(profile, due, timezone)
        if self.notice is None:
            return hits
        days = self.horizon.days(timezone)
        return hits + tuple(as_notice(hit) for hit in self.schedule.hits((self.notice,), due, days))

    def _collect(self, feed: Iterable[FeedItem], kept: BorrowerRows, owners: LoanOwners) -> None:
        if isinstance(feed, FeedFile) and not feed.started:
            # Every row validated, values built only for rows with something to send.
            feed = feed.select(self._wanted)
        # The hot loop of a million-row plan: one dict look-up per row in the common case.
        known = self._hits
        for item in feed:
            if not isinstance(item, Installment):
                self.rejected.append(item)
                continue
            if item.status not in REMINDABLE:
                continue
            hits = known.get((item.segment, item.due_date, item.borrower.timezone))
            if hits is None:
                hits = self.hits(item)
            if hits:
                kept.add(item)
                owners.add(item.loan_id, item.borrower.id)
        # One loan under two borrowers would tell one person of another's debt: named among
        # the kept rows (the others send nothing).
        for loan_id, (first, *others) in owners.shared():
            for other in others:
                self.warn(_shared_loan_warning(loan_id, first, other))

    def _wanted(self, status: Status, segment: str | None, due: date, timezone: str) -> bool:
        if status not in REMINDABLE:
            return False
        hits = self._hits.get((segment, due, timezone))
        if hits is None:
            hits = self._hits[(segment, due, timezone)] = self._step_hits(
                self._profile(segment), due, timezone
            )
        return bool(hits)

    def _profile(self, segment: str | None) -> str:
        name = self._profiles.get(segment)
        if name is None:
            cadence = self.planner.cadence
            name = self._profiles[segment] = cadence.profile_name(segment)
            if cadence.is_unknown(segment):
                self.warn(f"unknown segment {segment!r}: its rows use the default cadence profile")
        return name

    # The usual borrower (one kept row, one reminder step in the horizon) is planned without
    # the merging and ranking machinery, to the same message; a test plans with it off.
    lone_fast_path = True

    def _plan_borrower(self, kept: list[_Kept]) -> list[PlannedMessage]:
        if len(kept) == 1 and self.lone_fast_path:
            item, hits = kept[0]
            if len(hits) == 1 and not isinstance(hits[0], NoticeHit):
                return [self._lone_message(item, hits[0])]
        kept = self._unique(kept)
        timezone = kept[0][0].borrower.timezone
        if any(item.borrower.timezone != timezone for item, _ in kept):
            kept = self._in_one_zone(kept, timezone)
        candidates = [
            self._candidate(item, hit, timezone)
            for item, hits in kept
            for hit in hits
            if not (isinstance(hit, NoticeHit) and item.status is Status.PLAN)
        ]
        notices = [c for c in candidates if c.stage is Stage.CREDIT_NOTICE]
        if notices:
            reminders = [c for c in candidates if c.stage is not Stage.CREDIT_NOTICE]
            merged = [*consolidate(reminders), *_one_notice_per_loan(notices)]
        else:  # the usual borrower
            merged = consolidate(candidates)
        drafts = [self._templated(draft) for draft in merged]
        if len(drafts) == 1:  # one message: one day, nothing to sort
            return self._decide_day(drafts, timezone)
        messages: list[PlannedMessage] = []
        for day in sorted({draft.day for draft, _ in drafts}):
            same_day = [pair for pair in drafts if pair[0].day == day]
            messages.extend(self._decide_day(same_day, timezone))
        return messages

    def _in_one_zone(self, kept: list[_Kept], timezone: str) -> list[_Kept]:
        """The borrower's rows with their steps found again on the days of ``timezone``.

        Caps and consolidation need one local day per borrower; the hits found in a row's
        own zone could fall on a day outside this zone's horizon. (A row with no step in
        its own zone's days was dropped while reading, before the zone was known.)
        """
        self.warn(
            f"borrower {kept[0][0].borrower.id!r} has rows in several time zones; "
            f"planned in {timezone}"
        )
        return [
            (item, self._step_hits(self._profile(item.segment), item.due_date, timezone))
            for item, _ in kept
        ]

    def _unique(self, kept: list[_Kept]) -> list[_Kept]:
        """One row per installment; duplicates keep a content-chosen row (order-independent)."""
        if len(kept) == 1:
            return kept
        kept.sort(key=lambda pair: (pair[0].key, _content_order(pair[0])))
        unique: list[_Kept] = []
        for pair in kept:
            if unique and unique[-1][0].key == pair[0].key:
                self.warn(_duplicate_warning(unique[-1][0], pair[0]))
                continue
            unique.append(pair)
        return unique

    def _candidate(self, item: Installment, hit: Hit, timezone: str) -> Candidate:
        return Candidate(installment=item, **self._step(item, hit, timezone))

    def _step(self, item: Installment, hit: Hit, timezone: str) -> _StepFields:
        """What one installment's step says: its day, stage, channel choice, wanted time."""
        days_past_due = (hit.day - item.due_date).days
        choice = choose_channel(hit.step.channels, item.borrower)
        return {
            "day": hit.day,
            "stage": hit.stage if isinstance(hit, NoticeHit) else stage_of(item, days_past_due),
            "channel": choice.channel,
            "fallbacks": choice.fallbacks,
            "wanted": local_time(hit.day, self.planner.window.fit(hit.step.send_time), timezone),
            "note": hit.note,
            "reason": choice.reason,
        }

    def _lone_message(self, item: Installment, hit: Hit) -> PlannedMessage:
        """The message of a borrower whose only kept row has one reminder step: what
        consolidation and the caps give a single candidate, without their machinery."""
        timezone = item.borrower.timezone
        # The draft consolidate makes of a lone candidate.
        fields = self._step(item, hit, timezone)
        draft = Draft(borrower_id=item.borrower.id, installments=(item,), **fields)
        draft, template_id = self._templated(draft)
        closes = self.planner.window.closes(draft.day, timezone)
        if draft.reason is not None:
            return _message(draft, template_id, None, closes)
        decision = place_alone(max(draft.wanted, self.horizon.at), closes, self.planner.caps)
        return _message(draft, template_id, decision, closes)

    def _templated(self, draft: Draft) -> _Templated:
        """The draft with its template id; a missing template suppresses it before the caps."""
        group = template_group(draft.stage, draft.channel)
        if draft.reason is not None:
            return draft, group
        template_id = self._pick(group, draft.borrower_id)
        if template_id is None:
            return replace(draft, reason=Reason.NO_TEMPLATE), group
        return draft, template_id

    def _pick(self, group: str, borrower_id: str) -> str | None:
        catalog = self.planner.catalog
        if catalog is None:
            return group
        if self._missing_templates.get(group):
            return None
        try:
            return catalog.pick(group, borrower_id, self.planner.locale).template_id
        except TemplateError as exc:
            self._missing_templates[group] = True
            self.warn(f"template {group} ({self.planner.locale}) unusable: {exc}")
            return None

    def _decide_day(self, drafts: list[_Templated], timezone: str) -> list[PlannedMessage]:
        closes = self.planner.window.closes(drafts[0][0].day, timezone)
        active = [index for index, (draft, _) in enumerate(drafts) if draft.reason is None]
        ranked = len(active) > 1  # one message alone needs no rank
        requests = [self._slot_request(drafts[index][0], closes, ranked) for index in active]
        decisions: list[Decision | None] = [None] * len(drafts)
        for index, decision in zip(active, apply_caps(requests, self.planner.caps), strict=True):
            decisions[index] = decision
        return [
            _message(draft, template_id, decision, closes)
            for (draft, template_id), decision in zip(drafts, decisions, strict=True)
        ]

    def _slot_request(self, draft: Draft, closes: datetime, ranked: bool) -> SlotRequest:
        return SlotRequest(
            # --at later than the step time: send now if the window is still open.
            earliest=max(draft.wanted, self.horizon.at),
            closes=closes,
            installments=draft.installment_keys,
            rank=(-severity(draft.stage), draft.wanted.timestamp(), draft.key) if ranked else (),
        )


def _message(
    draft: Draft, template_id: str, decision: Decision | None, closes: datetime
) -> PlannedMessage:
    if decision is None:  # suppressed before the caps: opt-out, no contact, no template
        decision = Decision.suppress(draft.reason or Reason.NO_CONTACT)
    send_at = decision.send_at if decision.planned else None
    return PlannedMessage(
        key=draft.key,
        borrower_id=draft.borrower_id,
        loan_ids=tuple(dict.fromkeys(item.loan_id for item in draft.installments)),
        installments=draft.installments,
        stage=draft.stage,
        template_id=template_id,
        channel=draft.channel,
        fallback_channels=draft.fallbacks,
        day=draft.day,
        # A suppressed message shows the time it asked for.
        send_at=send_at or draft.wanted,
        not_after=closes,
        status=decision.status,
        reason=join_notes(draft.note, decision.reason) if send_at else decision.reason,
    )


def _shared_loan_warning(loan_id: str, first: str, second: str) -> str:
    return (
        f"loan {loan_id!r} appears under borrowers {first!r} and {second!r}; "
        "each is reminded of it: check the feed"
    )


# Fields a duplicate row may disagree on, in the words of the feed; personal ones are named
# without their values, which warnings (logged) must not show.
_COMPARED = ("due_date", "amount_due", "status", "hardship", "segment", "product")
_PERSONAL = ("name", "phone", "push_token", "timezone", "opted_out")


def _duplicate_warning(planned: Installment, other: Installment) -> str:
    loan_id, number = planned.key
    where = f"installment {loan_id}#{number} of borrower {planned.borrower.id!r}"
    differences = [
        f"{name} {_feed_value(getattr(planned, name))} / {_feed_value(getattr(other, name))}"
        for name in _COMPARED
        if getattr(planned, name) != getattr(other, name)
    ] + [
        name
        for name in _PERSONAL
        if getattr(planned.borrower, name) != getattr(other.borrower, name)
    ]
    if not differences:
        return f"{where} appears in several feed rows; planned once"
    return (
        f"{where} appears in several feed rows that disagree ({'; '.join(differences)}); "
        "planned once, with the first value of each pair"
    )


def _feed_value(value: object) -> str:
    if value is None:
        return "(empty)"
    return str(value.value if isinstance(value, Status) else value)


def _one_notice_per_loan(notices: list[Candidate]) -> list[Draft]:
    """One draft per loan (its earliest installment to reach the step), keyed by the loan."""
    notices.sort(key=lambda c: (c.installment.loan_id, c.day, c.installment.installment_no))
    first = {c.installment.loan_id: c for c in reversed(notices)}
    return [
        Draft(
            borrower_id=c.installment.borrower.id,
            installments=(c.installment,),
            day=c.day,
            stage=c.stage,
            channel=c.channel,
            fallbacks=c.fallbacks,
            wanted=c.wanted,
            note=c.note,
            reason=c.reason,
            key=notice_key(c.stage, c.installment.loan_id),
        )
        for c in sorted(first.values(), key=lambda c: (c.day, c.installment.loan_id))
    ]


def _content_order(item: Installment) -> tuple[object, ...]:
    borrower = item.borrower
    return (
        item.due_date,
        item.amount_due,
        item.status.value,
        item.hardship,
        item.segment or "",
        item.product or "",
        borrower.timezone,
        borrower.phone or "",
        borrower.push_token or "",
        sorted(borrower.opted_out),
        borrower.name,
    )
