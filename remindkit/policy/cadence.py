"""Cadence profiles (SPEC §5.2): which steps exist, chosen by the feed row's ``segment``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import Protocol

from remindkit.models import Channel

DEFAULT_PROFILE = "default"


class StepSettings(Protocol):
    """What the planner reads of one configured step (``remindkit.config.Step``)."""

    @property
    def offset_days(self) -> int: ...
    @property
    def channels(self) -> tuple[Channel, ...]: ...
    @property
    def send_time(self) -> time: ...


class ProfileSettings(Protocol):
    @property
    def steps(self) -> tuple[StepSettings, ...]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CadenceStep:
    """At ``offset_days`` from the due date, send at ``send_time`` on the first usable channel."""

    offset_days: int
    channels: tuple[Channel, ...]
    send_time: time

    def __post_init__(self) -> None:
        if not self.channels:
            raise ValueError(f"step {self.offset_days:+d}: needs at least one channel")


@dataclass(frozen=True, slots=True, kw_only=True)
class Cadence:
    """Every profile by name; an unknown or empty segment uses ``default``."""

    profiles: Mapping[str, tuple[CadenceStep, ...]]

    def __post_init__(self) -> None:
        if DEFAULT_PROFILE not in self.profiles:
            raise ValueError(f"cadence needs a {DEFAULT_PROFILE!r} profile")

    @classmethod
    def from_settings(cls, cadence: Mapping[str, ProfileSettings]) -> Cadence:
        profiles = {
            name: tuple(
                sorted(
                    (
                        CadenceStep(
                            offset_days=step.offset_days,
                            channels=tuple(step.channels),
                            send_time=step.send_time,
                        )
                        for step in profile.steps
                    ),
                    key=lambda step: step.offset_days,
                )
            )
            for name, profile in cadence.items()
        }
        return cls(profiles=profiles)

    def profile_name(self, segment: str | None) -> str:
        """The profile a segment selects; unknown names fall back to ``default``."""
        if segment and segment in self.profiles:
            return segment
        return DEFAULT_PROFILE

    def is_unknown(self, segment: str | None) -> bool:
        """A named segment without a profile: worth one warning (SPEC §5.2)."""
        return bool(segment) and segment not in self.profiles

    def steps(self, profile: str) -> tuple[CadenceStep, ...]:
        return self.profiles[profile]
