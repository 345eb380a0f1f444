"""Failed logins are counted per account, which is locked for a while after too many in a row.

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa

import lifecycle.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", lifecycle.db.UTCInstant(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")
