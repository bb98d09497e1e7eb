"""One ``dispatch_due`` call: claim, re-check, render, commit ``sending``, send, record.

The caller's thread talks to the store and decides; the pool's daemon threads only call
providers. Claiming keeps the pool busy: up to three times as many messages in flight as
there are threads, claimed in rounds of at least ``min(batch_size, workers)`` once there is
room for them (or at once when threads would otherwise wait), so at least a thread's worth
of sends stays queued while the store thread works. Answers are recorded in batches: all
finished calls together in one transaction, after waiting up to ``GATHER_SECONDS`` for
that many to finish. Fewer, larger transactions matter beyond their statements: the store
thread gives the interpreter lock away at every database call, and with dozens of send
threads running it waits to get it back each time. The store is never touched from a send
thread, and a message is never handed to a provider before its ``sending`` row is
committed (SPEC §6.3).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from remindkit.clock import Clock
from remindkit.dispatch.delivery import Answer, deliver
from remindkit.dispatch.fallback import fallback_message
from remindkit.dispatch.outcomes import DispatchReport, Outcome, classify
from remindkit.dispatch.recheck import Action, Facts, Verdict, day_start
from remindkit.errors import PermanentDeliveryError, TemplateError
from remindkit.models import Channel, Installment, zone_for
from remindkit.outbox.records import OutboxMessage
from remindkit.outbox.states import MessageState, Origin
from remindkit.outbox.store import RecheckFacts, RecheckQuery
from remindkit.outbox.values import Contact, Transition
from remindkit.payments import status_update
from remindkit.providers.base import Envelope, Provider
from remindkit.render import MessageContext

if TYPE_CHECKING:
    from remindkit.dispatch.dispatcher import Dispatcher

log = logging.getLogger("remindkit.dispatch")
TEMPLATE_RETRY = timedelta(minutes=5)
# Past the provider's own timeout, how long a call may still take before it counts as hung.
HANG_GRACE_SECONDS = 2.0
# When few calls have finished, wait up to this long for more, so answers are recorded
# together (a claim round's worth of them).
GATHER_SECONDS = 0.05
# Messages in flight (sending, queued or in a call) per send thread.
IN_FLIGHT_PER_WORKER = 3


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


class _Finished:
    """Counts calls that finished and are not recorded yet; wakes the store thread once
    ``target`` of them have (the send threads count, so the store thread sleeps until
    there is a batch to record instead of waking at every answer)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._event = threading.Event()
        self._count = 0
        self._target = 1

    def done(self, _future: object) -> None:  # a future's callback, on a send thread
        with self._lock:
            self._count += 1
            if self._count >= self._target:
                self._event.set()

    def wait(self, target: int, timeout: float | None) -> None:
        """Until ``target`` calls are finished, at most ``timeout`` seconds."""
        with self._lock:
            self._target = max(1, target)
            if self._count >= self._target:
                return
            self._event.clear()
        self._event.wait(timeout)

    def taken(self, count: int) -> None:
        """``count`` finished calls were recorded (a future is done just before its
        callback runs, so the count may dip below zero for a moment)."""
        with self._lock:
            self._count -= count


class DispatchRun:
    """The state of one ``dispatch_due`` call."""

    def __init__(self, dispatcher: Dispatcher, clock: Clock, limit: int | None) -> None:
        self.d = dispatcher
        self.clock = clock
        self.outbox = dispatcher.outbox
        self.limit = limit
        self.report = DispatchReport()
        self.seen: set[str] = set()
        self.claimed: dict[str, OutboxMessage] = {}  # for the observer, by key
        self.inflight: dict[Future[list[Answer]], _Job] = {}
        moment = time.monotonic()
        # Providers stopped in an earlier run stay stopped until their pause is over.
        self.stopped: set[int] = {
            key for key, (until, _) in dispatcher.paused.items() if until > moment
        }
        workers = dispatcher.settings.dispatch.workers
        self.workers = workers
        self.capacity = workers * IN_FLIGHT_PER_WORKER
        # A claim round is worth its statements from this many messages on.
        self.claim_at = max(1, min(dispatcher.settings.dispatch.batch_size, workers))
        self.finished = _Finished()
        self.fallbacks_due = False

    def execute(self) -> DispatchReport:
        exhausted = False
        while True:
            if self.fallbacks_due:  # a fallback row was added, due now: claim again
                exhausted, self.fallbacks_due = False, False
            busy, room = self._busy(), self._room()
            if self.d.stopping.is_set():
                exhausted = True
            if not exhausted and self._claimable(busy, room):
                exhausted = not self._claim_round()
                busy, room = self._busy(), self._room()
            elif room <= 0 and self.limit is not None and len(self.seen) >= self.limit:
                exhausted = True
            if not self.inflight:
                if exhausted:
                    break
                continue
            # While a claim is due, poll answers briefly so claiming keeps the pool busy;
            # otherwise wait for a batch of answers (the room for the next claim round).
            claiming = not exhausted and self._claimable(busy, room)
            self._collect(timeout=0.005 if claiming else None)
        return self.report

    def _busy(self) -> int:
        return sum(len(job.items) for job in self.inflight.values() if not job.hung)

    def _room(self) -> int:
        room = self.capacity - self._busy()
        if self.limit is not None:
            room = min(room, self.limit - len(self.seen))
        return room

    def _claimable(self, busy: int, room: int) -> bool:
        """Worth a claim round now: room for a full round, the rest of ``limit``, or send
        threads that would otherwise wait for work."""
        if room <= 0:
            return False
        rest = None if self.limit is None else self.limit - len(self.seen)
        return room >= self.claim_at or busy < self.workers or room == rest

    def _active_channels(self) -> list[Channel]:
        return [c for c, p in self.d.providers.items() if id(p) not in self.stopped]

    def _claim_round(self) -> bool:
        """Claim and start one batch; ``False`` when nothing new was due."""
        channels = self._active_channels()
        if not channels:
            return False
        now = self.clock.now()
        size = min(self.d.settings.dispatch.batch_size, self._room())
        claimed, facts = self.outbox.claim_and_read(
            now=now,
            limit=size,
            lease=self.d.lease,
            channels=channels,
            query=lambda found: self._facts_query(
                [m for m in found if m.key not in self.seen], now
            ),
        )
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
        if self.d.observer is not None:
            self.claimed.update((m.key, m) for m in fresh)
        assert facts is not None  # asked for whenever some are fresh
        self._start(fresh, now, facts)
        return True

    # -- re-check, render, commit sending -------------------------------------------------

    def _start(self, claimed: list[OutboxMessage], now: datetime, found: RecheckFacts) -> None:
        loaded = [(m, m.installments) for m in claimed]
        facts = _facts(found)
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

    def _facts_query(self, fresh: list[OutboxMessage], now: datetime) -> RecheckQuery | None:
        """What the re-check reads about a claimed batch (in the claim's transaction)."""
        if not fresh:
            return None
        refs = [item.key for m in fresh for item in m.installments]
        pairs = [
            (m.channel, address)
            for m in fresh
            if (address := _address(m.channel, m.installments[0])) is not None
        ]
        since = min(
            day_start(now.astimezone(zone_for(m.timezone)).date(), m.timezone) for m in fresh
        )
        return refs, pairs, [m.borrower_id for m in fresh], since

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
        if verdict.learned is not None:
            self.report.learned.append(status_update(*verdict.learned))
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
        future = self.d.pool.submit(job)
        self.inflight[future] = _Job(provider=provider, items=items, deadline=deadline)
        future.add_done_callback(self.finished.done)

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
        self.finished.wait(1, wait_for)
        # Record a claim round's worth together (or every live call, if fewer are left),
        # waiting a little for them: one transaction instead of many.
        batch = min(len(live), self.claim_at)
        if any(f.done() for f in live) and sum(f.done() for f in live) < batch:
            self.finished.wait(batch, min(GATHER_SECONDS, wait_for or GATHER_SECONDS))
        finished = [(self.inflight.pop(f), f) for f in list(self.inflight) if f.done()]
        self.finished.taken(len(finished))
        now = self.clock.now()
        if finished:
            self._record(finished, now)
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

    def _record(self, finished: list[tuple[_Job, Future[list[Answer]]]], now: datetime) -> None:
        """Record the answers of every finished call in one transaction (two: late answers
        to calls given up on change only ``unknown`` rows, and only to a definite state)."""
        backoff = timedelta(minutes=self.d.settings.dispatch.reschedule_minutes)
        current: list[Outcome] = []
        late: list[Outcome] = []
        for job, future in finished:
            try:
                answers = future.result()
            except Exception as error:  # deliver() itself failed: the calls may have happened
                answers = [error] * len(job.items)
            for item, answer in zip(job.items, answers, strict=True):
                outcome = classify(job.provider.name, item.message, answer, now, backoff)
                if job.hung:
                    if outcome.move.to in (MessageState.SENT, MessageState.FAILED):
                        late.append(outcome)
                    continue
                self._carry_out(job.provider, item, outcome, now)
                current.append(outcome)
        self._settle(current, now, expect=(MessageState.SENDING,))
        # A late definite answer turns an ``unknown`` (already counted) into sent or failed.
        self.report.counts["unknown"] -= len(
            self._settle(late, now, expect=(MessageState.UNKNOWN,))
        )

    def _settle(
        self, outcomes: list[Outcome], now: datetime, *, expect: tuple[MessageState, ...]
    ) -> list[Outcome]:
        moved = self.outbox.settle([o.move for o in outcomes], now=now, expect=expect)
        done = [o for o in outcomes if o.move.key in moved]
        for outcome in done:
            self.report.counts[outcome.label] += 1
            message = self.claimed.get(outcome.move.key)
            if self.d.observer is not None and message is not None:
                self.d.observer.settled(message, outcome.label, now)
        return done

    def _carry_out(self, provider: Provider, item: _Item, outcome: Outcome, now: datetime) -> None:
        if outcome.refused is not None:
            self._permanent(item, outcome.refused, now)
        if outcome.stop_provider is not None:
            self._stop(provider, outcome.stop_provider)

    def _permanent(self, item: _Item, error: PermanentDeliveryError, now: datetime) -> None:
        message = item.message
        if error.recipient:  # a refusal of this message alone keeps the contact
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
            self.fallbacks_due = True

    def _stop(self, provider: Provider, reason: str) -> None:
        if id(provider) in self.stopped:
            return
        self.stopped.add(id(provider))
        self.report.stopped_providers[provider.name] = reason
        self.d.paused[id(provider)] = (time.monotonic() + self.d.pause_seconds, reason)
        minutes = self.d.pause_seconds / 60
        log.error(
            "provider %s stopped: %s; its messages stay planned, tried again in %.0f min",
            provider.name,
            reason,
            minutes,
        )


def _facts(found: RecheckFacts) -> Facts:
    statuses, flagged, listed = found
    contacts: dict[str, list[Contact]] = {}
    for contact in listed:
        contacts.setdefault(contact.borrower_id, []).append(contact)
    return Facts(statuses=statuses, flagged=flagged, contacts=contacts)


def _address(channel: Channel, installment: Installment) -> str | None:
    borrower = installment.borrower
    return borrower.phone if channel is Channel.SMS else borrower.push_token


def _collapse_key(message: OutboxMessage) -> str:
    """One borrower's pushes of one local day replace each other on the device."""
    digest = hashlib.sha256(f"{message.borrower_id}\x1f{message.day.isoformat()}".encode())
    return f"rk-{digest.hexdigest()[:16]}"
