"""API schemas: ``XxxCreate`` for what a client sends, ``XxxRead`` for what it gets back.

Plans, commitments and letters of support reuse the plan-file schemas of ``lifecycle.schemas``,
so a plan file and the body of ``POST /api/members/{id}/plans`` are the same document.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lifecycle.schemas import CommitmentIn, LetterOfSupportIn, MilestoneIn, PlanIn

# Dates beyond these are typing mistakes, and calendar arithmetic on them would overflow.
Day = Annotated[dt.date, Field(ge=dt.date(1900, 1, 1), le=dt.date(2199, 12, 31))]
Ref = Annotated[int, Field(ge=1, le=2**31 - 1)]
Text = Annotated[str, Field(max_length=10_000)]
Url = Annotated[str, Field(max_length=2000)]


def _str(n: int, *, min_length: int = 0):
    return Annotated[str, Field(min_length=min_length, max_length=n)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _example(values: dict[str, Any]) -> ConfigDict:
    """An input's settings with one example, shown in /docs and sent by the generated tests."""
    return ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [values]})


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


# ---------------------------------------------------------------- inputs


class LoginCreate(_In):
    model_config = _example({
        "email": "ana.ruiz@city.example", "password": "correct horse battery staple"
    })
    email: _str(320)
    password: _str(1000)


class JurisdictionCreate(_In):
    model_config = _example({
        "code": "riverton", "name": "Riverton", "country": "France", "time_zone": "Europe/Paris", "language": "fr",
        "has_elections": True, "term_end": "2031-06-30"
    })
    code: _str(40)
    name: _str(200)
    country: _str(100)
    time_zone: _str(64) = Field(description="IANA time zone, e.g. Europe/Paris (D2)")
    language: _str(8) = "en"
    has_elections: bool = True
    term_end: Day | None = Field(default=None, description="end of the administration's term (R1.2)")


class CallCreate(_In):
    model_config = _example({
        "name": "Call 2027", "opens_on": "2027-01-01", "closes_on": "2027-03-31", "first_plan_due": "2027-09-30"
    })
    name: _str(200)
    opens_on: Day
    closes_on: Day
    first_plan_due: Day = Field(description="default deadline for new members' first plan (R5.1)")


class PersonCreate(_In):
    model_config = _example({
        "name": "Ana Ruiz", "email": "ana.ruiz@city.example", "role": "poc", "organisation": "City Hall",
        "member_id": 1
    })
    name: _str(200)
    email: _str(320)
    role: Literal["support_unit", "poc", "monitoring_body", "stakeholder", "auditor"]
    organisation: _str(300) | None = None
    member_id: Ref | None = None


class LetterOfSupportCreate(LetterOfSupportIn):
    """The letter of support of R1.3 (the same document as the CLI's letter file)."""

    pages: int = Field(ge=0, le=10_000)  # stored in an integer column


class ApplicationCreate(_In):
    jurisdiction: _str(40) = Field(description="jurisdiction code")
    call: _str(200) = Field(description="call name")
    letter_of_support: LetterOfSupportCreate


class PlanCreate(PlanIn):
    """An action plan: the plan file of docs/plan-file.md, as JSON."""

    coalition: list[Ref] = Field(default=[], max_length=3,
                                 description="ids of the other members filing this joint plan (R3.13)")


class AcceptanceCreate(_In):
    model_config = _example({
        "reason": "A strong letter and a co-creation track record",
        "checklist": {"ambition": True, "capacity and resources": True}
    })
    reason: Text | None = None
    checklist: dict[Annotated[str, Field(max_length=200)], bool] = Field(default_factory=dict,
                                                                          description="R1.4 criteria judged")
    notes: Text | None = None


class RejectionCreate(_In):
    model_config = _example({
        "reason": "No non-governmental stakeholder signed the letter of support"
    })
    reason: Text


class InactivityRequestCreate(_In):
    model_config = _example({
        "reason": "Municipal elections until June", "stakeholders_consulted": True
    })
    reason: Text
    stakeholders_consulted: bool = Field(default=False, description=(
        "the non-governmental stakeholders and the OGP Local team were consulted (R5.5: recommended, not "
        "required; recorded and shown to the Support Unit)"))


class InactivityApprovalCreate(_In):
    reason: Text | None = None


class InactivityDeclineCreate(_In):
    model_config = _example({
        "reason": "The start assessment is due next month; ask again once it is filed."
    })
    reason: Text = Field(description="why the request is declined (R5.5); the letter to the point of contact quotes it")


class ResumeCreate(_In):
    model_config = _example({
        "reason": "Co-creation restarted after the elections"
    })
    reason: Text


class StatusChangeCreate(_In):
    model_config = _example({
        "action": "become_inactive", "rule": "R5.4", "reason": "No tracker update in two quarters"
    })
    action: Literal["become_inactive", "place_on_probation", "reinstate", "revoke", "resume", "end_plan"]
    rule: _str(10) = Field(description="the rule that justifies it, e.g. R5.4")
    reason: Text
    evidence: list[Url] = Field(default_factory=list, max_length=50)
    override: bool = Field(default=False, description=(
        "take the action although its rule does not hold as of now (D14); the reason is recorded as the "
        "override's justification and the audit record is marked as an override"))


class ExtensionCreate(_In):
    model_config = _example({
        "new_due": "2027-12-31", "reason": "Floods delayed the co-creation meetings"
    })
    new_due: Day
    reason: Text


class CompletionCreate(_In):
    model_config = _example({
        "completed_on": "2028-03-15", "evidence": ["https://city.example/register"]
    })
    completed_on: Day
    evidence: list[Url] = Field(default_factory=list, max_length=50)


# R3.10: a change without approvers or a decision process is refused by the rule (a 422 problem naming R3.10
# and the field), so the fields are not required by the schema.
Approvers = Annotated[list[_str(300)], Field(default_factory=list, max_length=50, description=(
    "approving non-governmental stakeholders recorded for the plan: its endorsers or the member's stakeholder "
    "accounts (R3.10)"))]
DecisionProcess = Annotated[Text, Field(default="", description="how the change was decided (R3.10)")]


class ModificationCreate(_In):
    model_config = _example({
        "decision_process": "Forum vote of 3 March 2027, minutes published",
        "approved_by": ["Civic Data Association"], "end": "2029-03-31"
    })
    decision_process: DecisionProcess
    approved_by: Approvers
    start: Day | None = None
    end: Day | None = None
    title: _str(500) | None = None
    milestones: list[MilestoneIn] | None = Field(default=None, max_length=100)


class WithdrawalCreate(_In):
    model_config = _example({
        "decision_process": "Forum vote of 3 March 2027", "approved_by": ["Civic Data Association"]
    })
    decision_process: DecisionProcess
    approved_by: Approvers


class ReplacementCreate(CommitmentIn):
    """A replacement commitment (R3.4): the commitment of a plan file, with the approval R3.10 asks for."""

    decision_process: DecisionProcess
    approved_by: Approvers

    def commitment(self) -> CommitmentIn:
        return CommitmentIn.model_validate(self.model_dump(exclude={"decision_process", "approved_by"}))


class MeetingCreate(_In):
    model_config = _example({
        "phase": "implementation", "held_on": "2027-05-04", "government_participants": 3,
        "non_governmental_participants": 6, "description": "Quarterly forum",
        "evidence": ["https://city.example/forum/minutes-2027-05"]
    })
    phase: Literal["co_creation", "implementation"]
    held_on: Day
    government_participants: int = Field(ge=0, le=1_000_000)
    non_governmental_participants: int = Field(ge=0, le=1_000_000)
    description: Text = ""
    evidence: list[Url] = Field(default_factory=list, max_length=50)


class MilestoneChangeCreate(_In):
    milestone_id: Ref
    status: _str(20)
    delay_reason: Text | None = None


class TrackerUpdateCreate(_In):
    model_config = _example({
        "narrative": "The contract register is online; the data portal is delayed by procurement.",
        "changes": [{"milestone_id": 1, "status": "finished"},
                    {"milestone_id": 2, "status": "stuck", "delay_reason": "Procurement appeal"}]
    })
    narrative: Text
    changes: list[MilestoneChangeCreate] = Field(default_factory=list, max_length=200)


class CommitmentRatingIn(BaseModel):
    """A start assessment's rating of one initial commitment (R4.1)."""

    model_config = ConfigDict(extra="allow")
    relevant: bool | None = None
    verifiable: bool | None = None
    potential_impact: str | None = Field(default=None, description="none, minor, moderate or transformative")


class RatingsIn(BaseModel):
    """The ratings of §4; which ones are needed depends on the kind (the rules say which are missing)."""

    model_config = ConfigDict(extra="allow")
    commitments: dict[str, CommitmentRatingIn] | None = Field(default=None, description="start: per commitment id")
    public_influence: str | None = Field(default=None, description="start: inform … empower")
    completion: str | None = Field(default=None, description="end_of_commitment: not_started … complete")
    early_results: str | None = Field(default=None, description="end_of_commitment")
    summary: str | None = Field(default=None, description="final_report")


class AssessmentCreate(_In):
    model_config = _example({
        "kind": "end_of_commitment", "commitment_id": 1,
        "ratings": {"completion": "substantial", "early_results": "Journalists use the register."}
    })
    kind: Literal["start", "end_of_commitment", "final_report"]
    ratings: RatingsIn
    commitment_id: Ref | None = None
    unmet_requirements: list[_str(40)] = Field(default_factory=list, max_length=20)
    plan_id: Ref | None = None


class EvidenceCreate(_In):
    model_config = _example({
        "kind": "forum minutes or decisions", "url": "https://city.example/forum/minutes-2027-05",
        "title": "Forum minutes, May 2027"
    })
    kind: _str(60) = Field(description="an evidence kind of R8.3")
    url: Url
    title: _str(300) | None = None


class CommentCreate(_In):
    model_config = _example({
        "author_name": "Lina", "author_email": "lina@mail.example", "body": "Where can I download the contracts?"
    })
    author_name: _str(200)
    author_email: _str(320) | None = None
    body: _str(5000)


class ModerationCreate(_In):
    model_config = _example({
        "decision": "approve"
    })
    decision: Literal["approve", "reject"]
    note: Text | None = None


class ConcernCaseCreate(_In):
    model_config = _example({
        "reported_by": "Free Press Collective", "summary": "Journalists detained after covering a protest."
    })
    reported_by: _str(300) = Field(description="who in local civil society reported it")
    summary: Text


class ConcernClosureCreate(_In):
    model_config = _example({
        "outcome": "Dialogue with the mayor; journalists released; membership continues."
    })
    outcome: Text


# ---------------------------------------------------------------- outputs


class CreatedRead(BaseModel):
    id: int
    message: str


class InactivityRequestCreated(CreatedRead):
    stakeholders_consulted: bool
    reminder: str | None = Field(default=None, description="R5.5: a reminder to consult them, when they were not")


class DoneRead(BaseModel):
    message: str


class RoleRead(BaseModel):
    role: str
    member_id: int | None = None


class PrincipalRead(BaseModel):
    person_id: int | None
    name: str
    email: str | None = None
    via: str
    roles: list[RoleRead]
    poc_member_ids: list[int]
    monitored_member_ids: list[int]


class SessionRead(PrincipalRead):
    csrf_token: str = Field(description="send as X-CSRF-Token with writes authenticated by the session cookie")
    expires_at: str


class MemberSummaryRead(_Out):
    id: int
    jurisdiction: str
    name: str
    country: str
    state: str
    since: str
    plan_id: int | None = None


class DeadlineRead(_Out):
    id: int
    member_id: int
    subject: str
    kind: str
    rule_id: str
    due_on: str
    breach_at: str
    status: str


class MilestoneRead(_Out):
    id: int
    outcome: str
    start_month: str
    end_month: str
    status: str


class CommitmentRead(_Out):
    id: int
    title: str
    state: str
    start: str
    end: str
    jurisdiction: str | None = None
    version: int
    completed_on: str | None = None
    replacement: bool
    milestones: list[MilestoneRead]


class AuditRecordRead(_Out):
    id: int
    subject_type: str
    subject_id: int
    seq: int
    from_state: str
    to_state: str
    trigger: str
    actor: str
    reason: str | None = None
    rule_id: str
    evidence: list[str]
    business_time: str
    recorded_at: str
    prev_hash: str
    hash: str
    override: bool = Field(default=False, description="a Support Unit status action taken although its rule did "
                                                      "not hold as of its instant (D14)")


class PlanRead(_Out):
    id: int
    filed_on: str
    end: str
    status: str
    monitoring_body: str
    coalition_id: int | None = None
    commitments: list[CommitmentRead]


class TrackerUpdateSummaryRead(_Out):
    id: int
    quarter: str
    filed_at: str
    progress: bool


class ObligationRead(_Out):
    """A deadline as the member's next one or an overdue deliverable: whose it is (plan, commitment) and when."""

    id: int
    kind: str
    rule_id: str
    due_on: str
    status: str
    subject: str
    plan_id: int | None = None
    plan_filed_on: str | None = None
    plan_end_on: str | None = None
    plan_status: str | None = None
    plan_is_current: bool = False
    earlier_plan: bool = Field(default=False, description="the plan ended or was replaced: not the plan in force")
    commitment_id: int | None = None
    commitment: str | None = Field(default=None, description="the commitment's title")


class MemberRead(MemberSummaryRead):
    time_zone: str
    language: str
    term_end: str | None = None
    voluntary_inactivity: bool
    inactivity_rule: str | None = None
    probation_rule: str | None = None
    orientation_completed: bool
    possible_triggers: list[str]
    plan: PlanRead | None = None
    deadlines: list[DeadlineRead]
    pending_inactivity_requests: list[int]
    tracker_updates: list[TrackerUpdateSummaryRead]
    history: list[AuditRecordRead]
    next_deadline: ObligationRead | None = Field(default=None, description=(
        "the earliest pending deadline due today or later in the member's own calendar (D2)"))
    overdue: list[ObligationRead] = Field(default_factory=list, description=(
        "monitoring deliverables (R4.1-R4.3) past their due date and not filed, each naming its plan or commitment"))


class CommitmentVersionRead(_Out):
    version: int
    change: str
    recorded_at: str
    decision_process: str | None = None
    approved_by: list[str]


class CommitmentDetailRead(CommitmentRead):
    plan_id: int
    member_id: int
    details: dict[str, Any]
    possible_triggers: list[str]
    versions: list[CommitmentVersionRead]
    history: list[AuditRecordRead]


class FindingRead(_Out):
    id: int
    rule_id: str
    outcome: str
    found_at: str
    deadline_id: int | None = None
    transition_id: int | None = None
    detail: str


class VerifyRead(BaseModel):
    ok: bool
    chains: int
    records: int
    first_bad: dict[str, Any] | None = None


class LetterRead(_Out):
    id: int
    member_id: int
    kind: str
    rule_id: str | None = None
    recipient_role: str
    status: str
    recipients: list[str]
    subject: str | None = None
    language: str | None = None
    message_id: str | None = None
    transition_id: int | None = None
    deadline_id: int | None = None
    created_at: str
    sent_at: str | None = None
    attempts: int
    last_error: str | None = None


class LetterDetailRead(LetterRead):
    idempotency_key: str
    payload: dict[str, Any]
    body_text: str | None = None
    rendered_at: str | None = None
    has_pdf: bool
    transition: dict[str, Any] | None = None
    deadline: dict[str, Any] | None = None


class CommentRead(_Out):
    id: int
    tracker_update_id: int
    member_id: int
    author_name: str
    body: str
    status: str
    created_at: str
    moderated_at: str | None = None
    moderated_by: str | None = None
    moderation_note: str | None = None


class ConcernCaseRead(_Out):
    id: int
    member_id: int
    opened_at: str
    reported_by: str
    summary: str
    status: str
    outcome: str | None = None
    closed_at: str | None = None
    closed_by: str | None = None
