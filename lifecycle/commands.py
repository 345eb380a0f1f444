"""Commands: what an actor asks the service to do, one frozen object per use case."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from lifecycle.schemas import CommitmentIn, LetterOfSupportIn, PlanIn


@dataclass(frozen=True)
class RegisterJurisdiction:
    code: str
    name: str
    country: str
    time_zone: str
    language: str = "en"
    has_elections: bool = True
    term_end: dt.date | None = None


@dataclass(frozen=True)
class OpenCall:
    name: str
    opens_on: dt.date
    closes_on: dt.date
    first_plan_due: dt.date


@dataclass(frozen=True)
class RegisterPerson:
    name: str
    email: str
    role: str
    organisation: str | None = None
    member_id: int | None = None


@dataclass(frozen=True)
class Apply:
    jurisdiction: str
    call: str
    letter_of_support: LetterOfSupportIn
    actor: str


@dataclass(frozen=True)
class AcceptApplication:
    member_id: int
    actor: str
    reason: str | None = None
    checklist: dict[str, bool] = field(default_factory=dict)
    notes: str | None = None


@dataclass(frozen=True)
class RejectApplication:
    member_id: int
    actor: str
    reason: str


@dataclass(frozen=True)
class CompleteOrientation:
    member_id: int
    actor: str


@dataclass(frozen=True)
class StartCoCreation:
    member_id: int
    actor: str


@dataclass(frozen=True)
class RecordMeeting:
    member_id: int
    phase: str
    held_on: dt.date
    government_participants: int
    non_governmental_participants: int
    actor: str
    description: str = ""
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class SubmitPlan:
    member_id: int
    plan: PlanIn
    actor: str
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class RequestVoluntaryInactivity:
    """The POC asks for voluntary inactivity (R5.5); consulting first is recommended and recorded, not required."""

    member_id: int
    reason: str
    actor: str
    stakeholders_consulted: bool = False


@dataclass(frozen=True)
class ApproveVoluntaryInactivity:
    request_id: int
    actor: str
    reason: str | None = None


@dataclass(frozen=True)
class DeclineVoluntaryInactivity:
    """The Support Unit declines a pending request for voluntary inactivity, with its reason (R5.5)."""

    request_id: int
    actor: str
    reason: str


@dataclass(frozen=True)
class Resume:
    member_id: int
    actor: str
    reason: str


@dataclass(frozen=True)
class ApplyStatus:
    """The Support Unit applies or lifts a status by hand, citing the rule that justifies it."""

    member_id: int
    trigger: str
    rule: str
    actor: str
    reason: str
    evidence: tuple[str, ...] = ()
    # D14: taken although the rule does not hold as of now; the reason then says why, and the audit record says so.
    override: bool = False


@dataclass(frozen=True)
class CompleteCommitment:
    commitment_id: int
    completed_on: dt.date
    actor: str
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModifyCommitment:
    """R3.10: ``approved_by`` names non-governmental stakeholders recorded for the plan; a change without them is
    refused by the rule, not by the command's shape."""

    commitment_id: int
    actor: str
    decision_process: str = ""
    approved_by: tuple[str, ...] = ()
    start: dt.date | None = None
    end: dt.date | None = None
    title: str | None = None
    milestones: tuple | None = None


@dataclass(frozen=True)
class WithdrawCommitment:
    commitment_id: int
    actor: str
    decision_process: str = ""
    approved_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddReplacementCommitment:
    """R3.4, with the approval of R3.10 that any change to the plan's commitments needs."""

    member_id: int
    commitment: CommitmentIn
    actor: str
    decision_process: str = ""
    approved_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileAssessment:
    member_id: int
    kind: str  # start | end_of_commitment | final_report
    actor: str
    ratings: dict
    commitment_id: int | None = None
    unmet_requirements: tuple[str, ...] = ()
    plan_id: int | None = None  # default: the member's current plan


@dataclass(frozen=True)
class MilestoneChange:
    milestone_id: int
    status: str
    delay_reason: str | None = None


@dataclass(frozen=True)
class RecordTrackerUpdate:
    member_id: int
    narrative: str
    actor: str
    changes: tuple[MilestoneChange, ...] = ()


@dataclass(frozen=True)
class AddEvidence:
    subject_type: str
    subject_id: int
    kind: str
    url: str
    actor: str
    title: str | None = None


@dataclass(frozen=True)
class ExtendFirstPlanDeadline:
    """The Support Unit grants a new member more time to file its first plan (R5.1)."""

    member_id: int
    new_due: dt.date
    actor: str
    reason: str


# ---------------------------------------------------------------- the web: accounts, comments, concern cases


@dataclass(frozen=True)
class SetPassword:
    person_id: int
    password: str


@dataclass(frozen=True)
class Login:
    email: str
    password: str
    ttl_hours: int = 12


@dataclass(frozen=True)
class EndSession:
    token: str


@dataclass(frozen=True)
class CreateApiToken:
    person_id: int
    name: str


@dataclass(frozen=True)
class RevokeApiToken:
    token_id: int
    actor: str


@dataclass(frozen=True)
class PostComment:
    """Anyone may comment on a tracker update (R8.2); the comment waits for moderation."""

    tracker_update_id: int
    author_name: str
    body: str
    author_email: str | None = None


@dataclass(frozen=True)
class ModerateComment:
    comment_id: int
    decision: str  # approve | reject
    actor: str
    note: str | None = None


@dataclass(frozen=True)
class OpenConcernCase:
    """A report of gross civic-space violations opens a case for the Support Unit (R6.6)."""

    member_id: int
    reported_by: str
    summary: str
    actor: str


@dataclass(frozen=True)
class CloseConcernCase:
    case_id: int
    outcome: str
    actor: str
