"""Writers that lock several messages at once do it in key order on PostgreSQL, so two of
them never wait for each other in a cycle (a deadlock aborts one: its messages then wait
for their lease to expire).

The planner refreshes the rows of messages still waiting (``enqueue`` of known keys) while
a dispatcher moves its claimed rows to ``sending`` and back: here both run at once over the
same rows, in opposite orders, many times over."""

from __future__ import annotations

import threading
from datetime import timedelta

from outbox_support import T0, TABLES, planned
from sqlalchemy import text

from remindkit.errors import StoreUnavailableError
from remindkit.outbox.states import MessageState
from remindkit.outbox.store import Outbox
from remindkit.outbox.values import Transition

ROUNDS = 150
MESSAGES = 48
LEASE = timedelta(minutes=5)


def test_a_planner_and_a_dispatcher_on_the_same_rows_never_deadlock(pg_database: str) -> None:
    setup = Outbox.open(pg_database)
    with setup.transaction() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    batch = [planned(f"B{n:03d}", loans=((f"L{n:03d}", 1),)) for n in range(MESSAGES)]
    setup.enqueue(batch, now=T0)
    setup.close()
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def planner() -> None:
        outbox = Outbox.open(pg_database, worker="planner")
        try:
            start.wait()
            for number in range(ROUNDS):
                # Feed order varies from run to run: forwards, backwards.
                outbox.enqueue(batch if number % 2 else batch[::-1], now=T0)
        except BaseException as error:
            errors.append(error)
        finally:
            outbox.close()

    def dispatcher() -> None:
        outbox = Outbox.open(pg_database, worker="dispatcher")
        try:
            start.wait()
            for _ in range(ROUNDS):
                claimed = outbox.claim(now=T0, limit=MESSAGES, lease=LEASE)
                keys = [message.key for message in claimed]
                outbox.start_sending(
                    [Transition(key=key, to=MessageState.SENDING) for key in keys],
                    now=T0,
                    lease=LEASE,
                )
                outbox.settle(
                    [
                        Transition(key=key, to=MessageState.PLANNED, values={"next_attempt_at": T0})
                        for key in reversed(keys)
                    ],
                    now=T0,
                    expect=(MessageState.SENDING,),
                )
        except BaseException as error:
            errors.append(error)
        finally:
            outbox.close()

    threads = [threading.Thread(target=planner), threading.Thread(target=dispatcher)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    deadlocks = [e for e in errors if isinstance(e, StoreUnavailableError)]
    assert not deadlocks, deadlocks[0]
    assert not errors, errors[0]
