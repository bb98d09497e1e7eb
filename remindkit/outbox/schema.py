"""The outbox tables (SQLAlchemy Core), the single description of the schema.

Alembic migrations (``remindkit/outbox/migrations``) create and evolve these tables; a test
checks that the migrated schema equals this one, so the two cannot drift apart.

- ``messages``: one row per message key (the planner's ``PlannedMessage.key`` is the
  primary key and so the idempotency guard), its current state, the lease of the worker
  that claimed it, the provider's answer and the rendered text (the audit record, §6.1).
- ``message_installments``: which installments a (possibly consolidated) message is about,
  so a payment cancels every queued message that mentions the installment.
- ``events``: append-only, one row per transition (and per delivery receipt later).
- ``installments``: the latest status the outbox heard for each installment it has
  messages for, and the first time it was seen paid (recorded once, whoever saw it).
- ``contacts``: phone numbers and push tokens a provider refused permanently; later
  messages to them are suppressed ``bad_contact`` until the feed brings another one.
- ``opt_outs``: the first time the outbox heard that a borrower refused a channel (a feed's
  ``opted_out`` column, or the backend), recorded once, whoever heard it: the report counts
  the opt-outs that followed a reminder.
- ``reach``: per installment × stage × channel (× borrower), the first sent message that
  mentions it (its key, time, borrower-local day, variant and template), written in the transaction
  that marks messages sent and never moved by a later one: the outcome report's
  population, read without joining every sent message with its installments.
- ``plan_runs``: one row per scheduled plan of the service (its cron slot), so several
  daemons on one store, or one restarted after downtime, plan each slot exactly once.

A ``sent`` message's ``delivery_status`` / ``delivery_code`` / ``delivered_at`` hold what
the latest delivery receipt said (``delivered``, ``undelivered`` with the carrier's code,
…); every receipt is also an event.

Times are stored in UTC (``timestamptz`` on PostgreSQL; fixed-width ISO text on SQLite) and
come back timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.types import TypeEngine

metadata = MetaData()


@lru_cache(maxsize=4096)  # a plan's messages share a few send times and window ends
def sqlite_text(value: datetime) -> str:
    """How SQLite holds an instant: naive UTC, fixed-width ISO text, so text order is time
    order (``2026-12-01 02:00:00.000000``)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive values are refused.

    ``timestamptz`` on PostgreSQL; on SQLite, which has no time type, the fixed-width text
    of :func:`sqlite_text` (one conversion each way, no driver adapters).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(26))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored")
        return sqlite_text(value) if dialect.name == "sqlite" else value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


KEY = String(40)
_ID = String(200)

messages = Table(
    "messages",
    metadata,
    Column("key", KEY, primary_key=True),
    Column("state", String(16), nullable=False),
    Column("origin", String(16), nullable=False),
    Column("parent_key", KEY, nullable=True),
    Column("borrower_id", _ID, nullable=False),
    Column("loan_ids", Text, nullable=False),  # JSON list, for people reading the row
    Column("stage", String(32), nullable=False),
    Column("template_id", String(120), nullable=False),
    Column("variant", String(32), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("fallbacks", String(64), nullable=False),  # comma-separated channels
    Column("day", Date, nullable=False),  # the borrower-local day the message is for
    Column("timezone", String(64), nullable=False),
    Column("send_at", UTCDateTime, nullable=False),
    Column("not_after", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_owner", String(128), nullable=True),
    Column("lease_expires_at", UTCDateTime, nullable=True),
    Column("provider", String(64), nullable=True),
    Column("provider_message_id", String(128), nullable=True),
    Column("address", String(512), nullable=True),  # the phone or token it went to
    Column("error_code", String(64), nullable=True),
    Column("reason", Text, nullable=True),
    Column("text", Text, nullable=True),  # SMS with its signature, or the push body
    Column("title", Text, nullable=True),  # push title
    Column("template_hash", String(64), nullable=True),
    Column("context", Text, nullable=False),  # JSON snapshot of the installments' feed fields
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("delivery_status", String(16), nullable=True),
    Column("delivery_code", String(64), nullable=True),
    Column("delivered_at", UTCDateTime, nullable=True),
    Index("ix_messages_due", "state", "next_attempt_at"),
    Index("ix_messages_borrower", "borrower_id", "sent_at"),
    Index("ix_messages_lease", "state", "lease_expires_at"),
    Index("ix_messages_provider_id", "provider", "provider_message_id"),
)

message_installments = Table(
    "message_installments",
    metadata,
    Column("message_key", KEY, ForeignKey("messages.key", ondelete="CASCADE"), primary_key=True),
    Column("loan_id", _ID, primary_key=True),
    Column("installment_no", Integer, primary_key=True),
    Index("ix_message_installments_installment", "loan_id", "installment_no"),
)

events = Table(
    "events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("message_key", KEY, ForeignKey("messages.key", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("worker", String(128), nullable=False),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=False),
    Column("reason", Text, nullable=True),
    Column("detail", Text, nullable=True),  # JSON
    Index("ix_events_message", "message_key", "id"),
)

installments = Table(
    "installments",
    metadata,
    Column("loan_id", _ID, primary_key=True),
    Column("installment_no", Integer, primary_key=True),
    Column("borrower_id", _ID, nullable=False),
    Column("status", String(16), nullable=False),
    Column("status_at", UTCDateTime, nullable=False),
    Column("paid_at", UTCDateTime, nullable=True),
    Column("context", Text, nullable=True),  # the latest feed fields, for the thank-you
)

contacts = Table(
    "contacts",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("address", String(512), primary_key=True),
    Column("borrower_id", _ID, nullable=False),
    Column("flagged_at", UTCDateTime, nullable=False),
    Column("error_code", String(64), nullable=True),
    Column("message_key", KEY, nullable=True),
)
opt_outs = Table(
    "opt_outs",
    metadata,
    Column("borrower_id", _ID, primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("seen_at", UTCDateTime, nullable=False),
    Column("source", String(16), nullable=False),  # "feed" or "api"
)

reach = Table(
    "reach",
    metadata,
    # The report reads it by borrower × stage × channel (the primary key's order: on SQLite
    # the table itself, ``WITHOUT ROWID``) and by installment (the index).
    # The message's borrower is part of the key: the feed names one per installment, but
    # messages planned before a feed corrected it keep the borrower they were for.
    Column("borrower_id", _ID, primary_key=True),
    Column("stage", String(32), primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("loan_id", _ID, primary_key=True),
    Column("installment_no", Integer, primary_key=True),
    Column("message_key", KEY, nullable=False),  # no foreign key: purge rewrites the row
    Column("sent_at", UTCDateTime, nullable=False),
    Column("day", Date, nullable=False),  # the borrower-local day of that message
    Column("variant", String(32), nullable=False),
    Column("template_id", String(120), nullable=False),
    Index("ix_reach_installment", "loan_id", "installment_no", "stage", "sent_at", "day"),
    sqlite_with_rowid=False,
)

plan_runs = Table(
    "plan_runs",
    metadata,
    Column("slot", UTCDateTime, primary_key=True),  # the scheduled time this run is for
    Column("worker", String(128), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("planned", Integer, nullable=True),
    Column("suppressed", Integer, nullable=True),
    Column("rejected", Integer, nullable=True),
    Column("inserted", Integer, nullable=True),
)
