"""The provider interface (SPEC §6.5): one required method and declared capabilities.

A provider turns an :class:`Envelope` into a :class:`Receipt` or raises one of the delivery
errors, and does nothing else (style rule 3): it never retries, sleeps, or writes the
database. The dispatcher reads the capabilities and turns them into behaviour: the channels
it may carry, the longest text it accepts, its rate limit (messages per second, held across
threads), how many envelopes one ``send_batch`` call takes, and how long a call may take
before its outcome counts as unknown.

What each error means for the message (the dispatcher's table, :mod:`remindkit.dispatch`):

=================================  ==========================================================
``TransientDeliveryError``         certainly not accepted: retried, then rescheduled
``PermanentDeliveryError``         this recipient cannot be reached here: ``failed``, the
                                   contact is flagged, the step's next channel is tried
``DeliveryOutcomeUnknownError``    may have been accepted: ``unknown``, never re-sent
``ProviderConfigError``            the provider is stopped for the run, its messages stay
                                   ``planned``, the operator is told once
any other exception                treated as unknown (a plugin bug must not cause a resend)
=================================  ==========================================================

Settings: a provider declares a pydantic model ``Options`` for its ``[providers.<name>]``
table; secrets are read from the environment by the provider itself, never from the file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from remindkit.errors import ConfigError, DeliveryError
from remindkit.models import Channel


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    """One message as a provider must deliver it.

    ``to`` is an E.164 phone number for SMS or a device token for push. ``text`` is the
    whole SMS (signature included); a push has ``title`` and ``body`` and never shows an
    amount. ``key`` is the outbox key: providers that take an idempotency key pass it on.
    ``collapse_key`` groups one borrower's pushes of one local day on the device.
    """

    key: str
    channel: Channel
    to: str
    text: str | None = None
    title: str | None = None
    body: str | None = None
    borrower_id: str = ""
    collapse_key: str = ""
    metadata: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    """The provider accepted the message; ``provider_message_id`` is its own id (for
    delivery receipts later), ``raw`` what it answered, minus anything secret."""

    provider: str
    provider_message_id: str | None = None
    raw: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True, kw_only=True)
class Capabilities:
    channels: frozenset[Channel]
    max_length: int | None = None
    rate_per_second: float | None = None
    batch_size: int = 1
    timeout_seconds: float = 30.0


class ProviderOptions(BaseModel):
    """``[providers.<name>]``: what every provider accepts; providers extend it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rate_per_second: float | None = Field(default=None, gt=0, le=10_000)
    timeout_seconds: float | None = Field(default=None, gt=0, le=300)


class Provider(ABC):
    """Subclass, declare the class attributes, implement :meth:`send`."""

    name: ClassVar[str]
    channels: ClassVar[frozenset[Channel]]
    max_length: ClassVar[int | None] = None
    rate_per_second: ClassVar[float | None] = None
    batch_size: ClassVar[int] = 1
    timeout_seconds: ClassVar[float] = 30.0
    Options: ClassVar[type[ProviderOptions]] = ProviderOptions

    def __init__(self, options: ProviderOptions | None = None) -> None:
        self.options = options or self.Options()

    @property
    def capabilities(self) -> Capabilities:
        """The class's declarations, with the operator's rate and timeout where given."""
        return Capabilities(
            channels=self.channels,
            max_length=self.max_length,
            rate_per_second=self.options.rate_per_second or self.rate_per_second,
            batch_size=self.batch_size,
            timeout_seconds=self.options.timeout_seconds or self.timeout_seconds,
        )

    @abstractmethod
    def send(self, envelope: Envelope) -> Receipt:
        """Deliver one message or raise a :class:`~remindkit.errors.DeliveryError`."""

    def send_batch(self, envelopes: Sequence[Envelope]) -> list[Receipt | DeliveryError]:
        """Deliver up to ``batch_size`` messages; one result per envelope, in order.

        The default calls :meth:`send` for each. Providers with a batch API (FCM's
        ``send_each``) override it and set ``batch_size``.
        """
        results: list[Receipt | DeliveryError] = []
        for envelope in envelopes:
            try:
                results.append(self.send(envelope))
            except DeliveryError as error:
                results.append(error)
        return results

    def check(self) -> list[str]:
        """Problems with the settings or credentials, found without sending anything."""
        return []

    def close(self) -> None:  # noqa: B027 - optional hook: most providers hold nothing
        """Release connections; called once when the kit is closed."""


def pool_too_small(provider: Provider, workers: int) -> ConfigError | None:
    """A :class:`ConfigError` on ``providers.<name>.pool_size`` when a provider keeps fewer
    HTTP connections than ``[dispatch] workers`` (each send thread holds one for its call;
    past the pool, every call would open a connection and drop it), else ``None``."""
    pool = getattr(provider.options, "pool_size", None)
    if not isinstance(pool, int) or pool >= workers:
        return None
    return ConfigError(
        f"providers.{provider.name}.pool_size",
        f"{pool} connections for [dispatch] workers = {workers}: set pool_size to at least "
        f"{workers} (or fewer workers); each send thread holds a connection during its call",
    )
