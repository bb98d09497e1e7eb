"""Masking what must not appear in logs, events or terminal summaries (SPEC §6.5, §11).

Phone numbers show their first three and last four digits (``138****8000``, as carriers and
banks print them), push tokens their first six characters, names their surname only.
"""

from __future__ import annotations

import re

from remindkit.models import Channel
from remindkit.render.filters import mask_phone

_TOKEN_SHOWN = 6


def mask_token(token: str) -> str:
    if len(token) <= _TOKEN_SHOWN:
        return "…"
    return f"{token[:_TOKEN_SHOWN]}…"


def mask_address(channel: Channel, address: str) -> str:
    """The recipient of a message as logs show it."""
    return mask_phone(address) if channel is Channel.SMS else mask_token(address)


def mask_name(name: str) -> str:
    """``欧阳娜娜`` → ``欧***``: the first character and one star per other character."""
    return f"{name[:1]}{'*' * (len(name) - 1)}" if name else ""


_LONG_NUMBER = re.compile(r"\+?\d[\d -]{6,}\d")


def scrub(text: str, limit: int = 300) -> str:
    """Provider error text made fit for logs and events: numbers long enough to be a phone,
    card or ID number masked, and the length bounded."""
    masked = _LONG_NUMBER.sub(lambda match: mask_phone(match.group()), text)
    return masked if len(masked) <= limit else masked[: limit - 1] + "…"
