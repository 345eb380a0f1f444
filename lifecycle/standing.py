"""Reads the facts a member's standing is judged on: quarters, meetings, evidence, and status facts (D3, D8, D13, D14).

The timed checks (``lifecycle.engine``), the evidence a point of contact files
(``lifecycle.handlers``) and the Support Unit's status actions all read them here, so that
each question has one query; what the facts mean is decided in ``policies``.

R3.13: a joint plan's tracker updates, completions and meetings count for every member of
its coalition, so every count here is over the plan, or over the coalition's members.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from lifecycle.models import (
    ActionPlan,
    Assessment,
    Coalition,
    Commitment,
    Deadline,
    Meeting,
    Member,
    TrackerUpdate,
    TransitionRecord,
)
from policies.calendar import Quarter, add_months, breach_instant, local_date, start_of_local_day
from policies.deadlines import DeadlineKind, DeadlineStatus
from policies.machines import MemberState
from policies.sanctions import StandingFacts
from policies.timed import QuarterRecord, quarterly_finding


def coalition_of(session: Session, plan: ActionPlan | None, member_id: int) -> list[int]:
    """The members a plan's records count for: its coalition's (R3.13), or the member alone."""
    if plan is not None and plan.coalition_id is not None:
        coalition = session.get(Coalition, plan.coalition_id)
        if coalition is not None:
            return sorted({int(i) for i in coalition.member_ids} | {member_id})
    return [member_id]


def partners(session: Session, member: Member) -> list[int]:
    """The member and the partners of its current joint plan, in id order (the order they are locked in)."""
    return coalition_of(session, member.current_plan, member.id)


def meetings_with_stakeholders(session: Session, member_ids: list[int], *, phase: str, after: dt.date,
                               until: dt.date) -> int:
    """Meetings of ``phase`` with non-governmental participants held in (after, until] by any of these members."""
    return session.scalar(select(func.count()).select_from(Meeting).where(
        Meeting.member_id.in_(member_ids), Meeting.phase == phase, Meeting.non_governmental_participants > 0,
        Meeting.held_on > after, Meeting.held_on <= until)) or 0


def implementation_meetings(session: Session, member_ids: list[int], until: dt.date) -> int:
    """D8: implementation meetings with non-governmental participants in the 12 months to ``until``."""
    return meetings_with_stakeholders(session, member_ids, phase="implementation", after=add_months(until, -12),
                                      until=until)


def history(session: Session, member_id: int) -> list[TransitionRecord]:
    return list(session.scalars(
        select(TransitionRecord)
        .where(TransitionRecord.subject_type == "member", TransitionRecord.subject_id == member_id)
        .order_by(TransitionRecord.seq)
    ))


def implementing_throughout(records: list[TransitionRecord], start, end) -> bool:
    """D3: the member was implementing for the whole of [start, end)."""
    state = None
    for r in records:
        if r.business_time <= start:
            state = r.to_state
        elif r.business_time < end and r.to_state != MemberState.implementing:
            return False
    return state == MemberState.implementing


def quarter_record(session: Session, member, plan, q: Quarter, records) -> QuarterRecord:
    """What the plan's tracker shows for one quarter (D3, D4, D12): updated, progressed, counted.

    Progress is what each update recorded when it was filed (a milestone beyond its furthest
    status, D12), or a commitment of the plan completed in the quarter.
    """
    tz = member.jurisdiction.time_zone
    start, end = start_of_local_day(q.start, tz), breach_instant(q.end, tz)
    where = (TrackerUpdate.plan_id == plan.id) if plan is not None else (TrackerUpdate.member_id == member.id)
    updates = list(session.scalars(select(TrackerUpdate.progress).where(
        where, TrackerUpdate.filed_at >= start, TrackerUpdate.filed_at < end)))
    owner = (Commitment.plan_id == plan.id) if plan is not None else (Commitment.member_id == member.id)
    completed = session.scalar(select(func.count()).select_from(Commitment).where(
        owner, Commitment.completed_on >= q.start, Commitment.completed_on <= q.end)) or 0
    return QuarterRecord(quarter=q, counts=implementing_throughout(records, start, end), updated=bool(updates),
                         progressed=any(updates) or completed > 0)


def quarters_finding(session: Session, member, plan, later: Quarter) -> str | None:
    """D3: what the quarter ``later`` and the one before it find together (R5.3, R5.4 or None)."""
    records = history(session, member.id)
    return quarterly_finding(quarter_record(session, member, plan, later.previous(), records),
                             quarter_record(session, member, plan, later, records))


def _plan_due(session: Session, member_id: int, kind: DeadlineKind) -> dt.date | None:
    """The due date of the member's latest plan obligation of this kind, pending or breached."""
    return session.scalar(select(Deadline.due_on).where(
        Deadline.member_id == member_id, Deadline.kind == kind.value,
        Deadline.status.in_((DeadlineStatus.pending.value, DeadlineStatus.breached.value)))
        .order_by(Deadline.id.desc()).limit(1))


def resumption_since(session: Session, member: Member, since) -> bool:
    """D13: evidence of resumption filed since the instant ``since`` (progress, a co-creation meeting, a plan)."""
    ids = partners(session, member)
    plan_ids = select(ActionPlan.id).where(ActionPlan.member_id.in_(ids))
    progressed = session.scalar(select(TrackerUpdate.id).where(
        or_(TrackerUpdate.member_id.in_(ids), TrackerUpdate.plan_id.in_(plan_ids)),
        TrackerUpdate.progress.is_(True), TrackerUpdate.filed_at >= since).limit(1))
    if progressed:
        return True
    tz = member.jurisdiction.time_zone
    if meetings_with_stakeholders(session, ids, phase="co_creation", after=local_date(since, tz) - dt.timedelta(days=1),
                                  until=dt.date.max):
        return True
    return bool(session.scalar(select(ActionPlan.id).where(ActionPlan.member_id.in_(ids),
                                                           ActionPlan.filed_at >= since).limit(1)))


def facts(session: Session, member: Member, now) -> StandingFacts:
    """What D14 judges a Support Unit status action on, as of ``now``."""
    tz = member.jurisdiction.time_zone
    today = local_date(now, tz)
    plan = member.current_plan
    # An implementing member's plan is in force for it, though a coalition partner already marked a joint plan ended.
    plan_in_force = member.has_plan_in_force or (member.state == MemberState.implementing and plan is not None)
    later = Quarter.containing(today).previous()
    unmet = plan is not None and any(session.scalars(select(Assessment.unmet_requirements).where(
        Assessment.plan_id == plan.id, Assessment.kind == "start")))
    return StandingFacts(
        state=member.state,
        today=today,
        status_since=local_date(member.state_since, tz),
        voluntary=bool(member.voluntary_inactivity),
        probation_rule=member.probation_rule,
        ever_filed=member.current_plan_id is not None,
        plan_in_force=plan_in_force,
        plan_end=plan.end_on if plan is not None else None,
        plan_filed_on=plan.filed_on if plan is not None else None,
        first_plan_due=_plan_due(session, member.id, DeadlineKind.first_plan) or member.first_plan_due,
        next_plan_due=_plan_due(session, member.id, DeadlineKind.next_plan),
        quarterly_finding=(quarters_finding(session, member, plan, later)
                           if plan_in_force and member.state == MemberState.implementing else None),
        meetings=implementation_meetings(session, partners(session, member), today),
        unmet_in_start_assessment=unmet,
        resumption_since_status=resumption_since(session, member, member.state_since),
    )
