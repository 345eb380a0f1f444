"""The web: passwords, API tokens and login sessions (hashes only), comments (R8.2), concern cases (R6.6).

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa

import lifecycle.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column("updated_at", lifecycle.db.UTCInstant(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", lifecycle.db.UTCInstant(), nullable=False),
        sa.Column("revoked_at", lifecycle.db.UTCInstant(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_api_tokens_person_id", "api_tokens", ["person_id"])
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", lifecycle.db.UTCInstant(), nullable=False),
        sa.Column("expires_at", lifecycle.db.UTCInstant(), nullable=False),
        sa.Column("ended_at", lifecycle.db.UTCInstant(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_web_sessions_person_id", "web_sessions", ["person_id"])
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tracker_update_id", sa.Integer(), sa.ForeignKey("tracker_updates.id"), nullable=False),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("author_email", sa.String(length=320), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", lifecycle.db.UTCInstant(), nullable=False),
        sa.Column("moderated_at", lifecycle.db.UTCInstant(), nullable=True),
        sa.Column("moderated_by", sa.String(length=320), nullable=True),
        sa.Column("moderation_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_comments_tracker_update_id", "comments", ["tracker_update_id"])
    op.create_index("ix_comments_member_id", "comments", ["member_id"])
    op.create_index("ix_comments_status", "comments", ["status"])
    op.create_table(
        "concern_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("opened_at", lifecycle.db.UTCInstant(), nullable=False),
        sa.Column("reported_by", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("closed_at", lifecycle.db.UTCInstant(), nullable=True),
        sa.Column("closed_by", sa.String(length=320), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_concern_cases_member_id", "concern_cases", ["member_id"])
    op.create_index("ix_concern_cases_status", "concern_cases", ["status"])


def downgrade() -> None:
    op.drop_table("concern_cases")
    op.drop_table("comments")
    op.drop_table("web_sessions")
    op.drop_table("api_tokens")
    op.drop_table("credentials")
