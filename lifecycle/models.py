"""SQLAlchemy 2 models of the domain; the schema itself is made only by the migrations."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from lifecycle.db import UTCInstant
from policies.machines import CommitmentState, MemberState
from policies.sanctions import furthest


class Base(DeclarativeBase):
    type_annotation_map = {pendulum.DateTime: UTCInstant(), dt.date: Date(), dict[str, Any]: JSON(), list[Any]: JSON()}


class Person(Base):
    """Someone who acts in the system; roles say for whom."""

    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    organisation: Mapped[str | None] = mapped_column(String(300))
    roles: Mapped[list[Role]] = relationship(back_populates="person", cascade="all, delete-orphan")


class Role(Base):
    """A person's role (support_unit, poc, monitoring_body, stakeholder), for a member or globally."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("person_id", "role", "member_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    role: Mapped[str] = mapped_column(String(40))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    person: Mapped[Person] = relationship(back_populates="roles")


class Jurisdiction(Base):
    __tablename__ = "jurisdictions"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(100))
    time_zone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="en")
    has_elections: Mapped[bool] = mapped_column(Boolean, default=True)
    term_end: Mapped[dt.date | None]


class Call(Base):
    """A call for applications (R1.1) with its default first-plan deadline (R5.1)."""

    __tablename__ = "calls"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    opens_on: Mapped[dt.date]
    closes_on: Mapped[dt.date]
    first_plan_due: Mapped[dt.date]


class Member(Base):
    """A jurisdiction's membership: the member state machine's model."""

    __tablename__ = "members"
    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    state: Mapped[str] = mapped_column(String(20), default=MemberState.applicant.value, index=True)
    state_since: Mapped[pendulum.DateTime]
    applied_at: Mapped[pendulum.DateTime]
    first_plan_due: Mapped[dt.date | None]
    orientation_completed_at: Mapped[pendulum.DateTime | None]
    current_plan_id: Mapped[int | None] = mapped_column(ForeignKey("action_plans.id", use_alter=True))
    voluntary_inactivity: Mapped[bool] = mapped_column(Boolean, default=False)
    inactivity_rule: Mapped[str | None] = mapped_column(String(10))
    probation_rule: Mapped[str | None] = mapped_column(String(10))

    jurisdiction: Mapped[Jurisdiction] = relationship(lazy="joined")
    call: Mapped[Call] = relationship()
    application: Mapped[Application] = relationship(back_populates="member", uselist=False)
    current_plan: Mapped[ActionPlan | None] = relationship(foreign_keys=[current_plan_id], post_update=True)

    subject_type = "member"

    @property
    def has_plan_in_force(self) -> bool:
        """Whether the current plan is being implemented (R2.7, R2.10 pick the phase by it)."""
        return self.current_plan is not None and self.current_plan.status == "in_force"

    @property
    def orientation_pending(self) -> bool:
        """D11: the orientation programme was never completed, so resuming returns to orientation."""
        return self.orientation_completed_at is None and self.current_plan_id is None


class Application(Base):
    """An application with its letter of support (R1.3) and the Support Unit's checklist (R1.4)."""

    __tablename__ = "applications"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    applied_on: Mapped[dt.date]
    los_pages: Mapped[int]
    los_language: Mapped[str] = mapped_column(String(8))
    los_signatories: Mapped[list[Any]]
    checklist: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reviewer_notes: Mapped[str | None] = mapped_column(Text)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    member: Mapped[Member] = relationship(back_populates="application")


class Coalition(Base):
    """2–4 jurisdictions of one country filing one plan (R3.13); lasts one plan period."""

    __tablename__ = "coalitions"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    lead_member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    member_ids: Mapped[list[Any]]


class ActionPlan(Base):
    """An action plan with its strategic vision (annex 1)."""

    __tablename__ = "action_plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    coalition_id: Mapped[int | None] = mapped_column(ForeignKey("coalitions.id"))
    filed_at: Mapped[pendulum.DateTime]
    filed_on: Mapped[dt.date]
    end_on: Mapped[dt.date]
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20), default="in_force")
    vision: Mapped[dict[str, Any]]
    endorsing_stakeholders: Mapped[list[Any]]
    links: Mapped[list[Any]]
    monitoring_body: Mapped[str] = mapped_column(String(300))
    point_of_contact: Mapped[str | None] = mapped_column(String(300))
    commitments: Mapped[list[Commitment]] = relationship(back_populates="plan", order_by="Commitment.id")


class Commitment(Base):
    """A commitment (annex 2): the commitment state machine's model."""

    __tablename__ = "commitments"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("action_plans.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    jurisdiction_code: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), default=CommitmentState.draft.value)
    state_since: Mapped[pendulum.DateTime]
    submitted_on: Mapped[dt.date]
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(500))
    start_on: Mapped[dt.date]
    end_on: Mapped[dt.date]
    completed_on: Mapped[dt.date | None]
    is_replacement: Mapped[bool] = mapped_column(Boolean, default=False)
    details: Mapped[dict[str, Any]]

    plan: Mapped[ActionPlan] = relationship(back_populates="commitments")
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="commitment", order_by="Milestone.position", cascade="all, delete-orphan"
    )
    versions: Mapped[list[CommitmentVersion]] = relationship(order_by="CommitmentVersion.version")

    subject_type = "commitment"


class Milestone(Base):
    """A milestone (R3.9); its status is a field, not a machine."""

    __tablename__ = "milestones"
    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id"), index=True)
    position: Mapped[int]
    outcome: Mapped[str] = mapped_column(Text)
    start_month: Mapped[str] = mapped_column(String(7))
    end_month: Mapped[str] = mapped_column(String(7))
    responsible_agency: Mapped[str] = mapped_column(String(300))
    contact: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="not_started")
    # D12: the furthest status along not_started < in_progress < finished it ever reached; only
    # a step beyond it is progress (going stuck -> in_progress again is not).
    furthest_status: Mapped[str] = mapped_column(String(20), default=lambda ctx: furthest(
        None, ctx.get_current_parameters().get("status") or "not_started"), server_default="not_started")
    commitment: Mapped[Commitment] = relationship(back_populates="milestones")


class CommitmentVersion(Base):
    """Every version of a commitment, kept when it is modified or withdrawn (R3.10)."""

    __tablename__ = "commitment_versions"
    __table_args__ = (UniqueConstraint("commitment_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id"))
    version: Mapped[int]
    snapshot: Mapped[dict[str, Any]]
    recorded_at: Mapped[pendulum.DateTime]
    change: Mapped[str] = mapped_column(String(20))
    decision_process: Mapped[str | None] = mapped_column(Text)
    approved_by: Mapped[list[Any]] = mapped_column(default=list)


class Meeting(Base):
    """A meeting of the participation space (R3.11), counted for co-creation and R6.2."""

    __tablename__ = "meetings"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    phase: Mapped[str] = mapped_column(String(20))
    held_on: Mapped[dt.date]
    government_participants: Mapped[int]
    non_governmental_participants: Mapped[int]
    description: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[pendulum.DateTime]


class TrackerUpdate(Base):
    """A quarterly progress update on the public tracker (R4.4, D3, D4)."""

    __tablename__ = "tracker_updates"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("action_plans.id"))
    quarter: Mapped[str] = mapped_column(String(7))
    filed_at: Mapped[pendulum.DateTime]
    narrative: Mapped[str] = mapped_column(Text)
    changes: Mapped[list[Any]]
    progress: Mapped[bool] = mapped_column(Boolean)


class Assessment(Base):
    """A monitoring deliverable: start assessment, end-of-commitment assessment, final report (§4)."""

    __tablename__ = "assessments"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("action_plans.id"), index=True)
    commitment_id: Mapped[int | None] = mapped_column(ForeignKey("commitments.id"))
    kind: Mapped[str] = mapped_column(String(40))
    filed_at: Mapped[pendulum.DateTime]
    monitoring_body: Mapped[str] = mapped_column(String(300))
    ratings: Mapped[dict[str, Any]]
    unmet_requirements: Mapped[list[Any]] = mapped_column(default=list)


class Evidence(Base):
    """A typed link (R8.3) attached to any subject."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(60))
    url: Mapped[str] = mapped_column(String(2000))
    title: Mapped[str | None] = mapped_column(String(300))
    recorded_at: Mapped[pendulum.DateTime]


class InactivityRequest(Base):
    """A POC's request for voluntary inactivity (R5.5), decided by the Support Unit."""

    __tablename__ = "inactivity_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    requested_at: Mapped[pendulum.DateTime]
    reason: Mapped[str] = mapped_column(Text)
    # Recorded, not required: the handbook recommends consulting them and the OGP Local team first.
    stakeholders_consulted: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | approved | declined
    decided_at: Mapped[pendulum.DateTime | None]
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decision_reason: Mapped[str | None] = mapped_column(Text)


class Deadline(Base):
    """An obligation with a date (§4–§6); fired by the deadline engine."""

    __tablename__ = "deadlines"
    __table_args__ = (Index("ix_deadlines_pending_breach", "status", "breach_at", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(40))
    rule_id: Mapped[str] = mapped_column(String(10))
    due_on: Mapped[dt.date]
    breach_at: Mapped[pendulum.DateTime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    reminder_days: Mapped[list[Any]] = mapped_column(default=list)
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("transition_records.id"))
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("transition_records.id"))
    closed_at: Mapped[pendulum.DateTime | None]
    opened_at: Mapped[pendulum.DateTime]
    next_reminder_at: Mapped[pendulum.DateTime | None] = mapped_column(index=True)
    reminders_sent: Mapped[list[Any]] = mapped_column(default=list)


class Finding(Base):
    """What a timed check found (D7, D9): the rule, and whether it caused a transition."""

    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    deadline_id: Mapped[int | None] = mapped_column(ForeignKey("deadlines.id"))
    rule_id: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str] = mapped_column(String(20))  # transition | recorded | superseded | overdue
    found_at: Mapped[pendulum.DateTime]
    transition_id: Mapped[int | None] = mapped_column(ForeignKey("transition_records.id"))
    detail: Mapped[str] = mapped_column(Text, default="")


class OutboxEvent(Base):
    """An event that owes someone a letter, written in the transaction that caused it (R7.3)."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    rule_id: Mapped[str | None] = mapped_column(String(10))
    recipient_role: Mapped[str] = mapped_column(String(40))
    transition_id: Mapped[int | None] = mapped_column(ForeignKey("transition_records.id"))
    deadline_id: Mapped[int | None] = mapped_column(ForeignKey("deadlines.id"))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[pendulum.DateTime]
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    # The letter itself, rendered once and kept as evidence of the notice (R7.2, R7.3).
    language: Mapped[str | None] = mapped_column(String(8))
    recipients: Mapped[list[Any]] = mapped_column(default=list)
    subject: Mapped[str | None] = mapped_column(String(300))
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    message_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    rendered_at: Mapped[pendulum.DateTime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[pendulum.DateTime | None]


class TransitionRecord(Base):
    """The append-only, hash-chained audit record of one transition."""

    __tablename__ = "transition_records"
    __table_args__ = (UniqueConstraint("subject_type", "subject_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int]
    seq: Mapped[int]
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    trigger: Mapped[str] = mapped_column(String(60))
    actor: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str | None] = mapped_column(Text)
    rule_id: Mapped[str] = mapped_column(String(10))
    evidence: Mapped[list[Any]]
    business_time: Mapped[pendulum.DateTime]
    recorded_at: Mapped[pendulum.DateTime]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # D14: a Support Unit status action taken although its rule did not hold as of its instant.
    override: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())


# ---------------------------------------------------------------- the web: accounts, comments, concern cases


class Credential(Base):
    """A person's password, as a salted scrypt hash (``scrypt$n$r$p$salt$hash``); never the password."""

    __tablename__ = "credentials"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    updated_at: Mapped[pendulum.DateTime]
    # Consecutive wrong passwords, and until when the account refuses logins after too many.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[pendulum.DateTime | None]


class ApiToken(Base):
    """A program's bearer token: only its SHA-256 is kept; the token is shown once, when made."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[pendulum.DateTime]
    revoked_at: Mapped[pendulum.DateTime | None]


class WebSession(Base):
    """A server-side login session; the cookie holds the token, the database only its SHA-256."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[pendulum.DateTime]
    expires_at: Mapped[pendulum.DateTime]
    ended_at: Mapped[pendulum.DateTime | None]


class Comment(Base):
    """A public comment on a tracker update (R8.2), shown once the Support Unit approves it."""

    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    tracker_update_id: Mapped[int] = mapped_column(ForeignKey("tracker_updates.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    author_name: Mapped[str] = mapped_column(String(200))
    author_email: Mapped[str | None] = mapped_column(String(320))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    created_at: Mapped[pendulum.DateTime]
    moderated_at: Mapped[pendulum.DateTime | None]
    moderated_by: Mapped[str | None] = mapped_column(String(320))
    moderation_note: Mapped[str | None] = mapped_column(Text)


class ConcernCase(Base):
    """A civic-space concern case (R6.6), opened on a report and closed with its outcome."""

    __tablename__ = "concern_cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    opened_at: Mapped[pendulum.DateTime]
    reported_by: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    outcome: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[pendulum.DateTime | None]
    closed_by: Mapped[str | None] = mapped_column(String(320))
