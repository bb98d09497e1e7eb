"""Calling providers: a rate limit held across threads, short retries, daemon send threads.

- :class:`RateLimiter` spaces calls to one provider at ``1 / rate`` seconds whatever the
  number of threads: each caller reserves the next slot under a lock and waits outside it.
- :func:`deliver` sends a group of envelopes (one, or a provider's batch) and retries in
  process with tenacity only those answers that are certainly not accepted
  (``TransientDeliveryError``): exponential backoff with jitter, a ``Retry-After`` honoured
  when the provider gives one, the sleep injected. A wait longer than the configured
  maximum is not slept in process: the message is rescheduled in the outbox instead.
- :class:`SendPool` runs sends on daemon threads, so a provider that never answers cannot
  keep the process from exiting; the dispatcher gives up on such a call after the
  provider's timeout (the message becomes ``unknown``) and the pool replaces the thread.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_attempt
from tenacity.wait import wait_exponential, wait_random

from remindkit.errors import DeliveryError, TransientDeliveryError
from remindkit.providers.base import Envelope, Provider, Receipt

Answer = Receipt | BaseException


class RateLimiter:
    """At most ``rate`` calls per second, across every thread that shares this limiter."""

    def __init__(
        self,
        rate: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.clock = clock
        self.sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self, calls: int = 1) -> None:
        if not self.interval:
            return
        with self._lock:
            now = self.clock()
            start = max(self._next, now)
            self._next = start + self.interval * calls
        if start > now:
            self.sleep(start - now)


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """In-process retries of transient errors (SPEC §6.4)."""

    attempts: int = 3
    initial: float = 0.5
    maximum: float = 10.0
    sleep: Callable[[float], None] = time.sleep


def deliver(
    provider: Provider,
    envelopes: Sequence[Envelope],
    *,
    limiter: RateLimiter,
    policy: RetryPolicy,
    observe: Callable[[str, Sequence[Answer], float], None] | None = None,
) -> list[Answer]:
    """One answer per envelope: a receipt, or the last error for it. ``observe`` hears
    each call: the provider's name, its answers and how long it took."""
    answers: list[Answer | None] = [None] * len(envelopes)
    batched = provider.capabilities.batch_size > 1

    def attempt(pending: list[int]) -> list[int]:
        limiter.acquire(len(pending))
        started = time.monotonic()
        results = _call(provider, [envelopes[i] for i in pending], batched)
        if observe is not None:
            observe(provider.name, results, time.monotonic() - started)
        retry: list[int] = []
        for index, result in zip(pending, results, strict=True):
            answers[index] = result
            if isinstance(result, TransientDeliveryError) and _waitable(result, policy):
                retry.append(index)
        return retry

    first = attempt(list(range(len(envelopes))))
    if first and policy.attempts > 1:  # the usual answer needs no retry machinery at all
        _retry(attempt, first, answers, policy)
    return [answer if answer is not None else RuntimeError("no answer") for answer in answers]


def _retry(
    attempt: Callable[[list[int]], list[int]],
    pending: list[int],
    answers: list[Answer | None],
    policy: RetryPolicy,
) -> None:
    """Attempts 2…n for the envelopes whose answer was transient (tenacity decides when)."""
    # Exponential backoff with jitter: initial · 2^(n-1), capped, plus up to ``initial`` at random.
    backoff = wait_exponential(multiplier=policy.initial, max=policy.maximum) + wait_random(
        0, policy.initial
    )

    def wait(state: RetryCallState) -> float:
        waiting: list[int] = state.outcome.result() if state.outcome else []
        asked = [_retry_after(answers[i]) for i in waiting]
        longest = max((value for value in asked if value is not None), default=None)
        return longest if longest is not None else float(backoff(state))

    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait,
        retry=retry_if_result(bool),
        sleep=policy.sleep,
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else [],
    )
    first = True
    for try_ in retrying:
        with try_:
            if first:  # tenacity's first attempt stands for the one already made
                first = False
            else:
                pending = attempt(pending)
        if not try_.retry_state.outcome or not try_.retry_state.outcome.failed:
            try_.retry_state.set_result(pending)


def _call(provider: Provider, envelopes: list[Envelope], batched: bool) -> list[Answer]:
    try:
        if batched:
            results: list[Answer] = list(provider.send_batch(envelopes))
            if len(results) != len(envelopes):
                error = RuntimeError(
                    f"{provider.name}.send_batch gave {len(results)} answers for "
                    f"{len(envelopes)} messages"
                )
                return [error] * len(envelopes)
            return results
        return [provider.send(envelopes[0])]
    except DeliveryError as error:  # one error for the whole call applies to each message
        return [error] * len(envelopes)
    except Exception as error:  # a plugin bug: the dispatcher records it as unknown
        return [error] * len(envelopes)


def _retry_after(answer: Answer | None) -> float | None:
    return answer.retry_after if isinstance(answer, TransientDeliveryError) else None


def _waitable(error: TransientDeliveryError, policy: RetryPolicy) -> bool:
    """A ``Retry-After`` longer than the in-process maximum is left to the outbox."""
    return error.retry_after is None or error.retry_after <= policy.maximum


class SendPool:
    """A fixed set of daemon threads running sends; hung threads can be replaced."""

    def __init__(self, workers: int, *, spare: int | None = None) -> None:
        self._queue: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = (
            queue.SimpleQueue()
        )
        self._threads: list[threading.Thread] = []
        self._spare = workers if spare is None else spare
        for _ in range(workers):
            self._spawn()

    def _spawn(self) -> None:
        thread = threading.Thread(target=self._work, name="remindkit-send", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            future, job = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job())
            except BaseException as error:  # handed to the dispatcher, which classifies it
                future.set_exception(error)

    def submit(self, job: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        self._queue.put((future, job))
        return future

    def replace_hung(self) -> bool:
        """Add a thread for one that is stuck in a call; ``False`` once the spares are used."""
        if self._spare <= 0:
            return False
        self._spare -= 1
        self._spawn()
        return True

    def close(self) -> None:
        """Stop the idle threads; threads stuck in a provider call are left (daemon)."""
        for _ in self._threads:
            self._queue.put(None)
