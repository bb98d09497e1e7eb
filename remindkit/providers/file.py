"""``file``: appends each message as one JSON line (dry runs; the embedded default of ``run``).

The file is what a real provider would have received: the full recipient, the text, the
outbox key. Keep it where the audit data lives; it is not a log.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from remindkit.models import Channel
from remindkit.providers.base import Envelope, Provider, ProviderOptions, Receipt


class FileOptions(ProviderOptions):
    path: Path = Path("remindkit-sent.jsonl")


class FileProvider(Provider):
    name: ClassVar[str] = "file"
    channels: ClassVar[frozenset[Channel]] = frozenset(Channel)
    timeout_seconds: ClassVar[float] = 10.0
    Options: ClassVar[type[ProviderOptions]] = FileOptions

    def __init__(self, options: ProviderOptions | None = None) -> None:
        super().__init__(options)
        if not isinstance(self.options, FileOptions):
            raise TypeError("FileProvider takes FileOptions")
        self.path = self.options.path
        self._lock = threading.Lock()

    def send(self, envelope: Envelope) -> Receipt:
        record = {
            "key": envelope.key,
            "channel": envelope.channel.value,
            "to": envelope.to,
            "text": envelope.text,
            "title": envelope.title,
            "body": envelope.body,
            "collapse_key": envelope.collapse_key,
            "at": datetime.now(UTC).isoformat(),
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
        return Receipt(provider=self.name, provider_message_id=envelope.key)
