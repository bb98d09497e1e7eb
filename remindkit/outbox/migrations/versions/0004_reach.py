"""The reach: per installment × stage × channel, the first sent message that mentions it,
back-filled from the messages already sent (the report reads it instead of the join).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from remindkit.outbox.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The first sent message per installment × stage × channel × borrower, by (sent_at, variant, key):
# the rule remindkit.outbox.reach keeps as messages are sent, written out here so that this
# migration stays what it was whatever that module becomes.
BACK_FILL = """
INSERT INTO reach (borrower_id, stage, channel, loan_id, installment_no, message_key,
                   sent_at, day, variant, template_id)
SELECT borrower_id, stage, channel, loan_id, installment_no, message_key,
       sent_at, day, variant, template_id
FROM (
    SELECT m.borrower_id, m.stage, m.channel, links.loan_id, links.installment_no,
           m.key AS message_key, m.sent_at, m.day, m.variant, m.template_id,
           ROW_NUMBER() OVER (
               PARTITION BY m.borrower_id, m.stage, m.channel, links.loan_id,
                            links.installment_no
               ORDER BY m.sent_at, m.variant, m.key
           ) AS position
    FROM messages AS m
    JOIN message_installments AS links ON links.message_key = m.key
    WHERE m.state = 'sent' AND m.sent_at IS NOT NULL
) AS ranked
WHERE position = 1
"""


def upgrade() -> None:
    op.create_table(
        "reach",
        sa.Column("borrower_id", sa.String(200), primary_key=True),
        sa.Column("stage", sa.String(32), primary_key=True),
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("loan_id", sa.String(200), primary_key=True),
        sa.Column("installment_no", sa.Integer, primary_key=True),
        sa.Column("message_key", sa.String(40), nullable=False),
        sa.Column("sent_at", UTCDateTime, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("variant", sa.String(32), nullable=False),
        sa.Column("template_id", sa.String(120), nullable=False),
        sqlite_with_rowid=False,
    )
    op.execute(BACK_FILL)
    op.create_index(
        "ix_reach_installment", "reach", ["loan_id", "installment_no", "stage", "sent_at", "day"]
    )


def downgrade() -> None:
    op.drop_table("reach")
