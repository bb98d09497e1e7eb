"""``remindkit run`` as a daemon, in a subprocess: it sends, serves metrics and health, logs
nothing personal, and a SIGTERM during a slow send lets the send finish and exits 0."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx2
from daemon_support import (
    http_base,
    journal,
    start_daemon,
    stop,
    wait_for,
    write_config,
    write_feed,
)

from remindkit.outbox.states import MessageState
from remindkit.outbox.store import Outbox

BORROWERS = 12


def states(url: str) -> dict[str, MessageState]:
    outbox = Outbox.open(url)
    try:
        return {m.key: m.state for m in outbox.messages(limit=10_000)}
    finally:
        outbox.close()


def test_the_daemon_sends_serves_metrics_and_logs_nothing_personal(tmp_path: Path) -> None:
    feed, config, seen, log = (tmp_path / n for n in ("feed.csv", "rk.toml", "seen", "log"))
    refused = "13900000003"  # borrower 3's phone: the provider refuses it permanently
    personal = write_feed(
        feed,
        BORROWERS,
        extra=[["LBAD", "BBAD", "司马懿", "male", "1390000", "", "100.00", "2026-12-02", ""]],
    )
    store = f"sqlite:///{tmp_path / 'outbox.db'}"
    write_config(
        config,
        store=store,
        journal=seen,
        provider=f'permanent_to = ["+86{refused}"]',
        service='log_format = "json"',
    )
    process = start_daemon(config, feed, log)
    try:
        base = http_base(log)
        wait_for(lambda: len(journal(seen)) >= BORROWERS, "every borrower's SMS")
        wait_for(
            lambda: MessageState.SENDING not in states(store).values(), "answers to be recorded"
        )
        with httpx2.Client(base_url=base, timeout=10) as http:
            health = http.get("/healthz")
            metrics = http.get("/metrics").text
    finally:
        code = stop(process)
    assert code == 0, log.read_text(encoding="utf-8")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"

    final = states(store)
    assert list(final.values()).count(MessageState.SENT) == BORROWERS - 1
    assert list(final.values()).count(MessageState.FAILED) == 1
    assert max(journal(seen).values()) == 1
    sent = re.search(
        r'^remindkit_messages\{channel="sms",provider="recording",state="sent"\} (\S+)$',
        metrics,
        re.MULTILINE,
    )
    assert sent is not None
    assert float(sent.group(1)) == BORROWERS - 1
    assert re.search(
        r'^remindkit_provider_errors_total\{class="permanent",provider="recording"\} 1\.0$',
        metrics,
        re.MULTILINE,
    )
    assert re.search(r"^remindkit_dispatch_latency_seconds_count\{.*\} (\d+)", metrics, re.M)
    assert "remindkit_oldest_unknown_age_seconds 0.0" in metrics

    lines = log.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any("feed row 13 rejected" in r["message"] for r in records)
    assert any(r["message"].startswith("dispatch: ") for r in records)
    for value in [*personal, "司马懿", "1390000"]:
        leaked = [line for line in lines if value in line]
        assert not leaked, f"{value!r} in the log: {leaked[0]}"


def test_sigterm_during_a_slow_send_lets_it_finish_and_exits_0(tmp_path: Path) -> None:
    feed, config, seen, log = (tmp_path / n for n in ("feed.csv", "rk.toml", "seen", "log"))
    write_feed(feed, 3)
    store = f"sqlite:///{tmp_path / 'outbox.db'}"
    write_config(config, store=store, journal=seen, latency=2.0)
    process = start_daemon(config, feed, log)
    wait_for(lambda: len(journal(seen)) == 3, "the slow sends to reach the provider")
    sent_at = time.monotonic()
    code = stop(process)
    assert code == 0, log.read_text(encoding="utf-8")
    assert time.monotonic() - sent_at < 15
    # The provider took 2 s per call: the process waited for each answer and recorded it.
    # (The plan's horizon also holds tomorrow's messages: those stay planned.)
    found = states(store)
    assert all(found[key] is MessageState.SENT for key in journal(seen)), found
    assert not {MessageState.SENDING, MessageState.UNKNOWN} & set(found.values()), found
    assert "service stopped" in log.read_text(encoding="utf-8")
