"""Stable message keys (SPEC §5.6): re-planning the same input never makes a new message.

The key is the outbox's idempotency guard, so it depends only on what the message is
about — borrower, installments, stage, local day and channel — never on feed order,
send time or the time of planning.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date

from remindkit.models import Channel, Stage

KEY_PREFIX = "rk1_"
# 128 bits: collisions stay negligible across billions of messages.
_HEX_CHARS = 32


def message_key(
    *,
    borrower_id: str,
    installments: Iterable[tuple[str, int]],
    stage: Stage,
    day: date,
    channel: Channel,
) -> str:
    # Length-prefixed fields: unambiguous whatever characters ids contain, and cheaper than
    # JSON for the tens of thousands of keys a large plan makes. The payload is part of
    # every stored key: it never changes (tests pin known keys).
    # Stage and Channel are StrEnums: the members format, and measure, as their values
    # (cheaper than ``.value``, a property).
    day_text = day.isoformat()
    loans = [f"{loan_id}#{number}" for loan_id, number in sorted(installments)]
    payload = (
        f"{len(borrower_id)}:{borrower_id}{len(stage)}:{stage}"
        f"{len(day_text)}:{day_text}{len(channel)}:{channel}"
        + "".join(f"{len(loan)}:{loan}" for loan in loans)
    )
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
    return KEY_PREFIX + digest[:_HEX_CHARS]
