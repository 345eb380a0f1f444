"""Validation of action plans and commitments against §3 and R4.0 of the rulebook."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date

from policies.calendar import add_months
from policies.errors import ApproverNotRecorded, Refusals, RuleViolation
from policies.proposals import (
    ENGAGEMENT_ANSWER_KEYS,
    MONITORING_ANSWER_KEYS,
    VISION_ANSWER_KEYS,
    CommitmentProposal,
    JurisdictionFacts,
    MilestoneProposal,
    PlanProposal,
)
from policies.rules import DEFAULT_DURATIONS, Durations, commitment_limit
from policies.vocabularies import (
    MILESTONE_STATUSES,
    OGP_VALUES,
    POLICY_AREAS,
    RESOURCES_SECURED,
    SECTORS,
    canonical,
)

__all__ = [
    "BudgetCurrencyInvalid",
    "CoalitionCountriesDiffer",
    "CoalitionSizeInvalid",
    "CommitmentEndsAfterPlan",
    "CommitmentEndsBeforeStart",
    "CommitmentFieldMissing",
    "CommitmentOutlivesJurisdictionTerm",
    "CommitmentTooShort",
    "DecisionProcessUndocumented",
    "DuplicateJurisdiction",
    "ForumNotMultistakeholder",
    "JurisdictionTermEndMissing",
    "LeadAgencyEmailInvalid",
    "MilestoneEndsBeforeStart",
    "MilestoneFieldMissing",
    "MilestoneMonthInvalid",
    "MilestoneStatusUnknown",
    "ModificationNotApproved",
    "ModificationWindowClosed",
    "MonitoringBodyMissing",
    "MonitoringBodyNotEndorsed",
    "NoCommitments",
    "NoEndorsingStakeholders",
    "NoMilestones",
    "NoOgpValue",
    "NoParticipationForum",
    "NoReplacementSlot",
    "NotInEnglish",
    "PlanEndsBeforeFiling",
    "PlanEndsTooLate",
    "PlanPeriodOutOfRange",
    "PointOfContactMissing",
    "ReplacementOutsidePlanPeriod",
    "ResourcesInvalid",
    "StrategicVisionIncomplete",
    "TooFewCoCreationMeetings",
    "TooManyCommitments",
    "TooManyPolicyAreas",
    "TooManySectors",
    "UnknownCommitmentJurisdiction",
    "UnknownVocabularyTerm",
    "VisionTermEndMismatch",
    "check_modification",
    "check_replacement",
    "is_english",
    "plan_violations",
    "validate_commitment",
    "validate_plan",
]


# --- R3.1 plan period ----------------------------------------------------------------


class PlanEndsBeforeFiling(RuleViolation):
    """Raised when a plan's end date is not after the day it is filed."""

    rule = "R3.1"


class PlanEndsTooLate(RuleViolation):
    """Raised when a plan ends less than two months before the administration's term ends."""

    rule = "R3.1"


class PlanPeriodOutOfRange(RuleViolation):
    """Raised when a plan of a jurisdiction without elections lasts under one or over four years."""

    rule = "R3.1"


class JurisdictionTermEndMissing(RuleViolation):
    """Raised when a jurisdiction with elections gives no end date for its current term."""

    rule = "R3.1"


# --- R3.2 strategic vision -----------------------------------------------------------


class StrategicVisionIncomplete(RuleViolation):
    """Raised when the strategic vision lacks its foreword, an answer or its term end."""

    rule = "R3.2"


class VisionTermEndMismatch(RuleViolation):
    """Raised when the vision's term end differs from the term end the jurisdictions declare."""

    rule = "R3.2"


# --- R3.3 commitment limit -----------------------------------------------------------


class TooManyCommitments(RuleViolation):
    """Raised when open commitments would exceed the limit for the coalition's size."""

    rule = "R3.3"


class NoCommitments(RuleViolation):
    """Raised when a plan is filed without any commitment."""

    rule = "R3.3"


# --- R3.4 replacement ----------------------------------------------------------------


class NoReplacementSlot(RuleViolation):
    """Raised when a commitment is added with no assessed, completed commitment left to replace."""

    rule = "R3.4"


class ReplacementOutsidePlanPeriod(RuleViolation):
    """Raised when a replacement commitment does not end within what remains of the plan."""

    rule = "R3.4"


# --- R3.5 commitment duration --------------------------------------------------------


class CommitmentEndsBeforeStart(RuleViolation):
    """Raised when a commitment's end date is not after its start date."""

    rule = "R3.5"


class CommitmentTooShort(RuleViolation):
    """Raised when a commitment lasts less than twelve months."""

    rule = "R3.5"


class CommitmentEndsAfterPlan(RuleViolation):
    """Raised when a commitment ends after the plan it belongs to."""

    rule = "R3.5"


# --- R3.6 language -------------------------------------------------------------------


class NotInEnglish(RuleViolation):
    """Raised when a plan or a commitment is filed in a language other than English."""

    rule = "R3.6"


# --- R3.7 commitment fields ----------------------------------------------------------


class CommitmentFieldMissing(RuleViolation):
    """Raised when a required field of a commitment or of its lead agency is blank."""

    rule = "R3.7"


class LeadAgencyEmailInvalid(RuleViolation):
    """Raised when the lead agency's contact email does not look like an address."""

    rule = "R3.7"


class TooManyPolicyAreas(RuleViolation):
    """Raised when a commitment names more policy areas than allowed."""

    rule = "R3.7"


class TooManySectors(RuleViolation):
    """Raised when a commitment names more sectors than allowed."""

    rule = "R3.7"


class UnknownVocabularyTerm(RuleViolation):
    """Raised when a value is not in the controlled vocabulary its field draws from."""

    rule = "R3.7"


class NoOgpValue(RuleViolation):
    """Raised when a commitment names no OGP value."""

    rule = "R3.7"


class BudgetCurrencyInvalid(RuleViolation):
    """Raised when a budget amount comes without a three-letter currency code."""

    rule = "R3.7"


class ResourcesInvalid(RuleViolation):
    """Raised when a budget, staff count or number of months is negative or not a number."""

    rule = "R3.7"


class NoMilestones(RuleViolation):
    """Raised when a commitment has no milestone."""

    rule = "R3.7"


# --- R3.9 milestones -----------------------------------------------------------------


class MilestoneFieldMissing(RuleViolation):
    """Raised when a milestone's outcome, responsible agency or contact is blank."""

    rule = "R3.9"


class MilestoneMonthInvalid(RuleViolation):
    """Raised when a milestone month is not written MM/YYYY."""

    rule = "R3.9"


class MilestoneEndsBeforeStart(RuleViolation):
    """Raised when a milestone's end month comes before its start month."""

    rule = "R3.9"


class MilestoneStatusUnknown(RuleViolation):
    """Raised when a milestone status is not one of the milestone statuses."""

    rule = "R3.9"


# --- R3.10 modification --------------------------------------------------------------


class ModificationWindowClosed(RuleViolation):
    """Raised when a commitment is changed more than six months after its submission."""

    rule = "R3.10"


class ModificationNotApproved(RuleViolation):
    """Raised when the co-creation's non-governmental stakeholders have not approved a change."""

    rule = "R3.10"


class DecisionProcessUndocumented(RuleViolation):
    """Raised when a change does not say how the decision to make it was taken."""

    rule = "R3.10"


# --- R3.11 co-creation minimum requirements ------------------------------------------


class NoParticipationForum(RuleViolation):
    """Raised when no participation space exists for the plan's co-creation."""

    rule = "R3.11"


class TooFewCoCreationMeetings(RuleViolation):
    """Raised when co-creation held too few meetings with non-governmental stakeholders."""

    rule = "R3.11"


class ForumNotMultistakeholder(RuleViolation):
    """Raised when the forum lacks governmental or non-governmental representatives."""

    rule = "R3.11"


class NoEndorsingStakeholders(RuleViolation):
    """Raised when no non-governmental stakeholder is listed as endorsing the plan."""

    rule = "R3.11"


# --- R3.13 joint plans ---------------------------------------------------------------


class CoalitionSizeInvalid(RuleViolation):
    """Raised when a plan is filed for no jurisdiction or for more than four."""

    rule = "R3.13"


class DuplicateJurisdiction(RuleViolation):
    """Raised when the same jurisdiction code appears twice in one plan."""

    rule = "R3.13"


class CoalitionCountriesDiffer(RuleViolation):
    """Raised when the jurisdictions of a coalition are not all in the same country."""

    rule = "R3.13"


class UnknownCommitmentJurisdiction(RuleViolation):
    """Raised when a commitment belongs to a jurisdiction that is not part of the plan."""

    rule = "R3.13"


class CommitmentOutlivesJurisdictionTerm(RuleViolation):
    """Raised when a coalition member's own commitment ends too close to that member's term end."""

    rule = "R3.13"


class PointOfContactMissing(RuleViolation):
    """Raised when a coalition files a plan without its single point of contact."""

    rule = "R3.13"


# --- R4.0 monitoring body ------------------------------------------------------------


class MonitoringBodyMissing(RuleViolation):
    """Raised when a plan is filed without naming its monitoring body."""

    rule = "R4.0"


class MonitoringBodyNotEndorsed(RuleViolation):
    """Raised when the monitoring body is not endorsed by the non-governmental stakeholders."""

    rule = "R4.0"


# --- helpers -------------------------------------------------------------------------

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_MONTH = re.compile(r"(0[1-9]|1[0-2])/(\d{4})")
_CURRENCY = re.compile(r"[A-Za-z]{3}")


def _blank(value: object) -> bool:
    return not isinstance(value, str) or not value.strip()


def _field(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _month(text: str) -> tuple[int, int] | None:
    """``MM/YYYY`` as ``(year, month)``, or None when malformed."""
    match = _MONTH.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    return int(match.group(2)), int(match.group(1))


def is_english(language: str) -> bool:
    """R3.6 / R1.3: English, written ``en`` or as a regional tag such as ``en-GB``."""
    if not isinstance(language, str):
        return False
    primary = re.split(r"[-_]", language.strip(), maxsplit=1)[0]
    return primary.casefold() == "en"


# --- commitments (R3.5, R3.6, R3.7, R3.9) --------------------------------------------

_REQUIRED_TEXT = (
    ("title", "title"),
    ("problem", "problem it addresses"),
    ("status_quo", "status quo"),
    ("action", "action"),
    ("how_it_solves", "explanation of how it solves the problem"),
    ("long_term_goal", "link to a long-term goal of the vision"),
)
_AGENCY_TEXT = (
    ("organisation", "organisation"),
    ("branch", "branch"),
    ("contact_name", "contact name"),
    ("title", "contact's title"),
    ("email", "contact email"),
    ("role", "role"),
)


def validate_commitment(
    c: CommitmentProposal,
    *,
    plan_end: date,
    index: int | None = None,
    durations: Durations = DEFAULT_DURATIONS,
) -> list[RuleViolation]:
    """Every R3.5, R3.6, R3.7 and R3.9 failure of one commitment; empty when it is valid.

    With ``index`` the fields are reported as ``commitments[index].…``.
    """
    prefix = f"commitments[{index}]" if index is not None else ""
    name = f"Commitment {index + 1}" if index is not None else "The commitment"
    return [
        *_duration_violations(c, plan_end, prefix, name, durations),
        *_language_violations(c, prefix, name),
        *_field_violations(c, prefix, name, durations),
        *_milestone_violations(c.milestones, prefix, name),
    ]


def _duration_violations(
    c: CommitmentProposal, plan_end: date, prefix: str, name: str, durations: Durations
) -> list[RuleViolation]:
    found: list[RuleViolation] = []
    at = _field(prefix, "end")
    shortest_end = add_months(c.start, durations.commitment_min_months)
    if c.end <= c.start:
        found.append(
            CommitmentEndsBeforeStart(
                f"{name} ends on {c.end.isoformat()}, which is not after its start on "
                f"{c.start.isoformat()}.",
                hint="Check the start and end dates; the end must come after the start.",
                field=at,
            )
        )
    elif c.end < shortest_end:
        found.append(
            CommitmentTooShort(
                f"{name} runs from {c.start.isoformat()} to {c.end.isoformat()}, which is "
                f"shorter than {durations.commitment_min_months} months.",
                hint=f"Set its end date to {shortest_end.isoformat()} or later.",
                field=at,
            )
        )
    if c.end > plan_end:
        found.append(
            CommitmentEndsAfterPlan(
                f"{name} ends on {c.end.isoformat()}, after the plan ends on "
                f"{plan_end.isoformat()}.",
                hint=f"End the commitment on {plan_end.isoformat()} at the latest.",
                field=at,
            )
        )
    return found


def _language_violations(c: CommitmentProposal, prefix: str, name: str) -> list[RuleViolation]:
    if is_english(c.language):
        return []
    return [
        NotInEnglish(
            f"{name} is filed in '{c.language}'; commitments are filed in English.",
            hint="File an English version of the commitment.",
            field=_field(prefix, "language"),
        )
    ]


def _field_violations(
    c: CommitmentProposal, prefix: str, name: str, durations: Durations
) -> list[RuleViolation]:
    found: list[RuleViolation] = []
    for attr, label in _REQUIRED_TEXT:
        if _blank(getattr(c, attr)):
            found.append(
                CommitmentFieldMissing(
                    f"{name} has no {label}.",
                    hint=f"Fill in the commitment's {label}.",
                    field=_field(prefix, attr),
                )
            )
    agency = c.lead_agency
    for attr, label in _AGENCY_TEXT:
        if _blank(getattr(agency, attr)):
            found.append(
                CommitmentFieldMissing(
                    f"{name} does not give the lead agency's {label}.",
                    hint=f"Fill in the lead agency's {label}.",
                    field=_field(prefix, f"lead_agency.{attr}"),
                )
            )
    if not _blank(agency.email) and not _EMAIL.fullmatch(agency.email.strip()):
        found.append(
            LeadAgencyEmailInvalid(
                f"{name}: '{agency.email}' does not look like an email address.",
                hint="Give the lead agency contact's address, such as name@city.gov.",
                field=_field(prefix, "lead_agency.email"),
            )
        )
    found += _vocabulary_violations(
        c.policy_areas, POLICY_AREAS, _field(prefix, "policy_areas"), name, "policy area"
    )
    if len(c.policy_areas) > durations.max_policy_areas:
        found.append(
            TooManyPolicyAreas(
                f"{name} names {len(c.policy_areas)} policy areas; at most "
                f"{durations.max_policy_areas} are allowed.",
                hint="Keep the policy areas that matter most.",
                field=_field(prefix, "policy_areas"),
            )
        )
    found += _vocabulary_violations(c.sectors, SECTORS, _field(prefix, "sectors"), name, "sector")
    if len(c.sectors) > durations.max_sectors:
        found.append(
            TooManySectors(
                f"{name} names {len(c.sectors)} sectors; at most {durations.max_sectors} "
                "are allowed.",
                hint="Keep the sectors that matter most.",
                field=_field(prefix, "sectors"),
            )
        )
    found += _vocabulary_violations(
        c.ogp_values, OGP_VALUES, _field(prefix, "ogp_values"), name, "OGP value"
    )
    if not c.ogp_values:
        found.append(
            NoOgpValue(
                f"{name} names no OGP value.",
                hint="Choose at least one of: " + "; ".join(OGP_VALUES) + ".",
                field=_field(prefix, "ogp_values"),
            )
        )
    if canonical(RESOURCES_SECURED, c.resources_secured) is None:
        found.append(
            UnknownVocabularyTerm(
                f"{name}: '{c.resources_secured}' is not a valid answer to whether resources "
                "are secured.",
                hint="Answer yes, no or partially.",
                field=_field(prefix, "resources_secured"),
            )
        )
    found += _resource_violations(c, prefix, name)
    if not c.milestones:
        found.append(
            NoMilestones(
                f"{name} has no milestone.",
                hint="Add at least one milestone with its outcome, months, agency and contact.",
                field=_field(prefix, "milestones"),
            )
        )
    return found


def _vocabulary_violations(
    values: Iterable[str], vocabulary: tuple[str, ...], at: str, name: str, label: str
) -> list[RuleViolation]:
    return [
        UnknownVocabularyTerm(
            f"{name}: '{value}' is not a known {label}.",
            hint=f"Use a {label} from the handbook's list, such as '{vocabulary[0]}'.",
            field=f"{at}[{k}]",
        )
        for k, value in enumerate(values)
        if canonical(vocabulary, value) is None
    ]


def _resource_violations(c: CommitmentProposal, prefix: str, name: str) -> list[RuleViolation]:
    found: list[RuleViolation] = []
    resources = c.resources
    amount = resources.budget_amount
    if amount is not None:
        if not amount.is_finite() or amount < 0:
            found.append(
                ResourcesInvalid(
                    f"{name}: the budget amount {amount} is not a positive number.",
                    hint="Give the budget as a number, zero or more.",
                    field=_field(prefix, "resources.budget_amount"),
                )
            )
        currency = resources.currency
        if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency.strip()):
            found.append(
                BudgetCurrencyInvalid(
                    f"{name}: the budget has no valid currency code.",
                    hint="Give the three-letter currency code, such as EUR or USD.",
                    field=_field(prefix, "resources.currency"),
                )
            )
    for attr, label in (("staff", "staff count"), ("months", "number of months")):
        value = getattr(resources, attr)
        if value is not None and value < 0:
            found.append(
                ResourcesInvalid(
                    f"{name}: the {label} cannot be negative.",
                    hint=f"Give the {label} as zero or more, or leave it empty.",
                    field=_field(prefix, f"resources.{attr}"),
                )
            )
    return found


def _milestone_violations(
    milestones: tuple[MilestoneProposal, ...], prefix: str, name: str
) -> list[RuleViolation]:
    found: list[RuleViolation] = []
    for j, m in enumerate(milestones):
        at = _field(prefix, f"milestones[{j}]")
        which = f"{name}, milestone {j + 1}"
        for attr, label in (
            ("outcome", "outcome"),
            ("responsible_agency", "responsible agency"),
            ("contact", "contact"),
        ):
            if _blank(getattr(m, attr)):
                found.append(
                    MilestoneFieldMissing(
                        f"{which} has no {label}.",
                        hint=f"Fill in the milestone's {label}.",
                        field=f"{at}.{attr}",
                    )
                )
        start, end = _month(m.start_month), _month(m.end_month)
        for attr, parsed in (("start_month", start), ("end_month", end)):
            if parsed is None:
                found.append(
                    MilestoneMonthInvalid(
                        f"{which}: '{getattr(m, attr)}' is not a month written MM/YYYY.",
                        hint="Write the month as two digits, a slash and the year, e.g. 03/2027.",
                        field=f"{at}.{attr}",
                    )
                )
        if start is not None and end is not None and end < start:
            found.append(
                MilestoneEndsBeforeStart(
                    f"{which} ends in {m.end_month}, before it starts in {m.start_month}.",
                    hint="Make the end month the same as or later than the start month.",
                    field=f"{at}.end_month",
                )
            )
        if canonical(MILESTONE_STATUSES, m.status) is None:
            found.append(
                MilestoneStatusUnknown(
                    f"{which}: '{m.status}' is not a milestone status.",
                    hint="Use one of: " + ", ".join(MILESTONE_STATUSES) + ".",
                    field=f"{at}.status",
                )
            )
    return found


# --- plans ---------------------------------------------------------------------------


def validate_plan(plan: PlanProposal, *, durations: Durations = DEFAULT_DURATIONS) -> None:
    """Refuse a plan that breaks any rule of §3 or R4.0, reporting every failure at once."""
    violations = plan_violations(plan, durations=durations)
    if violations:
        raise Refusals(violations, subject="action plan")


def plan_violations(
    plan: PlanProposal, *, durations: Durations = DEFAULT_DURATIONS
) -> list[RuleViolation]:
    """Every failure :func:`validate_plan` would report, in field order; empty when valid."""
    plan_end = plan.vision.plan_end
    found: list[RuleViolation] = []
    found += _period_violations(plan, durations)
    found += _vision_violations(plan)
    if not is_english(plan.language):
        found.append(
            NotInEnglish(
                f"The plan is filed in '{plan.language}'; plans are filed in English.",
                hint="File an English version of the plan.",
                field="language",
            )
        )
    found += _limit_violations(plan)
    for i, c in enumerate(plan.commitments):
        found += validate_commitment(c, plan_end=plan_end, index=i, durations=durations)
    found += _cocreation_violations(plan, durations)
    found += _monitoring_violations(plan)
    found += _coalition_violations(plan, durations)
    return found


def _elected(plan: PlanProposal) -> list[tuple[int, JurisdictionFacts]]:
    return [(i, j) for i, j in enumerate(plan.jurisdictions) if j.has_elections]


def _governing_term_end(plan: PlanProposal) -> date | None:
    """R3.1 / R3.13: the longest term among jurisdictions with elections, when all are known."""
    elected = _elected(plan)
    if not elected or any(j.term_end is None for _, j in elected):
        return None
    return max(j.term_end for _, j in elected if j.term_end is not None)


def _period_violations(plan: PlanProposal, durations: Durations) -> list[RuleViolation]:
    found: list[RuleViolation] = []
    filed_on, plan_end = plan.filed_on, plan.vision.plan_end
    elected = _elected(plan)
    for i, j in elected:
        if j.term_end is None:
            found.append(
                JurisdictionTermEndMissing(
                    f"{j.name or j.code} holds elections but its current term's end date is "
                    "not given.",
                    hint="Give the date the current administration's term ends.",
                    field=f"jurisdictions[{i}].term_end",
                )
            )
    if plan_end <= filed_on:
        found.append(
            PlanEndsBeforeFiling(
                f"The plan ends on {plan_end.isoformat()}, which is not after it is filed on "
                f"{filed_on.isoformat()}.",
                hint="Set a plan end date in the future.",
                field="vision.plan_end",
            )
        )
        return found
    if elected:
        term_end = _governing_term_end(plan)
        if term_end is None:
            return found
        latest = add_months(term_end, -durations.plan_end_before_term_end_months)
        if plan_end > latest:
            whose = (
                "the longest term in the coalition"
                if len(plan.jurisdictions) > 1
                else "the administration's term"
            )
            found.append(
                PlanEndsTooLate(
                    f"The plan ends on {plan_end.isoformat()}, less than "
                    f"{durations.plan_end_before_term_end_months} months before {whose} ends "
                    f"on {term_end.isoformat()}.",
                    hint=f"End the plan on {latest.isoformat()} at the latest.",
                    field="vision.plan_end",
                )
            )
        return found
    shortest = add_months(filed_on, 12 * durations.plan_min_years_without_elections)
    longest = add_months(filed_on, 12 * durations.plan_max_years_without_elections)
    if not shortest <= plan_end <= longest:
        found.append(
            PlanPeriodOutOfRange(
                f"The plan runs from {filed_on.isoformat()} to {plan_end.isoformat()}; without "
                f"elections a plan lasts between {durations.plan_min_years_without_elections} "
                f"and {durations.plan_max_years_without_elections} years.",
                hint=f"End the plan between {shortest.isoformat()} and {longest.isoformat()}.",
                field="vision.plan_end",
            )
        )
    return found


def _missing_answers(answers: Mapping[str, str], keys: tuple[str, ...]) -> list[str]:
    return [key for key in keys if _blank(answers.get(key))]


def _vision_violations(plan: PlanProposal) -> list[RuleViolation]:
    vision = plan.vision
    found: list[RuleViolation] = []
    if _blank(vision.foreword):
        found.append(
            StrategicVisionIncomplete(
                "The strategic vision has no foreword.",
                hint="Write the foreword of the strategic vision.",
                field="vision.foreword",
            )
        )
    for attr, keys, label in (
        ("vision_answers", VISION_ANSWER_KEYS, "vision"),
        ("engagement_answers", ENGAGEMENT_ANSWER_KEYS, "engagement"),
        ("monitoring_answers", MONITORING_ANSWER_KEYS, "monitoring"),
    ):
        for key in _missing_answers(getattr(vision, attr), keys):
            found.append(
                StrategicVisionIncomplete(
                    f"The strategic vision does not answer {label} question {key}.",
                    hint=f"Answer question {key} of the strategic vision.",
                    field=f'vision.{attr}["{key}"]',
                )
            )
    term_end = _governing_term_end(plan)
    if term_end is not None:
        if vision.term_end is None:
            found.append(
                StrategicVisionIncomplete(
                    "The strategic vision does not give the end of the administration's term.",
                    hint=f"Give the term end, {term_end.isoformat()}.",
                    field="vision.term_end",
                )
            )
        elif vision.term_end != term_end:
            found.append(
                VisionTermEndMismatch(
                    f"The strategic vision gives {vision.term_end.isoformat()} as the term end, "
                    f"but the jurisdiction's term ends on {term_end.isoformat()}.",
                    hint="Correct whichever of the two dates is wrong.",
                    field="vision.term_end",
                )
            )
    return found


def _limit_violations(plan: PlanProposal) -> list[RuleViolation]:
    count = len(plan.commitments)
    if count == 0:
        return [
            NoCommitments(
                "The plan has no commitment.",
                hint="Add the plan's initial commitments.",
                field="commitments",
            )
        ]
    size = len(plan.jurisdictions)
    if not 1 <= size <= 4:
        return []  # the coalition's size is refused under R3.13; no limit applies
    limit = commitment_limit(size)
    if count > limit:
        return [
            TooManyCommitments(
                f"The plan has {count} commitments; a plan for {size} "
                f"jurisdiction{'s' if size > 1 else ''} may have at most {limit}.",
                hint=f"Keep at most {limit} commitments.",
                field="commitments",
            )
        ]
    return []


def _cocreation_violations(plan: PlanProposal, durations: Durations) -> list[RuleViolation]:
    record = plan.cocreation
    found: list[RuleViolation] = []
    if not record.forum_exists:
        found.append(
            NoParticipationForum(
                "No participation space exists for the co-creation of the plan.",
                hint="Set up a forum where government and civil society meet, and record it.",
                field="cocreation.forum_exists",
            )
        )
    else:
        missing = [
            (attr, label)
            for attr, label, present in (
                ("forum_has_government", "governmental", record.forum_has_government),
                (
                    "forum_has_non_governmental",
                    "non-governmental",
                    record.forum_has_non_governmental,
                ),
            )
            if not present
        ]
        if missing:
            labels = " and ".join(label for _, label in missing)
            found.append(
                ForumNotMultistakeholder(
                    f"The participation space has no {labels} representatives.",
                    hint="Bring both governmental and non-governmental members into the forum.",
                    field=f"cocreation.{missing[0][0]}",
                )
            )
    meetings = record.cocreation_meetings_with_non_governmental
    if meetings < durations.cocreation_meetings_min:
        found.append(
            TooFewCoCreationMeetings(
                f"Co-creation held {meetings} meeting(s) with non-governmental stakeholders; at "
                f"least {durations.cocreation_meetings_min} is required.",
                hint="Hold and record a co-creation meeting with non-governmental stakeholders.",
                field="cocreation.cocreation_meetings_with_non_governmental",
            )
        )
    if not any(not _blank(name) for name in plan.vision.endorsing_stakeholders):
        found.append(
            NoEndorsingStakeholders(
                "The plan lists no non-governmental stakeholder endorsing it.",
                hint="List the non-governmental stakeholders who endorse the plan.",
                field="vision.endorsing_stakeholders",
            )
        )
    return found


def _monitoring_violations(plan: PlanProposal) -> list[RuleViolation]:
    if _blank(plan.monitoring_body):
        return [
            MonitoringBodyMissing(
                "The plan does not name its monitoring body.",
                hint="Name the independent body that will monitor the plan.",
                field="monitoring_body",
            )
        ]
    if not plan.monitoring_body_endorsed:
        return [
            MonitoringBodyNotEndorsed(
                f"The monitoring body '{plan.monitoring_body}' has not been endorsed by the "
                "non-governmental stakeholders.",
                hint="Obtain and record the stakeholders' endorsement of the monitoring body.",
                field="monitoring_body_endorsed",
            )
        ]
    return []


def _outlives_term(end: date, term_end: date, durations: Durations, *, field: str, what: str, whose: str,
                   instead: str = "") -> list[RuleViolation]:
    """R3.13: a commitment ends at least two months before the term it belongs to (empty when it does)."""
    months = durations.plan_end_before_term_end_months
    latest = add_months(term_end, -months)
    if end <= latest:
        return []
    return [CommitmentOutlivesJurisdictionTerm(
        f"{what} ends on {end.isoformat()}, less than {months} months before {whose} ends on "
        f"{term_end.isoformat()}.",
        hint=f"End it on {latest.isoformat()} at the latest{', ' + instead if instead else ''}.",
        field=field,
    )]


def _coalition_violations(plan: PlanProposal, durations: Durations) -> list[RuleViolation]:
    found: list[RuleViolation] = []
    jurisdictions = plan.jurisdictions
    size = len(jurisdictions)
    if not 1 <= size <= 4:
        found.append(
            CoalitionSizeInvalid(
                f"The plan is filed for {size} jurisdictions; a plan covers one jurisdiction "
                "or a coalition of two to four.",
                hint="File the plan for one jurisdiction, or for a coalition of two to four.",
                field="jurisdictions",
            )
        )
    by_code: dict[str, JurisdictionFacts] = {}
    for i, j in enumerate(jurisdictions):
        key = j.code.strip().casefold()
        if key in by_code:
            found.append(
                DuplicateJurisdiction(
                    f"Jurisdiction {j.code} appears more than once in the plan.",
                    hint="List each member of the coalition once.",
                    field=f"jurisdictions[{i}].code",
                )
            )
        else:
            by_code[key] = j
    if size >= 2:
        first = jurisdictions[0]
        first_country = first.country.strip().casefold()
        for i, j in enumerate(jurisdictions[1:], start=1):
            if j.country.strip().casefold() != first_country:
                found.append(
                    CoalitionCountriesDiffer(
                        f"{j.name or j.code} is in {j.country}, but {first.name or first.code} "
                        f"is in {first.country}; a coalition's members share a country.",
                        hint="File separate plans for jurisdictions of different countries.",
                        field=f"jurisdictions[{i}].country",
                    )
                )
                break
        if _blank(plan.point_of_contact):
            found.append(
                PointOfContactMissing(
                    "The coalition's plan does not name its point of contact.",
                    hint="Name the one point of contact who files for the whole coalition.",
                    field="point_of_contact",
                )
            )
    # R3.13: a joint commitment is every partner's, so it ends before the shortest term among them.
    terms = [j for j in jurisdictions if j.has_elections and j.term_end is not None]
    shortest = min(terms, key=lambda j: j.term_end) if size >= 2 and terms else None
    for i, c in enumerate(plan.commitments):
        if c.jurisdiction is None:
            if shortest is not None:
                found += _outlives_term(c.end, shortest.term_end, durations, field=f"commitments[{i}].end",
                                        what=f"Joint commitment {i + 1}",
                                        whose=f"the term of {shortest.name or shortest.code}, the shortest in the "
                                              "coalition,",
                                        instead="or make it a commitment of the partners whose terms run longer")
            continue
        owner = by_code.get(c.jurisdiction.strip().casefold())
        if owner is None:
            found.append(
                UnknownCommitmentJurisdiction(
                    f"Commitment {i + 1} belongs to '{c.jurisdiction}', which is not a "
                    "jurisdiction of this plan.",
                    hint="Use the code of one of the plan's jurisdictions, or none for a joint "
                    "commitment.",
                    field=f"commitments[{i}].jurisdiction",
                )
            )
            continue
        if size < 2 or not owner.has_elections or owner.term_end is None:
            continue
        found += _outlives_term(c.end, owner.term_end, durations, field=f"commitments[{i}].end",
                                what=f"Commitment {i + 1} of {owner.name or owner.code}",
                                whose="that jurisdiction's term", instead="or make it joint")
    return found


# --- during implementation (R3.4, R3.10) ---------------------------------------------


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _approval_violations(
    approved_by: Iterable[str], stakeholders: Iterable[str], decision_process: str
) -> tuple[tuple[str, ...], list[RuleViolation]]:
    """R3.10: the approvers, as the plan records them, and what is wrong with the approval.

    ``stakeholders`` are the non-governmental stakeholders recorded for the plan (its
    endorsers, the member's stakeholder accounts); an approver is one of them, compared
    without regard to case or spacing.
    """
    recorded: dict[str, str] = {}
    for name in stakeholders:
        if not _blank(name):
            recorded.setdefault(_key(name), " ".join(name.split()))
    who = "; ".join(recorded.values())
    may_approve = (
        f"Those who may approve: {who}."
        if recorded
        else "No non-governmental stakeholder is recorded for this plan yet: record their "
        "accounts as stakeholders of the member first."
    )
    found: list[RuleViolation] = []
    named = [n for n in approved_by if not _blank(n)]
    approvers: list[str] = []
    unknown: list[str] = []
    for name in named:
        match = recorded.get(_key(name))
        if match is None:
            unknown.append(" ".join(name.split()))
        elif match not in approvers:
            approvers.append(match)
    if not named:
        found.append(
            ModificationNotApproved(
                "The change names no non-governmental stakeholder of the co-creation "
                "approving it.",
                hint=f"Name who approved it. {may_approve}",
                field="approved_by",
            )
        )
    if unknown:
        names = ", ".join(f"\u201c{n}\u201d" for n in unknown)
        found.append(
            ApproverNotRecorded(
                f"{names} {'is' if len(unknown) == 1 else 'are'} not recorded as a "
                "non-governmental stakeholder of this plan.",
                hint=may_approve,
                field="approved_by",
            )
        )
    if _blank(decision_process):
        found.append(
            DecisionProcessUndocumented(
                "The change does not describe how the decision was taken.",
                hint="Describe who decided, when and how, and link the minutes.",
                field="decision_process",
            )
        )
    return tuple(approvers), found


def check_replacement(
    c: CommitmentProposal,
    *,
    today: date,
    plan_end: date,
    open_commitments: int,
    limit: int,
    assessed_completed: int,
    replacements_so_far: int,
    approved_by: Iterable[str],
    stakeholders: Iterable[str],
    decision_process: str,
    term_end: date | None = None,
    durations: Durations = DEFAULT_DURATIONS,
) -> tuple[str, ...]:
    """R3.4: refuse a commitment added during implementation unless a freed slot allows it.

    ``term_end`` (R3.13, in a coalition): the term the commitment must end two months before, its
    owner's, or for a joint commitment the shortest of the partners'.

    A slot is freed by each completed commitment whose end-of-commitment assessment is
    filed; each replacement uses one. ``limit`` is the R3.3 limit for the plan. Adding a
    commitment changes the plan, so it needs the approval of R3.10 as a modification does.
    Every failure is reported in one :class:`Refusals`; returns the approvers as recorded.
    """
    found: list[RuleViolation] = []
    if assessed_completed <= replacements_so_far:
        found.append(
            NoReplacementSlot(
                "No completed commitment with a filed end-of-commitment assessment is left "
                "to replace.",
                hint="Wait until a commitment is completed and its assessment is filed.",
            )
        )
    outside = today > plan_end or not today < c.end <= plan_end
    if outside:
        found.append(
            ReplacementOutsidePlanPeriod(
                f"The new commitment ends on {c.end.isoformat()}, outside what remains of the "
                f"plan ({today.isoformat()} to {plan_end.isoformat()}).",
                hint=f"End it after {today.isoformat()} and on {plan_end.isoformat()} at the "
                "latest.",
                field="end",
            )
        )
    if open_commitments >= limit:
        found.append(
            TooManyCommitments(
                f"The plan already has {open_commitments} open commitments, its limit of {limit}.",
                hint="Add the commitment once another one is completed or withdrawn.",
                field="commitments",
            )
        )
    if term_end is not None:
        found += _outlives_term(c.end, term_end, durations, field="end", what="The new commitment",
                                whose="the term it belongs to")
    for violation in validate_commitment(c, plan_end=plan_end, durations=durations):
        # The plan-end breach is already reported under R3.4 above.
        if not (outside and isinstance(violation, CommitmentEndsAfterPlan)):
            found.append(violation)
    approvers, unapproved = _approval_violations(approved_by, stakeholders, decision_process)
    found += unapproved
    if found:
        raise Refusals(found, subject="commitment")
    return approvers


def check_modification(
    *,
    submitted_on: date,
    today: date,
    approved_by: Iterable[str],
    stakeholders: Iterable[str],
    decision_process: str,
    durations: Durations = DEFAULT_DURATIONS,
) -> tuple[str, ...]:
    """R3.10: refuse a change to a commitment made late, unapproved or undocumented.

    ``approved_by`` are the names the change gives; ``stakeholders`` the non-governmental
    stakeholders recorded for the plan (see :func:`_approval_violations`). Returns the
    approvers as the plan records them.
    """
    found: list[RuleViolation] = []
    window = durations.modification_window_months
    closes_on = add_months(submitted_on, window)
    if today > closes_on:
        found.append(
            ModificationWindowClosed(
                f"The commitment was submitted on {submitted_on.isoformat()}; it could be "
                f"changed until {closes_on.isoformat()}, {window} months later.",
                hint="Keep the commitment as it is, or report the change in the tracker.",
                field="submitted_on",
            )
        )
    approvers, unapproved = _approval_violations(approved_by, stakeholders, decision_process)
    found += unapproved
    if found:
        raise Refusals(found, subject="commitment modification")
    return approvers
