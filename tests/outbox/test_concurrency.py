"""Several processes dispatching one outbox: each key is sent exactly once, work is shared."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from outbox_support import T0, planned

from remindkit.outbox.store import Outbox

WORKER = """
import sys, time
from pathlib import Path
from datetime import datetime
from remindkit.testing import demo_settings
from remindkit.kit import Kit
from remindkit.models import Channel
from remindkit.testing import RecordingOptions, RecordingProvider

url, journal, ready, go, at = sys.argv[1:6]
provider = RecordingProvider(RecordingOptions(journal=Path(journal), latency_seconds=0.002))
settings = demo_settings()
dispatch = settings.dispatch.model_copy(update={"workers": 8, "batch_size": 25})
settings = settings.model_copy(update={"dispatch": dispatch})
kit = Kit(settings, store=url, providers={Channel.SMS: provider, Channel.PUSH: provider})
kit.outbox
Path(ready).touch()
for _ in range(3000):
    if Path(go).exists():
        break
    time.sleep(0.01)
report = kit.dispatch_due(datetime.fromisoformat(at))
kit.close()
print(report["sent"])
"""


def dispatch_in_processes(
    url: str, tmp_path: Path, processes: int, messages: int
) -> list[Counter[str]]:
    outbox = Outbox.open(url)
    outbox.enqueue([planned(f"B{n:05d}") for n in range(messages)], now=T0)
    outbox.close()
    script = tmp_path / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    go = tmp_path / "go"
    started = [
        subprocess.Popen(
            [sys.executable, str(script), url, str(tmp_path / f"seen{i}"),
             str(tmp_path / f"ready{i}"), str(go), T0.isoformat()],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(processes)
    ]  # fmt: skip
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready{i}").exists() for i in range(processes)):
        assert time.monotonic() < deadline, "workers did not start"
        time.sleep(0.02)
    go.touch()
    for process in started:
        _, errors = process.communicate(timeout=120)
        assert process.returncode == 0, errors.decode()
    return [
        Counter((tmp_path / f"seen{i}").read_text(encoding="utf-8").split())
        for i in range(processes)
    ]


def test_four_processes_on_postgresql_send_each_key_exactly_once(
    fresh_pg_database: str, tmp_path: Path
) -> None:
    journals = dispatch_in_processes(fresh_pg_database, tmp_path, processes=4, messages=2000)
    total = sum(journals, Counter())
    assert len(total) == 2000
    assert max(total.values()) == 1
    assert all(sum(journal.values()) > 0 for journal in journals)  # every process did a share


def test_two_processes_on_one_sqlite_file_never_send_a_key_twice(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    journals = dispatch_in_processes(url, tmp_path, processes=2, messages=600)
    total = sum(journals, Counter())
    assert len(total) == 600
    assert max(total.values()) == 1
