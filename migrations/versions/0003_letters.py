"""Letters: each outbox row carries its rendered letter, Message-ID and delivery state.

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa

import lifecycle.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("recipients", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("subject", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("body_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("body_html", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("pdf", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("message_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("rendered_at", lifecycle.db.UTCInstant(), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("sent_at", lifecycle.db.UTCInstant(), nullable=True))
        batch_op.create_unique_constraint("uq_outbox_message_id", ["message_id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_constraint("uq_outbox_message_id", type_="unique")
        for column in ("sent_at", "last_error", "attempts", "rendered_at", "message_id", "pdf", "body_html",
                       "body_text", "subject", "recipients", "language"):
            batch_op.drop_column(column)
