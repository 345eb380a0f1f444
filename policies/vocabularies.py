"""The controlled vocabularies of the rulebook's appendix, as frozen data with a matcher."""

from __future__ import annotations

# Bump whenever an entry is added, renamed or removed, so stored answers can say
# which list they were checked against.
VOCABULARY_VERSION = "2026.1"

# R3.7: a commitment names at most two of these.
POLICY_AREAS: tuple[str, ...] = (
    "Asset Disclosure",
    "Audits and Controls",
    "Beneficial Ownership",
    "Civic Space",
    "Conflicts of Interest",
    "Crisis Response",
    "Digital Governance",
    "E-Petitions",
    "Elections and Political Finance",
    "Fiscal Openness",
    "Gender and Inclusion",
    "Legislative Openness",
    "Lobbying",
    "Open Contracting",
    "Open Data",
    "Public Procurement",
    "Regulatory Governance",
    "Right to Information",
    "Safety Nets and Economic Inclusion",
    "Social Accountability",
    "Stimulus and Economic Recovery",
    "Tax",
    "Whistleblower Protection",
    "Other/NA",
)

# R3.7: a commitment names at most two of these.
SECTORS: tuple[str, ...] = (
    "Aid",
    "Citizenship and Immigration",
    "Cross-sectoral",
    "Education",
    "Environment and Climate",
    "Extractive Industries",
    "Health and Nutrition",
    "Infrastructure and Transport",
    "Justice",
    "Land and Spatial Planning",
    "Legislature",
    "Media and Telecommunications",
    "Policing and Corrections",
    "Private Sector",
    "Public Services (general)",
    "Science and Technology",
    "Security and Public Safety",
    "Water, Sanitation and Hygiene",
    "Other/NA",
)

# R3.7: a commitment names at least one of these.
OGP_VALUES: tuple[str, ...] = (
    "Access to Information",
    "Civic Participation",
    "Public Accountability",
    "Technology and Innovation for Transparency and Accountability",
)

# R3.7
RESOURCES_SECURED: tuple[str, ...] = ("yes", "no", "partially")

# R8.3: the type of every evidence link.
EVIDENCE_KINDS: tuple[str, ...] = (
    "consultation plan",
    "public invitation",
    "forum terms of reference",
    "forum minutes or decisions",
    "participant list",
    "written proposal",
    "response to input",
    "baseline document",
    "draft law or legislative status",
    "decision or regulation",
    "procurement or call",
    "technical document",
    "strategy or work plan",
    "monitoring report",
    "budget decision",
    "third-party analysis",
    "audit report",
    "media",
    "user statistics",
    "other",
)

# R1.4: the points of the Support Unit's checklist when it reads a letter of support.
LOS_POINTS: tuple[str, ...] = (
    "commitment to OGP values and criteria",
    "value proposition",
    "ambition and thematic priorities",
    "capacity and resources with the lead agency and supporting stakeholders",
    "co-creation track record in the last 3 years",
    "areas where the member can share good practice",
    "willingness to join peer learning",
    "how it will spread open local government to other local governments",
)

# R3.9
MILESTONE_STATUSES: tuple[str, ...] = (
    "not_started",
    "in_progress",
    "stuck",
    "finished",
    "incomplete",
)

# R4.1: potential impact of a commitment in the start assessment.
IMPACT_LEVELS: tuple[str, ...] = ("none", "minor", "moderate", "transformative")

# R4.1: level of public influence in the start assessment.
PUBLIC_INFLUENCE: tuple[str, ...] = ("inform", "consult", "involve", "collaborate", "empower")

# R4.2: completion rating of the end-of-commitment assessment.
COMPLETION_LEVELS: tuple[str, ...] = ("not_started", "limited", "substantial", "complete")

# R3.11 / R6.2: meetings count separately for co-creation and for implementation.
MEETING_PHASES: tuple[str, ...] = ("co_creation", "implementation")

# R1.3 / R3.11: who signs a letter of support and who sits in the forum.
PARTICIPANT_KINDS: tuple[str, ...] = ("government", "non_governmental")


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def canonical(vocabulary: tuple[str, ...] | frozenset[str], value: object) -> str | None:
    """The vocabulary's display string matching ``value``, or None when nothing matches.

    Matching ignores case and surrounding or repeated whitespace, so ``" open  data "``
    gives ``"Open Data"``.
    """
    if not isinstance(value, str):
        return None
    wanted = _fold(value)
    if not wanted:
        return None
    for entry in vocabulary:
        if _fold(entry) == wanted:
            return entry
    return None
