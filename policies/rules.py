"""One rule object per rulebook ID, and the durations of §1 and §3–§6.

Durations are policy parameters: the Support Unit may change them without touching
code, so every one lives in :class:`Durations` with the rulebook's value as default.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str

    def __str__(self) -> str:
        return self.id


def _rules(*pairs: tuple[str, str]) -> dict[str, Rule]:
    return {rid: Rule(rid, title) for rid, title in pairs}


RULES: dict[str, Rule] = _rules(
    ("R1.1", "Applications only during an open call"),
    ("R1.2", "At least 16 months left in the administration's term"),
    ("R1.3", "Letter of support: 3 pages, English, signed by government and a registered NGO"),
    ("R1.4", "Support Unit judgement checklist"),
    ("R1.5", "A rejected applicant may apply again in a later call"),
    ("R2.1", "Acceptance: applicant to orientation"),
    ("R2.2", "Rejection: applicant to rejected"),
    ("R2.3", "Co-creation starts after the orientation programme"),
    ("R2.4", "Filing a valid action plan starts implementation"),
    ("R2.5", "Plan end returns the member to co-creation"),
    ("R2.6", "Inactivity"),
    ("R2.7", "Resuming from inactivity"),
    ("R2.8", "Inactive to probation"),
    ("R2.9", "Active to probation for lack of engagement"),
    ("R2.10", "Reinstatement from probation"),
    ("R2.11", "Revocation"),
    ("R3.1", "Plan period"),
    ("R3.2", "Plan components"),
    ("R3.3", "Commitment limit"),
    ("R3.4", "Replacement commitments"),
    ("R3.5", "Commitment duration"),
    ("R3.6", "Filed in English"),
    ("R3.7", "Commitment fields"),
    ("R3.8", "Four months to file the next plan"),
    ("R3.9", "Milestones"),
    ("R3.10", "Commitment modification within six months"),
    ("R3.11", "Co-creation minimum requirements"),
    ("R3.12", "Recommended practices"),
    ("R3.13", "Joint plans"),
    ("R4.0", "Monitoring body"),
    ("R4.1", "Start assessment due two months after filing"),
    ("R4.2", "End-of-commitment assessment due one month after completion"),
    ("R4.3", "Final learning report due two months after plan end"),
    ("R4.4", "Quarterly tracker update"),
    ("R5.1", "First plan not filed by the call's deadline"),
    ("R5.2", "Next plan not filed within four months"),
    ("R5.3", "No progress during two consecutive quarters"),
    ("R5.4", "No tracker update during two consecutive quarters"),
    ("R5.5", "Voluntary inactivity"),
    ("R5.6", "Resuming activity"),
    ("R6.1", "Six months inactive"),
    ("R6.2", "No evidence of engagement with non-governmental stakeholders"),
    ("R6.3", "Activities continue on probation"),
    ("R6.4", "Reinstatement when every requirement is met"),
    ("R6.5", "Four months on probation"),
    ("R6.6", "Civic-space concern"),
    ("R7.1", "Status letters"),
    ("R8.1", "Public status"),
    ("R8.3", "Evidence links"),
)


def rule(rule_id: str) -> Rule:
    """The rule with this ID; a KeyError names an ID the rulebook does not have."""
    return RULES[rule_id]


@dataclass(frozen=True, slots=True)
class Durations:
    """Every duration of the rulebook, in calendar months unless named otherwise."""

    min_term_months_at_application: int = 16  # R1.2
    los_max_pages: int = 3  # R1.3
    plan_end_before_term_end_months: int = 2  # R3.1
    plan_min_years_without_elections: int = 1  # R3.1
    plan_max_years_without_elections: int = 4  # R3.1
    commitment_min_months: int = 12  # R3.5
    next_plan_months: int = 4  # R3.8 / R5.2
    modification_window_months: int = 6  # R3.10
    start_assessment_months: int = 2  # R4.1
    end_of_commitment_assessment_months: int = 1  # R4.2
    final_report_months: int = 2  # R4.3
    inactive_before_probation_months: int = 6  # R6.1
    probation_before_revocation_months: int = 4  # R6.5
    meetings_per_year: int = 2  # R3.11 / R6.2 / D8
    cocreation_meetings_min: int = 1  # R3.11
    max_policy_areas: int = 2  # R3.7
    max_sectors: int = 2  # R3.7


DEFAULT_DURATIONS = Durations()


def commitment_limit(jurisdictions: int) -> int:
    """R3.3: commitments in draft or implementing at any time, by coalition size."""
    if jurisdictions <= 1:
        return 5
    if jurisdictions == 2:
        return 10
    if jurisdictions <= 4:
        return 12
    raise ValueError("a coalition has at most 4 jurisdictions (R3.13)")
