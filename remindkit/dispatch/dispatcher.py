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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from remindkit.clock import Clock
from remindkit.config import Settings
from remindkit.dispatch.delivery import Answer, RateLimiter, RetryPolicy, SendPool
from remindkit.dispatch.outcomes import DispatchReport
from remindkit.dispatch.recheck import Recheck, StatusCheck
from remindkit.dispatch.run import DispatchRun
from remindkit.models import Channel, require_aware
from remindkit.outbox.records import OutboxMessage
from remindkit.outbox.store import Outbox
from remindkit.policy.caps import Caps
from remindkit.policy.window import SendWindow
from remindkit.providers.base import Provider
from remindkit.render import Renderer

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
        # Providers stopped by a configuration error: id → (monotonic time to try again,
        # reason). A service does not retry bad credentials every few seconds, nor log them
        # on every tick: once at the stop, once when it tries again.
        self.paused: dict[int, tuple[float, str]] = {}
        self.pause_seconds = options.provider_pause_minutes * 60.0
        self.observer: DispatchObserver | None = None

    def close(self) -> None:
        self.pool.close()

    def dispatch_due(
        self, now: datetime | None = None, *, limit: int | None = None
    ) -> DispatchReport:
        """Send every message due at ``now`` (default: the clock's time, read as the run
        goes on), at most ``limit`` of them; returns what happened."""
        clock = self.clock if now is None else _Fixed(require_aware(now, "now"))
        return DispatchRun(self, clock, limit).execute()

    # -- used by DispatchRun ---------------------------------------------------------------------

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
