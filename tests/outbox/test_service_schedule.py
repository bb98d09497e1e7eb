"""The plan schedule: a plan missed while the service was down runs exactly once when it
comes back; three daemons on one PostgreSQL plan each slot once and send each message once,
and a daemon killed with SIGKILL loses nothing."""

from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from daemon_support import journal, start_daemon, stop, wait_for, write_config, write_feed
from sqlalchemy import select

from remindkit.dispatch.run import IN_FLIGHT_PER_WORKER
from remindkit.outbox.plan_runs import PlanRuns
from remindkit.outbox.schema import events
from remindkit.outbox.states import MessageState
from remindkit.outbox.store import Outbox

_PLANNED = re.compile(r"plan for (\S+): \d+ planned")


def planned_slots(*logs: Path) -> Counter[str]:
    """How often each slot was planned, by what the daemons logged."""
    text = "".join(log.read_text(encoding="utf-8") for log in logs if log.exists())
    return Counter(_PLANNED.findall(text))


def test_a_plan_missed_while_down_runs_once_on_return(tmp_path: Path) -> None:
    feed, config, seen, log = (tmp_path / n for n in ("feed.csv", "rk.toml", "seen", "log"))
    write_feed(feed, 3)
    store = f"sqlite:///{tmp_path / 'outbox.db'}"
    due = (datetime.now(UTC) + timedelta(seconds=10)).replace(microsecond=0)
    cron = f"{due.second} {due.minute} {due.hour} * * *"  # daily, 10 s from now
    write_config(config, store=store, journal=seen, service=f'plan_cron = "{cron}"\n'
                 'timezone = "UTC"')  # fmt: skip
    yesterday = (due - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    today = due.strftime("%Y-%m-%dT%H:%M:%SZ")

    first = start_daemon(config, feed, log)
    wait_for(lambda: planned_slots(log)[yesterday] == 1, "the plan at start")
    assert stop(first) == 0
    assert datetime.now(UTC) < due, "the machine was too slow to stop before the plan time"
    wait_for(lambda: datetime.now(UTC) > due + timedelta(seconds=1), "the plan time", 30)

    second = start_daemon(config, feed, log)  # back after the plan time passed
    wait_for(lambda: planned_slots(log)[today] == 1, "the missed plan")
    time.sleep(1.5)  # running on: no second run of the missed plan
    assert stop(second) == 0
    assert planned_slots(log) == {yesterday: 1, today: 1}
    outbox = Outbox.open(store)
    try:
        run = PlanRuns(outbox).get(due)
    finally:
        outbox.close()
    assert run is not None
    assert run.finished_at is not None
    assert run.finished_at > due


def test_three_daemons_on_postgresql_share_the_work_and_a_sigkill_loses_nothing(
    fresh_pg_database: str, tmp_path: Path
) -> None:
    borrowers = 240
    feed = tmp_path / "feed.csv"
    write_feed(feed, borrowers)
    daemons = []
    for n in range(3):
        config = tmp_path / f"rk{n}.toml"
        # The victim's leases expire 10 s after its death; the survivors' are long, so a
        # busy machine never lets their own sends' leases run out mid-call.
        lease = 10 if n == 0 else 120
        write_config(
            config,
            store=fresh_pg_database,
            journal=tmp_path / f"seen{n}",
            latency=0.05,
            service='plan_cron = "*/2 * * * * *"',  # a plan every 2 s
            dispatch=f"workers = 4\nbatch_size = 8\nlease_seconds = {lease}",
        )
        daemons.append(start_daemon(config, feed, tmp_path / f"log{n}"))
    logs = [tmp_path / f"log{n}" for n in range(3)]
    victim = daemons[0]
    wait_for(lambda: len(journal(tmp_path / "seen0")) >= 4, "the first daemon's sends")
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)

    def settled() -> bool:
        outbox = Outbox.open(fresh_pg_database)
        try:
            pending = outbox.messages(states=(MessageState.PLANNED, MessageState.SENDING))
        finally:
            outbox.close()
        return not pending

    # The victim's leases (10 s) expire; the others reap and take over its claims.
    wait_for(settled, "every message to be settled", timeout=90)
    for daemon in daemons[1:]:
        assert stop(daemon) == 0

    outbox = Outbox.open(fresh_pg_database)
    try:
        rows = {m.key: m for m in outbox.messages(limit=10_000)}
        runs = PlanRuns(outbox).recent(limit=1000)
        with outbox.engine.connect() as connection:
            starts = connection.execute(
                select(events.c.message_key, events.c.worker).where(
                    events.c.to_state == MessageState.SENDING.value
                )
            ).all()
    finally:
        outbox.close()
    calls = [journal(tmp_path / f"seen{n}") for n in range(3)]
    total = sum(calls, Counter())
    assert len(rows) == borrowers
    assert max(total.values()) == 1  # no message reached the provider twice
    assert calls[1]
    assert calls[2]
    states = Counter(m.state for m in rows.values())
    assert set(states) <= {MessageState.SENT, MessageState.UNKNOWN}
    # Only what the victim had in flight is unknown (at most workers × IN_FLIGHT_PER_WORKER) ...
    victim_workers = {worker for _, worker in starts if worker.split(":")[1] == str(victim.pid)}
    unknown = {key for key, m in rows.items() if m.state is MessageState.UNKNOWN}
    started_by_victim = {key for key, worker in starts if worker in victim_workers}
    reasons = {rows[key].reason for key in unknown - started_by_victim}
    assert unknown <= started_by_victim, reasons
    assert len(unknown) <= 4 * IN_FLIGHT_PER_WORKER
    # ... and everything else was sent, once, by someone.
    for key, message in rows.items():
        if message.state is MessageState.SENT:
            assert total[key] == 1, key
    # Each scheduled plan ran once: one log line per slot across the three daemons.
    assert runs
    slots = planned_slots(*logs)
    assert max(slots.values()) == 1
    assert len(slots) == len([run for run in runs if run.finished_at is not None])
