"""``remindkit run``: the daemon (SPEC §8). APScheduler wiring only; the work is the kit's.

One APScheduler 3 ``BlockingScheduler`` with an in-memory job store (one scheduler per
store: several daemons share the *outbox*, never a job store) and three jobs, each with
``coalesce=True`` and ``max_instances=1``:

- **plan**: ``[service] plan_cron`` in the platform's zone, and at once at start. A run plans
  the latest scheduled slot unless ``plan_runs`` says it is done, under the planner lock
  (:mod:`remindkit.outbox.plan_runs`): several daemons plan each slot once, and a slot
  missed while every daemon was down is planned once when one comes back. Its horizon is
  every borrower's current local day and each next local day whose window opens before
  the next scheduled plan, whatever the borrower's zone. ``misfire_grace_time=None``: a run
  due while the process could not run it (suspended, busy) still runs, once (coalesced);
  APScheduler's default of 1 s would drop it.
- **dispatch** every ``dispatch_seconds``: send what is due (the outbox holds the messages;
  none is ever an APScheduler job).
- **reap** every ``reap_seconds``: leases of dead workers → ``unknown``; late → ``expired``.

SIGTERM / SIGINT: no new claims or plans, sends in flight are finished and recorded within
``stop_seconds``; then exit 0. If they are not done by then, the process exits 1 and those
messages stay ``sending`` until a reaper makes them ``unknown`` (never re-sent).
"""

from __future__ import annotations

import logging
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from remindkit.crontab import cron_trigger
from remindkit.errors import RemindkitError
from remindkit.feed import FeedItem
from remindkit.kit import FeedReport, Kit
from remindkit.models import zone_for
from remindkit.outbox.plan_runs import PlanCounts, PlannerLock, PlanRuns
from remindkit.plan import PlannedMessage
from remindkit.policy.horizon import MAX_DAYS
from remindkit.policy.window import local_time
from remindkit.sources import describe, open_feed

log = logging.getLogger("remindkit.service")
LOCK_POLL_SECONDS = 0.5
# How far back the latest scheduled slot is looked for (a yearly cron at most).
_LOOKBACKS = tuple(timedelta(seconds=s) for s in (60, 3600, 86_400, 32 * 86_400, 367 * 86_400))
EXIT_OK = 0
EXIT_SENDS_LEFT = 1


class PlanInterruptedError(Exception):
    """The service is stopping: the plan run ends here; its slot stays unfinished."""


class Service:
    """The daemon around one kit: jobs, signals, the HTTP side, an orderly stop."""

    def __init__(
        self,
        kit: Kit,
        *,
        feed: Path | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.kit = kit
        self.options = kit.settings.service
        self.feed = feed
        self.now = now
        self.stopping = threading.Event()
        self.trigger = cron_trigger(self.options.plan_cron, self.options.timezone)
        self.scheduler = BlockingScheduler(
            timezone=zone_for(self.options.timezone),
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self._busy = threading.Condition()
        self._running = 0
        self.runs: PlanRuns | None = None
        self.lock: PlannerLock | None = None
        self.observers: list[Any] = []

    # -- the three jobs -----------------------------------------------------------------

    def plan_job(self) -> None:
        """Plan the latest scheduled slot, unless it is done (by us or another process)."""
        now = self.now()
        slot = latest_fire_time(self.trigger, now)
        if slot is None:
            return
        upcoming = self.trigger.get_next_fire_time(None, now) or now + timedelta(days=1)
        assert self.runs is not None
        assert self.lock is not None
        while not self.stopping.is_set():
            if self.runs.done(slot):
                log.info("plan for %s: already done", _shown(slot))
                return
            with self.lock.attempt() as held:
                if held:
                    if not self.runs.done(slot):
                        self._plan(slot, upcoming)
                    return
            if self.now() >= upcoming:
                log.warning("plan for %s: another process held the planner lock", _shown(slot))
                return
            self.stopping.wait(LOCK_POLL_SECONDS)

    def _plan(self, slot: datetime, upcoming: datetime) -> None:
        assert self.runs is not None
        now = self.now()
        self.runs.start(slot, now=now)
        source = describe(self.kit.settings.feed, self.feed)
        log.info("plan for %s: reading %s", _shown(slot), source)
        started = time.monotonic()
        try:
            report = self.kit.enqueue_feed(
                self._until_stopped(open_feed(self.kit.settings.feed, self.feed)),
                at=now,
                days=horizon_days(now, upcoming),
                keep=self._in_horizon(now, upcoming),
            )
        except PlanInterruptedError:
            log.warning(
                "plan for %s: interrupted by the stop; planned again at start", _shown(slot)
            )
            return
        self.runs.finish(slot, _counts(report), now=self.now())
        for row in report.rejected_rows:
            log.warning("feed row %d rejected: %s: %s", row.row, row.field or "-", row.reason)
        for warning in report.warnings:
            log.warning("plan: %s", warning)
        log.info(
            "plan for %s: %d planned, %d suppressed, %d new in the outbox, %d rows rejected, "
            "%d cancelled by status, %d thank-yous (%.1f s)",
            _shown(slot),
            report.planned,
            report.suppressed,
            report.enqueued.inserted,
            len(report.rejected_rows),
            report.statuses.cancelled,
            report.statuses.thanked,
            time.monotonic() - started,
        )

    def _until_stopped(self, items: Iterator[FeedItem]) -> Iterator[FeedItem]:
        for item in items:
            if self.stopping.is_set():
                raise PlanInterruptedError
            yield item

    def _in_horizon(self, now: datetime, upcoming: datetime) -> Callable[[PlannedMessage], bool]:
        opens = self.kit.settings.window.start

        def keep(message: PlannedMessage) -> bool:
            if self.stopping.is_set():
                raise PlanInterruptedError
            zone = message.installments[0].borrower.timezone
            zone = getattr(message.send_at.tzinfo, "key", None) or zone
            if local_time(message.day, datetime.min.time(), zone) <= now:
                return True  # the borrower's day has begun: plan all of it
            return local_time(message.day, opens, zone) < upcoming

        return keep

    def dispatch_job(self) -> None:
        report = self.kit.dispatch_due()
        if report.counts or report.stopped_providers or report.template_errors:
            shown = ", ".join(f"{k} {n}" for k, n in sorted(report.counts.items()) if n)
            log.info("dispatch: %s", shown or "nothing due")
        for name, reason in report.stopped_providers.items():
            log.error("provider %s stopped: %s", name, reason)

    def reap_job(self) -> None:
        unknown, expired = self.kit.reap(self.now())
        if unknown or expired:
            log.warning("reap: %d sending → unknown (lease expired), %d expired", unknown, expired)

    # -- running ------------------------------------------------------------------------

    def _guarded(self, name: str, job: Callable[[], None]) -> Callable[[], None]:
        """The job counted while it runs (the stop waits for it), its errors logged."""

        def run() -> None:
            if self.stopping.is_set():
                return
            with self._busy:
                self._running += 1
            try:
                job()
            except RemindkitError as exc:
                log.error("%s: %s", name, exc)
            except Exception:
                log.exception("%s failed", name)
            finally:
                with self._busy:
                    self._running -= 1
                    self._busy.notify_all()

        return run

    def prepare(self) -> None:
        """Open the store, build the providers and the dispatcher: fail here, not in a job."""
        self.kit.settings.require_platform()
        outbox = self.kit.outbox
        self.runs = PlanRuns(outbox)
        self.lock = PlannerLock(outbox)
        self.kit.dispatcher.observer = _Observers(self.observers)

    def add_jobs(self) -> None:
        start = datetime.now(zone_for(self.options.timezone))
        self.scheduler.add_job(
            self._guarded("plan", self.plan_job),
            self.trigger,
            id="plan",
            name="plan",
            next_run_time=start,
            misfire_grace_time=None,
        )
        for name, job, every in (
            ("dispatch", self.dispatch_job, self.options.dispatch_seconds),
            ("reap", self.reap_job, self.options.reap_seconds),
        ):
            self.scheduler.add_job(
                self._guarded(name, job),
                IntervalTrigger(seconds=every),
                id=name,
                name=name,
                next_run_time=start,
                misfire_grace_time=max(1, int(every)),
            )

    def stop(self) -> None:
        """Stop claiming and planning; the scheduler's loop ends; jobs running finish."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        self.kit.dispatcher.stopping.set()
        # Not from the signal handler itself: shutdown takes locks the interrupted main
        # thread may hold.
        threading.Thread(target=self._shutdown, name="remindkit-stop", daemon=True).start()

    def _shutdown(self) -> None:
        # A stop during start-up may come before the scheduler runs: wait for it (bounded).
        for _ in range(200):
            try:
                self.scheduler.shutdown(wait=False)
                return
            except SchedulerNotRunningError:
                time.sleep(0.05)

    def wait_idle(self, seconds: float) -> bool:
        """Until no job runs, at most ``seconds``; ``True`` if none is left running."""
        deadline = time.monotonic() + seconds
        with self._busy:
            while self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._busy.wait(left)
        return True

    def run(self, on_started: Callable[[], None] | None = None) -> int:
        """Run until SIGTERM/SIGINT; the exit code (see the module docstring)."""
        self.prepare()
        self.add_jobs()
        with ExitStack() as stack:
            stack.callback(_restore_signals, _install_signals(self.stop))
            if on_started is not None:
                on_started()
            log.info(
                "service started: plan %r (%s), dispatch every %g s, reap every %g s; store %s",
                self.options.plan_cron,
                self.options.timezone,
                self.options.dispatch_seconds,
                self.options.reap_seconds,
                self.kit.outbox.url,
            )
            if not self.stopping.is_set():
                self.scheduler.start()
            log.info("stopping: waiting up to %g s for sends in flight", self.options.stop_seconds)
            if not self.wait_idle(self.options.stop_seconds):
                log.error(
                    "stop: sends still in flight after %g s; they stay sending until a reaper "
                    "marks them unknown (never re-sent)",
                    self.options.stop_seconds,
                )
                return EXIT_SENDS_LEFT
        log.info("service stopped")
        return EXIT_OK


class _Observers:
    """Every observer of the dispatcher (the metrics), as one."""

    def __init__(self, observers: list[Any]) -> None:
        self.observers = observers

    def provider_answered(self, provider: str, answers: Any, seconds: float) -> None:
        for observer in self.observers:
            observer.provider_answered(provider, answers, seconds)

    def settled(self, message: Any, outcome: str, now: datetime) -> None:
        for observer in self.observers:
            observer.settled(message, outcome, now)


def latest_fire_time(trigger: Any, now: datetime) -> datetime | None:
    """The latest time ``trigger`` fires at or before ``now`` (within a year), else ``None``."""
    for lookback in _LOOKBACKS:
        fire = trigger.get_next_fire_time(None, now - lookback)
        if fire is None or fire > now:
            continue
        while True:  # bounded: at most the fires within this lookback
            following = trigger.get_next_fire_time(fire, fire)
            if following is None or following > now or following <= fire:
                found: datetime = fire.astimezone(UTC)
                return found
            fire = following
    return None


def horizon_days(now: datetime, upcoming: datetime) -> int:
    """Local days to plan so every zone's coming day is covered until the next plan."""
    # Today in every zone, and each next day up to the next plan: one more local day per
    # 24 h (or part of it) until then.
    period_days = math.ceil(max(0.0, (upcoming - now).total_seconds()) / 86_400)
    return min(MAX_DAYS, 1 + max(1, period_days))


def _counts(report: FeedReport) -> PlanCounts:
    return PlanCounts(
        planned=report.planned,
        suppressed=report.suppressed,
        rejected=len(report.rejected_rows),
        inserted=report.enqueued.inserted,
    )


def _shown(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_Handlers = dict[int, Any]


def _install_signals(stop: Callable[[], None]) -> _Handlers:
    def handler(signum: int, frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        stop()

    return {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}


def _restore_signals(previous: _Handlers) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def exit_now(code: int) -> None:
    """Leave without joining threads stuck in a provider call (they would hold the exit)."""
    logging.shutdown()
    os._exit(code)
