"""The ways out of sanctions: each milestone's furthest status (D12) and overrides in the audit trail (D14).

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ORDER = {"not_started": 0, "in_progress": 1, "finished": 2}


def upgrade() -> None:
    with op.batch_alter_table("milestones") as batch:
        batch.add_column(sa.Column("furthest_status", sa.String(20), nullable=False, server_default="not_started"))
    # The transition table refuses UPDATE (append-only triggers): the new column only gets its default.
    op.add_column("transition_records", sa.Column("override", sa.Boolean(), nullable=False, server_default=sa.false()))

    # D12: the furthest status each milestone reached, from its current status and every tracker update.
    conn = op.get_bind()
    furthest: dict[int, int] = {}
    for mid, status in conn.execute(sa.text("SELECT id, status FROM milestones")):
        furthest[mid] = ORDER.get(status, 0)
    for (changes,) in conn.execute(sa.text("SELECT changes FROM tracker_updates")):
        if isinstance(changes, str):
            import json

            changes = json.loads(changes)
        for ch in changes or []:
            mid = ch.get("milestone_id")
            if mid in furthest:
                furthest[mid] = max(furthest[mid], ORDER.get(ch.get("from"), 0), ORDER.get(ch.get("to"), 0))
    names = {v: k for k, v in ORDER.items()}
    for mid, rank in furthest.items():
        if rank:
            conn.execute(sa.text("UPDATE milestones SET furthest_status = :s WHERE id = :i"),
                         {"s": names[rank], "i": mid})


def downgrade() -> None:
    op.drop_column("transition_records", "override")
    with op.batch_alter_table("milestones") as batch:
        batch.drop_column("furthest_status")
