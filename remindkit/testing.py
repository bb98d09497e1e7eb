"""Test doubles and sample factories that remindkit users can import in their own tests.

``FrozenClock`` stands in for the system clock; ``RecordingProvider`` for an SMS or push
provider (it records what it is asked to send and fails when told to); ``make_installment``,
``demo_platform`` and ``demo_settings`` build valid values with sensible defaults,
overridable by keyword. The demo lender (禾苗金融) is fictional: use it in tests and
previews, never to send. Loopback fakes of the real providers' servers (Twilio, FCM and its
token endpoint, a domestic SMS gateway) are in :mod:`remindkit.fakes`.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from remindkit.config import Settings
from remindkit.errors import (
    DeliveryOutcomeUnknownError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from remindkit.models import Channel, Installment, Platform, require_aware
from remindkit.parse import parse_installment
from remindkit.providers.base import Envelope, Provider, ProviderOptions, Receipt
from remindkit.resources import sample_platform, sample_platform_settings


class FrozenClock:
    """A clock that stands still until told to move; satisfies ``remindkit.clock.Clock``."""

    def __init__(self, now: datetime) -> None:
        self._now = require_aware(now, "FrozenClock time")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, now: datetime) -> None:
        self._now = require_aware(now, "FrozenClock time")


def demo_platform(**overrides: Any) -> Platform:
    """The fictitious lender of the shipped samples (禾苗金融), for tests and previews only:
    :func:`remindkit.resources.sample_platform` with fields overridden by keyword."""
    return replace(sample_platform(), **overrides)


def demo_settings(**fields: Any) -> Settings:
    """Settings signed by the fictitious sample lender, for tests: a ``Kit`` built on them
    plans and renders (``Settings()`` alone has no platform and refuses). ``fields`` are
    further :class:`~remindkit.config.Settings` fields."""
    return Settings(platform=sample_platform_settings(), **fields)


def make_installment(**fields: Any) -> Installment:
    """A valid installment from feed-style fields (SPEC §3); defaults fill the rest.

    Values go through the same validation as a feed row, so a test cannot build an
    installment the feed would have rejected.
    """
    row: dict[str, Any] = {
        "loan_id": "HM20260001",
        "borrower_id": "B0001",
        "name": "王芳",
        "gender": "female",
        "phone": "13800138000",
        "amount_due": "1234.50",
        "due_date": "2026-12-01",
    }
    row.update(fields)
    return parse_installment(row)


class RecordingOptions(ProviderOptions):
    """``[providers.recording]``: script the provider from a config file (subprocess tests).

    ``journal``: a file each envelope's key is appended to when the call arrives (what a
    real provider "saw", kept across a ``kill -9``); ``latency_seconds``: how long each call
    takes; ``transient_first``: each key fails transiently this many times first;
    ``permanent_to`` / ``unknown_to``: recipients refused permanently / answered ambiguously.
    """

    channels: tuple[Channel, ...] = (Channel.SMS, Channel.PUSH)
    journal: Path | None = None
    latency_seconds: float = Field(default=0.0, ge=0, le=60)
    transient_first: int = Field(default=0, ge=0, le=10)
    permanent_to: tuple[str, ...] = ()
    unknown_to: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Rule:
    matches: Callable[[Envelope], bool]
    error: Callable[[], BaseException]
    times: int | None  # None: every matching call


class RecordingProvider(Provider):
    """A provider that records what it is asked to send and fails when told to.

    ::

        provider = RecordingProvider()
        provider.fail(TransientDeliveryError("busy", retry_after=1), times=2)
        provider.fail(PermanentDeliveryError("unregistered"), to="tok-123")
        kit = Kit(settings, providers={Channel.SMS: provider, Channel.PUSH: provider})
        ...
        assert [e.key for e in provider.sent] == [...]

    ``sent`` holds the envelopes accepted; ``calls`` every envelope the provider was called
    with, accepted or not. ``latency`` makes each call take that long (a slow provider);
    ``hang()`` makes calls block until ``release()`` (a provider that never answers).
    """

    name: ClassVar[str] = "recording"
    channels: ClassVar[frozenset[Channel]] = frozenset(Channel)
    timeout_seconds: ClassVar[float] = 5.0
    Options: ClassVar[type[ProviderOptions]] = RecordingOptions

    def __init__(
        self,
        options: ProviderOptions | None = None,
        *,
        latency: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(options)
        self._settings = (
            self.options if isinstance(self.options, RecordingOptions) else RecordingOptions()
        )
        self.latency = self._settings.latency_seconds if latency is None else latency
        self.sleep = sleep
        self.sent: list[Envelope] = []
        self.calls: list[Envelope] = []
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self._open = threading.Event()
        self._open.set()
        self._seen: Counter[str] = Counter()
        self._script_from_options()

    def _script_from_options(self) -> None:
        options = self._settings
        if options.transient_first:
            first = options.transient_first
            self._rules.append(
                _Rule(
                    matches=lambda envelope: self._seen[envelope.key] <= first,
                    error=lambda: TransientDeliveryError("scripted: busy", code="busy"),
                    times=None,
                )
            )
        for address in options.permanent_to:
            self.fail(
                PermanentDeliveryError("scripted: unregistered", code="unregistered"), to=address
            )
        for address in options.unknown_to:
            self.fail(DeliveryOutcomeUnknownError("scripted: timed out after sending"), to=address)

    def fail(
        self,
        error: BaseException | Callable[[], BaseException],
        *,
        to: str | None = None,
        key: str | None = None,
        when: Callable[[Envelope], bool] | None = None,
        times: int | None = 1,
    ) -> None:
        """Make matching calls raise ``error`` (``times`` calls; ``None``: every one)."""

        def matches(envelope: Envelope) -> bool:
            return (
                (to is None or envelope.to == to)
                and (key is None or envelope.key == key)
                and (when is None or when(envelope))
            )

        if isinstance(error, BaseException):
            instance = error

            def factory() -> BaseException:
                return instance
        else:
            factory = error
        self._rules.append(_Rule(matches=matches, error=factory, times=times))

    def hang(self) -> None:
        """Calls from now on block until :meth:`release` (a provider that never answers)."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def send(self, envelope: Envelope) -> Receipt:
        with self._lock:
            self.calls.append(envelope)
            self._seen[envelope.key] += 1
            self._journal(envelope)
            rule = self._matching_rule(envelope)
        if self.latency:
            self.sleep(self.latency)
        self._open.wait(timeout=3600)
        if rule is not None:
            raise rule.error()
        with self._lock:
            self.sent.append(envelope)
        return Receipt(provider=self.name, provider_message_id=f"rec-{envelope.key}")

    def _matching_rule(self, envelope: Envelope) -> _Rule | None:
        for index, rule in enumerate(self._rules):
            if not rule.matches(envelope):
                continue
            if rule.times is not None:
                remaining = rule.times - 1
                if remaining <= 0:
                    del self._rules[index]
                else:
                    self._rules[index] = _Rule(
                        matches=rule.matches, error=rule.error, times=remaining
                    )
            return rule
        return None

    def _journal(self, envelope: Envelope) -> None:
        journal = self._settings.journal
        if journal is None:
            return
        # One short append per call: O_APPEND keeps lines whole across processes.
        with journal.open("a", encoding="utf-8") as handle:
            handle.write(envelope.key + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    @property
    def sent_keys(self) -> list[str]:
        with self._lock:
            return [envelope.key for envelope in self.sent]
