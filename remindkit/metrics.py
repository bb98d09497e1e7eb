"""Prometheus metrics of the service (``GET /metrics``), with ``prometheus-client``.

Read from the outbox at each scrape (so every daemon on one store reports the same):

- ``remindkit_messages{state, channel, provider}``: messages in the outbox;
- ``remindkit_oldest_unknown_age_seconds``: how long the oldest ``unknown`` message has
  waited for a person (0 when there is none);
- ``remindkit_store_up``: 1 when the scrape could read the store.

Counted by this process as it works:

- ``remindkit_dispatch_latency_seconds{channel, provider}``: from a message's due time to
  its provider's answer being recorded;
- ``remindkit_provider_call_seconds{provider}``: each provider call (one attempt);
- ``remindkit_provider_errors_total{provider, class}``: provider errors by class
  (``transient``, ``permanent``, ``unknown``, ``config``, ``unexpected``);
- ``remindkit_dispatch_outcomes_total{outcome, channel}``: answers recorded, by outcome;
- ``remindkit_receipts_total{provider, status}`` and ``remindkit_receipts_refused_total{reason}``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from remindkit.errors import (
    DeliveryError,
    DeliveryOutcomeUnknownError,
    PermanentDeliveryError,
    ProviderConfigError,
    RemindkitError,
    TransientDeliveryError,
)
from remindkit.outbox.records import OutboxMessage
from remindkit.outbox.states import MessageState
from remindkit.outbox.store import Outbox

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 15, 30, 60, 120, 300, 900, 3600)
_CALL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def error_class(answer: object) -> str | None:
    """The class of a provider's answer for ``provider_errors_total``; ``None``: accepted."""
    if isinstance(answer, TransientDeliveryError):
        return "transient"
    if isinstance(answer, PermanentDeliveryError):
        return "permanent"
    if isinstance(answer, DeliveryOutcomeUnknownError):
        return "unknown"
    if isinstance(answer, ProviderConfigError):
        return "config"
    if isinstance(answer, DeliveryError | Exception):
        return "unexpected"
    return None


class OutboxCollector(Collector):
    """The outbox's counts, read at each scrape."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def collect(self) -> Iterator[Metric]:
        messages = GaugeMetricFamily(
            "remindkit_messages",
            "Messages in the outbox by state, channel and provider.",
            labels=["state", "channel", "provider"],
        )
        oldest = GaugeMetricFamily(
            "remindkit_oldest_unknown_age_seconds",
            "Age of the oldest message whose outcome is unknown (0: none).",
        )
        up = GaugeMetricFamily("remindkit_store_up", "1 when the outbox could be read.")
        try:
            counts = self.outbox.counts()
            unknown = self.outbox.oldest(MessageState.UNKNOWN)
        except RemindkitError:
            up.add_metric([], 0)
            yield up
            return
        for state, channel, provider, count in counts:
            messages.add_metric([state, channel, provider or ""], count)
        oldest.add_metric([], _age(unknown))
        up.add_metric([], 1)
        yield from (messages, oldest, up)


def _age(message: OutboxMessage | None) -> float:
    if message is None:
        return 0.0
    since = message.sent_at or message.updated_at
    return max(0.0, (datetime.now(UTC) - since).total_seconds())


class ServiceMetrics:
    """The registry ``/metrics`` serves; also the dispatcher's observer."""

    def __init__(self, outbox: Outbox) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(OutboxCollector(outbox))
        self.latency = Histogram(
            "remindkit_dispatch_latency_seconds",
            "From a message's due time to its provider's answer being recorded.",
            ["channel", "provider"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.calls = Histogram(
            "remindkit_provider_call_seconds",
            "Duration of each provider call (one attempt).",
            ["provider"],
            buckets=_CALL_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "remindkit_provider_errors",
            "Provider errors by class (transient, permanent, unknown, config, unexpected).",
            ["provider", "class"],
            registry=self.registry,
        )
        self.outcomes = Counter(
            "remindkit_dispatch_outcomes",
            "Provider answers recorded, by outcome.",
            ["outcome", "channel"],
            registry=self.registry,
        )
        self.receipts = Counter(
            "remindkit_receipts",
            "Delivery receipts recorded, by provider and status.",
            ["provider", "status"],
            registry=self.registry,
        )
        self.refused = Counter(
            "remindkit_receipts_refused",
            "Receipt requests refused (bad signature, malformed) or ignored (unknown id).",
            ["reason"],
            registry=self.registry,
        )

    def provider_answered(self, provider: str, answers: Sequence[object], seconds: float) -> None:
        self.calls.labels(provider).observe(seconds)
        for answer in answers:
            kind = error_class(answer)
            if kind is not None:
                self.errors.labels(provider, kind).inc()

    def settled(self, message: OutboxMessage, outcome: str, now: datetime) -> None:
        self.outcomes.labels(outcome, message.channel.value).inc()
        if outcome == "sent":
            waited = max(0.0, (now - message.next_attempt_at).total_seconds())
            self.latency.labels(message.channel.value, message.provider or "").observe(waited)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
