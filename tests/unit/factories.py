"""Builders of valid policy inputs; each takes keyword overrides applied with dataclasses.replace."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from policies.proposals import (
    ENGAGEMENT_ANSWER_KEYS,
    MONITORING_ANSWER_KEYS,
    VISION_ANSWER_KEYS,
    AgencyContact,
    CoCreationRecord,
    CommitmentProposal,
    JurisdictionFacts,
    LetterOfSupport,
    MilestoneProposal,
    PlanProposal,
    Resources,
    Signatory,
    StrategicVision,
)

# One consistent timeline: the plan ends well inside the term (R3.1), and the
# commitment lasts more than 12 months inside the plan (R3.5).
FILED_ON = date(2026, 3, 2)
TERM_END = date(2029, 6, 30)
PLAN_END = date(2028, 2, 29)
COMMITMENT_START = date(2026, 3, 2)
COMMITMENT_END = date(2027, 6, 30)

# Coalition members, all in one country (R3.13); ``valid_coalition_plan`` takes the first n.
COALITION_MEMBERS: tuple[tuple[str, str], ...] = (
    ("ES-BCN", "Barcelona"),
    ("ES-MAD", "Madrid"),
    ("ES-VLC", "Valencia"),
    ("ES-SVQ", "Seville"),
)


def _answers(keys: tuple[str, ...]) -> dict[str, str]:
    return {key: f"Our answer to question {key}." for key in keys}


def valid_agency(**overrides: object) -> AgencyContact:
    agency = AgencyContact(
        organisation="City of Barcelona",
        branch="Open Government Office",
        contact_name="Ana Puig",
        title="Head of Transparency",
        email="ana.puig@example.org",
        role="Lead implementer",
    )
    return replace(agency, **overrides)


def valid_resources(**overrides: object) -> Resources:
    resources = Resources(
        budget_amount=Decimal("120000.00"),
        currency="EUR",
        staff=3,
        months=16,
        other=None,
    )
    return replace(resources, **overrides)


def valid_milestone(**overrides: object) -> MilestoneProposal:
    milestone = MilestoneProposal(
        outcome="Contracts register published as open data",
        start_month="04/2026",
        end_month="12/2026",
        responsible_agency="Open Government Office",
        contact="Ana Puig",
    )
    return replace(milestone, **overrides)


def valid_commitment(**overrides: object) -> CommitmentProposal:
    commitment = CommitmentProposal(
        title="Open the city's contracts register",
        start=COMMITMENT_START,
        end=COMMITMENT_END,
        lead_agency=valid_agency(),
        problem="Residents cannot see who the city contracts with.",
        status_quo="Contracts are published as scanned documents only.",
        action="Publish every contract in a searchable open register.",
        how_it_solves="Anyone can follow public spending contract by contract.",
        long_term_goal="A city whose spending can be followed by anyone.",
        policy_areas=("Open Contracting", "Open Data"),
        sectors=("Public Services (general)",),
        ogp_values=("Access to Information", "Public Accountability"),
        resources=valid_resources(),
        resources_secured="yes",
        milestones=(valid_milestone(),),
    )
    return replace(commitment, **overrides)


def valid_vision(**overrides: object) -> StrategicVision:
    vision = StrategicVision(
        term_end=TERM_END,
        plan_end=PLAN_END,
        foreword="Why this plan matters to the city.",
        vision_answers=_answers(VISION_ANSWER_KEYS),
        engagement_answers=_answers(ENGAGEMENT_ANSWER_KEYS),
        monitoring_answers=_answers(MONITORING_ANSWER_KEYS),
        endorsing_stakeholders=("Transparency Forum Association",),
        links=("https://example.org/plan",),
    )
    return replace(vision, **overrides)


def valid_jurisdiction(**overrides: object) -> JurisdictionFacts:
    jurisdiction = JurisdictionFacts(
        code="ES-BCN",
        name="Barcelona",
        country="Spain",
        has_elections=True,
        term_end=TERM_END,
    )
    return replace(jurisdiction, **overrides)


def valid_cocreation(**overrides: object) -> CoCreationRecord:
    record = CoCreationRecord(
        forum_exists=True,
        forum_has_government=True,
        forum_has_non_governmental=True,
        cocreation_meetings_with_non_governmental=3,
    )
    return replace(record, **overrides)


def valid_plan(**overrides: object) -> PlanProposal:
    """A single-jurisdiction plan that passes every check of ``validate_plan``."""
    plan = PlanProposal(
        filed_on=FILED_ON,
        language="en",
        vision=valid_vision(),
        commitments=(valid_commitment(),),
        monitoring_body="University Observatory of Open Government",
        monitoring_body_endorsed=True,
        point_of_contact="Ana Puig",
        jurisdictions=(valid_jurisdiction(),),
        cocreation=valid_cocreation(),
    )
    return replace(plan, **overrides)


def valid_coalition_plan(size: int = 2, **overrides: object) -> PlanProposal:
    """A joint plan of ``size`` jurisdictions (2 to 4) sharing the default term end."""
    members = tuple(
        valid_jurisdiction(code=code, name=name) for code, name in COALITION_MEMBERS[:size]
    )
    return valid_plan(**{"jurisdictions": members, **overrides})


def head_of_government(**overrides: object) -> Signatory:
    signatory = Signatory(name="Mayor of Barcelona", kind="government", is_head_of_government=True)
    return replace(signatory, **overrides)


def registered_stakeholder(**overrides: object) -> Signatory:
    signatory = Signatory(
        name="Transparency Forum Association",
        kind="non_governmental",
        has_legal_personality=True,
    )
    return replace(signatory, **overrides)


def valid_letter(**overrides: object) -> LetterOfSupport:
    """A letter of support that passes every R1.3 check."""
    letter = LetterOfSupport(
        pages=2,
        language="en",
        signatories=(head_of_government(), registered_stakeholder()),
    )
    return replace(letter, **overrides)
