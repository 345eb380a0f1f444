"""Read models of the web pages: the public status (R8.1), open-data exports, and the staff dashboards.

Every function runs a fixed number of queries whatever the number of members: lists are
paginated in SQL and related rows (next deadlines, milestones, evidence, comments) are
fetched with one ``IN`` query per kind, never one per row. Exports stream in keyset
batches, each batch in a short session of its own, so a slow reader holds no
transaction open (SQLite transactions here take the database lock, see ``lifecycle.db``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo
from dataclasses import dataclass
from typing import Any

import pendulum
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from lifecycle import audit, queries
from lifecycle.models import (ActionPlan, Assessment, Comment, Commitment, Deadline, Evidence, InactivityRequest,
                              Jurisdiction, Meeting, Member, Milestone, OutboxEvent, TrackerUpdate, TransitionRecord)
from policies.calendar import local_date
from policies.deadlines import MONITORING_DELIVERABLES, DeadlineStatus
from policies.errors import NotFound
from policies.machines import MemberState

PER_PAGE = 50
MAX_PER_PAGE = 200
EXPORT_BATCH = 1000
MEMBER_EXPORT_FIELDS = (
    "id", "jurisdiction", "name", "country", "state", "state_since", "voluntary_inactivity", "plan_id",
    "plan_end", "next_deadline_kind", "next_deadline_rule", "next_deadline_due_on", "overdue_count", "overdue",
)


# ---------------------------------------------------------------- the public list


@dataclass(frozen=True)
class MemberRow:
    id: int
    jurisdiction: str
    name: str
    country: str
    time_zone: str
    state: str
    state_since: pendulum.DateTime
    voluntary_inactivity: bool
    next_deadline: dict | None = None  # the earliest pending deadline still ahead (queries.next_deadlines)
    overdue: tuple[dict, ...] = ()  # monitoring deliverables past due and not filed (queries.overdue_deliverables)


@dataclass(frozen=True)
class MemberPage:
    rows: list[MemberRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _member_columns():
    return (Member.id, Jurisdiction.code, Jurisdiction.name, Jurisdiction.country, Jurisdiction.time_zone,
            Member.state, Member.state_since, Member.voluntary_inactivity)


def _filtered(stmt, *, country: str | None, state: str | None):
    if country:
        stmt = stmt.where(Jurisdiction.country == country)
    if state:
        stmt = stmt.where(Member.state == state)
    return stmt


def with_obligations(session: Session, rows: list[MemberRow], *, now: pendulum.DateTime) -> list[MemberRow]:
    """The rows, each with its next deadline and its overdue deliverables: two queries for all of them."""
    ids = [r.id for r in rows]
    upcoming = queries.next_deadlines(session, ids, now=now)
    overdue = queries.overdue_deliverables(session, ids, now=now)
    return [MemberRow(**{**r.__dict__, "next_deadline": upcoming.get(r.id), "overdue": tuple(overdue.get(r.id, ()))})
            for r in rows]


def list_members(session: Session, *, now: pendulum.DateTime, country: str | None = None, state: str | None = None,
                 page: int = 1, per_page: int = PER_PAGE) -> MemberPage:
    """One page of members, by jurisdiction name, with status, next deadline and overdue deliverables; four queries."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    total = session.scalar(_filtered(select(func.count()).select_from(Member).join(Jurisdiction),
                                     country=country, state=state)) or 0
    last_page = max(1, -(-total // per_page))
    page = max(1, min(page, last_page))
    # A deferred join: the page's ids are found by sorting (name, id) pairs only, then their rows are
    # read; deep pages skip thousands of narrow rows instead of wide ones (bench/web.py: 9 ms -> 6 ms).
    page_ids = _filtered(select(Member.id).join(Jurisdiction, Member.jurisdiction_id == Jurisdiction.id),
                         country=country, state=state)
    page_ids = page_ids.order_by(Jurisdiction.name, Member.id).limit(per_page).offset((page - 1) * per_page)
    stmt = (select(*_member_columns()).join(Jurisdiction, Member.jurisdiction_id == Jurisdiction.id)
            .where(Member.id.in_(page_ids.scalar_subquery())).order_by(Jurisdiction.name, Member.id))
    rows = with_obligations(session, [MemberRow(*r) for r in session.execute(stmt)], now=now)
    return MemberPage(rows=rows, total=total, page=page, per_page=per_page)


def countries(session: Session) -> list[str]:
    """Countries of the registered jurisdictions, for the list's filter.

    Read from the jurisdictions alone (an index-only scan of ``ix_jurisdictions_country_name``):
    checking that each has a member would probe every member on every page view.
    """
    return list(session.scalars(select(Jurisdiction.country).distinct().order_by(Jurisdiction.country)))


STATES: tuple[str, ...] = tuple(s.value for s in MemberState)


# ---------------------------------------------------------------- one member's public page


def _history_columns():
    return (TransitionRecord.id, TransitionRecord.subject_type, TransitionRecord.subject_id, TransitionRecord.seq,
            TransitionRecord.from_state, TransitionRecord.to_state, TransitionRecord.trigger, TransitionRecord.actor,
            TransitionRecord.reason, TransitionRecord.rule_id, TransitionRecord.evidence,
            TransitionRecord.business_time, TransitionRecord.override)


def history(session: Session, member_id: int, commitment_ids: list[int], time_zone: str) -> list[dict]:
    """The member's and its commitments' transitions, newest first, each dated in the member's time zone (D2).

    ``override`` marks a Support Unit status action taken although its rule did not hold (D14).
    """
    subjects = [and_(TransitionRecord.subject_type == "member", TransitionRecord.subject_id == member_id)]
    if commitment_ids:
        subjects.append(and_(TransitionRecord.subject_type == "commitment",
                             TransitionRecord.subject_id.in_(commitment_ids)))
    zone = ZoneInfo(time_zone)  # one zone object for the whole history
    return [
        {**r._mapping, "override": bool(r.override), "local_date": r.business_time.astimezone(zone).date()}
        for r in session.execute(select(*_history_columns()).where(or_(*subjects))
                                 .order_by(TransitionRecord.business_time.desc(), TransitionRecord.id.desc()))
    ]


def _evidence(session: Session, subjects: dict[str, list[int]]) -> dict[tuple[str, int], list[dict]]:
    """Typed evidence links (R8.3) of several subjects, in one query."""
    clauses = [and_(Evidence.subject_type == kind, Evidence.subject_id.in_(ids)) for kind, ids in subjects.items() if ids]
    found: dict[tuple[str, int], list[dict]] = {}
    if not clauses:
        return found
    stmt = (select(Evidence.subject_type, Evidence.subject_id, Evidence.kind, Evidence.url, Evidence.title)
            .where(or_(*clauses)).order_by(Evidence.id))
    for subject_type, subject_id, kind, url, title in session.execute(stmt):
        found.setdefault((subject_type, subject_id), []).append({"kind": kind, "url": url, "title": title})
    return found


def approved_comments(session: Session, update_ids: list[int]) -> dict[int, list[dict]]:
    """Comments the Support Unit approved, per tracker update (R8.2), in one query."""
    if not update_ids:
        return {}
    found: dict[int, list[dict]] = {}
    stmt = (select(Comment.id, Comment.tracker_update_id, Comment.author_name, Comment.body, Comment.created_at)
            .where(Comment.tracker_update_id.in_(update_ids), Comment.status == "approved").order_by(Comment.id))
    for cid, update_id, author, body, created_at in session.execute(stmt):
        found.setdefault(update_id, []).append({"id": cid, "author": author, "body": body, "posted_at": created_at})
    return found


def assessments_of(session: Session, plan_ids: list[int]) -> list[dict]:
    """The monitoring body's deliverables filed on these plans (§4), oldest first, in one query.

    Ratings are stored as filed, and their shape differs by kind (R4.1 rates commitments and
    public influence, R4.2 completion, R4.3 is a narrative); pages read these named fields,
    present or None, never the stored document.
    """
    if not plan_ids:
        return []
    stmt = (select(Assessment.id, Assessment.kind, Assessment.plan_id, Assessment.commitment_id, Commitment.title,
                   Assessment.filed_at, Assessment.monitoring_body, Assessment.ratings, Assessment.unmet_requirements)
            .outerjoin(Commitment, Assessment.commitment_id == Commitment.id)
            .where(Assessment.plan_id.in_(plan_ids)).order_by(Assessment.filed_at, Assessment.id))
    found = []
    for aid, kind, plan_id, commitment_id, title, filed_at, body, ratings, unmet in session.execute(stmt):
        ratings = ratings if isinstance(ratings, dict) else {}
        found.append({
            "id": aid, "kind": kind, "plan_id": plan_id, "commitment_id": commitment_id, "commitment": title,
            "filed_at": filed_at, "monitoring_body": body,
            "completion": ratings.get("completion"), "public_influence": ratings.get("public_influence"),
            "unmet": list(unmet or []),
        })
    return found


def member_page(session: Session, member_id: int, *, now: pendulum.DateTime) -> dict[str, Any]:
    """Everything R8.1 makes public about one member; a fixed number of queries, whatever its history's length.

    ``deadlines`` are the pending ones still ahead, ``overdue`` the monitoring deliverables past due and
    not filed, each naming the plan (and commitment) it belongs to.
    """
    row = session.execute(select(*_member_columns(), Member.current_plan_id, Jurisdiction.language,
                                 Jurisdiction.term_end, Member.inactivity_rule, Member.probation_rule)
                          .join(Jurisdiction, Member.jurisdiction_id == Jurisdiction.id)
                          .where(Member.id == member_id)).first()
    if row is None:
        raise NotFound(f"There is no member {member_id}.", field="id")
    member = MemberRow(*row[:8])
    plan_id, language, term_end, inactivity_rule, probation_rule = row[8:]
    plans = [
        {"id": p.id, "filed_on": p.filed_on, "end_on": p.end_on, "status": p.status}
        for p in session.execute(select(ActionPlan.id, ActionPlan.filed_on, ActionPlan.end_on, ActionPlan.status)
                                 .where(ActionPlan.member_id == member_id).order_by(ActionPlan.filed_on))
    ]
    plan = session.get(ActionPlan, plan_id) if plan_id is not None else None
    commitments: list[dict] = []
    if plan is not None:
        rows = session.scalars(select(Commitment).where(Commitment.plan_id == plan.id).order_by(Commitment.id)).all()
        ids = [c.id for c in rows]
        milestones: dict[int, list[dict]] = {}
        if ids:
            for m in session.scalars(select(Milestone).where(Milestone.commitment_id.in_(ids))
                                     .order_by(Milestone.commitment_id, Milestone.position)):
                milestones.setdefault(m.commitment_id, []).append(
                    {"id": m.id, "outcome": m.outcome, "start_month": m.start_month, "end_month": m.end_month,
                     "responsible_agency": m.responsible_agency, "status": m.status})
        for c in rows:
            d = c.details or {}
            commitments.append({
                "id": c.id, "title": c.title, "state": c.state, "start_on": c.start_on, "end_on": c.end_on,
                "completed_on": c.completed_on, "version": c.version, "jurisdiction": c.jurisdiction_code,
                "replacement": c.is_replacement, "problem": d.get("problem"), "action": d.get("action"),
                "lead_agency": (d.get("lead_agency") or {}).get("organisation"),
                "policy_areas": d.get("policy_areas") or [], "sectors": d.get("sectors") or [],
                "ogp_values": d.get("ogp_values") or [], "milestones": milestones.get(c.id, []),
            })
    milestone_names = {m["id"]: (c["title"], m["outcome"]) for c in commitments for m in c["milestones"]}
    updates = []
    for u in session.scalars(select(TrackerUpdate).where(TrackerUpdate.member_id == member_id)
                             .order_by(TrackerUpdate.filed_at.desc(), TrackerUpdate.id.desc())):
        changes = []
        for ch in u.changes or []:
            commitment_title, outcome = milestone_names.get(ch.get("milestone_id"), ("", ""))
            changes.append({"milestone_id": ch.get("milestone_id"), "from": ch.get("from"), "to": ch.get("to"),
                            "delay_reason": ch.get("delay_reason"), "commitment": commitment_title,
                            "outcome": outcome})
        updates.append({"id": u.id, "quarter": u.quarter, "filed_at": u.filed_at, "narrative": u.narrative,
                        "progress": u.progress, "changes": changes})
    evidence = _evidence(session, {"member": [member_id], "plan": [plan.id] if plan else [],
                                   "commitment": [c["id"] for c in commitments],
                                   "tracker_update": [u["id"] for u in updates]})
    comments = approved_comments(session, [u["id"] for u in updates])
    for u in updates:
        u["evidence"] = evidence.get(("tracker_update", u["id"]), [])
        u["comments"] = comments.get(u["id"], [])
    for c in commitments:
        c["evidence"] = evidence.get(("commitment", c["id"]), [])
    plan_data = None
    if plan is not None:
        plan_data = {
            "id": plan.id, "filed_on": plan.filed_on, "end_on": plan.end_on, "status": plan.status,
            "language": plan.language, "monitoring_body": plan.monitoring_body, "coalition_id": plan.coalition_id,
            "foreword": (plan.vision or {}).get("foreword"), "vision": (plan.vision or {}).get("vision") or {},
            "endorsing_stakeholders": plan.endorsing_stakeholders or [], "links": plan.links or [],
            "evidence": evidence.get(("plan", plan.id), []),
        }
    # Every plan's deliverables: an earlier plan's report comes after it ended (R4.3); a joint plan is the current one.
    plan_ids = sorted({p["id"] for p in plans} | ({plan.id} if plan is not None else set()))
    return {
        "member": member, "language": language, "term_end": term_end, "inactivity_rule": inactivity_rule,
        "probation_rule": probation_rule, "plan": plan_data, "plans": plans, "commitments": commitments,
        "updates": updates,
        "deadlines": queries.upcoming_deadlines(session, [member_id], now=now).get(member_id, []),
        "overdue": queries.overdue_deliverables(session, [member_id], now=now).get(member_id, []),
        "history": history(session, member_id, [c["id"] for c in commitments], member.time_zone),
        "assessments": assessments_of(session, plan_ids),
        "evidence": evidence.get(("member", member_id), []),
    }


def pending_deadlines(session: Session, member_id: int) -> tuple[MemberRow, list[dict]]:
    """A member and its pending deadlines (the iCal feed)."""
    row = session.execute(select(*_member_columns()).join(Jurisdiction, Member.jurisdiction_id == Jurisdiction.id)
                          .where(Member.id == member_id)).first()
    if row is None:
        raise NotFound(f"There is no member {member_id}.", field="id")
    rows = [
        {"id": d.id, "kind": d.kind, "rule_id": d.rule_id, "due_on": d.due_on, "subject_type": d.subject_type,
         "subject_id": d.subject_id}
        for d in session.execute(select(Deadline.id, Deadline.kind, Deadline.rule_id, Deadline.due_on,
                                        Deadline.subject_type, Deadline.subject_id)
                                 .where(Deadline.member_id == member_id,
                                        Deadline.status == DeadlineStatus.pending.value)
                                 .order_by(Deadline.breach_at, Deadline.id))
    ]
    return MemberRow(*row), rows


# ---------------------------------------------------------------- open-data exports


def export_obligation(o: dict) -> dict:
    """An overdue deliverable as the exports write it: what, which rule, when, and whose (plan, commitment)."""
    return {"kind": o["kind"], "rule_id": o["rule_id"], "due_on": o["due_on"].isoformat(), "status": o["status"],
            "plan_id": o["plan_id"], "plan_status": o["plan_status"], "earlier_plan": o["earlier_plan"],
            "commitment_id": o["commitment_id"],
            "commitment": o["commitment"]}


def iter_member_export(factory: sessionmaker, *, now: pendulum.DateTime, country: str | None = None,
                       state: str | None = None, batch: int = EXPORT_BATCH) -> Iterator[dict]:
    """Every member's public status, streamed in id order, one short session per batch.

    ``next_deadline_*`` is the earliest pending deadline still ahead; ``overdue`` lists the monitoring
    deliverables past due and not filed (``overdue_count`` of them), each naming its plan or commitment.
    """
    after = 0
    while True:
        with factory() as s:
            stmt = _filtered(select(*_member_columns(), Member.current_plan_id, ActionPlan.end_on)
                             .join(Jurisdiction, Member.jurisdiction_id == Jurisdiction.id)
                             .outerjoin(ActionPlan, Member.current_plan_id == ActionPlan.id)
                             .where(Member.id > after), country=country, state=state)
            rows = s.execute(stmt.order_by(Member.id).limit(batch)).all()
            members = with_obligations(s, [MemberRow(*r[:8]) for r in rows], now=now)
        if not rows:
            return
        for r, m in zip(rows, members):
            nd = m.next_deadline or {}
            yield {
                "id": m.id, "jurisdiction": m.jurisdiction, "name": m.name, "country": m.country, "state": m.state,
                "state_since": audit._instant(m.state_since), "voluntary_inactivity": m.voluntary_inactivity,
                "plan_id": r[8], "plan_end": r[9].isoformat() if r[9] else None,
                "next_deadline_kind": nd.get("kind"), "next_deadline_rule": nd.get("rule_id"),
                "next_deadline_due_on": nd["due_on"].isoformat() if nd else None,
                "overdue_count": len(m.overdue), "overdue": [export_obligation(o) for o in m.overdue],
            }
        after = rows[-1][0]


def iter_history_export(factory: sessionmaker, *, member_id: int | None = None,
                        batch: int = EXPORT_BATCH) -> Iterator[dict]:
    """Every transition record (members and commitments) in id order, as ``audit.as_row`` gives it."""
    after = 0
    while True:
        with factory() as s:
            stmt = select(TransitionRecord).where(TransitionRecord.id > after)
            if member_id is not None:
                commitment_ids = select(Commitment.id).where(Commitment.member_id == member_id)
                stmt = stmt.where(or_(
                    and_(TransitionRecord.subject_type == "member", TransitionRecord.subject_id == member_id),
                    and_(TransitionRecord.subject_type == "commitment",
                         TransitionRecord.subject_id.in_(commitment_ids))))
            rows = [audit.as_row(r) for r in s.scalars(stmt.order_by(TransitionRecord.id).limit(batch))]
        if not rows:
            return
        yield from rows
        after = rows[-1]["id"]


# ---------------------------------------------------------------- the Support Unit's dashboard


@dataclass(frozen=True)
class Dashboard:
    overdue: list[dict]
    due_soon: list[dict]
    letters: list[dict]
    by_state: dict[str, int]
    applicants: list[dict]
    inactivity_requests: list[dict]


def _deadline_rows(session: Session, stmt) -> list[dict]:
    cols = (Deadline.id, Deadline.member_id, Deadline.kind, Deadline.rule_id, Deadline.due_on, Deadline.status,
            Jurisdiction.name, Jurisdiction.country, Member.state)
    stmt = stmt.with_only_columns(*cols).join(Member, Deadline.member_id == Member.id).join(
        Jurisdiction, Member.jurisdiction_id == Jurisdiction.id)
    return [
        {"id": r[0], "member_id": r[1], "kind": r[2], "rule_id": r[3], "due_on": r[4], "status": r[5],
         "name": r[6], "country": r[7], "member_state": r[8]}
        for r in session.execute(stmt)
    ]


def dashboard(session: Session, *, now: pendulum.DateTime, days: int = 30, limit: int = 200) -> Dashboard:
    """What the Support Unit watches (§4, §5, R7.1): overdue and coming deadlines, letters, members by state."""
    # Overdue: pending deadlines the scheduler has not fired yet, and monitoring deliverables whose
    # deadline was breached (§4: they only cause reminders) and that nobody has filed since.
    overdue = _deadline_rows(session, select(Deadline).where(or_(
        and_(Deadline.status == DeadlineStatus.pending.value, Deadline.breach_at <= now),
        and_(Deadline.status == DeadlineStatus.breached.value,
             Deadline.kind.in_([k.value for k in MONITORING_DELIVERABLES]), ~queries.deliverable_filed()),
    )).order_by(Deadline.due_on, Deadline.id).limit(limit))
    due_soon = _deadline_rows(session, select(Deadline).where(
        Deadline.status == DeadlineStatus.pending.value, Deadline.breach_at > now,
        Deadline.breach_at <= now.add(days=days + 1),
        Deadline.due_on <= now.date() + dt.timedelta(days=days),
    ).order_by(Deadline.due_on, Deadline.id).limit(limit))
    letters = [
        {"id": e.id, "member_id": e.member_id, "kind": e.kind, "rule_id": e.rule_id, "status": e.status,
         "recipient_role": e.recipient_role, "created_at": e.created_at, "attempts": e.attempts,
         "last_error": e.last_error, "subject": e.subject}
        for e in session.execute(select(OutboxEvent.id, OutboxEvent.member_id, OutboxEvent.kind, OutboxEvent.rule_id,
                                        OutboxEvent.status, OutboxEvent.recipient_role, OutboxEvent.created_at,
                                        OutboxEvent.attempts, OutboxEvent.last_error, OutboxEvent.subject)
                                 .where(OutboxEvent.status.in_(["pending", "failed"]))
                                 .order_by(OutboxEvent.status, OutboxEvent.id).limit(limit))
    ]
    by_state = {s: 0 for s in STATES}
    by_state.update({state: n for state, n in session.execute(
        select(Member.state, func.count()).group_by(Member.state))})
    applicants = [
        {"id": r[0], "name": r[1], "country": r[2], "applied_at": r[3]}
        for r in session.execute(select(Member.id, Jurisdiction.name, Jurisdiction.country, Member.applied_at)
                                 .join(Jurisdiction, Member.jurisdiction_id == Jurisdiction.id)
                                 .where(Member.state == MemberState.applicant.value)
                                 .order_by(Member.applied_at, Member.id).limit(limit))
    ]
    # R5.5: whether the stakeholders were consulted is shown with each request, as a reminder.
    requests = [
        {"id": r[0], "member_id": r[1], "name": r[2], "requested_at": r[3], "reason": r[4],
         "stakeholders_consulted": bool(r[5])}
        for r in session.execute(select(InactivityRequest.id, InactivityRequest.member_id, Jurisdiction.name,
                                        InactivityRequest.requested_at, InactivityRequest.reason,
                                        InactivityRequest.stakeholders_consulted)
                                 .join(Member, InactivityRequest.member_id == Member.id)
                                 .join(Jurisdiction, Member.jurisdiction_id == Jurisdiction.id)
                                 .where(InactivityRequest.status == "pending")
                                 .order_by(InactivityRequest.requested_at).limit(limit))
    ]
    return Dashboard(overdue=overdue, due_soon=due_soon, letters=letters, by_state=by_state, applicants=applicants,
                     inactivity_requests=requests)


def member_brief(session: Session, member_id: int, *, now: pendulum.DateTime) -> dict[str, Any]:
    """A member as the staff pages show it: state, deadlines, requests, letters, meetings, plan and history.

    ``deadlines`` is every pending deadline (the actions read them: the first-plan deadline can be
    extended even on the day it fires), ``upcoming`` those still ahead, ``overdue`` the monitoring
    deliverables past due and not filed, as on the public page.
    """
    row = session.execute(select(*_member_columns(), Member.current_plan_id, Member.first_plan_due)
                          .join(Jurisdiction, Member.jurisdiction_id == Jurisdiction.id)
                          .where(Member.id == member_id)).first()
    if row is None:
        raise NotFound(f"There is no member {member_id}.", field="id")
    member = MemberRow(*row[:8])
    requests = [
        {"id": r.id, "reason": r.reason, "requested_at": r.requested_at, "status": r.status,
         "decided_at": r.decided_at, "stakeholders_consulted": bool(r.stakeholders_consulted),
         "decision_reason": r.decision_reason, "decided_by": r.decided_by}
        for r in session.scalars(select(InactivityRequest).where(InactivityRequest.member_id == member_id)
                                 .order_by(InactivityRequest.id.desc()))
    ]
    deadlines = [
        {"id": d.id, "kind": d.kind, "rule_id": d.rule_id, "due_on": d.due_on, "status": d.status}
        for d in session.execute(select(Deadline.id, Deadline.kind, Deadline.rule_id, Deadline.due_on, Deadline.status)
                                 .where(Deadline.member_id == member_id,
                                        Deadline.status == DeadlineStatus.pending.value)
                                 .order_by(Deadline.breach_at, Deadline.id))
    ]
    letters = [
        {"id": e[0], "kind": e[1], "rule_id": e[2], "status": e[3], "created_at": e[4], "subject": e[5],
         "recipient_role": e[6], "sent_at": e[7]}
        for e in session.execute(select(OutboxEvent.id, OutboxEvent.kind, OutboxEvent.rule_id, OutboxEvent.status,
                                        OutboxEvent.created_at, OutboxEvent.subject, OutboxEvent.recipient_role,
                                        OutboxEvent.sent_at)
                                 .where(OutboxEvent.member_id == member_id).order_by(OutboxEvent.id.desc()))
    ]
    meetings = [
        {"id": m.id, "phase": m.phase, "held_on": m.held_on, "government": m.government_participants,
         "non_governmental": m.non_governmental_participants, "description": m.description}
        for m in session.scalars(select(Meeting).where(Meeting.member_id == member_id)
                                 .order_by(Meeting.held_on.desc(), Meeting.id.desc()).limit(50))
    ]
    plan = session.get(ActionPlan, row[8]) if row[8] is not None else None
    commitments, assessments = [], []
    if plan is not None:
        commitments = [
            {"id": c.id, "title": c.title, "state": c.state, "replacement": c.is_replacement,
             "milestones": [{"id": m.id, "outcome": m.outcome, "status": m.status} for m in c.milestones]}
            for c in plan.commitments
        ]
        assessments = assessments_of(session, [plan.id])
    plan_data = {"id": plan.id, "filed_on": plan.filed_on, "end_on": plan.end_on, "status": plan.status} if plan else None
    return {"member": member, "first_plan_due": row[9], "requests": requests, "deadlines": deadlines,
            "upcoming": queries.upcoming_deadlines(session, [member_id], now=now).get(member_id, []),
            "overdue": queries.overdue_deliverables(session, [member_id], now=now).get(member_id, []),
            "letters": letters, "meetings": meetings, "plan": plan_data, "commitments": commitments,
            "assessments": assessments,
            "history": history(session, member_id, [x["id"] for x in commitments], member.time_zone)}


def member_names(session: Session, member_ids: list[int]) -> list[MemberRow]:
    """Several members by id (a POC's or a monitoring body's), in name order."""
    if not member_ids:
        return []
    stmt = (select(*_member_columns()).join(Jurisdiction, Member.jurisdiction_id == Jurisdiction.id)
            .where(Member.id.in_(list(member_ids))).order_by(Jurisdiction.name, Member.id))
    return [MemberRow(*r) for r in session.execute(stmt)]


def today_for(member: MemberRow, now: pendulum.DateTime) -> dt.date:
    """The member's local calendar date (D2)."""
    return local_date(now, member.time_zone)
