"""One message per borrower, local day, stage and channel (SPEC §5.5).

A borrower with three installments due tomorrow gets one SMS listing all three, not
three SMS. Messages already suppressed before the caps (opt-out, no contact) merge among
themselves the same way so the plan shows one line per decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from remindkit.models import Channel, Installment, Stage
from remindkit.policy.decision import Reason, join_notes
from remindkit.policy.keys import message_key


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """One installment's step on one day, after channel choice, before merging and caps."""

    installment: Installment
    day: date
    stage: Stage
    channel: Channel
    fallbacks: tuple[Channel, ...] = ()
    wanted: datetime
    note: str | None = None
    reason: Reason | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Draft:
    """A merged message for one borrower's day, waiting for the caps."""

    borrower_id: str
    installments: tuple[Installment, ...]
    day: date
    stage: Stage
    channel: Channel
    fallbacks: tuple[Channel, ...]
    wanted: datetime
    note: str | None = None
    reason: Reason | None = None
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:  # computed once: sorting, caps and output all read it
            key = message_key(
                borrower_id=self.borrower_id,
                installments=self.installment_keys,
                stage=self.stage,
                day=self.day,
                channel=self.channel,
            )
            object.__setattr__(self, "key", key)

    @property
    def installment_keys(self) -> tuple[tuple[str, int], ...]:
        return tuple(installment.key for installment in self.installments)


_GroupKey = tuple[date, Stage, Channel, Reason | None]


def consolidate(candidates: Sequence[Candidate]) -> list[Draft]:
    """Merge one borrower's candidates; the result is sorted and independent of input order."""
    if len(candidates) == 1:  # the usual borrower: one installment, one step in the horizon
        return [_merge(list(candidates))]
    groups: dict[_GroupKey, list[Candidate]] = {}
    for candidate in candidates:
        group = (candidate.day, candidate.stage, candidate.channel, candidate.reason)
        groups.setdefault(group, []).append(candidate)
    drafts = [_merge(members) for members in groups.values()]
    drafts.sort(key=lambda draft: (draft.day, draft.wanted, draft.stage, draft.channel, draft.key))
    return drafts


def _merge(members: list[Candidate]) -> Draft:
    if len(members) == 1:
        return _alone(members[0])
    members.sort(key=lambda candidate: candidate.installment.key)
    first = members[0]
    return Draft(
        borrower_id=first.installment.borrower.id,
        installments=tuple(candidate.installment for candidate in members),
        day=first.day,
        stage=first.stage,
        channel=first.channel,
        fallbacks=_common_fallbacks(members),
        wanted=min(candidate.wanted for candidate in members),
        note=join_notes(*(candidate.note for candidate in members)),
        reason=first.reason,
    )


def _alone(candidate: Candidate) -> Draft:
    return Draft(
        borrower_id=candidate.installment.borrower.id,
        installments=(candidate.installment,),
        day=candidate.day,
        stage=candidate.stage,
        channel=candidate.channel,
        fallbacks=candidate.fallbacks,
        wanted=candidate.wanted,
        note=candidate.note,
        reason=candidate.reason,
    )


def _common_fallbacks(members: list[Candidate]) -> tuple[Channel, ...]:
    """Fallbacks usable for every merged installment, in the first one's order."""
    shared = set(members[0].fallbacks)
    for candidate in members[1:]:
        shared &= set(candidate.fallbacks)
    return tuple(channel for channel in members[0].fallbacks if channel in shared)
