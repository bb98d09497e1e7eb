"""``console``: prints each message as the borrower's phone would show it (the demo default).

Nothing leaves the machine. The recipient is masked: a terminal is a log as far as the
borrower's privacy goes.
"""

from __future__ import annotations

import sys
import threading
from itertools import count
from typing import ClassVar, TextIO

from remindkit.masking import mask_address
from remindkit.models import Channel
from remindkit.providers.base import Envelope, Provider, ProviderOptions, Receipt


class ConsoleProvider(Provider):
    name: ClassVar[str] = "console"
    channels: ClassVar[frozenset[Channel]] = frozenset(Channel)
    timeout_seconds: ClassVar[float] = 5.0

    def __init__(self, options: ProviderOptions | None = None, stream: TextIO | None = None):
        super().__init__(options)
        self.stream = stream
        self._lock = threading.Lock()
        self._ids = count(1)

    def send(self, envelope: Envelope) -> Receipt:
        to = mask_address(envelope.channel, envelope.to)
        if envelope.channel is Channel.SMS:
            shown = f"短信 → {to}\n  {envelope.text}"
        else:
            shown = f"推送 → {to}\n  {envelope.title}｜{envelope.body}"
        with self._lock:
            number = next(self._ids)
            stream = self.stream or sys.stdout
            stream.write(shown + "\n")
            stream.flush()
        return Receipt(provider=self.name, provider_message_id=f"console-{number}")
