"""The service: delivery receipts on messages, and the plan runs of the daemon's schedule.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from remindkit.outbox.schema import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as table:
        table.add_column(sa.Column("delivery_status", sa.String(16), nullable=True))
        table.add_column(sa.Column("delivery_code", sa.String(64), nullable=True))
        table.add_column(sa.Column("delivered_at", UTCDateTime, nullable=True))
    op.create_table(
        "plan_runs",
        sa.Column("slot", UTCDateTime, primary_key=True),
        sa.Column("worker", sa.String(128), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=True),
        sa.Column("planned", sa.Integer, nullable=True),
        sa.Column("suppressed", sa.Integer, nullable=True),
        sa.Column("rejected", sa.Integer, nullable=True),
        sa.Column("inserted", sa.Integer, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("plan_runs")
    with op.batch_alter_table("messages") as table:
        for column in ("delivered_at", "delivery_code", "delivery_status"):
            table.drop_column(column)
