"""Initial schema: the domain tables and the append-only audit trail.

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 07:22:28.294745
"""

from alembic import op
import sqlalchemy as sa

import lifecycle.db


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


# The audit trail is append-only: the database itself refuses to change or remove a record.
SQLITE_AUDIT_GUARDS = [
    """CREATE TRIGGER transition_records_no_update BEFORE UPDATE ON transition_records
       BEGIN SELECT RAISE(ABORT, 'transition records are append-only'); END""",
    """CREATE TRIGGER transition_records_no_delete BEFORE DELETE ON transition_records
       BEGIN SELECT RAISE(ABORT, 'transition records are append-only'); END""",
]
POSTGRES_AUDIT_GUARDS = [
    """CREATE FUNCTION transition_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'transition records are append-only' USING ERRCODE = 'restrict_violation'; END $$""",
    """CREATE TRIGGER transition_records_no_change BEFORE UPDATE OR DELETE ON transition_records
       FOR EACH ROW EXECUTE FUNCTION transition_records_append_only()""",
    """CREATE TRIGGER transition_records_no_truncate BEFORE TRUNCATE ON transition_records
       FOR EACH STATEMENT EXECUTE FUNCTION transition_records_append_only()""",
]


def upgrade() -> None:
    op.create_table('calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=False),
    sa.Column('first_plan_due', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_type', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=True),
    sa.Column('recorded_at', lifecycle.db.UTCInstant(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('jurisdictions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=100), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('has_elections', sa.Boolean(), nullable=False),
    sa.Column('term_end', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('organisation', sa.String(length=300), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('transition_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_type', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('from_state', sa.String(length=20), nullable=False),
    sa.Column('to_state', sa.String(length=20), nullable=False),
    sa.Column('trigger', sa.String(length=60), nullable=False),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('rule_id', sa.String(length=10), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('business_time', lifecycle.db.UTCInstant(), nullable=False),
    sa.Column('recorded_at', lifecycle.db.UTCInstant(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('hash'),
    sa.UniqueConstraint('subject_type', 'subject_id', 'seq')
    )
    op.create_table('members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('jurisdiction_id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('state_since', lifecycle.db.UTCInstant(), nullable=False),
    sa.Column('applied_at', lifecycle.db.UTCInstant(), nullable=False),
    sa.Column('first_plan_due', sa.Date(), nullable=True),
    sa.Column('orientation_completed_at', lifecycle.db.UTCInstant(), nullable=True),
    sa.Column('current_plan_id', sa.Integer(), nullable=True),
    sa.Column('voluntary_inactivity', sa.Boolean(), nullable=False),
    sa.Column('inactivity_rule', sa.String(length=10), nullable=True),
    sa.Column('probation_rule', sa.String(length=10), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], ),
    *([sa.ForeignKeyConstraint(['current_plan_id'], ['action_plans.id'], name='fk_members_current_plan')] if _sqlite() else []),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdictions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_members_state'), ['state'], unique=False)

    op.create_table('applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('applied_on', sa.Date(), nullable=False),
    sa.Column('los_pages', sa.Integer(), nullable=False),
    sa.Column('los_language', sa.String(length=8), nullable=False),
    sa.Column('los_signatories', sa.JSON(), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('reviewer_notes', sa.Text(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_id')
    )
    op.create_table('coalitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('lead_member_id', sa.Integer(), nullable=False),
    sa.Column('member_ids', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['lead_member_id'], ['members.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('deadlines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('subject_type', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('rule_id', sa.String(length=10), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('breach_at', lifecycle.db.UTCInstant(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reminder_days', sa.JSON(), nullable=False),
    sa.Column('opened_by', sa.Integer(), nullable=True),
    sa.Column('closed_by', sa.Integer(), nullable=True),
    sa.Column('closed_at', lifecycle.db.UTCInstant(), nullable=True),
    sa.Column('opened_at', lifecycle.db.UTCInstant(), nullable=False),
    sa.ForeignKeyConstraint(['closed_by'], ['transition_records.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.ForeignKeyConstraint(['opened_by'], ['transition_records.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deadlines_breach_at'), ['breach_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_deadlines_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deadlines_status'), ['status'], unique=False)

    op.create_table('inactivity_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', lifecycle.db.UTCInstant(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('stakeholders_consulted', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decided_at', lifecycle.db.UTCInstant(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('inactivity_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inactivity_requests_member_id'), ['member_id'], unique=False)

    op.create_table('meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(length=20), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('government_participants', sa.Integer(), nullable=False),
    sa.Column('non_governmental_participants', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('recorded_at', lifecycle.db.UTCInstant(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meetings_member_id'), ['member_id'], unique=False)

    op.create_table('roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'role', 'member_id')
    )
    op.create_table('action_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('coalition_id', sa.Integer(), nullable=True),
    sa.Column('filed_at', lifecycle.db.UTCInstant(), nullable=False),
    sa.Column('filed_on', sa.Date(), nullable=False),
    sa.Column('end_on', sa.Date(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('vision', sa.JSON(), nullable=False),
    sa.Column('endorsing_stakeholders', sa.JSON(), nullable=False),
    sa.Column('links', sa.JSON(), nullable=False),
    sa.Column('monitoring_body', sa.String(length=300), nullable=False),
    sa.Column('point_of_contact', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['coalition_id'], ['coalitions.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('action_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_plans_member_id'), ['member_id'], unique=False)

    op.create_table('commitments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('jurisdiction_code', sa.String(length=40), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('state_since', lifecycle.db.UTCInstant(), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('end_on', sa.Date(), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('is_replacement', sa.Boolean(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.ForeignKeyConstraint(['plan_id'], ['action_plans.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commitments_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_commitments_plan_id'), ['plan_id'], unique=False)

    op.create_table('tracker_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('filed_at', lifecycle.db.UTCInstant(), nullable=False),
    sa.Column('narrative', sa.Text(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('progress', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.ForeignKeyConstraint(['plan_id'], ['action_plans.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('tracker_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracker_updates_member_id'), ['member_id'], unique=False)

    op.create_table('assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('commitment_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('filed_at', lifecycle.db.UTCInstant(), nullable=False),
    sa.Column('monitoring_body', sa.String(length=300), nullable=False),
    sa.Column('ratings', sa.JSON(), nullable=False),
    sa.Column('unmet_requirements', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['commitment_id'], ['commitments.id'], ),
    sa.ForeignKeyConstraint(['plan_id'], ['action_plans.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessments_plan_id'), ['plan_id'], unique=False)

    op.create_table('commitment_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commitment_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('recorded_at', lifecycle.db.UTCInstant(), nullable=False),
    sa.Column('change', sa.String(length=20), nullable=False),
    sa.Column('decision_process', sa.Text(), nullable=True),
    sa.Column('approved_by', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['commitment_id'], ['commitments.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('commitment_id', 'version')
    )
    op.create_table('milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commitment_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('start_month', sa.String(length=7), nullable=False),
    sa.Column('end_month', sa.String(length=7), nullable=False),
    sa.Column('responsible_agency', sa.String(length=300), nullable=False),
    sa.Column('contact', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['commitment_id'], ['commitments.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_milestones_commitment_id'), ['commitment_id'], unique=False)


    if not _sqlite():
        op.create_foreign_key("fk_members_current_plan", "members", "action_plans", ["current_plan_id"], ["id"])
    for statement in SQLITE_AUDIT_GUARDS if _sqlite() else POSTGRES_AUDIT_GUARDS:
        op.execute(statement)

def downgrade() -> None:
    if _sqlite():
        op.execute("DROP TRIGGER IF EXISTS transition_records_no_update")
        op.execute("DROP TRIGGER IF EXISTS transition_records_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS transition_records_no_change ON transition_records")
        op.execute("DROP TRIGGER IF EXISTS transition_records_no_truncate ON transition_records")
        op.execute("DROP FUNCTION IF EXISTS transition_records_append_only()")
        op.drop_constraint("fk_members_current_plan", "members", type_="foreignkey")
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_milestones_commitment_id'))

    op.drop_table('milestones')
    op.drop_table('commitment_versions')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessments_plan_id'))

    op.drop_table('assessments')
    with op.batch_alter_table('tracker_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracker_updates_member_id'))

    op.drop_table('tracker_updates')
    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commitments_plan_id'))
        batch_op.drop_index(batch_op.f('ix_commitments_member_id'))

    op.drop_table('commitments')
    with op.batch_alter_table('action_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_plans_member_id'))

    op.drop_table('action_plans')
    op.drop_table('roles')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meetings_member_id'))

    op.drop_table('meetings')
    with op.batch_alter_table('inactivity_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inactivity_requests_member_id'))

    op.drop_table('inactivity_requests')
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deadlines_status'))
        batch_op.drop_index(batch_op.f('ix_deadlines_member_id'))
        batch_op.drop_index(batch_op.f('ix_deadlines_breach_at'))

    op.drop_table('deadlines')
    op.drop_table('coalitions')
    op.drop_table('applications')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_members_state'))

    op.drop_table('members')
    op.drop_table('transition_records')
    op.drop_table('people')
    op.drop_table('jurisdictions')
    op.drop_table('evidence')
    op.drop_table('calls')
