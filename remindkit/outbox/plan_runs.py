"""The service's plan runs: one row per scheduled slot, and one planner at a time.

Several daemons on one PostgreSQL each fire the plan job at the scheduled time. The first
to take the planner lock (:class:`PlannerLock`) plans; the others wait for the lock and
find the slot done in ``plan_runs``, so each slot is planned exactly once. The lock is a
session-level advisory lock on PostgreSQL and an ``flock`` on a file beside the SQLite
database: both vanish with the process that held them, so a planner killed half-way
leaves its slot unfinished and the next process to take the lock plans it again (planning
is idempotent: the outbox keys).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, select, text, update

from remindkit.outbox.database import PLANNER_LOCK, is_postgresql, translated
from remindkit.outbox.schema import plan_runs
from remindkit.outbox.store import Outbox


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRun:
    """One row of ``plan_runs``."""

    slot: datetime
    worker: str
    started_at: datetime
    finished_at: datetime | None
    planned: int | None
    suppressed: int | None
    rejected: int | None
    inserted: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanCounts:
    planned: int
    suppressed: int
    rejected: int
    inserted: int


class PlanRuns:
    """The ``plan_runs`` table of one outbox."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def get(self, slot: datetime) -> PlanRun | None:
        with translated(self.outbox.engine), self.outbox.engine.connect() as connection:
            row = connection.execute(select(plan_runs).where(plan_runs.c.slot == slot)).first()
            connection.rollback()
        return PlanRun(**row._mapping) if row is not None else None

    def done(self, slot: datetime) -> bool:
        run = self.get(slot)
        return run is not None and run.finished_at is not None

    def start(self, slot: datetime, *, now: datetime) -> None:
        """Record that this worker plans ``slot`` (again, if a planner died on it)."""
        with self.outbox.transaction() as connection:
            if self._exists(connection, slot):
                connection.execute(
                    update(plan_runs)
                    .where(plan_runs.c.slot == slot)
                    .values(worker=self.outbox.worker, started_at=now, finished_at=None)
                )
            else:
                connection.execute(
                    plan_runs.insert().values(slot=slot, worker=self.outbox.worker, started_at=now)
                )

    def finish(self, slot: datetime, counts: PlanCounts, *, now: datetime) -> None:
        with self.outbox.transaction() as connection:
            connection.execute(
                update(plan_runs)
                .where(plan_runs.c.slot == slot)
                .values(
                    finished_at=now,
                    planned=counts.planned,
                    suppressed=counts.suppressed,
                    rejected=counts.rejected,
                    inserted=counts.inserted,
                )
            )

    def recent(self, limit: int = 20) -> list[PlanRun]:
        """The latest runs, newest slot first."""
        query = select(plan_runs).order_by(plan_runs.c.slot.desc()).limit(limit)
        with translated(self.outbox.engine), self.outbox.engine.connect() as connection:
            rows = connection.execute(query).all()
            connection.rollback()
        return [PlanRun(**row._mapping) for row in rows]

    @staticmethod
    def _exists(connection: Connection, slot: datetime) -> bool:
        found = connection.execute(select(plan_runs.c.slot).where(plan_runs.c.slot == slot))
        return found.first() is not None


class PlannerLock:
    """One planner at a time across every process on this store (see the module docstring)."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self._local = threading.Lock()

    @contextmanager
    def attempt(self) -> Iterator[bool]:
        """``True`` inside when this process holds the lock; ``False`` when another does."""
        if not self._local.acquire(blocking=False):
            yield False
            return
        try:
            if is_postgresql(self.outbox.engine):
                with self._advisory() as held:
                    yield held
            else:
                with self._file_lock() as held:
                    yield held
        finally:
            self._local.release()

    @contextmanager
    def _advisory(self) -> Iterator[bool]:
        engine = self.outbox.engine
        with translated(engine), engine.connect() as connection:
            held = bool(
                connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": PLANNER_LOCK}
                ).scalar()
            )
            connection.commit()
            try:
                yield held
            finally:
                if held:
                    connection.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": PLANNER_LOCK}
                    )
                    connection.commit()

    @contextmanager
    def _file_lock(self) -> Iterator[bool]:
        path = _lock_path(self.outbox)
        if path is None:  # an in-memory database lives in this process alone
            yield True
            return
        handle: IO[bytes] = path.open("ab")
        try:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        finally:
            handle.close()


def _lock_path(outbox: Outbox) -> Path | None:
    database = outbox.engine.url.database or ""
    if not database or database == ":memory:":
        return None
    return Path(os.path.expanduser(database)).with_name(Path(database).name + ".planlock")
