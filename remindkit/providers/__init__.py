"""Providers deliver messages on a channel (SPEC §6.5): the interface, the registry, and the
built-in ``console`` and ``file`` providers. ``remindkit.testing.RecordingProvider`` is the
scriptable one for tests."""

from __future__ import annotations

from remindkit.providers.base import Capabilities, Envelope, Provider, ProviderOptions, Receipt
from remindkit.providers.registry import available, build

__all__ = [
    "Capabilities",
    "Envelope",
    "Provider",
    "ProviderOptions",
    "Receipt",
    "available",
    "build",
]
