"""Read models: what ``member show``, lists and exports display, as plain dicts."""

from __future__ import annotations

import pendulum
from sqlalchemy import and_, case, or_, select
from sqlalchemy.orm import Session

from lifecycle import audit
from lifecycle.machines import possible_triggers
from lifecycle.standing import coalition_of
from lifecycle.models import (ActionPlan, Assessment, Commitment, Deadline, InactivityRequest, Jurisdiction,
                              Member, OutboxEvent, TrackerUpdate, TransitionRecord)
from policies.assessments import AssessmentKind
from policies.deadlines import MONITORING_DELIVERABLES, DeadlineKind, DeadlineStatus
from policies.errors import NotFound


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def deadline_row(d: Deadline) -> dict:
    return {
        "id": d.id, "member_id": d.member_id, "subject": f"{d.subject_type}:{d.subject_id}", "kind": d.kind,
        "rule_id": d.rule_id, "due_on": _iso(d.due_on), "breach_at": d.breach_at.to_iso8601_string(),
        "status": d.status,
    }


def commitment_row(c: Commitment) -> dict:
    return {
        "id": c.id, "title": c.title, "state": c.state, "start": _iso(c.start_on), "end": _iso(c.end_on),
        "jurisdiction": c.jurisdiction_code, "version": c.version, "completed_on": _iso(c.completed_on),
        "replacement": c.is_replacement,
        "milestones": [
            {"id": m.id, "outcome": m.outcome, "start_month": m.start_month, "end_month": m.end_month,
             "status": m.status}
            for m in c.milestones
        ],
    }


def member_summary(m: Member) -> dict:
    j = m.jurisdiction
    return {"id": m.id, "jurisdiction": j.code, "name": j.name, "country": j.country, "state": m.state,
            "since": m.state_since.to_iso8601_string(), "plan_id": m.current_plan_id}


def member_detail(session: Session, member_id: int, *, now: pendulum.DateTime | None = None) -> dict:
    """A member as ``member show`` and the API give it; with ``now``, its next deadline and overdue deliverables too."""
    m = session.get(Member, member_id)
    if m is None:
        raise NotFound(f"There is no member {member_id}.", field="id")
    j = m.jurisdiction
    plan = m.current_plan
    data = member_summary(m)
    data.update(
        time_zone=j.time_zone,
        language=j.language,
        term_end=_iso(j.term_end),
        voluntary_inactivity=m.voluntary_inactivity,
        inactivity_rule=m.inactivity_rule,
        probation_rule=m.probation_rule,
        orientation_completed=m.orientation_completed_at is not None,
        possible_triggers=possible_triggers(m),
        plan=None,
        deadlines=[
            deadline_row(d)
            for d in session.scalars(
                select(Deadline).where(Deadline.member_id == m.id, Deadline.status == "pending")
                .order_by(Deadline.breach_at)
            )
        ],
        pending_inactivity_requests=[
            r.id for r in session.scalars(select(InactivityRequest).where(
                InactivityRequest.member_id == m.id, InactivityRequest.status == "pending"))
        ],
        tracker_updates=[
            {"id": u.id, "quarter": u.quarter, "filed_at": u.filed_at.to_iso8601_string(), "progress": u.progress}
            for u in session.scalars(select(TrackerUpdate).where(TrackerUpdate.member_id == m.id)
                                     .order_by(TrackerUpdate.filed_at))
        ],
        history=with_letters(session, [audit.as_row(r) for r in audit.history(session, "member", m.id)]),
    )
    if plan is not None:
        data["plan"] = {
            "id": plan.id, "filed_on": _iso(plan.filed_on), "end": _iso(plan.end_on), "status": plan.status,
            "monitoring_body": plan.monitoring_body, "coalition_id": plan.coalition_id,
            "commitments": [commitment_row(c) for c in plan.commitments],
        }
    if now is not None:
        data["next_deadline"] = obligation_row(next_deadlines(session, [m.id], now=now).get(m.id))
        data["overdue"] = [obligation_row(o) for o in overdue_deliverables(session, [m.id], now=now).get(m.id, [])]
    return data


def list_members(session: Session, *, state: str | None = None, country: str | None = None) -> list[dict]:
    stmt = select(Member).join(Jurisdiction).order_by(Member.id)
    if state:
        stmt = stmt.where(Member.state == state)
    if country:
        stmt = stmt.where(Jurisdiction.country == country)
    return [member_summary(m) for m in session.scalars(stmt)]


def list_deadlines(session: Session, *, member_id: int | None = None, status: str | None = "pending") -> list[dict]:
    stmt = select(Deadline).order_by(Deadline.breach_at, Deadline.id)
    if member_id is not None:
        stmt = stmt.where(Deadline.member_id == member_id)
    if status:
        stmt = stmt.where(Deadline.status == status)
    return [deadline_row(d) for d in session.scalars(stmt)]


def commitment_detail(session: Session, commitment_id: int) -> dict:
    c = session.get(Commitment, commitment_id)
    if c is None:
        raise NotFound(f"There is no commitment {commitment_id}.", field="id")
    data = commitment_row(c)
    data.update(plan_id=c.plan_id, member_id=c.member_id, details=c.details,
                possible_triggers=possible_triggers(c),
                versions=[{"version": v.version, "change": v.change, "recorded_at": v.recorded_at.to_iso8601_string(),
                           "decision_process": v.decision_process, "approved_by": v.approved_by}
                          for v in c.versions],
                history=[audit.as_row(r) for r in audit.history(session, "commitment", c.id)])
    return data


# ---------------------------------------------------------------- what a member owes (§4–§6, R8.1)
#
# Two questions, one query each, for one member or a page of them: the deadlines still ahead
# (the first is the member's "next deadline"), and the monitoring deliverables that are overdue.
# A due date is a local calendar date met until its breach instant, local midnight after it (D2),
# so "due today or later in the member's own calendar" is "breach instant after now".

# The assessment kind that fulfils each monitoring deliverable (R4.1-R4.3).
DELIVERABLE_KINDS: dict[DeadlineKind, AssessmentKind] = {
    DeadlineKind.start_assessment: AssessmentKind.start,
    DeadlineKind.end_of_commitment_assessment: AssessmentKind.end_of_commitment,
    DeadlineKind.final_learning_report: AssessmentKind.final_report,
}


def deliverable_filed():
    """EXISTS, correlated with ``Deadline``: the assessment its monitoring deliverable asks for was filed.

    Filing a deliverable late closes its deadline as met, but deadlines of deliverables filed late
    before that rule stayed ``breached``; whether one is still owed is read from the assessments.
    """
    owed = case(*((Deadline.kind == kind.value, assessed.value) for kind, assessed in DELIVERABLE_KINDS.items()))
    return select(Assessment.id).where(Assessment.kind == owed, or_(
        and_(Deadline.subject_type == "commitment", Assessment.commitment_id == Deadline.subject_id),
        and_(Deadline.subject_type == "plan", Assessment.plan_id == Deadline.subject_id),
    )).exists()


def _obligations(session: Session, member_ids, *conditions) -> dict[int, list[dict]]:
    """Deadlines of these members that meet ``conditions``, earliest first, each naming its plan and commitment."""
    found: dict[int, list[dict]] = {}
    ids = list(member_ids)
    if not ids:
        return found
    plan_id = case((Deadline.subject_type == "plan", Deadline.subject_id), else_=Commitment.plan_id)
    stmt = (select(Deadline.id, Deadline.member_id, Deadline.kind, Deadline.rule_id, Deadline.due_on, Deadline.status,
                   Deadline.subject_type, Deadline.subject_id, Commitment.title, ActionPlan.id, ActionPlan.filed_on,
                   ActionPlan.end_on, ActionPlan.status, Member.current_plan_id)
            .join(Member, Deadline.member_id == Member.id)
            .outerjoin(Commitment, and_(Deadline.subject_type == "commitment", Commitment.id == Deadline.subject_id))
            .outerjoin(ActionPlan, ActionPlan.id == plan_id)
            .where(Deadline.member_id.in_(ids), *conditions)
            .order_by(Deadline.member_id, Deadline.breach_at, Deadline.id))
    for (did, member_id, kind, rule_id, due_on, status, subject_type, subject_id, title, pid, filed_on, end_on,
         plan_status, current_plan_id) in session.execute(stmt):
        found.setdefault(member_id, []).append({
            "id": did, "member_id": member_id, "kind": kind, "rule_id": rule_id, "due_on": due_on, "status": status,
            "subject": f"{subject_type}:{subject_id}",
            "commitment_id": subject_id if subject_type == "commitment" else None, "commitment": title,
            "plan_id": pid, "plan_filed_on": filed_on, "plan_end_on": end_on, "plan_status": plan_status,
            "plan_is_current": pid is not None and pid == current_plan_id,
            # A deliverable of a plan that ended or was replaced names that plan (R8.1): it is not the one in force.
            "earlier_plan": pid is not None and (pid != current_plan_id or plan_status != "in_force"),
        })
    return found


def upcoming_deadlines(session: Session, member_ids, *, now: pendulum.DateTime) -> dict[int, list[dict]]:
    """Each member's pending deadlines due today or later in its own calendar (D2), earliest first."""
    return _obligations(session, member_ids, Deadline.status == DeadlineStatus.pending.value, Deadline.breach_at > now)


def next_deadlines(session: Session, member_ids, *, now: pendulum.DateTime) -> dict[int, dict]:
    """Each member's next deadline: the earliest still ahead (``upcoming_deadlines``); none when nothing is."""
    return {m: rows[0] for m, rows in upcoming_deadlines(session, member_ids, now=now).items()}


def overdue_deliverables(session: Session, member_ids, *, now: pendulum.DateTime) -> dict[int, list[dict]]:
    """Monitoring deliverables (R4.1-R4.3) past their due date and not filed, whether their deadline fired or not."""
    return _obligations(session, member_ids,
                        Deadline.kind.in_([k.value for k in MONITORING_DELIVERABLES]),
                        Deadline.status.in_([DeadlineStatus.pending.value, DeadlineStatus.breached.value]),
                        Deadline.breach_at <= now, ~deliverable_filed())


def plan_commitments(session: Session, member_id: int, plan_id: int) -> dict:
    """One plan of a member with its commitments, for filing that plan's deliverables late (R4.1-R4.3).

    A plan of the member is its own or a joint plan it is part of (R3.13); any other plan is
    refused as not found, naming the field ``plan``.
    """
    plan = session.get(ActionPlan, plan_id)
    if plan is None or member_id not in coalition_of(session, plan, plan.member_id):
        raise NotFound(f"Member {member_id} has no action plan {plan_id}.", field="plan")
    current_plan_id = session.scalar(select(Member.current_plan_id).where(Member.id == member_id))
    return {
        "id": plan.id, "filed_on": plan.filed_on, "end_on": plan.end_on, "status": plan.status,
        "is_current": plan.id == current_plan_id,
        "commitments": [{"id": x.id, "title": x.title, "state": x.state, "replacement": x.is_replacement,
                         "completed_on": x.completed_on} for x in plan.commitments],
    }


def obligation_row(o: dict | None) -> dict | None:
    """An obligation as the API gives it: dates in ISO 8601."""
    if o is None:
        return None
    return {**o, "due_on": _iso(o["due_on"]), "plan_filed_on": _iso(o["plan_filed_on"]),
            "plan_end_on": _iso(o["plan_end_on"])}


# ---------------------------------------------------------------- letters (R7.1–R7.3)


def letter_row(e: OutboxEvent) -> dict:
    return {
        "id": e.id, "member_id": e.member_id, "kind": e.kind, "rule_id": e.rule_id, "recipient_role": e.recipient_role,
        "status": e.status, "recipients": list(e.recipients or []), "subject": e.subject, "language": e.language,
        "message_id": e.message_id, "transition_id": e.transition_id, "deadline_id": e.deadline_id,
        "created_at": e.created_at.to_iso8601_string(),
        "sent_at": e.sent_at.to_iso8601_string() if e.sent_at else None, "attempts": e.attempts,
        "last_error": e.last_error,
    }


def list_letters(session: Session, *, status: str | None = None, member_id: int | None = None) -> list[dict]:
    stmt = select(OutboxEvent).order_by(OutboxEvent.id)
    if status:
        stmt = stmt.where(OutboxEvent.status == status)
    if member_id is not None:
        stmt = stmt.where(OutboxEvent.member_id == member_id)
    return [letter_row(e) for e in session.scalars(stmt)]


def letter_detail(session: Session, outbox_id: int) -> dict:
    """A letter with its text, and the transition or deadline it came from."""
    e = session.get(OutboxEvent, outbox_id)
    if e is None:
        raise NotFound(f"There is no letter {outbox_id}.", field="id")
    data = letter_row(e)
    data.update(idempotency_key=e.idempotency_key, payload=e.payload, body_text=e.body_text,
                rendered_at=e.rendered_at.to_iso8601_string() if e.rendered_at else None, has_pdf=bool(e.pdf),
                transition=None, deadline=None)
    if e.transition_id is not None:
        record = session.get(TransitionRecord, e.transition_id)
        data["transition"] = audit.as_row(record) if record is not None else None
    if e.deadline_id is not None:
        deadline = session.get(Deadline, e.deadline_id)
        data["deadline"] = deadline_row(deadline) if deadline is not None else None
    return data


def with_letters(session: Session, rows: list[dict]) -> list[dict]:
    """Audit rows, each with the letters its transition caused (outbox.transition_id)."""
    ids = [r["id"] for r in rows]
    caused: dict[int, list[dict]] = {i: [] for i in ids}
    if ids:
        stmt = select(OutboxEvent).where(OutboxEvent.transition_id.in_(ids)).order_by(OutboxEvent.id)
        for e in session.scalars(stmt):
            caused[e.transition_id].append({"id": e.id, "kind": e.kind, "recipient_role": e.recipient_role,
                                            "status": e.status, "message_id": e.message_id})
    return [{**r, "letters": caused[r["id"]]} for r in rows]


# ---------------------------------------------------------------- comments (R8.2) and concern cases (R6.6)


def comment_row(c) -> dict:
    return {"id": c.id, "tracker_update_id": c.tracker_update_id, "member_id": c.member_id,
            "author_name": c.author_name, "body": c.body, "status": c.status,
            "created_at": c.created_at.to_iso8601_string(),
            "moderated_at": c.moderated_at.to_iso8601_string() if c.moderated_at else None,
            "moderated_by": c.moderated_by, "moderation_note": c.moderation_note}


def list_comments(session: Session, *, tracker_update_id: int | None = None, member_id: int | None = None,
                  status: str | None = "approved") -> list[dict]:
    """Comments oldest first; the public sees approved ones only (the author's e-mail is never shown)."""
    from lifecycle.models import Comment

    stmt = select(Comment).order_by(Comment.id)
    if tracker_update_id is not None:
        stmt = stmt.where(Comment.tracker_update_id == tracker_update_id)
    if member_id is not None:
        stmt = stmt.where(Comment.member_id == member_id)
    if status:
        stmt = stmt.where(Comment.status == status)
    return [comment_row(c) for c in session.scalars(stmt)]


def comment_detail(session: Session, comment_id: int) -> dict:
    from lifecycle.models import Comment

    comment = session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(f"There is no comment {comment_id}.", field="id")
    return comment_row(comment)


def concern_case_row(case) -> dict:
    return {"id": case.id, "member_id": case.member_id, "opened_at": case.opened_at.to_iso8601_string(),
            "reported_by": case.reported_by, "summary": case.summary, "status": case.status,
            "outcome": case.outcome, "closed_at": case.closed_at.to_iso8601_string() if case.closed_at else None,
            "closed_by": case.closed_by}


def list_concern_cases(session: Session, *, member_id: int | None = None, status: str | None = None) -> list[dict]:
    from lifecycle.models import ConcernCase

    stmt = select(ConcernCase).order_by(ConcernCase.id)
    if member_id is not None:
        stmt = stmt.where(ConcernCase.member_id == member_id)
    if status:
        stmt = stmt.where(ConcernCase.status == status)
    return [concern_case_row(x) for x in session.scalars(stmt)]


def concern_case_detail(session: Session, case_id: int) -> dict:
    from lifecycle.models import ConcernCase

    case = session.get(ConcernCase, case_id)
    if case is None:
        raise NotFound(f"There is no concern case {case_id}.", field="id")
    return concern_case_row(case)


def member_findings(session: Session, member_id: int) -> list[dict]:
    """What timed checks and concern cases (R6.6) recorded about a member, oldest first."""
    from lifecycle.models import Finding

    stmt = select(Finding).where(Finding.member_id == member_id).order_by(Finding.found_at, Finding.id)
    return [{"id": f.id, "rule_id": f.rule_id, "outcome": f.outcome, "found_at": f.found_at.to_iso8601_string(),
             "deadline_id": f.deadline_id, "transition_id": f.transition_id, "detail": f.detail}
            for f in session.scalars(stmt)]
