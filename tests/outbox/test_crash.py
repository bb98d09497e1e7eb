"""``kill -9`` during ``run --once``, twenty times: nothing is lost, nothing is sent twice."""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from outbox_support import PLATFORM_TOML

from remindkit.outbox.states import MessageState
from remindkit.outbox.store import Outbox

BORROWERS = 300
KILLS = 20
START = datetime.fromisoformat("2026-12-01T10:00:00+08:00")
STEP = timedelta(seconds=15)  # each restart comes later than the killed run's lease (10 s)
REMINDKIT = [sys.executable, "-m", "remindkit"]
FEED_HEADER = ["loan_id", "borrower_id", "name", "gender", "phone", "amount_due", "due_date"]


def write_feed(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FEED_HEADER)
        for n in range(BORROWERS):
            writer.writerow(
                [f"L{n:05d}", f"B{n:05d}", "王芳", "female", f"138{n:08d}", "100.00", "2026-12-02"]
            )


def write_config(path: Path, journal: Path) -> None:
    path.write_text(
        PLATFORM_TOML
        + f"""
[providers]
sms = "recording"
push = "recording"

[providers.recording]
journal = "{journal}"
latency_seconds = 0.01

[dispatch]
workers = 4
batch_size = 20
lease_seconds = 10
""",
        encoding="utf-8",
    )


def run_once(args: list[str], at: datetime) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*REMINDKIT, "run", "--once", "--at", at.isoformat(), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_until_sending(process: subprocess.Popen[bytes], journal: Path, before: int) -> None:
    """Until the provider sees this run's first call (or the run ends): start-up is slow."""
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if journal.exists() and journal.stat().st_size > before:
            return
        time.sleep(0.005)


def test_killed_runs_lose_nothing_and_send_nothing_twice(store_url: str, tmp_path: Path) -> None:
    feed, config, journal = tmp_path / "feed.csv", tmp_path / "remindkit.toml", tmp_path / "seen"
    write_feed(feed)
    write_config(config, journal)
    args = ["--feed", str(feed), "--config", str(config), "--store", store_url]
    rng = random.Random(20261201)
    at = START
    for _ in range(KILLS):
        before = journal.stat().st_size if journal.exists() else 0
        process = run_once(args, at)
        wait_until_sending(process, journal, before)
        time.sleep(rng.uniform(0.0, 0.4))  # somewhere in the middle of claims and sends
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        at += STEP
    final = run_once(args, at)
    _, errors = final.communicate(timeout=120)
    assert final.returncode == 0, errors.decode()

    outbox = Outbox.open(store_url)
    try:
        rows = {m.key: m for m in outbox.messages(limit=10_000)}
    finally:
        outbox.close()
    seen = Counter(journal.read_text(encoding="utf-8").split()) if journal.exists() else Counter()
    assert len(rows) == BORROWERS  # nothing lost: every borrower's message is in the outbox
    assert max(seen.values()) == 1  # the provider saw each key at most once
    states = Counter(m.state for m in rows.values())
    assert states[MessageState.SENDING] == 0
    assert states[MessageState.PLANNED] == 0
    assert set(states) <= {MessageState.SENT, MessageState.UNKNOWN}
    for key, message in rows.items():
        if message.state is MessageState.SENT:
            assert seen[key] == 1, key
    # Unknown only for the few in flight at a kill, never a plain loss.
    assert states[MessageState.UNKNOWN] <= KILLS * 4 * 2
    assert states[MessageState.SENT] >= BORROWERS - KILLS * 8
