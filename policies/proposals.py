"""Input shapes of plans, commitments and letters of support, as the rules read them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

# Annex 1: the questions a strategic vision answers, by number (R3.2).
VISION_ANSWER_KEYS: tuple[str, ...] = ("4.1", "4.2", "4.3", "4.4", "4.5", "4.6")
ENGAGEMENT_ANSWER_KEYS: tuple[str, ...] = ("5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "5.7", "5.8")
MONITORING_ANSWER_KEYS: tuple[str, ...] = ("6.1", "6.2", "6.3", "6.4", "6.5")


@dataclass(frozen=True, slots=True)
class AgencyContact:
    """The lead government agency of a commitment and the person who answers for it (R3.7)."""

    organisation: str
    branch: str
    contact_name: str
    title: str
    email: str
    role: str


@dataclass(frozen=True, slots=True)
class Resources:
    """What a commitment has to work with (R3.7); every part may be unknown."""

    budget_amount: Decimal | None
    currency: str | None
    staff: int | None
    months: int | None
    other: str | None


@dataclass(frozen=True, slots=True)
class MilestoneProposal:
    """One milestone of a commitment (R3.9); months are written ``MM/YYYY``."""

    outcome: str
    start_month: str
    end_month: str
    responsible_agency: str
    contact: str
    status: str = "not_started"


@dataclass(frozen=True, slots=True)
class CommitmentProposal:
    """A commitment as filed (annex 2, R3.7).

    ``jurisdiction`` is the code of the one coalition member the commitment belongs
    to; None means a joint commitment, or simply the plan's only jurisdiction.
    """

    title: str
    start: date
    end: date
    lead_agency: AgencyContact
    problem: str
    status_quo: str
    action: str
    how_it_solves: str
    long_term_goal: str
    policy_areas: tuple[str, ...]
    sectors: tuple[str, ...]
    ogp_values: tuple[str, ...]
    resources: Resources
    resources_secured: str
    milestones: tuple[MilestoneProposal, ...]
    jurisdiction: str | None = None
    non_governmental_implementer: str | None = None
    other_stakeholders: str | None = None
    additional_information: str | None = None
    language: str = "en"


@dataclass(frozen=True, slots=True)
class StrategicVision:
    """The strategic vision of a plan (annex 1, R3.2); answers are keyed by question number."""

    term_end: date | None
    plan_end: date
    foreword: str
    vision_answers: Mapping[str, str]
    engagement_answers: Mapping[str, str]
    monitoring_answers: Mapping[str, str]
    endorsing_stakeholders: tuple[str, ...]
    links: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class JurisdictionFacts:
    """What the rules need to know about one member jurisdiction of a plan."""

    code: str
    name: str
    country: str
    has_elections: bool
    term_end: date | None


@dataclass(frozen=True, slots=True)
class CoCreationRecord:
    """Co-creation facts checked against the minimum requirements at filing (R3.11)."""

    forum_exists: bool
    forum_has_government: bool
    forum_has_non_governmental: bool
    cocreation_meetings_with_non_governmental: int


@dataclass(frozen=True, slots=True)
class PlanProposal:
    """An action plan as filed; its end date is the strategic vision's ``plan_end``."""

    filed_on: date
    language: str
    vision: StrategicVision
    commitments: tuple[CommitmentProposal, ...]
    monitoring_body: str | None
    monitoring_body_endorsed: bool
    point_of_contact: str | None
    jurisdictions: tuple[JurisdictionFacts, ...]
    cocreation: CoCreationRecord


@dataclass(frozen=True, slots=True)
class Signatory:
    """One signatory of a letter of support; ``kind`` is ``government`` or ``non_governmental``."""

    name: str
    kind: str
    is_head_of_government: bool = False
    has_delegated_authority: bool = False
    has_legal_personality: bool = False


@dataclass(frozen=True, slots=True)
class LetterOfSupport:
    """A letter of support sent with an application (R1.3)."""

    pages: int
    language: str
    signatories: tuple[Signatory, ...]
