"""The service's log formatter masks what another library's text may bring."""

from __future__ import annotations

import io
import json
import logging

import pytest

from remindkit.logs import configure_logging, mask_text

TOKEN = "fKq3xZ9:APA91bH-0aA1bB2cC3dD4eE5fF6gG7hH8iI9jJ0kK1lL2mM3nN4oO5"


@pytest.mark.parametrize(
    ("text", "shown", "hidden"),
    [
        ("To +8613812345678 refused", "138****5678", "13812345678"),
        ("phone 138 1234 5678 bad", "138****5678", "1234 5678"),
        ("call 13812345678.", "138****5678", "13812345678"),
        ("E.164 +14155550123 here", "415***0123", "4155550123"),
        (f"token {TOKEN} unregistered", "fKq3xZ…", TOKEN),
    ],
)
def test_phones_and_tokens_are_masked(text: str, shown: str, hidden: str) -> None:
    masked = mask_text(text)
    assert shown in masked
    assert hidden not in masked


@pytest.mark.parametrize(
    "text",
    [
        "plan for 2026-12-01T00:30:00Z: 12 planned",
        "message rk1_0ccad51476756c6d004cce098d3a9dc5 sent",
        "receipt SMa1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1 delivered",
        "http: http://127.0.0.1:9464 (/healthz)",
        "loan HM2026072284 row 13",
    ],
)
def test_what_operators_need_stays_readable(text: str) -> None:
    assert mask_text(text) == text


def test_json_lines_carry_extra_fields_masked() -> None:
    stream = io.StringIO()
    handler = configure_logging("json", "INFO", stream)
    try:
        logging.getLogger("remindkit.test").warning(
            "refused %s", "+8613812345678", extra={"address": "+8613812345678", "count": 2}
        )
    finally:
        logging.getLogger().removeHandler(handler)
    record = json.loads(stream.getvalue())
    assert record["message"] == "refused 138****5678"
    assert record["address"] == "138****5678"
    assert record["count"] == 2
    assert record["level"] == "WARNING"
