"""Opt-outs as events: the first time the outbox heard that a borrower refused a channel.

The feed's ``opted_out`` column says which channels a borrower refuses *now*; the planner
skips them. For the outcome report the question is *when* a refusal appeared — right after
a reminder, it is a sign the wording pushed someone away. Every run taps the feed and
inserts ``(borrower, channel)`` pairs it has not seen, with the run's time: the first
sighting is kept, whichever process saw it (the primary key decides, as for payments).
A borrower who opts back in and out again keeps the first time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from remindkit.feed import FeedItem
from remindkit.models import Channel, Installment
from remindkit.outbox.database import is_postgresql
from remindkit.outbox.schema import opt_outs
from remindkit.outbox.store import Outbox
from remindkit.outbox.values import chunks

FEED = "feed"


@dataclass(frozen=True, slots=True, kw_only=True)
class OptOut:
    borrower_id: str
    channel: Channel
    source: str = FEED


def tap_opt_outs(
    feed: Iterable[FeedItem], collect: Callable[[Iterable[OptOut]], None]
) -> Iterator[FeedItem]:
    """Pass the feed through unchanged, handing each row's refused channels to ``collect``."""
    for item in feed:
        if isinstance(item, Installment) and item.borrower.opted_out:
            collect(
                OptOut(borrower_id=item.borrower.id, channel=channel)
                for channel in item.borrower.opted_out
            )
        yield item


def record_opt_outs(outbox: Outbox, seen: Iterable[OptOut], *, now: datetime) -> int:
    """Insert the pairs not seen before, at ``now``; returns how many were new."""
    inserted = 0
    for batch in chunks(sorted(set(seen), key=lambda o: (o.borrower_id, o.channel.value))):
        rows = [
            {"borrower_id": o.borrower_id, "channel": o.channel.value, "seen_at": now,
             "source": o.source}
            for o in batch
        ]  # fmt: skip
        with outbox.transaction() as connection:
            maker = pg_insert if is_postgresql(connection) else sqlite_insert
            statement = maker(opt_outs).on_conflict_do_nothing().returning(opt_outs.c.channel)
            inserted += len(connection.execute(statement, rows).all())
    return inserted
