"""Use cases: one plain function per command, ``(command, *, uow, clock)``, one transaction each.

A handler loads and locks its subject, asks ``policies`` whether the change is allowed,
fires the trigger on the shared machine (whose callbacks audit it and open or close
deadlines), and commits. A refusal raises before anything is written, and leaving the
unit of work without commit rolls everything back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import structlog
from sqlalchemy import func, select

from lifecycle import audit, commands as c, obligations, outbox, standing
from lifecycle.clock import Clock
from lifecycle.machines import TransitionContext, fire
from lifecycle.models import (
    ActionPlan,
    Application,
    Assessment,
    Call,
    Coalition,
    Commitment,
    CommitmentVersion,
    Deadline,
    Evidence,
    Finding,
    InactivityRequest,
    Jurisdiction,
    Meeting,
    Member,
    Milestone,
    Person,
    Role,
    TrackerUpdate,
    TransitionRecord,
)
from lifecycle.schemas import CommitmentIn, LetterOfSupportIn, MilestoneIn
from lifecycle.uow import UnitOfWork
from policies import assessments, joining, plans
from policies.calendar import Quarter, local_date, validate_timezone
from policies.sanctions import RESUMPTION_HINT, STATUS_ACTIONS, Activity, check_status_action, exit_on_evidence, furthest, is_progress
from policies.timed import meeting_finding
from policies.deadlines import DeadlineKind, DeadlineStatus
from policies.errors import InvalidInput, NotFound, RuleViolation, TriggerNotAllowed
from policies.machines import OPEN_COMMITMENT_STATES, CommitmentState, MemberState, sources_of
from policies.notices import (INACTIVITY_DECLINED, INACTIVITY_DECLINED_RECIPIENTS, MODIFICATION_NOTICE,
                              MODIFICATION_NOTICE_RECIPIENTS)
from policies.proposals import CoCreationRecord, JurisdictionFacts, PlanProposal
from policies.rules import commitment_limit
from policies.vocabularies import EVIDENCE_KINDS, MEETING_PHASES, MILESTONE_STATUSES, canonical

log = structlog.get_logger(__name__)

ROLES = ("support_unit", "poc", "monitoring_body", "stakeholder", "auditor")
SYSTEM = "system"
SUPPORT_UNIT_TRIGGERS = STATUS_ACTIONS  # the Support Unit's status actions and the rules each may cite (D14)


def _ctx(uow: UnitOfWork, clock: Clock, *, actor: str, reason: str | None = None, rule: str | None = None,
         evidence: tuple[str, ...] = (), override: bool = False) -> TransitionContext:
    return TransitionContext(session=uow.session, now=clock.now(), recorded_at=uow.recorded_at(), actor=actor,
                             reason=reason, rule=rule, evidence=tuple(evidence), override=override)


def _lock_with_partners(uow: UnitOfWork, member_id: int) -> tuple[Member, list[Member]]:
    """The member and the partners of its joint plan (R3.13), all locked in id order, as every handler locks.

    The coalition is read before the locks are taken; one that grew meanwhile (a joint plan filed
    in between) has its newcomers locked too.
    """
    ids = standing.partners(uow.session, uow.get(Member, member_id, what="member"))
    locked = {ident: uow.lock(Member, ident, what="member") for ident in ids}
    member = locked[member_id]
    for ident in standing.partners(uow.session, member):
        if ident not in locked:
            locked[ident] = uow.lock(Member, ident, what="member")
    return member, [locked[i] for i in sorted(locked)]


def _on_evidence(uow: UnitOfWork, clock: Clock, members: list[Member], evidence: Activity, detail: str) -> None:
    """R5.6, R6.4 (D13): evidence just filed ends the sanctions it meets, in the same unit of work.

    Each member it counts for (R3.13: every member of a joint plan) that is inactive resumes, and
    each on probation whose every unmet requirement is now met is reinstated, actor ``system``.
    """
    for m in members:
        meetings = 0
        if m.state == MemberState.probation:
            meetings = standing.implementation_meetings(uow.session, standing.partners(uow.session, m), _today(m, clock))
        leave = exit_on_evidence(m.state, probation_rule=m.probation_rule, evidence=evidence, meetings=meetings)
        if leave is None:
            continue
        fire(m, leave.trigger, _ctx(uow, clock, actor=SYSTEM, reason=detail, rule=leave.rule))
        m.voluntary_inactivity, m.inactivity_rule, m.probation_rule = False, None, None
        log.info("sanction_lifted", member_id=m.id, trigger=leave.trigger, rule=leave.rule, evidence=evidence.value)


def _today(member: Member, clock: Clock) -> dt.date:
    return local_date(clock.now(), member.jurisdiction.time_zone)


def _blank(value: str | None) -> bool:
    return value is None or not str(value).strip()


def _email(value: str, field: str = "email") -> str:
    value = value.strip()
    local, _, domain = value.partition("@")
    if not local or "." not in domain or " " in value or domain.startswith(".") or domain.endswith("."):
        raise InvalidInput(f"{value!r} is not an e-mail address.", field=field, hint="Write it as name@example.org.")
    return value.lower()


# ---------------------------------------------------------------- reference data


def register_jurisdiction(cmd: c.RegisterJurisdiction, *, uow: UnitOfWork, clock: Clock) -> int:
    tz = validate_timezone(cmd.time_zone)
    if _blank(cmd.code) or _blank(cmd.name) or _blank(cmd.country):
        raise InvalidInput("A jurisdiction needs a code, a name and a country.", field="code")
    if cmd.has_elections and cmd.term_end is None:
        raise InvalidInput(
            "Give the end of the administration's term, or say the jurisdiction has no elections.",
            rule="R1.2", field="term_end",
        )
    if cmd.language not in ("en", "fr", "es") and len(cmd.language) != 2:
        raise InvalidInput(f"{cmd.language!r} is not a two-letter language code.", field="language")
    with uow:
        if uow.session.scalar(select(Jurisdiction.id).where(Jurisdiction.code == cmd.code)):
            raise InvalidInput(f"A jurisdiction with code {cmd.code!r} already exists.", field="code")
        j = Jurisdiction(code=cmd.code, name=cmd.name, country=cmd.country, time_zone=tz, language=cmd.language,
                         has_elections=cmd.has_elections, term_end=cmd.term_end if cmd.has_elections else None)
        uow.session.add(j)
        uow.session.flush()
        uow.commit()
        return j.id


def open_call(cmd: c.OpenCall, *, uow: UnitOfWork, clock: Clock) -> int:
    if cmd.closes_on < cmd.opens_on:
        raise InvalidInput("A call closes after it opens.", rule="R1.1", field="closes_on")
    if cmd.first_plan_due <= cmd.closes_on:
        raise InvalidInput("The first-plan deadline falls after the call closes.", rule="R5.1", field="first_plan_due")
    with uow:
        if uow.session.scalar(select(Call.id).where(Call.name == cmd.name)):
            raise InvalidInput(f"A call named {cmd.name!r} already exists.", field="name")
        call = Call(name=cmd.name, opens_on=cmd.opens_on, closes_on=cmd.closes_on, first_plan_due=cmd.first_plan_due)
        uow.session.add(call)
        uow.session.flush()
        uow.commit()
        return call.id


def register_person(cmd: c.RegisterPerson, *, uow: UnitOfWork, clock: Clock) -> int:
    email = _email(cmd.email)
    if cmd.role not in ROLES:
        raise InvalidInput(f"Unknown role {cmd.role!r}; use one of {', '.join(ROLES)}.", field="role")
    if cmd.role in ("poc", "monitoring_body", "stakeholder") and cmd.member_id is None:
        raise InvalidInput(f"A {cmd.role} acts for a member: give its id.", field="member_id")
    with uow:
        if cmd.member_id is not None:
            uow.get(Member, cmd.member_id, what="member")
        person = uow.session.scalar(select(Person).where(Person.email == email))
        if person is None:
            person = Person(name=cmd.name, email=email, organisation=cmd.organisation)
            uow.session.add(person)
            uow.session.flush()
        exists = uow.session.scalar(select(Role.id).where(Role.person_id == person.id, Role.role == cmd.role,
                                                          Role.member_id.is_(cmd.member_id) if cmd.member_id is None
                                                          else Role.member_id == cmd.member_id))
        if not exists:
            uow.session.add(Role(person_id=person.id, role=cmd.role, member_id=cmd.member_id))
        uow.commit()
        return person.id


# ---------------------------------------------------------------- joining (§1)


def apply(cmd: c.Apply, *, uow: UnitOfWork, clock: Clock) -> int:
    """R1.1: a jurisdiction applies during an open call; R1.5: earlier records stay."""
    with uow:
        j = uow.session.scalar(select(Jurisdiction).where(Jurisdiction.code == cmd.jurisdiction))
        if j is None:
            raise NotFound(f"There is no jurisdiction {cmd.jurisdiction!r}.", field="jurisdiction")
        call = uow.session.scalar(select(Call).where(Call.name == cmd.call))
        if call is None:
            raise NotFound(f"There is no call {cmd.call!r}.", field="call")
        now = clock.now()
        applied_on = local_date(now, j.time_zone)
        joining.check_call_open(opens_on=call.opens_on, closes_on=call.closes_on, applied_on=applied_on)
        live = uow.session.scalar(
            select(Member.id).where(Member.jurisdiction_id == j.id, Member.state.not_in(["rejected", "revoked"]))
        )
        if live:
            raise RuleViolation(f"{j.name} already has a membership record (member {live}).", rule="R1.5",
                                field="jurisdiction", hint="Only a rejected or revoked jurisdiction applies again.")
        member = Member(jurisdiction_id=j.id, call_id=call.id, state=MemberState.applicant.value, state_since=now,
                        applied_at=now, first_plan_due=call.first_plan_due)
        uow.session.add(member)
        uow.session.flush()
        los = cmd.letter_of_support
        uow.session.add(Application(member_id=member.id, applied_on=applied_on, los_pages=los.pages,
                                    los_language=los.language,
                                    los_signatories=[s.model_dump() for s in los.signatories]))
        audit.append(uow.session, subject_type="member", subject_id=member.id, from_state="", to_state="applicant",
                     trigger="apply", actor=cmd.actor, reason=f"applied in call {call.name}", rule_id="R1.1",
                     business_time=now, recorded_at=uow.recorded_at())
        uow.commit()
        log.info("application_received", member_id=member.id, jurisdiction=j.code, call=call.name)
        return member.id


def accept_application(cmd: c.AcceptApplication, *, uow: UnitOfWork, clock: Clock) -> None:
    """R2.1: the Support Unit accepts when R1.2 and R1.3 hold; opens the first-plan deadline (R5.1)."""
    with uow:
        member = uow.lock(Member, cmd.member_id, what="member")
        application = member.application
        j = member.jurisdiction
        letter = LetterOfSupportIn(pages=application.los_pages, language=application.los_language,
                                   signatories=application.los_signatories).to_proposal()
        joining.check_application(applied_on=application.applied_on, has_elections=j.has_elections,
                                  term_end=j.term_end, letter=letter)
        application.checklist = dict(cmd.checklist)
        application.reviewer_notes = cmd.notes
        application.decision_reason = cmd.reason
        fire(member, "accept", _ctx(uow, clock, actor=cmd.actor, reason=cmd.reason))
        uow.commit()


def reject_application(cmd: c.RejectApplication, *, uow: UnitOfWork, clock: Clock) -> None:
    if _blank(cmd.reason):
        raise InvalidInput("A rejection gives its reason.", rule="R2.2", field="reason")
    with uow:
        member = uow.lock(Member, cmd.member_id, what="member")
        member.application.decision_reason = cmd.reason
        fire(member, "reject", _ctx(uow, clock, actor=cmd.actor, reason=cmd.reason))
        uow.commit()


def complete_orientation(cmd: c.CompleteOrientation, *, uow: UnitOfWork, clock: Clock) -> None:
    with uow:
        member = uow.lock(Member, cmd.member_id, what="member")
        if member.state != MemberState.orientation:
            raise TriggerNotAllowed(f"Orientation is completed during orientation; the member is {member.state}.",
                                    rule="R2.3", field="state")
        member.orientation_completed_at = clock.now()
        uow.commit()


def start_co_creation(cmd: c.StartCoCreation, *, uow: UnitOfWork, clock: Clock) -> None:
    with uow:
        member = uow.lock(Member, cmd.member_id, what="member")
        if member.state == MemberState.orientation and member.orientation_completed_at is None:
            raise RuleViolation("The orientation programme is not completed yet.", rule="R2.3",
                                field="orientation_completed_at",
                                hint="Record the orientation as completed, then start co-creation.")
        fire(member, "start_co_creation", _ctx(uow, clock, actor=cmd.actor))
        uow.commit()


# ---------------------------------------------------------------- co-creation and plans (§3)


def record_meeting(cmd: c.RecordMeeting, *, uow: UnitOfWork, clock: Clock) -> int:
    if cmd.phase not in MEETING_PHASES:
        raise InvalidInput(f"Meeting phase is one of {', '.join(MEETING_PHASES)}.", rule="R3.11", field="phase")
    if cmd.government_participants < 0 or cmd.non_governmental_participants < 0:
        raise InvalidInput("Participant counts are zero or more.", rule="R3.11", field="participants")
    with uow:
        member, members = _lock_with_partners(uow, cmd.member_id)
        if member.state in (MemberState.applicant, MemberState.rejected, MemberState.revoked):
            raise TriggerNotAllowed(f"Meetings are recorded for members; this one is {member.state}.",
                                    rule="R3.11", field="state")
        if cmd.held_on > _today(member, clock):
            raise InvalidInput("A meeting is recorded once it has been held.", rule="R3.11", field="held_on")
        meeting = Meeting(member_id=member.id, phase=cmd.phase, held_on=cmd.held_on,
                          government_participants=cmd.government_participants,
                          non_governmental_participants=cmd.non_governmental_participants,
                          description=cmd.description, recorded_at=clock.now())
        uow.session.add(meeting)
        uow.session.flush()
        for url in cmd.evidence:
            uow.session.add(Evidence(subject_type="meeting", subject_id=meeting.id, kind="forum minutes or decisions",
                                     url=url, title=None, recorded_at=clock.now()))
        if cmd.non_governmental_participants > 0:
            uow.session.flush()
            # D13: a co-creation meeting with stakeholders is evidence of resumption, if held since the status
            # began; implementation meetings count towards R6.2's yearly minimum (D8). R3.13: for the coalition.
            activity = Activity.co_creation_meeting if cmd.phase == "co_creation" else Activity.implementation_meeting
            counted = [m for m in members if activity is Activity.implementation_meeting
                       or cmd.held_on >= local_date(m.state_since, m.jurisdiction.time_zone)]
            _on_evidence(uow, clock, counted, activity,
                         f"meeting {meeting.id} ({cmd.phase.replace('_', ' ')}, {cmd.held_on.isoformat()}) with "
                         f"{cmd.non_governmental_participants} non-governmental participant(s), recorded by {cmd.actor}")
        uow.commit()
        return meeting.id


def _cocreation_meetings(uow: UnitOfWork, member: Member) -> int:
    since = member.current_plan.filed_on if member.current_plan is not None else None
    stmt = select(func.count()).select_from(Meeting).where(
        Meeting.member_id == member.id, Meeting.phase == "co_creation", Meeting.non_governmental_participants > 0
    )
    if since is not None:
        stmt = stmt.where(Meeting.held_on >= since)
    return uow.session.scalar(stmt) or 0


def _facts(member: Member) -> JurisdictionFacts:
    j = member.jurisdiction
    return JurisdictionFacts(code=j.code, name=j.name, country=j.country, has_elections=j.has_elections,
                             term_end=j.term_end)


def submit_plan(cmd: c.SubmitPlan, *, uow: UnitOfWork, clock: Clock) -> int:
    """R2.4: a plan that passes §3 validation starts implementation, for every coalition member.

    D13: a member inactive or on probation without a plan in force may file one too (R6.3): the
    plan is recorded, and it is evidence of resumption (R5.6, to implementing) or, on probation,
    meets the requirement R6.1 left unmet (R6.4).
    """
    p = cmd.plan
    with uow:
        # Every member of a joint plan is locked in id order, so two partners filing at once serialize.
        locked = {ident: uow.lock(Member, ident, what="member") for ident in sorted({cmd.member_id, *p.coalition})}
        member = locked[cmd.member_id]
        partners = [m for ident, m in locked.items() if ident != cmd.member_id]
        for m in (member, *partners):
            sanctioned = m.state in (MemberState.inactive, MemberState.probation)
            if m.state != MemberState.co_creation and not (sanctioned and not m.has_plan_in_force):
                raise TriggerNotAllowed(
                    f"Member {m.id} ({m.jurisdiction.name}) is {m.state.replace('_', ' ')}"
                    + (" with a plan in force" if sanctioned else "")
                    + "; a plan is filed during co-creation, or while inactive or on probation without a plan in "
                      "force.",
                    rule="R2.4", field="state",
                )
        now = clock.now()
        filed_on = _today(member, clock)
        forum = p.forum
        proposal = PlanProposal(
            filed_on=filed_on,
            language=p.language,
            vision=_vision(p, member, partners),
            commitments=tuple(ci.to_proposal() for ci in p.commitments),
            monitoring_body=p.monitoring_body.name if p.monitoring_body else None,
            monitoring_body_endorsed=bool(p.monitoring_body and p.monitoring_body.endorsed),
            point_of_contact=p.point_of_contact,
            jurisdictions=tuple(_facts(m) for m in (member, *partners)),
            cocreation=CoCreationRecord(
                forum_exists=forum is not None,
                forum_has_government=bool(forum and forum.government_members > 0),
                forum_has_non_governmental=bool(forum and forum.non_governmental_members > 0),
                cocreation_meetings_with_non_governmental=sum(_cocreation_meetings(uow, m) for m in (member, *partners)),
            ),
        )
        plans.validate_plan(proposal)
        coalition_id = None
        if partners:
            coalition = Coalition(name=p.coalition_name or " + ".join(m.jurisdiction.name for m in (member, *partners)),
                                  lead_member_id=member.id, member_ids=[m.id for m in (member, *partners)])
            uow.session.add(coalition)
            uow.session.flush()
            coalition_id = coalition.id
        plan = ActionPlan(
            member_id=member.id, coalition_id=coalition_id, filed_at=now, filed_on=filed_on, end_on=p.plan_end,
            language=p.language, status="in_force",
            vision={"foreword": p.foreword, "vision": p.vision, "engagement": p.engagement, "monitoring": p.monitoring,
                    "forum": forum.model_dump() if forum else None},
            endorsing_stakeholders=list(p.endorsing_stakeholders), links=list(p.links),
            monitoring_body=p.monitoring_body.name, point_of_contact=p.point_of_contact,
        )
        uow.session.add(plan)
        uow.session.flush()
        for m in (member, *partners):
            m.current_plan = plan
            reason = f"action plan {plan.id} filed" + (f" jointly (coalition {coalition_id})" if coalition_id else "")
            fire(m, "submit_plan", _ctx(uow, clock, actor=cmd.actor, reason=reason, evidence=cmd.evidence))
        for ci in p.commitments:
            owner = member
            if ci.jurisdiction:
                owner = next((m for m in (member, *partners) if m.jurisdiction.code == ci.jurisdiction), member)
            _create_commitment(uow, clock, plan=plan, member=owner, data=ci, actor=cmd.actor, submitted_on=filed_on,
                               replacement=False)
        _on_evidence(uow, clock, [m for m in (member, *partners) if m.state != MemberState.implementing],
                     Activity.plan_filed, f"action plan {plan.id} filed by {cmd.actor}")
        uow.commit()
        log.info("plan_filed", member_id=member.id, plan_id=plan.id, commitments=len(p.commitments))
        return plan.id


def _vision(p, member: Member, partners: list[Member]):
    from policies.proposals import StrategicVision

    # R3.13: a coalition's plan runs on the longest term among its jurisdictions with elections.
    terms = [m.jurisdiction.term_end for m in (member, *partners) if m.jurisdiction.has_elections]
    term_end = max(terms) if terms and None not in terms else member.jurisdiction.term_end
    return StrategicVision(term_end=term_end, plan_end=p.plan_end, foreword=p.foreword,
                           vision_answers=p.vision, engagement_answers=p.engagement,
                           monitoring_answers=p.monitoring, endorsing_stakeholders=tuple(p.endorsing_stakeholders),
                           links=tuple(p.links))


def _create_commitment(uow: UnitOfWork, clock: Clock, *, plan: ActionPlan, member: Member, data: CommitmentIn,
                       actor: str, submitted_on: dt.date, replacement: bool, decision_process: str | None = None,
                       approved_by: tuple[str, ...] = ()) -> Commitment:
    now = clock.now()
    details = data.model_dump(mode="json", exclude={"title", "start", "end", "milestones", "jurisdiction"})
    commitment = Commitment(plan_id=plan.id, member_id=member.id, jurisdiction_code=data.jurisdiction,
                            state=CommitmentState.draft.value, state_since=now, submitted_on=submitted_on, version=1,
                            title=data.title, start_on=data.start, end_on=data.end, is_replacement=replacement,
                            details=details)
    commitment.plan = plan
    uow.session.add(commitment)
    uow.session.flush()
    for i, m in enumerate(data.milestones):
        uow.session.add(Milestone(commitment_id=commitment.id, position=i, **m.model_dump()))
    uow.session.flush()
    audit.append(uow.session, subject_type="commitment", subject_id=commitment.id, from_state="", to_state="draft",
                 trigger="create", actor=actor, reason=f"in action plan {plan.id}", rule_id="R3.4" if replacement else "R3.2",
                 business_time=now, recorded_at=uow.recorded_at())
    _snapshot(uow, commitment, change="created", decision_process=decision_process, approved_by=approved_by)
    fire(commitment, "start", _ctx(uow, clock, actor=actor, rule="R3.4" if replacement else "R2.4"))
    return commitment


def _snapshot(uow: UnitOfWork, commitment: Commitment, *, change: str, decision_process: str | None,
              approved_by: tuple[str, ...]) -> None:
    uow.session.flush()
    snapshot = {
        "title": commitment.title, "start": commitment.start_on.isoformat(), "end": commitment.end_on.isoformat(),
        "state": commitment.state, "details": commitment.details,
        "milestones": [
            {k: getattr(m, k) for k in ("outcome", "start_month", "end_month", "responsible_agency", "contact", "status")}
            for m in uow.session.scalars(select(Milestone).where(Milestone.commitment_id == commitment.id)
                                         .order_by(Milestone.position))
        ],
    }
    uow.session.add(CommitmentVersion(commitment_id=commitment.id, version=commitment.version, snapshot=snapshot,
                                      recorded_at=uow.recorded_at(), change=change, decision_process=decision_process,
                                      approved_by=list(approved_by)))


def add_replacement_commitment(cmd: c.AddReplacementCommitment, *, uow: UnitOfWork, clock: Clock) -> int:
    """R3.4: once a completed commitment is assessed, a new one may take its place, approved as R3.10 asks."""
    with uow:
        member = uow.lock(Member, cmd.member_id, what="member")
        plan = member.current_plan
        if plan is None or plan.status != "in_force":
            raise TriggerNotAllowed("Replacement commitments are added to a plan in force.", rule="R3.4", field="plan")
        commitments = list(plan.commitments)
        coalition_size = len(uow.session.get(Coalition, plan.coalition_id).member_ids) if plan.coalition_id else 1
        today = _today(member, clock)
        approvers = plans.check_replacement(
            cmd.commitment.to_proposal(), today=today, plan_end=plan.end_on,
            open_commitments=sum(1 for x in commitments if x.state in OPEN_COMMITMENT_STATES),
            limit=commitment_limit(coalition_size),
            assessed_completed=sum(1 for x in commitments if x.state == CommitmentState.assessed and x.completed_on),
            replacements_so_far=sum(1 for x in commitments if x.is_replacement),
            approved_by=cmd.approved_by, stakeholders=_recorded_stakeholders(uow, plan),
            decision_process=cmd.decision_process, term_end=_replacement_term(uow, plan, member, cmd.commitment),
        )
        commitment = _create_commitment(uow, clock, plan=plan, member=member, data=cmd.commitment, actor=cmd.actor,
                                        submitted_on=today, replacement=True, decision_process=cmd.decision_process,
                                        approved_by=approvers)
        uow.commit()
        return commitment.id


def _replacement_term(uow: UnitOfWork, plan: ActionPlan, member: Member, data: CommitmentIn) -> dt.date | None:
    """R3.13: in a joint plan, the term a replacement must end before: its owner's, or the shortest for a joint one."""
    if plan.coalition_id is None:
        return None  # the plan itself ends two months before the member's term (R3.1)
    if data.jurisdiction is None:
        terms = [uow.session.get(Member, i).jurisdiction for i in standing.coalition_of(uow.session, plan, member.id)]
    else:
        terms = [member.jurisdiction]
    ends = [j.term_end for j in terms if j.has_elections and j.term_end is not None]
    return min(ends) if ends else None


def complete_commitment(cmd: c.CompleteCommitment, *, uow: UnitOfWork, clock: Clock) -> None:
    with uow:
        # Member before commitment, as every handler locks: opposite orders deadlock on PostgreSQL.
        # R3.13: the partners of a joint plan too, since a completion is progress for each of them (D12).
        member, members = _lock_with_partners(
            uow, uow.get(Commitment, cmd.commitment_id, what="commitment").member_id)
        commitment = uow.lock(Commitment, cmd.commitment_id, what="commitment")
        if cmd.completed_on > _today(member, clock):
            raise InvalidInput("A commitment is completed on or before today.", rule="R4.2", field="completed_on")
        if cmd.completed_on < commitment.start_on:
            raise InvalidInput("A commitment is completed after it starts.", rule="R4.2", field="completed_on")
        commitment.completed_on = cmd.completed_on
        fire(commitment, "complete", _ctx(uow, clock, actor=cmd.actor, evidence=cmd.evidence,
                                          reason=f"completed on {cmd.completed_on.isoformat()}"))
        # D12: a commitment completed is progress, evidence of resumption (D13) for the plan's members (R3.13).
        counted = [m for m in members if cmd.completed_on >= local_date(m.state_since, m.jurisdiction.time_zone)]
        _on_evidence(uow, clock, counted, Activity.progress,
                     f"commitment {commitment.id} completed on {cmd.completed_on.isoformat()}, reported by {cmd.actor}")
        uow.commit()


def _recorded_stakeholders(uow: UnitOfWork, plan: ActionPlan) -> list[str]:
    """R3.10: who may approve a change to a plan's commitments: the plan's endorsing stakeholders, and the
    stakeholder accounts (person or organisation) of the members filing it."""
    owners = standing.coalition_of(uow.session, plan, plan.member_id)
    names = [str(n) for n in plan.endorsing_stakeholders or []]
    for name, organisation in uow.session.execute(
            select(Person.name, Person.organisation).join(Role, Role.person_id == Person.id)
            .where(Role.role == "stakeholder", Role.member_id.in_(owners)).order_by(Person.id)):
        names += [name] + ([organisation] if organisation else [])
    return names


def _notify_modification(uow: UnitOfWork, commitment: Commitment, record, *, changes: list[dict[str, Any]],
                         approvers: tuple[str, ...], decision_process: str) -> None:
    """R3.10: the OGP Local team is notified of the change, by a letter written in the change's transaction."""
    payload = {"commitment_id": commitment.id, "commitment_title": commitment.title, "version": commitment.version,
               "change": "withdrawn" if record.trigger == "withdraw" else "modified", "changes": changes,
               "approved_by": list(approvers), "decision_process": decision_process,
               "submitted_on": commitment.submitted_on.isoformat()}
    for role in MODIFICATION_NOTICE_RECIPIENTS:
        outbox.emit(uow.session, key=f"commitment:{commitment.id}:v{commitment.version}:{MODIFICATION_NOTICE}:{role}",
                    kind=MODIFICATION_NOTICE, member_id=commitment.member_id, recipient_role=role,
                    created_at=record.business_time, rule_id="R3.10", transition_id=record.id,
                    payload=dict(payload), fresh=True)


def _changes(before: CommitmentIn, after: CommitmentIn, milestones_before: int,
             milestones_replaced: bool) -> list[dict[str, Any]]:
    """What a modification changed, as field codes with their old and new values (rendered in the reader's language)."""
    found: list[dict[str, Any]] = []
    for name, old, new in (("title", before.title, after.title),
                           ("start", before.start, after.start), ("end", before.end, after.end)):
        if old != new:
            found.append({"field": name, "from": old if isinstance(old, str) else old.isoformat(),
                          "to": new if isinstance(new, str) else new.isoformat()})
    if milestones_replaced:
        found.append({"field": "milestones", "from": milestones_before, "to": len(after.milestones)})
    return found


def modify_commitment(cmd: c.ModifyCommitment, *, uow: UnitOfWork, clock: Clock) -> None:
    """R3.10: within six months of submission, approved by recorded stakeholders and documented; every version
    kept, and the Support Unit notified."""
    with uow:
        # Member before commitment, as every handler locks: opposite orders deadlock on PostgreSQL.
        member = uow.lock(Member, uow.get(Commitment, cmd.commitment_id, what="commitment").member_id, what="member")
        commitment = uow.lock(Commitment, cmd.commitment_id, what="commitment")
        approvers = plans.check_modification(
            submitted_on=commitment.submitted_on, today=_today(member, clock), approved_by=cmd.approved_by,
            stakeholders=_recorded_stakeholders(uow, commitment.plan), decision_process=cmd.decision_process)
        current = _commitment_in(commitment)
        changed = current.model_copy(update={
            k: v for k, v in {"title": cmd.title, "start": cmd.start, "end": cmd.end,
                              "milestones": list(cmd.milestones) if cmd.milestones is not None else None}.items()
            if v is not None
        })
        changed = CommitmentIn.model_validate(changed.model_dump())
        violations = plans.validate_commitment(changed.to_proposal(), plan_end=commitment.plan.end_on)
        if violations:
            from policies.errors import Refusals

            raise Refusals(violations, subject="commitment modification")
        changes = _changes(current, changed, len(current.milestones), cmd.milestones is not None)
        commitment.title, commitment.start_on, commitment.end_on = changed.title, changed.start, changed.end
        if cmd.milestones is not None:
            for old in list(commitment.milestones):
                uow.session.delete(old)
            uow.session.flush()
            for i, m in enumerate(changed.milestones):
                uow.session.add(Milestone(commitment_id=commitment.id, position=i, **m.model_dump()))
        commitment.version += 1
        record = fire(commitment, "modify", _ctx(uow, clock, actor=cmd.actor, reason=cmd.decision_process))
        _snapshot(uow, commitment, change="modified", decision_process=cmd.decision_process, approved_by=approvers)
        _notify_modification(uow, commitment, record, changes=changes, approvers=approvers,
                             decision_process=cmd.decision_process)
        uow.commit()


def withdraw_commitment(cmd: c.WithdrawCommitment, *, uow: UnitOfWork, clock: Clock) -> None:
    """R3.10: a commitment is removed within six months of submission, approved and documented; the Support Unit
    is notified."""
    with uow:
        # Member before commitment, as every handler locks: opposite orders deadlock on PostgreSQL.
        member = uow.lock(Member, uow.get(Commitment, cmd.commitment_id, what="commitment").member_id, what="member")
        commitment = uow.lock(Commitment, cmd.commitment_id, what="commitment")
        approvers = plans.check_modification(
            submitted_on=commitment.submitted_on, today=_today(member, clock), approved_by=cmd.approved_by,
            stakeholders=_recorded_stakeholders(uow, commitment.plan), decision_process=cmd.decision_process)
        commitment.version += 1
        record = fire(commitment, "withdraw", _ctx(uow, clock, actor=cmd.actor, reason=cmd.decision_process))
        _snapshot(uow, commitment, change="withdrawn", decision_process=cmd.decision_process, approved_by=approvers)
        _notify_modification(uow, commitment, record, changes=[], approvers=approvers,
                             decision_process=cmd.decision_process)
        uow.commit()


def _commitment_in(commitment: Commitment) -> CommitmentIn:
    data: dict[str, Any] = dict(commitment.details)
    data.update(title=commitment.title, start=commitment.start_on, end=commitment.end_on,
                jurisdiction=commitment.jurisdiction_code,
                milestones=[MilestoneIn(outcome=m.outcome, start_month=m.start_month, end_month=m.end_month,
                                        responsible_agency=m.responsible_agency, contact=m.contact,
                                        status=m.status).model_dump() for m in commitment.milestones])
    return CommitmentIn.model_validate(data)


# ---------------------------------------------------------------- monitoring (§4) and tracker


def file_assessment(cmd: c.FileAssessment, *, uow: UnitOfWork, clock: Clock) -> int:
    with uow:
        member = uow.lock(Member, cmd.member_id, what="member")
        plan = member.current_plan
        if cmd.plan_id is not None:
            # An earlier plan's deliverables (R4.3 is due two months after its end) stay fileable.
            plan = uow.get(ActionPlan, cmd.plan_id, what="action plan")
            owners = standing.coalition_of(uow.session, plan, plan.member_id)
            if member.id not in owners:
                raise InvalidInput(f"Action plan {plan.id} is not a plan of member {member.id}.", rule="R4.0",
                                   field="plan_id")
        if plan is None:
            raise TriggerNotAllowed("Assessments are filed on a filed action plan.", rule="R4.0", field="plan")
        initial = tuple(x.id for x in plan.commitments if not x.is_replacement and x.state != CommitmentState.withdrawn)
        kind = assessments.check_ratings(cmd.kind, cmd.ratings, commitment_ids=initial if cmd.kind == "start" else ())
        assessments.check_unmet(tuple(cmd.unmet_requirements))
        now = clock.now()
        commitment = None
        if kind is assessments.AssessmentKind.end_of_commitment:
            if cmd.commitment_id is None:
                raise InvalidInput("Name the commitment this assessment is about.", rule="R4.2", field="commitment_id")
            commitment = uow.lock(Commitment, cmd.commitment_id, what="commitment")
            if commitment.plan_id != plan.id and commitment.member_id != member.id:
                raise InvalidInput(f"Commitment {commitment.id} is not in this member's plan.", rule="R4.2",
                                   field="commitment_id")
        else:
            done = uow.session.scalar(select(Assessment.id).where(Assessment.plan_id == plan.id,
                                                                  Assessment.kind == kind.value))
            if done:
                raise RuleViolation(f"The {kind.value.replace('_', ' ')} of plan {plan.id} was already filed.",
                                    rule=assessments.ASSESSMENT_RULES[kind], field="kind")
        # R4.2: a commitment of an earlier plan is assessed as part of that plan, by that plan's monitoring body.
        assessed_plan = commitment.plan if commitment is not None else plan
        assessment = Assessment(plan_id=assessed_plan.id, commitment_id=cmd.commitment_id, kind=kind.value,
                                filed_at=now, monitoring_body=assessed_plan.monitoring_body, ratings=dict(cmd.ratings),
                                unmet_requirements=list(cmd.unmet_requirements))
        uow.session.add(assessment)
        uow.session.flush()
        if commitment is not None:
            fire(commitment, "assess", _ctx(uow, clock, actor=cmd.actor,
                                            reason=f"completion {cmd.ratings.get('completion')}"))
            # Filed after its overdue notice: the deliverable is met all the same, late (its closing instant says so).
            obligations.close(uow.session, member_id=commitment.member_id,
                              kind=DeadlineKind.end_of_commitment_assessment, status=DeadlineStatus.met, now=now,
                              subject=("commitment", commitment.id), overdue_too=True)
        else:
            # R3.13: a joint plan's deliverable is owed by every coalition member, and met for all at once.
            owners = standing.coalition_of(uow.session, plan, member.id)
            owed = (DeadlineKind.start_assessment if kind is assessments.AssessmentKind.start
                    else DeadlineKind.final_learning_report)
            for owner_id in owners:
                obligations.close(uow.session, member_id=owner_id, kind=owed, status=DeadlineStatus.met, now=now,
                                  subject=("plan", plan.id), overdue_too=True)
            if kind is assessments.AssessmentKind.start and cmd.unmet_requirements:
                _check_engagement(uow, clock, member, assessment)
        uow.commit()
        return assessment.id


def _check_engagement(uow: UnitOfWork, clock: Clock, member: Member, assessment: Assessment) -> None:
    """D8: a start assessment that records an R3.11 requirement as unmet triggers the R6.2 check at once."""
    today = _today(member, clock)
    meetings = standing.implementation_meetings(uow.session, standing.partners(uow.session, member), today)
    if meeting_finding(meetings) is None or member.state not in (MemberState.co_creation, MemberState.implementing):
        return
    detail = (f"start assessment {assessment.id} records {', '.join(assessment.unmet_requirements)} unmet; "
              f"{meetings} implementation meeting(s) with stakeholders in the last 12 months")
    record = fire(member, "place_on_probation", _ctx(uow, clock, actor=SYSTEM, reason=detail, rule="R6.2"))
    member.probation_rule = "R6.2"
    uow.session.add(Finding(member_id=member.id, rule_id="R6.2", outcome="transition", found_at=clock.now(),
                            transition_id=record.id, detail=detail))


def record_tracker_update(cmd: c.RecordTrackerUpdate, *, uow: UnitOfWork, clock: Clock) -> int:
    """R4.4: the quarterly public update; D12 progress; R5.6/R6.4 progress ends a sanction (D13).

    R3.13: an update on a joint plan is the coalition's, so its progress counts for every partner.
    """
    if _blank(cmd.narrative):
        raise InvalidInput("A tracker update says what happened this quarter.", rule="R4.4", field="narrative")
    with uow:
        member, members = _lock_with_partners(uow, cmd.member_id)
        plan = member.current_plan
        if plan is None or member.state in (MemberState.revoked, MemberState.rejected):
            raise TriggerNotAllowed("Tracker updates are filed on a member's action plan.", rule="R4.4", field="plan")
        now = clock.now()
        changes, progress = [], False
        for ch in cmd.changes:
            status = canonical(MILESTONE_STATUSES, ch.status)
            if status is None:
                raise InvalidInput(f"Milestone status is one of {', '.join(MILESTONE_STATUSES)}.", rule="R3.9",
                                   field="changes.status")
            milestone = uow.session.get(Milestone, ch.milestone_id)
            if milestone is None or milestone.commitment.plan_id != plan.id:
                raise NotFound(f"Milestone {ch.milestone_id} is not in this member's plan.", field="changes.milestone_id")
            if status in ("stuck", "incomplete") and _blank(ch.delay_reason):
                raise InvalidInput(f"Say why milestone {milestone.id} is {status}.", rule="R8.1",
                                   field="changes.delay_reason")
            before = milestone.status
            # D12: only a status beyond the furthest the milestone ever reached is progress.
            moved = is_progress(milestone.furthest_status, status)
            progress = progress or moved
            milestone.status = status
            milestone.furthest_status = furthest(milestone.furthest_status, status)
            changes.append({"milestone_id": milestone.id, "from": before, "to": status,
                            "delay_reason": ch.delay_reason, "progress": moved})
        quarter = Quarter.containing(local_date(now, member.jurisdiction.time_zone))
        update = TrackerUpdate(member_id=member.id, plan_id=plan.id, quarter=str(quarter), filed_at=now,
                               narrative=cmd.narrative, changes=changes, progress=progress)
        uow.session.add(update)
        uow.session.flush()
        if progress:
            _on_evidence(uow, clock, members, Activity.progress,
                         f"tracker update {update.id} reports progress, filed by {cmd.actor}")
        uow.commit()
        return update.id


# ---------------------------------------------------------------- inactivity, probation (§5, §6)


def request_voluntary_inactivity(cmd: c.RequestVoluntaryInactivity, *, uow: UnitOfWork, clock: Clock) -> int:
    """R5.5: the POC asks with a reason; whether the stakeholders were consulted is recorded, not required."""
    if _blank(cmd.reason):
        raise InvalidInput("A request for voluntary inactivity gives its reason.", rule="R5.5", field="reason")
    with uow:
        member = uow.lock(Member, cmd.member_id, what="member")
        # The states the Support Unit's approval may start from (orientation too, D11) are the ones a POC asks from.
        allowed = sources_of("member", "approve_voluntary_inactivity")
        if member.state not in allowed:
            raise TriggerNotAllowed(
                f"A member asks for voluntary inactivity in {', '.join(s.replace('_', ' ') for s in allowed)}; "
                f"this one is {member.state.replace('_', ' ')}.", rule="R5.5", field="state")
        pending = uow.session.scalar(select(InactivityRequest.id).where(
            InactivityRequest.member_id == member.id, InactivityRequest.status == "pending"))
        if pending:
            raise RuleViolation(f"Request {pending} is already waiting for the Support Unit.", rule="R5.5",
                                field="member_id")
        request = InactivityRequest(member_id=member.id, requested_at=clock.now(), reason=cmd.reason,
                                    stakeholders_consulted=bool(cmd.stakeholders_consulted), status="pending")
        uow.session.add(request)
        uow.session.flush()
        uow.commit()
        log.info("inactivity_requested", member_id=member.id, request_id=request.id,
                 stakeholders_consulted=request.stakeholders_consulted)
        return request.id


def _pending_request(uow: UnitOfWork, request_id: int) -> tuple[Member, InactivityRequest]:
    """R5.5: a request still waiting for the Support Unit, and its member, locked member first as every handler
    locks (an approval and a decline of the same request then serialize instead of deadlocking)."""
    member = uow.lock(Member, uow.get(InactivityRequest, request_id, what="inactivity request").member_id,
                      what="member")
    request = uow.lock(InactivityRequest, request_id, what="inactivity request")
    if request.status != "pending":
        raise RuleViolation(f"Request {request.id} is already {request.status}.", rule="R5.5", field="request_id")
    return member, request


def approve_voluntary_inactivity(cmd: c.ApproveVoluntaryInactivity, *, uow: UnitOfWork, clock: Clock) -> None:
    with uow:
        member, request = _pending_request(uow, cmd.request_id)
        fire(member, "approve_voluntary_inactivity",
             _ctx(uow, clock, actor=cmd.actor, reason=cmd.reason or request.reason, rule="R5.5"))
        member.voluntary_inactivity = True
        member.inactivity_rule = "R5.5"
        request.status = "approved"
        request.decided_at = clock.now()
        request.decided_by = cmd.actor
        request.decision_reason = cmd.reason
        uow.commit()


def decline_voluntary_inactivity(cmd: c.DeclineVoluntaryInactivity, *, uow: UnitOfWork, clock: Clock) -> None:
    """R5.5: the Support Unit declines a pending request with its reason; the member's state does not change.

    No transition happens, so the letter to the POC (copied to the Support Unit) is keyed by the request.
    """
    if _blank(cmd.reason):
        raise InvalidInput("Declining a request for voluntary inactivity gives its reason.", rule="R5.5",
                           field="reason", hint="Say why, so that the point of contact knows what to do next.")
    with uow:
        member, request = _pending_request(uow, cmd.request_id)
        now = clock.now()
        request.status = "declined"
        request.decided_at = now
        request.decided_by = cmd.actor
        request.decision_reason = cmd.reason
        payload = {"request_id": request.id, "requested_at": request.requested_at.to_iso8601_string(),
                   "request_reason": request.reason, "stakeholders_consulted": request.stakeholders_consulted,
                   "reason": cmd.reason, "state": member.state}
        for role in INACTIVITY_DECLINED_RECIPIENTS:
            outbox.emit(uow.session, key=f"inactivity_request:{request.id}:{INACTIVITY_DECLINED}:{role}",
                        kind=INACTIVITY_DECLINED, member_id=member.id, recipient_role=role, created_at=now,
                        rule_id="R5.5", payload=dict(payload))
        uow.commit()
        log.info("inactivity_declined", member_id=member.id, request_id=request.id)


def resume(cmd: c.Resume, *, uow: UnitOfWork, clock: Clock) -> None:
    """D9, D13: the point of contact ends its voluntary inactivity (R5.5); back to the phase its plan is in (R2.7).

    Any other inactivity ends on evidence (R5.6), by itself, or by the Support Unit's status action.
    """
    if _blank(cmd.reason):
        raise InvalidInput("Say why the member resumes.", rule="R5.6", field="reason")
    with uow:
        member = uow.lock(Member, cmd.member_id, what="member")
        if member.state == MemberState.inactive and not member.voluntary_inactivity:
            raise RuleViolation(
                f"Member {member.id} is inactive under {member.inactivity_rule or 'R2.6'}, not at its own request, "
                "so a request to resume does not lift it. " + RESUMPTION_HINT,
                rule="R5.6", field="state",
                hint="The Support Unit may also resume the member with its reason.",
            )
        fire(member, "resume", _ctx(uow, clock, actor=cmd.actor, reason=cmd.reason, rule="R5.5"))
        member.voluntary_inactivity = False
        member.inactivity_rule = None
        uow.commit()


def apply_status(cmd: c.ApplyStatus, *, uow: UnitOfWork, clock: Clock) -> None:
    """The Support Unit applies or lifts a status, citing the rule (R2.6, R2.8–R2.11).

    D14: the rule must hold as of now (a revocation after four months of probation, say), unless
    the action is marked as an override with its reason; the audit record then says it was one.
    """
    allowed = SUPPORT_UNIT_TRIGGERS.get(cmd.trigger)
    if allowed is None:
        raise InvalidInput(f"Unknown status action {cmd.trigger!r}; use one of {', '.join(SUPPORT_UNIT_TRIGGERS)}.",
                           field="trigger")
    if cmd.rule not in allowed:
        raise InvalidInput(f"{cmd.trigger.replace('_', ' ')} cites one of {', '.join(allowed)}, not {cmd.rule}.",
                           rule=cmd.rule, field="rule")
    if _blank(cmd.reason):
        raise InvalidInput("A status applied by hand gives its reason.", rule=cmd.rule, field="reason")
    with uow:
        member = uow.lock(Member, cmd.member_id, what="member")
        override = check_status_action(cmd.trigger, cmd.rule, standing.facts(uow.session, member, clock.now()),
                                       override=cmd.override)
        # D14: the audit record's own override flag says so (hashed with it); the reason stays the Support Unit's.
        ctx = _ctx(uow, clock, actor=cmd.actor, reason=cmd.reason, rule=cmd.rule, evidence=cmd.evidence,
                   override=override)
        if cmd.trigger == "end_plan":
            end_plan(uow, member, ctx)
        else:
            fire(member, cmd.trigger, ctx)
        if cmd.trigger == "become_inactive":
            member.inactivity_rule, member.voluntary_inactivity = cmd.rule, False
        elif cmd.trigger == "place_on_probation":
            member.probation_rule = cmd.rule
        elif cmd.trigger == "revoke" and member.current_plan is not None and member.current_plan.coalition_id is None:
            member.current_plan.status = "revoked"  # a joint plan lives on for the other coalition members
        elif cmd.trigger in ("reinstate", "resume"):
            member.inactivity_rule = member.probation_rule = None
            member.voluntary_inactivity = False
        if override:
            log.warning("status_override", member_id=member.id, trigger=cmd.trigger, rule=cmd.rule, actor=cmd.actor)
        uow.commit()


def end_plan(uow: UnitOfWork, member: Member, ctx: TransitionContext) -> None:
    """R2.5: the plan ends; commitments not completed end incomplete (R4.2) and the member co-creates."""
    plan = member.current_plan
    fire(member, "end_plan", ctx)
    if plan is None:
        return
    plan.status = "ended"
    for commitment in plan.commitments:
        if commitment.state == CommitmentState.implementing:
            fire(commitment, "end_incomplete", TransitionContext(
                session=ctx.session, now=ctx.now, recorded_at=ctx.recorded_at, actor=ctx.actor,
                reason=f"plan {plan.id} ended on {plan.end_on.isoformat()}", rule="R4.2"))


def add_evidence(cmd: c.AddEvidence, *, uow: UnitOfWork, clock: Clock) -> int:
    kind = canonical(EVIDENCE_KINDS, cmd.kind)
    if kind is None:
        raise InvalidInput(f"Unknown evidence kind {cmd.kind!r}; see the list of R8.3.", rule="R8.3", field="kind")
    if not cmd.url.startswith(("http://", "https://")):
        raise InvalidInput("Evidence is a web link (http or https).", rule="R8.3", field="url")
    models = {"member": Member, "commitment": Commitment, "meeting": Meeting, "plan": ActionPlan,
              "tracker_update": TrackerUpdate}
    if cmd.subject_type not in models:
        raise InvalidInput(f"Evidence attaches to one of {', '.join(models)}.", rule="R8.3", field="subject_type")
    with uow:
        uow.get(models[cmd.subject_type], cmd.subject_id, what=cmd.subject_type.replace("_", " "))
        ev = Evidence(subject_type=cmd.subject_type, subject_id=cmd.subject_id, kind=kind, url=cmd.url,
                      title=cmd.title, recorded_at=clock.now())
        uow.session.add(ev)
        uow.session.flush()
        uow.commit()
        return ev.id


def extend_first_plan_deadline(cmd: c.ExtendFirstPlanDeadline, *, uow: UnitOfWork, clock: Clock) -> int:
    """R5.1, D10: an extension moves a plan deadline later: the first plan's, or the one a return opened.

    Only a later date, only while it is pending.
    """
    if _blank(cmd.reason):
        raise InvalidInput("An extension gives its reason.", rule="R5.1", field="reason")
    with uow:
        member = uow.lock(Member, cmd.member_id, what="member")
        pending = uow.session.scalars(select(Deadline).where(
            Deadline.member_id == member.id, Deadline.status == DeadlineStatus.pending.value,
            Deadline.kind.in_((DeadlineKind.first_plan.value, DeadlineKind.next_plan.value)))
            .order_by(Deadline.id).with_for_update()).all()
        deadline = next((d for d in pending if d.kind == DeadlineKind.first_plan.value or _opened_by_return(uow, d)),
                        None)
        if deadline is None:
            raise RuleViolation("There is no pending plan deadline that can be extended.", rule="R5.1",
                                field="member_id",
                                hint="Extensions apply to a first plan not filed yet, and to the plan owed after a "
                                     "return to co-creation (D10).")
        if cmd.new_due <= deadline.due_on:
            raise InvalidInput(f"An extension moves the deadline later than {deadline.due_on.isoformat()}.",
                               rule=deadline.rule_id, field="new_due")
        if deadline.kind == DeadlineKind.first_plan.value:
            member.first_plan_due = cmd.new_due
        obligations.redate(deadline, cmd.new_due, member.jurisdiction.time_zone, now=clock.now())
        uow.session.add(Finding(member_id=member.id, deadline_id=deadline.id, rule_id=deadline.rule_id,
                                outcome="extended", found_at=clock.now(),
                                detail=f"extended to {cmd.new_due.isoformat()} by {cmd.actor}: {cmd.reason}"))
        uow.commit()
        return deadline.id


def _opened_by_return(uow: UnitOfWork, deadline: Deadline) -> bool:
    """D10: the deadline was opened by a return to co-creation (resume, reinstate)."""
    if deadline.opened_by is None:
        return False
    record = uow.session.get(TransitionRecord, deadline.opened_by)
    return record is not None and record.trigger in obligations.RETURNS
