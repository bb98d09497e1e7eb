"""The outbox: messages, their installments, events, installment statuses, flagged contacts.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from remindkit.outbox.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

KEY = sa.String(40)
ID = sa.String(200)


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("key", KEY, primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("parent_key", KEY, nullable=True),
        sa.Column("borrower_id", ID, nullable=False),
        sa.Column("loan_ids", sa.Text, nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("template_id", sa.String(120), nullable=False),
        sa.Column("variant", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("fallbacks", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("send_at", UTCDateTime, nullable=False),
        sa.Column("not_after", UTCDateTime, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime, nullable=True),
        sa.Column("provider", sa.String(64), nullable=True),
        sa.Column("provider_message_id", sa.String(128), nullable=True),
        sa.Column("address", sa.String(512), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("text", sa.Text, nullable=True),
        sa.Column("title", sa.Text, nullable=True),
        sa.Column("template_hash", sa.String(64), nullable=True),
        sa.Column("context", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_messages_due", "messages", ["state", "next_attempt_at"])
    op.create_index("ix_messages_borrower", "messages", ["borrower_id", "sent_at"])
    op.create_index("ix_messages_lease", "messages", ["state", "lease_expires_at"])
    op.create_index("ix_messages_provider_id", "messages", ["provider", "provider_message_id"])
    op.create_table(
        "message_installments",
        sa.Column(
            "message_key",
            KEY,
            sa.ForeignKey("messages.key", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("loan_id", ID, primary_key=True),
        sa.Column("installment_no", sa.Integer, primary_key=True),
    )
    op.create_index(
        "ix_message_installments_installment",
        "message_installments",
        ["loan_id", "installment_no"],
    )
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column(
            "message_key",
            KEY,
            sa.ForeignKey("messages.key", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("worker", sa.String(128), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
    )
    op.create_index("ix_events_message", "events", ["message_key", "id"])
    op.create_table(
        "installments",
        sa.Column("loan_id", ID, primary_key=True),
        sa.Column("installment_no", sa.Integer, primary_key=True),
        sa.Column("borrower_id", ID, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_at", UTCDateTime, nullable=False),
        sa.Column("paid_at", UTCDateTime, nullable=True),
        sa.Column("context", sa.Text, nullable=True),
    )
    op.create_table(
        "contacts",
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("address", sa.String(512), primary_key=True),
        sa.Column("borrower_id", ID, nullable=False),
        sa.Column("flagged_at", UTCDateTime, nullable=False),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("message_key", KEY, nullable=True),
    )


def downgrade() -> None:
    for table in ("contacts", "installments", "events", "message_installments", "messages"):
        op.drop_table(table)
