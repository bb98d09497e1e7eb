"""``Outbox``: the store every planned message goes through, on SQLite or PostgreSQL.

The database does the concurrency (style rule 5): the message key is the primary key, so
re-planning inserts only keys it has not seen; a claim is one conditional ``UPDATE`` (with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, under SQLite's write lock otherwise) that leases
rows to one worker; every later transition is conditional on the state and the lease it
expects, so a worker that lost its lease changes nothing. Each transition appends a row to
``events`` in the same transaction.

This class owns connections and transactions; the SQL lives by concern in
:mod:`~remindkit.outbox.writes` (enqueueing), :mod:`~remindkit.outbox.transitions`
(state changes), :mod:`~remindkit.outbox.statuses` (payments and stop statuses) and
:mod:`~remindkit.outbox.queries` (reading). Methods take and return frozen values
(:mod:`remindkit.outbox.values`, :mod:`remindkit.outbox.records`); none sends, renders or
decides policy: that is :mod:`remindkit.dispatch`'s work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, or_, select, update

from remindkit.errors import MessageStateError
from remindkit.models import Channel, Status
from remindkit.outbox import queries
from remindkit.outbox.database import (
    READ_ONLY,
    SQLITE_BUSY_SECONDS,
    create_store_engine,
    ensure_schema,
    shown_url,
    translated,
)
from remindkit.outbox.reach import forget_reach
from remindkit.outbox.records import OutboxEvent, OutboxMessage
from remindkit.outbox.schema import events, message_installments, messages
from remindkit.outbox.states import RESOLVABLE, MessageState, Origin
from remindkit.outbox.statuses import record_batch
from remindkit.outbox.transitions import apply_moves
from remindkit.outbox.values import (
    BATCH,
    Contact,
    EnqueueResult,
    FirstPaid,
    InstallmentRef,
    StatusUpdate,
    Transition,
    chunks,
    worker_id,
)
from remindkit.outbox.writes import enqueue_batch, flag_recipient, insert_message
from remindkit.plan import PlannedMessage

# Messages per enqueue transaction: the driver takes each table's rows in one executemany.
ENQUEUE_BATCH = 2000
# What the re-check asks about a batch (installments, contact pairs, borrowers, since when)
# and what it gets: their statuses, the flagged pairs, the contacts since then.
RecheckQuery = tuple[
    Sequence[InstallmentRef], Sequence[tuple[Channel, str]], Sequence[str], datetime
]
RecheckFacts = tuple[dict[InstallmentRef, Status], set[tuple[Channel, str]], list[Contact]]
# One expression for every move (the batch's rows share one UPDATE statement).
_NEXT_ATTEMPT = messages.c.attempts + 1

__all__ = [
    "BATCH",
    "Contact",
    "EnqueueResult",
    "FirstPaid",
    "InstallmentRef",
    "Outbox",
    "StatusUpdate",
    "Transition",
    "worker_id",
]


class Outbox:
    """The outbox store. Thread-safe: each call uses its own connection from the pool."""

    def __init__(self, engine: Engine, *, worker: str | None = None) -> None:
        self.engine = engine
        self.worker = worker or worker_id()

    @classmethod
    def open(
        cls,
        url: str,
        *,
        auto_migrate: bool = True,
        worker: str | None = None,
        busy_timeout_seconds: float = SQLITE_BUSY_SECONDS,
    ) -> Outbox:
        """Open (and by default migrate) the store at ``url``; a fresh SQLite file is created
        at the latest schema. Raises ``StoreUnavailableError`` / ``ConfigError``."""
        engine = create_store_engine(url, busy_seconds=busy_timeout_seconds)
        ensure_schema(engine, auto_migrate=auto_migrate)
        return cls(engine, worker=worker)

    @property
    def url(self) -> str:
        return shown_url(self.engine.url)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction (on SQLite it holds the write lock from its first statement)."""
        with translated(self.engine), self.engine.begin() as connection:
            yield connection

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read-only transaction: never waits for SQLite's write lock."""
        with translated(self.engine), self.engine.connect() as plain:
            connection = plain.execution_options(**READ_ONLY)
            with connection.begin():
                yield connection

    # -- planning -------------------------------------------------------------------------

    def enqueue(self, planned: Iterable[PlannedMessage], *, now: datetime) -> EnqueueResult:
        """Insert the messages whose keys are new; known keys are never reset (a planned one
        gets the planner's fresher snapshot of its installments)."""
        total = EnqueueResult()
        for batch in chunks(planned, ENQUEUE_BATCH):
            with self.transaction() as connection:
                total += enqueue_batch(connection, batch, now, self.worker)
        return total

    def insert_one(
        self, message: PlannedMessage, *, now: datetime, origin: Origin, parent_key: str | None
    ) -> bool:
        """Insert a fallback or event message; ``False`` if its key exists already."""
        with self.transaction() as connection:
            return insert_message(
                connection, message, now, self.worker, origin=origin, parent_key=parent_key
            )

    def record_statuses(
        self,
        updates: Iterable[StatusUpdate],
        *,
        now: datetime,
        cancel: Mapping[Status, str],
        reminded_within: timedelta,
    ) -> tuple[int, list[FirstPaid]]:
        """Record the statuses of installments the outbox has messages for, cancel queued
        messages of those in a stop status (``cancel`` maps status → reason), and return the
        installments seen paid for the first time. Returns (messages cancelled, first paid)."""
        cancelled = 0
        first: list[FirstPaid] = []
        for batch in chunks(updates):
            with self.transaction() as connection:
                count, paid = record_batch(
                    connection,
                    batch,
                    now,
                    worker=self.worker,
                    cancel=cancel,
                    reminded_within=reminded_within,
                )
            cancelled += count
            first.extend(paid)
        return cancelled, first

    # -- claims and transitions -----------------------------------------------------------

    def claim(
        self,
        *,
        now: datetime,
        limit: int,
        lease: timedelta,
        channels: Sequence[Channel] = tuple(Channel),
    ) -> list[OutboxMessage]:
        """Lease up to ``limit`` due ``planned`` messages on ``channels`` to this worker,
        oldest first."""
        with self.transaction() as connection:
            return self._claim(connection, now, limit, lease, channels)

    def claim_and_read(
        self,
        *,
        now: datetime,
        limit: int,
        lease: timedelta,
        channels: Sequence[Channel],
        query: Callable[[list[OutboxMessage]], RecheckQuery | None],
    ) -> tuple[list[OutboxMessage], RecheckFacts | None]:
        """:meth:`claim`, then :meth:`recheck_facts` for what ``query`` asks about the
        claimed messages (``None``: nothing), in the claim's transaction: the dispatcher's
        round costs one transaction here instead of two."""
        with self.transaction() as connection:
            claimed = self._claim(connection, now, limit, lease, channels)
            asked = query(claimed)
            if asked is None:
                return claimed, None
            return claimed, _recheck_facts(connection, *asked)

    def _claim(
        self,
        connection: Connection,
        now: datetime,
        limit: int,
        lease: timedelta,
        channels: Sequence[Channel],
    ) -> list[OutboxMessage]:
        due = (
            select(messages.c.key)
            .where(
                messages.c.state == MessageState.PLANNED.value,
                messages.c.next_attempt_at <= now,
                or_(messages.c.lease_expires_at.is_(None), messages.c.lease_expires_at < now),
                messages.c.channel.in_([channel.value for channel in channels]),
            )
            .order_by(messages.c.next_attempt_at, messages.c.key)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(messages)
            .where(messages.c.key.in_(due.scalar_subquery()))
            .values(lease_owner=self.worker, lease_expires_at=now + lease, updated_at=now)
            .returning(*messages.c)
        )
        rows = connection.execute(statement).mappings().all()
        claimed = [OutboxMessage.from_row(row) for row in rows]
        claimed.sort(key=lambda m: (m.next_attempt_at, m.key))
        return claimed

    def start_sending(
        self, moves: Sequence[Transition], *, now: datetime, lease: timedelta
    ) -> set[str]:
        """Commit ``sending`` (with the rendered text) for leased messages, before any
        provider call (SPEC §6.3). Returns the keys that really moved: a message whose lease
        was lost or that was cancelled meanwhile is not sent."""
        stamped = [
            Transition(
                key=move.key,
                to=MessageState.SENDING,
                reason=move.reason,
                detail=move.detail,
                values={
                    **(move.values or {}),
                    "lease_expires_at": now + lease,
                    "sent_at": now,
                    "attempts": _NEXT_ATTEMPT,
                },
            )
            for move in moves
        ]
        with self.transaction() as connection:
            return apply_moves(
                connection,
                stamped,
                now,
                worker=self.worker,
                expect=(MessageState.PLANNED,),
                own=True,
            )

    def settle(
        self,
        moves: Sequence[Transition],
        *,
        now: datetime,
        expect: tuple[MessageState, ...],
        release: bool = True,
    ) -> set[str]:
        """Apply transitions to messages this worker holds in one of ``expect``; the lease is
        released (the row is free for any worker once it is due again)."""
        if not moves:
            return set()
        if release:
            free = {"lease_owner": None, "lease_expires_at": None}
            moves = [
                Transition(
                    key=m.key,
                    to=m.to,
                    reason=m.reason,
                    detail=m.detail,
                    values={**(m.values or {}), **free},
                )
                for m in moves
            ]
        with self.transaction() as connection:
            return apply_moves(connection, moves, now, worker=self.worker, expect=expect, own=True)

    def reap(self, *, now: datetime) -> tuple[int, int]:
        """Expired leases of ``sending`` rows → ``unknown`` (the provider may have the
        message: never back to ``planned``); ``planned`` rows past ``not_after`` →
        ``expired``. Returns (unknown, expired)."""
        lost_sends = select(messages.c.key).where(
            messages.c.state == MessageState.SENDING.value, messages.c.lease_expires_at < now
        )
        too_late = select(messages.c.key).where(
            messages.c.state == MessageState.PLANNED.value,
            messages.c.not_after <= now,
            or_(messages.c.lease_expires_at.is_(None), messages.c.lease_expires_at < now),
        )
        lost_reason = "lease expired while sending (worker stopped or hung)"
        with self.transaction() as connection:
            unknown = self._move_all(
                connection, lost_sends, MessageState.SENDING, MessageState.UNKNOWN, lost_reason, now
            )
            expired = self._move_all(
                connection,
                too_late,
                MessageState.PLANNED,
                MessageState.EXPIRED,
                "not_after_passed",
                now,
            )
        return unknown, expired

    def _move_all(
        self,
        connection: Connection,
        query: object,
        source: MessageState,
        target: MessageState,
        reason: str,
        now: datetime,
    ) -> int:
        keys = list(connection.execute(query).scalars())  # type: ignore[call-overload]
        moves = [Transition(key=key, to=target, reason=reason) for key in keys]
        return len(apply_moves(connection, moves, now, worker=self.worker, expect=(source,)))

    def cancel(self, keys: Iterable[str], *, reason: str, now: datetime) -> set[str]:
        moves = [Transition(key=key, to=MessageState.CANCELLED, reason=reason) for key in keys]
        with self.transaction() as connection:
            return apply_moves(
                connection, moves, now, worker=self.worker, expect=(MessageState.PLANNED,)
            )

    def resolve(self, key: str, *, to: MessageState, note: str, now: datetime) -> OutboxMessage:
        """A human's decision on an ``unknown`` message, after checking the provider."""
        if to not in RESOLVABLE:
            raise MessageStateError(key, f"can be resolved as sent or failed, not {to.value}")
        current = self.get(key)
        if current.state is not MessageState.UNKNOWN:
            raise MessageStateError(
                key, f"is {current.state.value}; only unknown messages are resolved"
            )
        reason = f"resolved by a person: {note}" if note else "resolved by a person"
        move = Transition(key=key, to=to, reason=reason)
        with self.transaction() as connection:
            moved = apply_moves(
                connection, [move], now, worker=self.worker, expect=(MessageState.UNKNOWN,)
            )
        if not moved:
            raise MessageStateError(key, "changed while resolving; look again")
        return self.get(key)

    def flag_contact(
        self,
        *,
        channel: Channel,
        address: str,
        borrower_id: str,
        error_code: str | None,
        message_key: str,
        now: datetime,
    ) -> None:
        """Remember a recipient a provider refused permanently (until the feed changes it)."""
        with self.transaction() as connection:
            flag_recipient(
                connection,
                channel=channel,
                address=address,
                borrower_id=borrower_id,
                error_code=error_code,
                message_key=message_key,
                now=now,
            )

    def purge(self, *, before: datetime) -> int:
        """Delete messages in a final state created before ``before``, with their events; the
        reach they held passes to the first remaining sent message of those installments."""
        finals = [state.value for state in MessageState if state.final]
        old = select(messages.c.key).where(
            messages.c.created_at < before, messages.c.state.in_(finals)
        )
        with self.transaction() as connection:
            keys = list(connection.execute(old).scalars())
            for batch in chunks(keys):
                forget_reach(connection, batch)
                connection.execute(delete(events).where(events.c.message_key.in_(batch)))
                links = message_installments.c.message_key.in_(batch)
                connection.execute(delete(message_installments).where(links))
                connection.execute(delete(messages).where(messages.c.key.in_(batch)))
        return len(keys)

    # -- reading --------------------------------------------------------------------------

    def statuses(self, refs: Iterable[InstallmentRef]) -> dict[InstallmentRef, Status]:
        with self.reading() as connection:
            return queries.statuses(connection, list(refs))

    def contacts_since(self, borrower_ids: Iterable[str], since: datetime) -> list[Contact]:
        """Messages that may have reached these borrowers since ``since``."""
        with self.reading() as connection:
            return queries.contacts_since(connection, list(borrower_ids), since)

    def flagged(self, pairs: Iterable[tuple[Channel, str]]) -> set[tuple[Channel, str]]:
        with self.reading() as connection:
            return queries.flagged(connection, list(pairs))

    def recheck_facts(
        self,
        refs: Iterable[InstallmentRef],
        pairs: Iterable[tuple[Channel, str]],
        borrower_ids: Iterable[str],
        since: datetime,
    ) -> RecheckFacts:
        """:meth:`statuses`, :meth:`flagged` and :meth:`contacts_since` in one read
        transaction (what the dispatcher's re-check reads for each claimed batch)."""
        with self.reading() as connection:
            return _recheck_facts(connection, refs, pairs, borrower_ids, since)

    def get(self, key: str) -> OutboxMessage:
        with self.reading() as connection:
            found = queries.message(connection, key)
        if found is None:
            raise MessageStateError(key, "no message with this key")
        return found

    def history(self, key: str) -> list[OutboxEvent]:
        with self.reading() as connection:
            return queries.history(connection, key)

    def messages(
        self,
        *,
        states: Sequence[MessageState] = (),
        borrower_id: str | None = None,
        limit: int = 100,
    ) -> list[OutboxMessage]:
        with self.reading() as connection:
            return queries.message_list(
                connection, states=states, borrower_id=borrower_id, limit=limit
            )

    def counts(self) -> list[tuple[str, str, str | None, int]]:
        """(state, channel, provider, count) for every combination present."""
        with self.reading() as connection:
            return queries.counts(connection)

    def oldest(self, state: MessageState) -> OutboxMessage | None:
        found = self.messages(states=(state,), limit=1)
        return found[0] if found else None


def _recheck_facts(
    connection: Connection,
    refs: Iterable[InstallmentRef],
    pairs: Iterable[tuple[Channel, str]],
    borrower_ids: Iterable[str],
    since: datetime,
) -> RecheckFacts:
    return (
        queries.statuses(connection, list(refs)),
        queries.flagged(connection, list(pairs)),
        queries.contacts_since(connection, list(borrower_ids), since),
    )
