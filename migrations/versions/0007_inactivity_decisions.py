"""Decisions on requests for voluntary inactivity say who took them and why (R5.5: approved or declined with a reason).

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inactivity_requests") as batch:
        batch.add_column(sa.Column("decided_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("decision_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inactivity_requests") as batch:
        batch.drop_column("decision_reason")
        batch.drop_column("decided_by")
