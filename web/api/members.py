"""Members: reads for everyone (R8.1); applications, plans, inactivity, statuses and reports by role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from lifecycle import audit as audit_trail, commands as c, handlers, queries
from web.auth import Principal, read_factory
from web.deps import (Id, access, act_for_member, db, monitor_member, read_audit, require_support_unit, run)
from web.schemas import (AcceptanceCreate, ApplicationCreate, AssessmentCreate, AuditRecordRead, CommitmentRead,
                         CreatedRead, DeadlineRead, ExtensionCreate, FindingRead, InactivityApprovalCreate,
                         InactivityDeclineCreate, InactivityRequestCreate, InactivityRequestCreated, MeetingCreate,
                         MemberRead, MemberSummaryRead, PlanCreate, RejectionCreate, ReplacementCreate,
                         ResumeCreate, StatusChangeCreate, TrackerUpdateCreate)

router = APIRouter(tags=["members"])
SupportUnit = Annotated[Principal, Depends(require_support_unit)]
Poc = Annotated[Principal, Depends(act_for_member)]
MonitoringBody = Annotated[Principal, Depends(monitor_member)]
Db = Annotated[Session, Depends(db)]


def _member(request: Request, member_id: int) -> MemberRead:
    with read_factory(request.app)() as s:
        return MemberRead.model_validate(queries.member_detail(s, member_id, now=request.app.state.clock.now()))


# ---------------------------------------------------------------- public reads (R8.1)


@router.get("/members", response_model=list[MemberSummaryRead], **access("public"))
def list_members(session: Db, state: Annotated[str | None, Query(max_length=20)] = None,
                 country: Annotated[str | None, Query(max_length=100)] = None) -> list[dict]:
    """Every member with its state."""
    return queries.list_members(session, state=state, country=country)


@router.get("/members/{member_id}", response_model=MemberRead, **access("public"))
def show_member(request: Request, member_id: Id, session: Db) -> dict:
    """A member: state, plan, commitments, open deadlines, the next one still ahead, overdue deliverables (each
    naming its plan or commitment), tracker updates, history, triggers possible now."""
    return queries.member_detail(session, member_id, now=request.app.state.clock.now())


@router.get("/members/{member_id}/commitments", response_model=list[CommitmentRead], **access("public"))
def member_commitments(member_id: Id, session: Db) -> list[dict]:
    """The commitments of the member's current plan, with their milestones."""
    detail = queries.member_detail(session, member_id)
    return detail["plan"]["commitments"] if detail["plan"] else []


@router.get("/members/{member_id}/history", response_model=list[AuditRecordRead], **access("public"))
def member_history(member_id: Id, session: Db) -> list[dict]:
    """The member's dated transition history (R8.1), with the letters each transition caused."""
    from lifecycle.models import Member
    from policies.errors import NotFound

    if session.get(Member, member_id) is None:
        raise NotFound(f"There is no member {member_id}.", field="id")
    return queries.with_letters(session, [audit_trail.as_row(r) for r in audit_trail.history(session, "member",
                                                                                            member_id)])


@router.get("/members/{member_id}/deadlines", response_model=list[DeadlineRead], **access("public"))
def member_deadlines(member_id: Id, session: Db,
                     status: Annotated[str, Query(pattern="^(pending|met|breached|cancelled|all)$")] = "pending",
                     ) -> list[dict]:
    """The member's recorded deadlines, soonest first."""
    return queries.list_deadlines(session, member_id=member_id, status=None if status == "all" else status)


@router.get("/members/{member_id}/findings", response_model=list[FindingRead], **access("auditor"))
def member_findings(member_id: Id, session: Db, who: Annotated[Principal, Depends(read_audit)]) -> list[dict]:
    """What timed checks found and concern cases (R6.6) recorded about the member (auditors, Support Unit)."""
    return queries.member_findings(session, member_id)


@router.get("/deadlines", response_model=list[DeadlineRead], **access("public"))
def list_deadlines(session: Db, member_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                   status: Annotated[str, Query(pattern="^(pending|met|breached|cancelled|all)$")] = "pending",
                   ) -> list[dict]:
    """Recorded deadlines, soonest first."""
    return queries.list_deadlines(session, member_id=member_id, status=None if status == "all" else status)


# ---------------------------------------------------------------- joining (§1): the Support Unit


@router.post("/members", status_code=201, response_model=CreatedRead, **access("support_unit"))
def apply(request: Request, body: ApplicationCreate, who: SupportUnit) -> CreatedRead:
    """Record an application during an open call (R1.1)."""
    ident = run(request, handlers.apply, c.Apply(jurisdiction=body.jurisdiction, call=body.call,
                                                 letter_of_support=body.letter_of_support, actor=who.actor))
    return CreatedRead(id=ident, message=f"member {ident} applied")


@router.post("/members/{member_id}/accept", response_model=MemberRead, **access("support_unit"))
def accept(request: Request, member_id: Id, body: AcceptanceCreate, who: SupportUnit) -> MemberRead:
    """Accept an application (R2.1; checks R1.2 and R1.3)."""
    run(request, handlers.accept_application, c.AcceptApplication(member_id=member_id, actor=who.actor,
                                                                  reason=body.reason, checklist=body.checklist,
                                                                  notes=body.notes))
    return _member(request, member_id)


@router.post("/members/{member_id}/reject", response_model=MemberRead, **access("support_unit"))
def reject(request: Request, member_id: Id, body: RejectionCreate, who: SupportUnit) -> MemberRead:
    """Reject an application, with its reason (R2.2)."""
    run(request, handlers.reject_application, c.RejectApplication(member_id=member_id, actor=who.actor,
                                                                  reason=body.reason))
    return _member(request, member_id)


@router.post("/members/{member_id}/orientation", response_model=MemberRead, **access("support_unit"))
def complete_orientation(request: Request, member_id: Id, who: SupportUnit) -> MemberRead:
    """Record the orientation programme as completed (needed by R2.3)."""
    run(request, handlers.complete_orientation, c.CompleteOrientation(member_id=member_id, actor=who.actor))
    return _member(request, member_id)


# ---------------------------------------------------------------- co-creation and plans: the point of contact


@router.post("/members/{member_id}/co-creation", response_model=MemberRead, **access("poc"))
def start_co_creation(request: Request, member_id: Id, who: Poc) -> MemberRead:
    """Start co-creation (R2.3)."""
    run(request, handlers.start_co_creation, c.StartCoCreation(member_id=member_id, actor=who.actor))
    return _member(request, member_id)


@router.post("/members/{member_id}/plans", status_code=201, response_model=CreatedRead, **access("poc"))
def submit_plan(request: Request, member_id: Id, body: PlanCreate, who: Poc) -> CreatedRead:
    """File an action plan (R2.4), validated against all of §3. The body is a plan file (docs/plan-file.md).

    A joint plan (R3.13) is filed by a point of contact who acts for every member it names.
    """
    for partner in body.coalition:
        act_for_member(request, who, partner)
    ident = run(request, handlers.submit_plan, c.SubmitPlan(member_id=member_id, plan=body, actor=who.actor))
    return CreatedRead(id=ident, message=f"action plan {ident} filed: member {member_id} is implementing")


@router.post("/members/{member_id}/commitments", status_code=201, response_model=CreatedRead, **access("poc"))
def add_replacement_commitment(request: Request, member_id: Id, body: ReplacementCreate, who: Poc) -> CreatedRead:
    """Add a replacement commitment once a completed one is assessed (R3.4), approved and documented (R3.10)."""
    ident = run(request, handlers.add_replacement_commitment, c.AddReplacementCommitment(
        member_id=member_id, commitment=body.commitment(), actor=who.actor, decision_process=body.decision_process,
        approved_by=tuple(body.approved_by)))
    return CreatedRead(id=ident, message=f"commitment {ident} added")


@router.post("/members/{member_id}/meetings", status_code=201, response_model=CreatedRead, **access("poc"))
def record_meeting(request: Request, member_id: Id, body: MeetingCreate, who: Poc) -> CreatedRead:
    """Record a meeting with stakeholders (R3.11)."""
    ident = run(request, handlers.record_meeting, c.RecordMeeting(
        member_id=member_id, phase=body.phase, held_on=body.held_on,
        government_participants=body.government_participants,
        non_governmental_participants=body.non_governmental_participants, actor=who.actor,
        description=body.description, evidence=tuple(body.evidence)))
    return CreatedRead(id=ident, message=f"meeting {ident} recorded")


@router.post("/members/{member_id}/tracker-updates", status_code=201, response_model=CreatedRead,
             **access("poc"))
def record_tracker_update(request: Request, member_id: Id, body: TrackerUpdateCreate, who: Poc) -> CreatedRead:
    """File the quarterly progress update (R4.4); progress ends inactivity (R5.6)."""
    ident = run(request, handlers.record_tracker_update, c.RecordTrackerUpdate(
        member_id=member_id, narrative=body.narrative, actor=who.actor,
        changes=tuple(c.MilestoneChange(milestone_id=x.milestone_id, status=x.status, delay_reason=x.delay_reason)
                      for x in body.changes)))
    return CreatedRead(id=ident, message=f"tracker update {ident} filed")


# ---------------------------------------------------------------- inactivity and statuses (§5, §6)


@router.post("/members/{member_id}/inactivity-requests", status_code=201, response_model=InactivityRequestCreated,
             **access("poc"))
def request_inactivity(request: Request, member_id: Id, body: InactivityRequestCreate,
                       who: Poc) -> InactivityRequestCreated:
    """Ask for voluntary inactivity (R5.5). Consulting your stakeholders and the OGP Local team first is recommended:
    a request that says they were not consulted is accepted, with a reminder."""
    from policies.notices import CONSULTATION_REMINDER

    ident = run(request, handlers.request_voluntary_inactivity, c.RequestVoluntaryInactivity(
        member_id=member_id, reason=body.reason, stakeholders_consulted=body.stakeholders_consulted, actor=who.actor))
    return InactivityRequestCreated(id=ident, message=f"request {ident} sent to the Support Unit",
                                    stakeholders_consulted=body.stakeholders_consulted,
                                    reminder=None if body.stakeholders_consulted else CONSULTATION_REMINDER)


def _member_of_request(request: Request, request_id: int) -> MemberRead:
    from lifecycle.models import InactivityRequest
    from policies.errors import NotFound

    with read_factory(request.app)() as s:
        row = s.get(InactivityRequest, request_id)
        if row is None:  # pragma: no cover - the handler refused an unknown request already
            raise NotFound(f"There is no inactivity request {request_id}.", field="id")
        member_id = row.member_id
    return _member(request, member_id)


@router.post("/inactivity-requests/{request_id}/approval", response_model=MemberRead, **access("support_unit"))
def approve_inactivity(request: Request, request_id: Id, body: InactivityApprovalCreate,
                       who: SupportUnit) -> MemberRead:
    """Approve a request for voluntary inactivity (R5.5)."""
    run(request, handlers.approve_voluntary_inactivity,
        c.ApproveVoluntaryInactivity(request_id=request_id, actor=who.actor, reason=body.reason))
    return _member_of_request(request, request_id)


@router.post("/inactivity-requests/{request_id}/decline", response_model=MemberRead, **access("support_unit"))
def decline_inactivity(request: Request, request_id: Id, body: InactivityDeclineCreate,
                       who: SupportUnit) -> MemberRead:
    """Decline a request for voluntary inactivity, with the reason (R5.5); the member's status does not change and
    a letter tells its point of contact why."""
    run(request, handlers.decline_voluntary_inactivity,
        c.DeclineVoluntaryInactivity(request_id=request_id, actor=who.actor, reason=body.reason))
    return _member_of_request(request, request_id)


@router.post("/members/{member_id}/resume", response_model=MemberRead, **access("poc"))
def resume(request: Request, member_id: Id, body: ResumeCreate, who: Poc) -> MemberRead:
    """Return an inactive member to the phase of its current plan (R2.7, R5.6)."""
    run(request, handlers.resume, c.Resume(member_id=member_id, actor=who.actor, reason=body.reason))
    return _member(request, member_id)


@router.post("/members/{member_id}/status", response_model=MemberRead, **access("support_unit"))
def apply_status(request: Request, member_id: Id, body: StatusChangeCreate, who: SupportUnit) -> MemberRead:
    """Apply or lift a status by hand, citing the rule that justifies it (R2.6, R2.8–R2.11)."""
    run(request, handlers.apply_status, c.ApplyStatus(member_id=member_id, trigger=body.action, rule=body.rule,
                                                      actor=who.actor, reason=body.reason,
                                                      evidence=tuple(body.evidence), override=body.override))
    return _member(request, member_id)


@router.post("/members/{member_id}/first-plan-deadline", response_model=MemberRead, **access("support_unit"))
def extend_first_plan_deadline(request: Request, member_id: Id, body: ExtensionCreate,
                               who: SupportUnit) -> MemberRead:
    """Grant a new member more time to file its first plan (R5.1)."""
    run(request, handlers.extend_first_plan_deadline, c.ExtendFirstPlanDeadline(
        member_id=member_id, new_due=body.new_due, actor=who.actor, reason=body.reason))
    return _member(request, member_id)


# ---------------------------------------------------------------- monitoring (§4): the monitoring body


@router.post("/members/{member_id}/assessments", status_code=201, response_model=CreatedRead,
             **access("monitoring_body"))
def file_assessment(request: Request, member_id: Id, body: AssessmentCreate, who: MonitoringBody) -> CreatedRead:
    """File a start assessment (R4.1), an end-of-commitment assessment (R4.2) or the final report (R4.3)."""
    ident = run(request, handlers.file_assessment, c.FileAssessment(
        member_id=member_id, kind=body.kind, actor=who.actor, ratings=body.ratings.model_dump(exclude_none=True),
        commitment_id=body.commitment_id, unmet_requirements=tuple(body.unmet_requirements), plan_id=body.plan_id))
    return CreatedRead(id=ident, message=f"assessment {ident} filed")
