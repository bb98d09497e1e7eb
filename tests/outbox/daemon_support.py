"""Helpers for tests that run ``remindkit run`` (the daemon) as a subprocess.

The daemon runs on the real clock, and messages go out only inside the borrower's local
contact window: feeds here put their borrowers in a fixed-offset zone where it is early
afternoon right now, whatever time the tests run.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from outbox_support import PLATFORM_TOML

REMINDKIT = [sys.executable, "-m", "remindkit"]
FEED_HEADER = [
    "loan_id", "borrower_id", "name", "gender", "phone", "push_token", "amount_due",
    "due_date", "timezone",
]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "娜芳建国伟静敏强磊洋艳勇军杰娟涛明超秀霞平刚"
_HTTP = re.compile(r"http: (http://127\.0\.0\.1:\d+)")


def midday_zone(now: datetime | None = None) -> tuple[str, date]:
    """A fixed-offset zone where it is about 13:00 now, and its local date."""
    moment = now or datetime.now(UTC)
    offset = (13 - moment.hour) % 24
    if offset > 12:
        offset -= 24
    # POSIX sign: Etc/GMT+9 is nine hours *behind* UTC.
    zone = f"Etc/GMT{-offset:+d}" if offset else "Etc/UTC"
    return zone, moment.astimezone(ZoneInfo(zone)).date()


def person(n: int) -> tuple[str, str, str]:
    """A distinct (name, phone, push token) for borrower ``n``."""
    name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES)) % len(GIVEN)] + GIVEN[n % 7]
    return name, f"139{n:08d}", f"fcm-{n:05d}-a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8"


def write_feed(path: Path, borrowers: int, *, extra: list[list[str]] | None = None) -> list[str]:
    """A CSV feed: each borrower has one installment due tomorrow (local), so the planner
    sends its −1 day SMS now. Returns the rows' personal values (names, phones, tokens)."""
    zone, today = midday_zone()
    due = (today + timedelta(days=1)).isoformat()
    personal: list[str] = []
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FEED_HEADER)
        for n in range(borrowers):
            name, phone, token = person(n)
            personal += [name, phone, token]
            writer.writerow(
                [f"L{n:05d}", f"B{n:05d}", name, "female", phone, token, "100.00", due, zone]
            )
        for row in extra or []:
            writer.writerow(row)
    return personal


def write_config(
    path: Path,
    *,
    store: str,
    journal: Path,
    latency: float = 0.01,
    provider: str = "",
    service: str = "",
    dispatch: str = "workers = 4\nbatch_size = 20\nlease_seconds = 10",
) -> None:
    path.write_text(
        PLATFORM_TOML
        + f"""
[store]
url = "{store}"

[providers]
sms = "recording"
push = "recording"

[providers.recording]
journal = "{journal}"
latency_seconds = {latency}
{provider}

[dispatch]
{dispatch}

[service]
dispatch_seconds = 0.2
reap_seconds = 0.5
http_port = 0
stop_seconds = 20
{service}
""",
        encoding="utf-8",
    )


# Every daemon a test started; the outbox conftest kills those still running after it, so a
# failed test never leaves daemons behind (working on, against a dropped database).
STARTED: list[subprocess.Popen[bytes]] = []


def start_daemon(config: Path, feed: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [*REMINDKIT, "run", "--config", str(config), "--feed", str(feed)],
            stdout=subprocess.DEVNULL,
            stderr=handle,
        )
    STARTED.append(process)
    return process


def kill_leftovers() -> None:
    """Kill the daemons started and not stopped (a test failed on the way)."""
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def wait_for(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def journal(path: Path) -> Counter[str]:
    """How often the provider was called with each key (the provider's own record)."""
    if not path.exists():
        return Counter()
    return Counter(path.read_text(encoding="utf-8").split())


def http_base(log: Path) -> str:
    found: list[str] = []

    def announced() -> bool:
        found.extend(_HTTP.findall(log.read_text(encoding="utf-8")) if log.exists() else [])
        return bool(found)

    wait_for(announced, "the daemon's http address")
    return found[0]


def stop(process: subprocess.Popen[bytes], timeout: float = 60.0) -> int:
    process.terminate()
    return process.wait(timeout=timeout)
