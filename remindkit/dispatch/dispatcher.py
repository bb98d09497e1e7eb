"""``Dispatcher``: claim due messages, re-check, render, commit ``sending``, send, record.

One thread (the caller's) talks to the store and decides; a pool of daemon threads only
calls providers. Per round: claim a batch (leased to this worker), re-check each message
(:mod:`remindkit.dispatch.recheck`), render it with the template as it is now and store the
text, commit ``sending`` for the batch in one transaction, then hand the envelopes to the
pool. Answers are recorded as they come back, in small transactions. The store is never
touched from a send thread, and a message is never handed to a provider before its
``sending`` row is committed (SPEC §6.3).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from remindkit.clock import Clock
from remindkit.config import Settings
from remindkit.dispatch.delivery import Answer, RateLimiter, RetryPolicy, SendPool, deliver
from remindkit.dispatch.fallback import fallback_message
from remindkit.dispatch.recheck import Action, Facts, Recheck, StatusCheck, Verdict, day_start
from remindkit.errors import (
    DeliveryOutcomeUnknownError,
    PermanentDeliveryError,
    ProviderConfigError,
    TemplateError,
    TransientDeliveryError,
)
from remindkit.masking import scrub
from remindkit.models import Channel, Installment, require_aware, zone_for
from remindkit.outbox.records import OutboxMessage
from remindkit.outbox.states import MessageState, Origin
from remindkit.outbox.store import Contact, Outbox, Transition
from remindkit.policy.caps import Caps
from remindkit.policy.window import SendWindow
from remindkit.providers.base import Envelope, Provider, Receipt
from remindkit.render import MessageContext, Renderer

log = logging.getLogger("remindkit.dispatch")
TEMPLATE_RETRY = timedelta(minutes=5)
MAX_RESCHEDULE = timedelta(hours=4)
# Past the provider's own timeout, how long a call may still take before it counts as hung.
HANG_GRACE_SECONDS = 2.0


class DispatchObserver(Protocol):
    """Told what dispatch does, for metrics (the service's); called on the dispatch threads."""

    def provider_answered(self, provider: str, answers: Sequence[Answer], seconds: float) -> None:
        """One provider call (one attempt) and its answers."""

    def settled(self, message: OutboxMessage, outcome: str, now: datetime) -> None:
        """A message's answer recorded as ``outcome`` (``sent``, ``failed``, …)."""


@dataclass(slots=True)
class DispatchReport:
    """What one ``dispatch_due`` call did, by outcome."""

    counts: Counter[str] = field(default_factory=Counter)
    stopped_providers: dict[str, str] = field(default_factory=dict)
    template_errors: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, outcome: str) -> int:
        return self.counts[outcome]

    @property
    def problems(self) -> int:
        """Messages that need a person (failed, unknown) and providers that stopped."""
        return (
            self.counts["failed"]
            + self.counts["unknown"]
            + len(self.stopped_providers)
            + len(self.template_errors)
        )

    def to_json(self) -> dict[str, object]:
        return {
            "counts": dict(sorted(self.counts.items())),
            "stopped_providers": dict(self.stopped_providers),
            "template_errors": dict(self.template_errors),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class _Item:
    message: OutboxMessage
    installments: tuple[Installment, ...]
    envelope: Envelope


@dataclass(slots=True, kw_only=True)
class _Job:
    provider: Provider
    items: list[_Item]
    deadline: float
    hung: bool = False


class Dispatcher:
    """Sends what is due from an outbox through providers, at most once per message."""

    def __init__(
        self,
        outbox: Outbox,
        providers: Mapping[Channel, Provider],
        renderer: Renderer,
        *,
        settings: Settings,
        clock: Clock,
        status_check: StatusCheck | None = None,
        sleep: Callable[[float], None] = time.sleep,
        locale: str | None = None,
    ) -> None:
        self.outbox = outbox
        self.providers = dict(providers)
        self.renderer = renderer
        self.settings = settings
        self.clock = clock
        self.locale = locale or settings.locale
        options = settings.dispatch
        self.lease = timedelta(seconds=options.lease_seconds)
        self.recheck = Recheck(
            SendWindow(start=settings.window.start, end=settings.window.end),
            Caps(
                per_installment_per_day=settings.caps.per_installment_per_day,
                per_borrower_per_day=settings.caps.per_borrower_per_day,
                min_gap=timedelta(minutes=settings.caps.min_gap_minutes),
            ),
            status_check,
        )
        self.retry = RetryPolicy(
            attempts=options.retry_attempts,
            initial=options.retry_initial_seconds,
            maximum=options.retry_max_seconds,
            sleep=sleep,
        )
        self.limiters = {
            id(p): RateLimiter(p.capabilities.rate_per_second, sleep=sleep)
            for p in self.providers.values()
        }
        self.pool = SendPool(options.workers)
        self._hashes: dict[str, str] = {}
        # Set by a service stopping: no more claims; sends in flight are still recorded.
        self.stopping = threading.Event()
        self.observer: DispatchObserver | None = None

    def close(self) -> None:
        self.pool.close()

    def dispatch_due(
        self, now: datetime | None = None, *, limit: int | None = None
    ) -> DispatchReport:
        """Send every message due at ``now`` (default: the clock's time, read as the run
        goes on), at most ``limit`` of them; returns what happened."""
        clock = self.clock if now is None else _Fixed(require_aware(now, "now"))
        return _Run(self, clock, limit).execute()

    # -- used by _Run ---------------------------------------------------------------------

    def template_hash(self, template_id: str) -> str:
        cached = self._hashes.get(template_id)
        if cached is None:
            source = self.renderer.catalog.get(template_id, self.locale).source
            cached = self._hashes[template_id] = hashlib.sha256(source.encode()).hexdigest()
        return cached


@dataclass(frozen=True, slots=True)
class _Fixed:
    moment: datetime

    def now(self) -> datetime:
        return self.moment


class _Run:
    """The state of one ``dispatch_due`` call."""

    def __init__(self, dispatcher: Dispatcher, clock: Clock, limit: int | None) -> None:
        self.d = dispatcher
        self.clock = clock
        self.outbox = dispatcher.outbox
        self.limit = limit
        self.report = DispatchReport()
        self.seen: set[str] = set()
        self.inflight: dict[Future[list[Answer]], _Job] = {}
        self.stopped: set[int] = set()
        self.capacity = dispatcher.settings.dispatch.workers * 2

    def execute(self) -> DispatchReport:
        exhausted = False
        while True:
            room = self._room()
            if self.d.stopping.is_set():
                exhausted = True
            if not exhausted and room > 0:
                exhausted = not self._claim_round()
            elif room <= 0 and self.limit is not None and len(self.seen) >= self.limit:
                exhausted = True
            if not self.inflight:
                if exhausted:
                    break
                continue
            # While more may be due, poll answers briefly so claiming keeps the pool busy.
            self._collect(timeout=None if exhausted or room <= 0 else 0.005)
        return self.report

    def _room(self) -> int:
        busy = sum(len(job.items) for job in self.inflight.values() if not job.hung)
        room = self.capacity - busy
        if self.limit is not None:
            room = min(room, self.limit - len(self.seen))
        return room

    def _active_channels(self) -> list[Channel]:
        return [c for c, p in self.d.providers.items() if id(p) not in self.stopped]

    def _claim_round(self) -> bool:
        """Claim and start one batch; ``False`` when nothing new was due."""
        channels = self._active_channels()
        if not channels:
            return False
        now = self.clock.now()
        size = min(self.d.settings.dispatch.batch_size, self._room())
        claimed = self.outbox.claim(now=now, limit=size, lease=self.d.lease, channels=channels)
        repeats = [m for m in claimed if m.key in self.seen]
        if repeats:  # a message deferred to "now" again: leave it for the next run
            self.outbox.settle(
                [Transition(key=m.key, to=MessageState.PLANNED) for m in repeats],
                now=now,
                expect=(MessageState.PLANNED,),
            )
        fresh = [m for m in claimed if m.key not in self.seen]
        if not fresh:
            return False
        self.seen.update(m.key for m in fresh)
        self._start(fresh, now)
        return True

    # -- re-check, render, commit sending -------------------------------------------------

    def _start(self, claimed: list[OutboxMessage], now: datetime) -> None:
        loaded = [(m, m.installments) for m in claimed]
        facts = self._facts(loaded, now)
        settled: list[Transition] = []
        ready: list[_Item] = []
        for message, installments in loaded:
            verdict = self.d.recheck.judge(message, installments, now=now, facts=facts)
            if verdict.action is Action.SEND and verdict.address is not None:
                item = self._render(message, installments, verdict.address, now)
                if isinstance(item, Transition):
                    settled.append(item)
                    continue
                ready.append(item)
                facts.contacted(message, tuple(i.key for i in installments), now)
            else:
                settled.append(self._settle_verdict(message, installments, verdict, now))
        self.outbox.settle(settled, now=now, expect=(MessageState.PLANNED,))
        self._send(ready, now)

    def _facts(
        self, loaded: Sequence[tuple[OutboxMessage, tuple[Installment, ...]]], now: datetime
    ) -> Facts:
        refs = [item.key for _, installments in loaded for item in installments]
        pairs = [
            (m.channel, address)
            for m, installments in loaded
            if (address := _address(m.channel, installments[0])) is not None
        ]
        since = min(
            day_start(now.astimezone(zone_for(m.timezone)).date(), m.timezone) for m, _ in loaded
        )
        contacts: dict[str, list[Contact]] = {}
        for contact in self.outbox.contacts_since([m.borrower_id for m, _ in loaded], since):
            contacts.setdefault(contact.borrower_id, []).append(contact)
        return Facts(
            statuses=self.outbox.statuses(refs),
            flagged=self.outbox.flagged(pairs),
            contacts=contacts,
        )

    def _settle_verdict(
        self,
        message: OutboxMessage,
        installments: tuple[Installment, ...],
        verdict: Verdict,
        now: datetime,
    ) -> Transition:
        action = verdict.action
        if action is Action.DEFER:
            until = (
                verdict.until
                if verdict.until and verdict.until > now
                else now + timedelta(minutes=1)
            )
            self.report.counts["deferred"] += 1
            return Transition(
                key=message.key,
                to=MessageState.PLANNED,
                reason=verdict.reason,
                values={"next_attempt_at": until},
            )
        if action is Action.FALL_BACK:
            self._fall_back(message, installments, verdict.reason or "bad_contact", now)
            action = Action.SUPPRESS
        state = {
            Action.CANCEL: MessageState.CANCELLED,
            Action.EXPIRE: MessageState.EXPIRED,
            Action.SUPPRESS: MessageState.SUPPRESSED,
        }[action]
        self.report.counts[state.value] += 1
        return Transition(key=message.key, to=state, reason=verdict.reason)

    def _render(
        self,
        message: OutboxMessage,
        installments: tuple[Installment, ...],
        address: str,
        now: datetime,
    ) -> _Item | Transition:
        renderer = self.d.renderer
        try:
            template = renderer.catalog.get(message.template_id, self.d.locale)
            context = MessageContext(installments=installments, now=now, stage=message.stage)
            rendered = renderer.render_file(template, context)
        except TemplateError as exc:
            if message.template_id not in self.report.template_errors:
                log.error("template %s cannot be rendered: %s", message.template_id, exc)
            self.report.template_errors[message.template_id] = str(exc)
            self.report.counts["deferred"] += 1
            return Transition(
                key=message.key,
                to=MessageState.PLANNED,
                reason=f"template error: {exc}",
                values={"next_attempt_at": now + TEMPLATE_RETRY},
            )
        envelope = Envelope(
            key=message.key,
            channel=message.channel,
            to=address,
            text=rendered.text,
            title=rendered.title,
            body=rendered.body,
            borrower_id=message.borrower_id,
            collapse_key=_collapse_key(message),
        )
        too_long = self._too_long(message, installments, envelope, now)
        if too_long is not None:
            return too_long
        return _Item(message=message, installments=installments, envelope=envelope)

    def _too_long(
        self,
        message: OutboxMessage,
        installments: tuple[Installment, ...],
        envelope: Envelope,
        now: datetime,
    ) -> Transition | None:
        """A text longer than the provider takes is never sent cut: ``suppressed too_long``
        (the contact stays usable) and the step's next channel is tried."""
        provider = self.d.providers[message.channel]
        limit = provider.capabilities.max_length
        shown = envelope.text if envelope.text is not None else envelope.body
        if limit is None or shown is None or len(shown) <= limit:
            return None
        why = f"{len(shown)} characters, {provider.name} takes at most {limit}"
        self._fall_back(message, installments, f"too long for {provider.name}", now)
        self.report.counts[MessageState.SUPPRESSED.value] += 1
        return Transition(
            key=message.key,
            to=MessageState.SUPPRESSED,
            reason=f"too_long: {why}",
            values={"error_code": "too_long"},
        )

    def _send(self, ready: list[_Item], now: datetime) -> None:
        if not ready:
            return
        moves = [
            Transition(
                key=item.message.key,
                to=MessageState.SENDING,
                values={
                    "text": item.envelope.text
                    if item.envelope.text is not None
                    else item.envelope.body,
                    "title": item.envelope.title,
                    "address": item.envelope.to,
                    "provider": self.d.providers[item.message.channel].name,
                    "template_hash": self.d.template_hash(item.message.template_id),
                },
            )
            for item in ready
        ]
        started = self.outbox.start_sending(moves, now=now, lease=self.d.lease)
        by_provider: dict[int, list[_Item]] = {}
        for item in ready:
            if item.message.key in started:
                provider = self.d.providers[item.message.channel]
                by_provider.setdefault(id(provider), []).append(item)
        for items in by_provider.values():
            provider = self.d.providers[items[0].message.channel]
            size = max(1, provider.capabilities.batch_size)
            for start in range(0, len(items), size):
                self._submit(provider, items[start : start + size])

    def _submit(self, provider: Provider, items: list[_Item]) -> None:
        limiter = self.d.limiters[id(provider)]
        envelopes = [item.envelope for item in items]
        policy = self.d.retry
        observed = self.d.observer.provider_answered if self.d.observer else None

        def job() -> list[Answer]:
            return deliver(provider, envelopes, limiter=limiter, policy=policy, observe=observed)

        timeout = provider.capabilities.timeout_seconds
        budget = policy.attempts * timeout + (policy.attempts - 1) * policy.maximum
        deadline = time.monotonic() + budget + HANG_GRACE_SECONDS
        self.inflight[self.d.pool.submit(job)] = _Job(
            provider=provider, items=items, deadline=deadline
        )

    # -- answers --------------------------------------------------------------------------

    def _collect(self, timeout: float | None) -> None:
        live = [f for f, job in self.inflight.items() if not job.hung]
        if not live:
            # Only calls given up on remain: their late answers will not come in this run.
            self.inflight.clear()
            return
        wait_for = timeout
        if timeout is None:
            soonest = min(self.inflight[f].deadline for f in live)
            wait_for = max(0.0, soonest - time.monotonic())
        done, _ = wait(list(self.inflight), timeout=wait_for, return_when=FIRST_COMPLETED)
        now = self.clock.now()
        for future in done:
            job = self.inflight.pop(future)
            self._record(job, future, now)
        self._give_up_on_hung(now)

    def _give_up_on_hung(self, now: datetime) -> None:
        moment = time.monotonic()
        for job in list(self.inflight.values()):
            if job.hung or moment < job.deadline:
                continue
            job.hung = True
            name = job.provider.name
            log.error(
                "provider %s gave no answer in time; %d message(s) marked unknown",
                name,
                len(job.items),
            )
            moves = [
                Transition(
                    key=item.message.key,
                    to=MessageState.UNKNOWN,
                    reason=f"no answer from {name} within its timeout: may have been sent",
                )
                for item in job.items
            ]
            self.report.counts["unknown"] += len(
                self.outbox.settle(moves, now=now, expect=(MessageState.SENDING,), release=False)
            )
            if not self.d.pool.replace_hung():
                self._stop(job.provider, "calls hang: too many stuck threads")

    def _record(self, job: _Job, future: Future[list[Answer]], now: datetime) -> None:
        try:
            answers = future.result()
        except Exception as error:  # deliver() itself failed: the calls may have happened
            answers = [error] * len(job.items)
        outcomes = [
            self._outcome(job.provider, item, answer, now)
            for item, answer in zip(job.items, answers, strict=True)
        ]
        if job.hung:  # a late answer: only a definite one changes an ``unknown`` row
            outcomes = [
                (m, label)
                for m, label in outcomes
                if m.to in (MessageState.SENT, MessageState.FAILED)
            ]
        expect = (MessageState.UNKNOWN,) if job.hung else (MessageState.SENDING,)
        moved = self.outbox.settle([m for m, _ in outcomes], now=now, expect=expect)
        observer = self.d.observer
        messages = {item.message.key: item.message for item in job.items}
        for move, label in outcomes:
            if move.key in moved:
                if observer is not None:
                    observer.settled(messages[move.key], label, now)
                self.report.counts[label] += 1
                if job.hung:
                    self.report.counts["unknown"] -= 1

    def _outcome(
        self, provider: Provider, item: _Item, answer: Answer, now: datetime
    ) -> tuple[Transition, str]:
        """The transition an answer leads to, and how the report counts it."""
        message = item.message
        if isinstance(answer, Receipt):
            values = {
                "provider_message_id": answer.provider_message_id,
                "provider": answer.provider,
                "error_code": None,
            }
            return Transition(key=message.key, to=MessageState.SENT, values=values), "sent"
        if isinstance(answer, TransientDeliveryError):
            move = self._reschedule(message, answer, now)
            return move, "rescheduled" if move.to is MessageState.PLANNED else "expired"
        if isinstance(answer, PermanentDeliveryError):
            self._permanent(item, answer, now)
            move = Transition(
                key=message.key,
                to=MessageState.FAILED,
                reason=f"refused by {provider.name}: {scrub(str(answer))}",
                values={"error_code": answer.code},
            )
            return move, "failed"
        if isinstance(answer, ProviderConfigError):
            self._stop(provider, scrub(str(answer)))
            move = Transition(
                key=message.key,
                to=MessageState.PLANNED,
                reason=f"not sent: provider {provider.name} stopped (configuration)",
                values={"error_code": answer.code},
            )
            return move, "held"
        return self._unknown(provider, message, answer), "unknown"

    def _unknown(self, provider: Provider, message: OutboxMessage, answer: Answer) -> Transition:
        if isinstance(answer, DeliveryOutcomeUnknownError):
            reason = f"outcome unknown ({provider.name}): {scrub(str(answer))}"
            code = answer.code
        else:
            log.error(
                "provider %s raised %s; message marked unknown",
                provider.name,
                type(answer).__name__,
            )
            reason = f"provider {provider.name} raised {type(answer).__name__}: may have been sent"
            code = None
        return Transition(
            key=message.key, to=MessageState.UNKNOWN, reason=reason, values={"error_code": code}
        )

    def _reschedule(
        self, message: OutboxMessage, error: TransientDeliveryError, now: datetime
    ) -> Transition:
        attempts = message.attempts + 1
        base = timedelta(minutes=self.d.settings.dispatch.reschedule_minutes)
        delay = min(base * 2 ** (attempts - 1), MAX_RESCHEDULE)
        if error.retry_after:
            delay = max(delay, timedelta(seconds=error.retry_after))
        when = now + delay
        detail = f"{scrub(str(error))}" + (f" [{error.code}]" if error.code else "")
        if when >= message.not_after:
            return Transition(
                key=message.key,
                to=MessageState.EXPIRED,
                reason=f"transient errors until the window closed: {detail}",
                values={"error_code": error.code},
            )
        return Transition(
            key=message.key,
            to=MessageState.PLANNED,
            reason=f"retry later: {detail}",
            values={"next_attempt_at": when, "error_code": error.code},
        )

    def _permanent(self, item: _Item, error: PermanentDeliveryError, now: datetime) -> None:
        message = item.message
        if error.recipient:
            self.outbox.flag_contact(
                channel=message.channel,
                address=item.envelope.to,
                borrower_id=message.borrower_id,
                error_code=error.code,
                message_key=message.key,
                now=now,
            )
        self._fall_back(
            message,
            item.installments,
            f"{message.channel.value} refused: {error.code or 'permanent'}",
            now,
        )

    def _fall_back(
        self, message: OutboxMessage, installments: tuple[Installment, ...], why: str, now: datetime
    ) -> None:
        planned = fallback_message(
            message,
            installments,
            why,
            now=now,
            catalog=self.d.renderer.catalog,
            locale=self.d.locale,
        )
        if planned is None:
            return
        if self.outbox.insert_one(planned, now=now, origin=Origin.FALLBACK, parent_key=message.key):
            self.report.counts["fallback"] += 1
            self.seen.discard(planned.key)

    def _stop(self, provider: Provider, reason: str) -> None:
        if id(provider) in self.stopped:
            return
        self.stopped.add(id(provider))
        self.report.stopped_providers[provider.name] = reason
        log.error("provider %s stopped for this run: %s", provider.name, reason)


def _address(channel: Channel, installment: Installment) -> str | None:
    borrower = installment.borrower
    return borrower.phone if channel is Channel.SMS else borrower.push_token


def _collapse_key(message: OutboxMessage) -> str:
    """One borrower's pushes of one local day replace each other on the device."""
    digest = hashlib.sha256(f"{message.borrower_id}\x1f{message.day.isoformat()}".encode())
    return f"rk-{digest.hexdigest()[:16]}"
