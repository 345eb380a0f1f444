"""Deadline engine: reminders on deadlines, findings of timed checks, the letters outbox.

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa

import lifecycle.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deadlines") as batch_op:
        batch_op.add_column(sa.Column("next_reminder_at", lifecycle.db.UTCInstant(), nullable=True))
        batch_op.add_column(sa.Column("reminders_sent", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.create_index("ix_deadlines_next_reminder_at", ["next_reminder_at"])
    # The tick claims pending rows in breach order: one index answers it without a sort.
    op.create_index("ix_deadlines_pending_breach", "deadlines", ["status", "breach_at", "id"])
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("deadline_id", sa.Integer(), sa.ForeignKey("deadlines.id"), nullable=True),
        sa.Column("rule_id", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("found_at", lifecycle.db.UTCInstant(), nullable=False),
        sa.Column("transition_id", sa.Integer(), sa.ForeignKey("transition_records.id"), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_findings_member_id", "findings", ["member_id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("rule_id", sa.String(length=10), nullable=True),
        sa.Column("recipient_role", sa.String(length=40), nullable=False),
        sa.Column("transition_id", sa.Integer(), sa.ForeignKey("transition_records.id"), nullable=True),
        sa.Column("deadline_id", sa.Integer(), sa.ForeignKey("deadlines.id"), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", lifecycle.db.UTCInstant(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index("ix_outbox_member_id", "outbox", ["member_id"])
    op.create_index("ix_outbox_status", "outbox", ["status"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("findings")
    op.drop_index("ix_deadlines_pending_breach", table_name="deadlines")
    with op.batch_alter_table("deadlines") as batch_op:
        batch_op.drop_index("ix_deadlines_next_reminder_at")
        batch_op.drop_column("reminders_sent")
        batch_op.drop_column("next_reminder_at")
