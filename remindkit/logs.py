"""The service's logs: one line per record, text or JSON, with personal data masked (SPEC §11).

remindkit never puts a borrower's name, phone number or push token into a log message
(warnings and rejected rows name fields, not values; provider errors are scrubbed). The
formatter is the safety net for what other libraries or a provider's error text bring:
every line is passed through :func:`mask_text`, which masks mainland mobile and E.164
numbers (``138****8000``) and long token-like strings (device tokens, bearer tokens),
keeping remindkit's message keys (``rk1_…``) and provider message ids (``SM…``) readable.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from remindkit.masking import mask_token
from remindkit.render.filters import mask_phone

# A mainland mobile (optionally +86, optionally split by spaces or dashes), or any E.164.
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)|(?<![\w+])\+\d{7,15}(?!\d)"
)
# Device and bearer tokens: long runs of token characters with both letters and digits.
_TOKEN = re.compile(r"(?<![\w:-])[A-Za-z0-9_:\-]{32,}(?![\w:-])")
_READABLE_IDS = re.compile(r"(?:rk1_[0-9a-f]+|(?:SM|MM)[0-9a-f]{32})")
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def mask_text(text: str) -> str:
    """``text`` with phone numbers and token-like strings masked."""
    masked = _PHONE.sub(lambda match: mask_phone(re.sub(r"[ -]", "", match.group())), text)
    return _TOKEN.sub(_mask_token, masked)


def _mask_token(match: re.Match[str]) -> str:
    value = match.group()
    if _READABLE_IDS.fullmatch(value) or not (
        re.search(r"\d", value) and re.search(r"[A-Za-z]", value)
    ):
        return value
    return mask_token(value)


class MaskedTextFormatter(logging.Formatter):
    """``2026-12-01T10:00:00Z INFO remindkit.service message`` with personal data masked."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        return _timestamp(record)

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record))


class MaskedJsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message``, the record's
    ``extra`` fields and ``exception``; every string masked."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                data[name] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        masked = {k: mask_text(v) if isinstance(v, str) else v for k, v in data.items()}
        return json.dumps(masked, ensure_ascii=False)


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def configure_logging(
    form: Literal["text", "json"] = "text",
    level: str = "INFO",
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) in ``form``, masked; returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(MaskedJsonFormatter() if form == "json" else MaskedTextFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # APScheduler says "Running job …" at INFO on every dispatch tick: keep its warnings only.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("apscheduler.scheduler").addFilter(_expected_skips)
    return handler


def _expected_skips(record: logging.LogRecord) -> bool:
    """A dispatch or reap tick that finds the last one still running is expected (it is the
    point of ``max_instances=1``), not a warning; a skipped plan is still reported."""
    message = record.getMessage()
    return not (
        "maximum number of running instances" in message
        and message.startswith(('Execution of job "dispatch', 'Execution of job "reap'))
    )
