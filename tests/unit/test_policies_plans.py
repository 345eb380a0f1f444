"""Unit tests of action-plan and commitment validation (§3 and R4.0 of the rulebook)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factories import (
    FILED_ON,
    PLAN_END,
    TERM_END,
    valid_agency,
    valid_cocreation,
    valid_coalition_plan,
    valid_commitment,
    valid_jurisdiction,
    valid_milestone,
    valid_plan,
    valid_resources,
    valid_vision,
)
from policies.calendar import add_months
from policies.errors import Refusals, RuleViolation
from policies.plans import (
    BudgetCurrencyInvalid,
    CoalitionCountriesDiffer,
    CoalitionSizeInvalid,
    CommitmentEndsAfterPlan,
    CommitmentEndsBeforeStart,
    CommitmentFieldMissing,
    CommitmentOutlivesJurisdictionTerm,
    CommitmentTooShort,
    DecisionProcessUndocumented,
    DuplicateJurisdiction,
    ForumNotMultistakeholder,
    JurisdictionTermEndMissing,
    LeadAgencyEmailInvalid,
    MilestoneEndsBeforeStart,
    MilestoneFieldMissing,
    MilestoneMonthInvalid,
    MilestoneStatusUnknown,
    ModificationNotApproved,
    ModificationWindowClosed,
    MonitoringBodyMissing,
    MonitoringBodyNotEndorsed,
    NoCommitments,
    NoEndorsingStakeholders,
    NoMilestones,
    NoOgpValue,
    NoParticipationForum,
    NoReplacementSlot,
    NotInEnglish,
    PlanEndsBeforeFiling,
    PlanEndsTooLate,
    PlanPeriodOutOfRange,
    PointOfContactMissing,
    ReplacementOutsidePlanPeriod,
    ResourcesInvalid,
    StrategicVisionIncomplete,
    TooFewCoCreationMeetings,
    TooManyCommitments,
    TooManyPolicyAreas,
    TooManySectors,
    UnknownCommitmentJurisdiction,
    UnknownVocabularyTerm,
    VisionTermEndMismatch,
    check_modification,
    check_replacement,
    validate_commitment,
    validate_plan,
)
from policies.proposals import (
    ENGAGEMENT_ANSWER_KEYS,
    MONITORING_ANSWER_KEYS,
    VISION_ANSWER_KEYS,
    CommitmentProposal,
    PlanProposal,
)
from policies.rules import Durations, commitment_limit
from policies.vocabularies import MILESTONE_STATUSES, POLICY_AREAS, canonical

ONE_DAY = timedelta(days=1)
LATEST_PLAN_END = add_months(TERM_END, -2)  # R3.1 for the factories' term end


def refused(plan: PlanProposal, **kwargs: object) -> list[RuleViolation]:
    """The violations validate_plan reports for ``plan``."""
    with pytest.raises(Refusals) as caught:
        validate_plan(plan, **kwargs)
    assert caught.value.violations, "Refusals always carries its violations"
    return caught.value.violations


def the_one(violations: list[RuleViolation]) -> RuleViolation:
    """The only violation reported; fails the test when there are none or several."""
    assert len(violations) == 1, [str(v) for v in violations]
    return violations[0]


def rules_and_fields(violations: list[RuleViolation]) -> list[tuple[str, str | None]]:
    return [(v.rule, v.field) for v in violations]


def with_commitment(**overrides: object) -> PlanProposal:
    return valid_plan(commitments=(valid_commitment(**overrides),))


def with_milestone(**overrides: object) -> PlanProposal:
    return with_commitment(milestones=(valid_milestone(**overrides),))


# --- the valid plan and Refusals ------------------------------------------------------


def test_r2_4_a_plan_meeting_every_rule_of_section_3_is_accepted() -> None:
    validate_plan(valid_plan())


def test_r2_4_a_coalition_plan_meeting_every_rule_is_accepted() -> None:
    validate_plan(valid_coalition_plan(size=4))


def test_r3_validate_plan_reports_every_violation_at_once() -> None:
    plan = valid_plan(
        language="fr",
        vision=valid_vision(plan_end=add_months(TERM_END, -1), foreword=" "),
        commitments=(valid_commitment(title="", end=date(2026, 12, 31)),),
        monitoring_body=None,
        cocreation=valid_cocreation(forum_exists=False),
    )

    with pytest.raises(Refusals) as caught:
        validate_plan(plan)

    refusal = caught.value
    assert rules_and_fields(refusal.violations) == [
        ("R3.1", "vision.plan_end"),
        ("R3.2", "vision.foreword"),
        ("R3.6", "language"),
        ("R3.5", "commitments[0].end"),
        ("R3.7", "commitments[0].title"),
        ("R3.11", "cocreation.forum_exists"),
        ("R4.0", "monitoring_body"),
    ]
    assert refusal.rule == "R3.1"
    assert "action plan" in refusal.message
    assert all(v.message and v.hint for v in refusal.violations)


# --- R3.1 plan period -----------------------------------------------------------------


def test_r3_1_plan_ending_exactly_two_months_before_term_end_is_accepted() -> None:
    validate_plan(valid_plan(vision=valid_vision(plan_end=LATEST_PLAN_END)))


def test_r3_1_plan_ending_less_than_two_months_before_term_end_is_refused() -> None:
    plan = valid_plan(vision=valid_vision(plan_end=LATEST_PLAN_END + ONE_DAY))

    violation = the_one(refused(plan))

    assert isinstance(violation, PlanEndsTooLate)
    assert (violation.rule, violation.field) == ("R3.1", "vision.plan_end")
    assert LATEST_PLAN_END.isoformat() in violation.hint


@pytest.mark.parametrize(
    ("term_end", "latest"),
    [
        (date(2029, 4, 30), date(2029, 2, 28)),  # D1: clamped to the shorter month
        (date(2028, 4, 30), date(2028, 2, 29)),  # leap year
        (date(2029, 12, 31), date(2029, 10, 31)),
    ],
)
def test_r3_1_two_months_before_a_month_end_term_is_clamped_to_the_month_end(
    term_end: date, latest: date
) -> None:
    def plan_ending(plan_end: date) -> PlanProposal:
        return valid_plan(
            vision=valid_vision(term_end=term_end, plan_end=plan_end),
            jurisdictions=(valid_jurisdiction(term_end=term_end),),
        )

    validate_plan(plan_ending(latest))
    violation = the_one(refused(plan_ending(latest + ONE_DAY)))
    assert (violation.rule, violation.field) == ("R3.1", "vision.plan_end")


@pytest.mark.parametrize("plan_end", [FILED_ON, FILED_ON - ONE_DAY])
def test_r3_1_plan_ending_on_or_before_its_filing_date_is_refused(plan_end: date) -> None:
    plan = valid_plan(
        vision=valid_vision(plan_end=plan_end),
        commitments=(valid_commitment(start=date(2024, 1, 1), end=date(2025, 1, 1)),),
    )

    violation = the_one(refused(plan))

    assert isinstance(violation, PlanEndsBeforeFiling)
    assert (violation.rule, violation.field) == ("R3.1", "vision.plan_end")


def test_r3_1_jurisdiction_with_elections_must_give_its_term_end() -> None:
    plan = valid_plan(jurisdictions=(valid_jurisdiction(term_end=None),))

    violation = the_one(refused(plan))

    assert isinstance(violation, JurisdictionTermEndMissing)
    assert (violation.rule, violation.field) == ("R3.1", "jurisdictions[0].term_end")


def _without_elections(plan_end: date) -> PlanProposal:
    # The commitment starts before filing so that it fits even the shortest plan (R3.5).
    return valid_plan(
        vision=valid_vision(term_end=None, plan_end=plan_end),
        jurisdictions=(valid_jurisdiction(has_elections=False, term_end=None),),
        commitments=(valid_commitment(start=date(2026, 1, 5), end=date(2027, 1, 5)),),
    )


@pytest.mark.parametrize(
    "plan_end",
    [add_months(FILED_ON, 12), add_months(FILED_ON, 48)],
    ids=["exactly one year", "exactly four years"],
)
def test_r3_1_without_elections_a_plan_of_one_to_four_years_is_accepted(plan_end: date) -> None:
    validate_plan(_without_elections(plan_end))


@pytest.mark.parametrize(
    "plan_end",
    [add_months(FILED_ON, 12) - ONE_DAY, add_months(FILED_ON, 48) + ONE_DAY],
    ids=["a day short of one year", "a day over four years"],
)
def test_r3_1_without_elections_a_plan_shorter_than_one_year_or_longer_than_four_is_refused(
    plan_end: date,
) -> None:
    violation = the_one(refused(_without_elections(plan_end)))

    assert isinstance(violation, PlanPeriodOutOfRange)
    assert (violation.rule, violation.field) == ("R3.1", "vision.plan_end")


# --- R3.2 strategic vision ------------------------------------------------------------


@pytest.mark.parametrize("foreword", ["", "   "])
def test_r3_2_vision_without_a_foreword_is_refused(foreword: str) -> None:
    violation = the_one(refused(valid_plan(vision=valid_vision(foreword=foreword))))

    assert isinstance(violation, StrategicVisionIncomplete)
    assert (violation.rule, violation.field) == ("R3.2", "vision.foreword")


@pytest.mark.parametrize(
    ("attr", "key"),
    [("vision_answers", key) for key in VISION_ANSWER_KEYS]
    + [("engagement_answers", key) for key in ENGAGEMENT_ANSWER_KEYS]
    + [("monitoring_answers", key) for key in MONITORING_ANSWER_KEYS],
)
@pytest.mark.parametrize("how", ["missing", "blank"])
def test_r3_2_vision_missing_any_answer_from_4_1_to_6_5_is_refused(
    attr: str, key: str, how: str
) -> None:
    answers = dict(getattr(valid_vision(), attr))
    if how == "missing":
        del answers[key]
    else:
        answers[key] = "  "
    plan = valid_plan(vision=valid_vision(**{attr: answers}))

    violation = the_one(refused(plan))

    assert isinstance(violation, StrategicVisionIncomplete)
    assert (violation.rule, violation.field) == ("R3.2", f'vision.{attr}["{key}"]')


def test_r3_2_vision_with_a_term_end_other_than_the_jurisdictions_is_refused() -> None:
    plan = valid_plan(vision=valid_vision(term_end=TERM_END + ONE_DAY))

    violation = the_one(refused(plan))

    assert isinstance(violation, VisionTermEndMismatch)
    assert (violation.rule, violation.field) == ("R3.2", "vision.term_end")


def test_r3_2_vision_without_term_end_is_refused_when_the_jurisdiction_holds_elections() -> None:
    violation = the_one(refused(valid_plan(vision=valid_vision(term_end=None))))

    assert isinstance(violation, StrategicVisionIncomplete)
    assert (violation.rule, violation.field) == ("R3.2", "vision.term_end")


# --- R3.3 commitment limit ------------------------------------------------------------


@pytest.mark.parametrize(("size", "limit"), [(1, 5), (2, 10), (3, 12), (4, 12)])
def test_r3_3_commitment_limit_is_5_10_12_12_for_1_to_4_jurisdictions(
    size: int, limit: int
) -> None:
    assert commitment_limit(size) == limit
    at_limit = valid_coalition_plan(size=size, commitments=(valid_commitment(),) * limit)
    validate_plan(at_limit)

    over = replace(at_limit, commitments=(valid_commitment(),) * (limit + 1))
    violation = the_one(refused(over))

    assert isinstance(violation, TooManyCommitments)
    assert (violation.rule, violation.field) == ("R3.3", "commitments")


def test_r3_3_plan_without_any_commitment_is_refused() -> None:
    violation = the_one(refused(valid_plan(commitments=())))

    assert isinstance(violation, NoCommitments)
    assert (violation.rule, violation.field) == ("R3.3", "commitments")


# --- R3.4 replacement -----------------------------------------------------------------

TODAY = date(2027, 1, 15)
# The non-governmental stakeholders recorded for the plan (R3.10): endorsers and stakeholder accounts.
STAKEHOLDERS = ("Civic Data Association", "Neighbourhood Councils Network")


def replacement(**overrides: object) -> dict[str, object]:
    """Arguments of check_replacement for a replacement that is allowed."""
    arguments: dict[str, object] = {
        "today": TODAY,
        "plan_end": PLAN_END,
        "open_commitments": 4,
        "limit": 5,
        "assessed_completed": 1,
        "replacements_so_far": 0,
        "approved_by": ("Civic Data Association",),
        "stakeholders": STAKEHOLDERS,
        "decision_process": "Approved by the forum on 10 January; minutes linked.",
    }
    return {**arguments, **overrides}


NEW_COMMITMENT = valid_commitment(start=TODAY, end=add_months(TODAY, 12))


def refused_replacement(
    c: CommitmentProposal = NEW_COMMITMENT, **overrides: object
) -> list[RuleViolation]:
    with pytest.raises(Refusals) as caught:
        check_replacement(c, **replacement(**overrides))
    assert "commitment" in caught.value.message
    return caught.value.violations


def test_r3_4_replacement_after_an_assessed_completion_is_accepted() -> None:
    check_replacement(NEW_COMMITMENT, **replacement())


@pytest.mark.parametrize(
    ("assessed_completed", "replacements_so_far"),
    [(0, 0), (1, 1), (2, 3)],
    ids=["nothing assessed", "slot already used", "more replacements than slots"],
)
def test_r3_4_replacement_without_a_free_slot_is_refused(
    assessed_completed: int, replacements_so_far: int
) -> None:
    violation = the_one(
        refused_replacement(
            assessed_completed=assessed_completed, replacements_so_far=replacements_so_far
        )
    )

    assert isinstance(violation, NoReplacementSlot)
    assert violation.rule == "R3.4"


def test_r3_4_replacement_ending_after_the_plan_is_refused_once() -> None:
    c = valid_commitment(start=TODAY, end=PLAN_END + ONE_DAY)

    violation = the_one(refused_replacement(c))

    assert isinstance(violation, ReplacementOutsidePlanPeriod)
    assert (violation.rule, violation.field) == ("R3.4", "end")


def test_r3_4_replacement_ending_exactly_on_the_plan_end_is_accepted() -> None:
    check_replacement(valid_commitment(start=TODAY, end=PLAN_END), **replacement())


def test_r3_4_replacement_after_the_plan_has_ended_is_refused() -> None:
    violations = refused_replacement(today=PLAN_END + ONE_DAY)

    assert ("R3.4", "end") in rules_and_fields(violations)
    assert any(isinstance(v, ReplacementOutsidePlanPeriod) for v in violations)


def test_r3_4_replacement_beyond_the_r3_3_limit_is_refused() -> None:
    violation = the_one(refused_replacement(open_commitments=5, limit=5))

    assert isinstance(violation, TooManyCommitments)
    assert (violation.rule, violation.field) == ("R3.3", "commitments")


def test_r3_4_replacement_is_also_held_to_the_commitment_rules() -> None:
    c = valid_commitment(start=TODAY, end=add_months(TODAY, 12) - ONE_DAY, language="es")

    violations = refused_replacement(c)

    assert rules_and_fields(violations) == [("R3.5", "end"), ("R3.6", "language")]


# --- R3.5 commitment duration ---------------------------------------------------------


def test_r3_5_commitment_lasting_exactly_twelve_months_is_accepted() -> None:
    start = date(2026, 4, 1)
    validate_plan(with_commitment(start=start, end=add_months(start, 12)))


def test_r3_5_commitment_one_day_short_of_twelve_months_is_refused() -> None:
    start = date(2026, 4, 1)
    plan = with_commitment(start=start, end=add_months(start, 12) - ONE_DAY)

    violation = the_one(refused(plan))

    assert isinstance(violation, CommitmentTooShort)
    assert (violation.rule, violation.field) == ("R3.5", "commitments[0].end")


@given(start=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)))
def test_r3_5_twelve_months_from_any_start_is_the_shortest_commitment(start: date) -> None:
    far = date(2100, 1, 1)
    shortest_end = add_months(start, 12)

    assert validate_commitment(valid_commitment(start=start, end=shortest_end), plan_end=far) == []
    too_short = validate_commitment(
        valid_commitment(start=start, end=shortest_end - ONE_DAY), plan_end=far
    )
    assert rules_and_fields(too_short) == [("R3.5", "end")]


def test_r3_5_twelve_months_from_29_february_ends_on_28_february() -> None:
    start, far = date(2028, 2, 29), date(2100, 1, 1)

    assert validate_commitment(valid_commitment(start=start, end=date(2029, 2, 28)), plan_end=far) == []


def test_r3_5_commitment_ending_after_the_plan_is_refused() -> None:
    plan = with_commitment(end=PLAN_END + ONE_DAY)

    violation = the_one(refused(plan))

    assert isinstance(violation, CommitmentEndsAfterPlan)
    assert (violation.rule, violation.field) == ("R3.5", "commitments[0].end")


@pytest.mark.parametrize("end", [date(2026, 6, 1), date(2026, 5, 31)], ids=["same day", "before"])
def test_r3_5_commitment_ending_on_or_before_its_start_is_refused(end: date) -> None:
    plan = with_commitment(start=date(2026, 6, 1), end=end)

    violation = the_one(refused(plan))

    assert isinstance(violation, CommitmentEndsBeforeStart)
    assert (violation.rule, violation.field) == ("R3.5", "commitments[0].end")


def test_r3_5_commitment_may_start_before_the_plan_is_filed() -> None:
    validate_plan(with_commitment(start=FILED_ON - timedelta(days=60)))


def test_r3_5_validate_commitment_without_index_reports_bare_field_names() -> None:
    violations = validate_commitment(valid_commitment(end=PLAN_END + ONE_DAY), plan_end=PLAN_END)

    assert rules_and_fields(violations) == [("R3.5", "end")]


# --- R3.6 language --------------------------------------------------------------------


def test_r3_6_plan_not_filed_in_english_is_refused() -> None:
    violation = the_one(refused(valid_plan(language="fr")))

    assert isinstance(violation, NotInEnglish)
    assert (violation.rule, violation.field) == ("R3.6", "language")


def test_r3_6_commitment_not_filed_in_english_is_refused() -> None:
    plan = valid_plan(commitments=(valid_commitment(), valid_commitment(language="es")))

    violation = the_one(refused(plan))

    assert isinstance(violation, NotInEnglish)
    assert (violation.rule, violation.field) == ("R3.6", "commitments[1].language")


@pytest.mark.parametrize("language", ["en", "EN", "en-GB", "en_US"])
def test_r3_6_english_language_tags_are_accepted(language: str) -> None:
    validate_plan(replace(with_commitment(language=language), language=language))


# --- R3.7 commitment fields -----------------------------------------------------------


@pytest.mark.parametrize(
    "attr", ["title", "problem", "status_quo", "action", "how_it_solves", "long_term_goal"]
)
def test_r3_7_commitment_with_a_blank_required_field_is_refused(attr: str) -> None:
    violation = the_one(refused(with_commitment(**{attr: "  "})))

    assert isinstance(violation, CommitmentFieldMissing)
    assert (violation.rule, violation.field) == ("R3.7", f"commitments[0].{attr}")


@pytest.mark.parametrize(
    "attr", ["organisation", "branch", "contact_name", "title", "email", "role"]
)
def test_r3_7_lead_agency_with_a_blank_field_is_refused(attr: str) -> None:
    plan = with_commitment(lead_agency=valid_agency(**{attr: ""}))

    violation = the_one(refused(plan))

    assert isinstance(violation, CommitmentFieldMissing)
    assert (violation.rule, violation.field) == ("R3.7", f"commitments[0].lead_agency.{attr}")


@pytest.mark.parametrize("email", ["ana.puig", "ana@", "@example.org", "ana puig@example.org"])
def test_r3_7_lead_agency_email_that_is_not_an_address_is_refused(email: str) -> None:
    plan = with_commitment(lead_agency=valid_agency(email=email))

    violation = the_one(refused(plan))

    assert isinstance(violation, LeadAgencyEmailInvalid)
    assert (violation.rule, violation.field) == ("R3.7", "commitments[0].lead_agency.email")


def test_r3_7_three_policy_areas_are_refused() -> None:
    plan = with_commitment(policy_areas=("Open Data", "Open Contracting", "Tax"))

    violation = the_one(refused(plan))

    assert isinstance(violation, TooManyPolicyAreas)
    assert (violation.rule, violation.field) == ("R3.7", "commitments[0].policy_areas")


def test_r3_7_three_sectors_are_refused() -> None:
    plan = with_commitment(sectors=("Aid", "Education", "Justice"))

    violation = the_one(refused(plan))

    assert isinstance(violation, TooManySectors)
    assert (violation.rule, violation.field) == ("R3.7", "commitments[0].sectors")


def test_r3_7_no_policy_area_and_no_sector_is_accepted() -> None:
    validate_plan(with_commitment(policy_areas=(), sectors=()))


@pytest.mark.parametrize(
    ("attr", "values", "field"),
    [
        ("policy_areas", ("Open Data", "Open Budgets"), "commitments[0].policy_areas[1]"),
        ("sectors", ("Tourism",), "commitments[0].sectors[0]"),
        ("ogp_values", ("Civic Participation", "Efficiency"), "commitments[0].ogp_values[1]"),
        ("resources_secured", "maybe", "commitments[0].resources_secured"),
    ],
)
def test_r3_7_a_value_outside_its_vocabulary_is_refused(
    attr: str, values: object, field: str
) -> None:
    violation = the_one(refused(with_commitment(**{attr: values})))

    assert isinstance(violation, UnknownVocabularyTerm)
    assert (violation.rule, violation.field) == ("R3.7", field)


def test_r3_7_vocabulary_values_match_whatever_their_case() -> None:
    validate_plan(
        with_commitment(
            policy_areas=("open data", "  RIGHT TO INFORMATION "),
            sectors=("public services (GENERAL)",),
            ogp_values=("civic participation",),
            resources_secured="Partially",
        )
    )
    assert canonical(POLICY_AREAS, "e-petitions") == "E-Petitions"
    assert canonical(POLICY_AREAS, "petitions") is None


def test_r3_7_commitment_without_an_ogp_value_is_refused() -> None:
    violation = the_one(refused(with_commitment(ogp_values=())))

    assert isinstance(violation, NoOgpValue)
    assert (violation.rule, violation.field) == ("R3.7", "commitments[0].ogp_values")


@pytest.mark.parametrize("currency", [None, "", "EURO", "E1R", "€"])
def test_r3_7_budget_without_a_three_letter_currency_is_refused(currency: str | None) -> None:
    plan = with_commitment(resources=valid_resources(currency=currency))

    violation = the_one(refused(plan))

    assert isinstance(violation, BudgetCurrencyInvalid)
    assert (violation.rule, violation.field) == ("R3.7", "commitments[0].resources.currency")


def test_r3_7_resources_without_a_budget_need_no_currency() -> None:
    validate_plan(with_commitment(resources=valid_resources(budget_amount=None, currency=None)))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"budget_amount": Decimal("-1")}, "commitments[0].resources.budget_amount"),
        ({"budget_amount": Decimal("NaN")}, "commitments[0].resources.budget_amount"),
        ({"staff": -2}, "commitments[0].resources.staff"),
        ({"months": -1}, "commitments[0].resources.months"),
    ],
)
def test_r3_7_negative_resources_are_refused(overrides: dict[str, object], field: str) -> None:
    violation = the_one(refused(with_commitment(resources=valid_resources(**overrides))))

    assert isinstance(violation, ResourcesInvalid)
    assert (violation.rule, violation.field) == ("R3.7", field)


def test_r3_7_commitment_without_milestones_is_refused() -> None:
    violation = the_one(refused(with_commitment(milestones=())))

    assert isinstance(violation, NoMilestones)
    assert (violation.rule, violation.field) == ("R3.7", "commitments[0].milestones")


def test_r3_7_optional_fields_may_be_given_or_left_out() -> None:
    validate_plan(
        with_commitment(
            non_governmental_implementer="Transparency Forum Association",
            other_stakeholders="Chamber of Commerce",
            additional_information="Builds on the 2024 pilot.",
        )
    )


# --- R3.9 milestones ------------------------------------------------------------------


@pytest.mark.parametrize("attr", ["start_month", "end_month"])
@pytest.mark.parametrize("month", ["13/2026", "00/2026", "4/2026", "2026-04", "04/26", ""])
def test_r3_9_milestone_month_not_written_mm_yyyy_is_refused(attr: str, month: str) -> None:
    plan = with_milestone(**{attr: month})

    violation = the_one(refused(plan))

    assert isinstance(violation, MilestoneMonthInvalid)
    assert (violation.rule, violation.field) == ("R3.9", f"commitments[0].milestones[0].{attr}")


def test_r3_9_milestone_ending_before_it_starts_is_refused() -> None:
    plan = with_milestone(start_month="01/2027", end_month="12/2026")

    violation = the_one(refused(plan))

    assert isinstance(violation, MilestoneEndsBeforeStart)
    assert (violation.rule, violation.field) == ("R3.9", "commitments[0].milestones[0].end_month")


def test_r3_9_milestone_starting_and_ending_in_the_same_month_is_accepted() -> None:
    validate_plan(with_milestone(start_month="06/2026", end_month="06/2026"))


@pytest.mark.parametrize("status", [*MILESTONE_STATUSES, "In_Progress"])
def test_r3_9_every_milestone_status_of_the_vocabulary_is_accepted(status: str) -> None:
    validate_plan(with_milestone(status=status))


@pytest.mark.parametrize("status", ["done", "in progress", ""])
def test_r3_9_milestone_status_outside_the_vocabulary_is_refused(status: str) -> None:
    violation = the_one(refused(with_milestone(status=status)))

    assert isinstance(violation, MilestoneStatusUnknown)
    assert (violation.rule, violation.field) == ("R3.9", "commitments[0].milestones[0].status")


@pytest.mark.parametrize("attr", ["outcome", "responsible_agency", "contact"])
def test_r3_9_milestone_with_a_blank_field_is_refused(attr: str) -> None:
    plan = with_commitment(milestones=(valid_milestone(), valid_milestone(**{attr: " "})))

    violation = the_one(refused(plan))

    assert isinstance(violation, MilestoneFieldMissing)
    assert (violation.rule, violation.field) == ("R3.9", f"commitments[0].milestones[1].{attr}")


# --- R3.10 modification ---------------------------------------------------------------

SUBMITTED_ON = date(2026, 3, 2)


def modification(**overrides: object) -> dict[str, object]:
    arguments: dict[str, object] = {
        "submitted_on": SUBMITTED_ON,
        "today": date(2026, 5, 1),
        "approved_by": ("Civic Data Association",),
        "stakeholders": STAKEHOLDERS,
        "decision_process": "Approved by the forum on 28 April; minutes linked.",
    }
    return {**arguments, **overrides}


def refused_modification(**overrides: object) -> list[RuleViolation]:
    with pytest.raises(Refusals) as caught:
        check_modification(**modification(**overrides))
    return caught.value.violations


def test_r3_10_modification_on_the_last_day_of_six_months_is_accepted() -> None:
    check_modification(**modification(today=add_months(SUBMITTED_ON, 6)))


def test_r3_10_modification_later_than_six_months_after_submission_is_refused() -> None:
    violation = the_one(refused_modification(today=add_months(SUBMITTED_ON, 6) + ONE_DAY))

    assert isinstance(violation, ModificationWindowClosed)
    assert (violation.rule, violation.field) == ("R3.10", "submitted_on")


def test_r3_10_six_months_from_31_august_ends_on_28_february() -> None:
    submitted_on = date(2026, 8, 31)
    check_modification(**modification(submitted_on=submitted_on, today=date(2027, 2, 28)))

    violation = the_one(refused_modification(submitted_on=submitted_on, today=date(2027, 3, 1)))
    assert violation.rule == "R3.10"


def test_r3_10_modification_without_stakeholder_approval_is_refused() -> None:
    violation = the_one(refused_modification(approved_by=()))

    assert isinstance(violation, ModificationNotApproved)
    assert (violation.rule, violation.field) == ("R3.10", "approved_by")


@pytest.mark.parametrize("decision_process", ["", "   "])
def test_r3_10_modification_without_a_documented_decision_is_refused(
    decision_process: str,
) -> None:
    violation = the_one(refused_modification(decision_process=decision_process))

    assert isinstance(violation, DecisionProcessUndocumented)
    assert (violation.rule, violation.field) == ("R3.10", "decision_process")


# --- R3.11 co-creation minimum requirements -------------------------------------------


def test_r3_11_plan_without_a_participation_forum_is_refused() -> None:
    plan = valid_plan(cocreation=valid_cocreation(forum_exists=False))

    violation = the_one(refused(plan))

    assert isinstance(violation, NoParticipationForum)
    assert (violation.rule, violation.field) == ("R3.11", "cocreation.forum_exists")


@pytest.mark.parametrize(
    ("missing", "field"),
    [
        ({"forum_has_government": False}, "cocreation.forum_has_government"),
        ({"forum_has_non_governmental": False}, "cocreation.forum_has_non_governmental"),
        (
            {"forum_has_government": False, "forum_has_non_governmental": False},
            "cocreation.forum_has_government",
        ),
    ],
)
def test_r3_11_forum_without_both_kinds_of_representatives_is_refused(
    missing: dict[str, bool], field: str
) -> None:
    violation = the_one(refused(valid_plan(cocreation=valid_cocreation(**missing))))

    assert isinstance(violation, ForumNotMultistakeholder)
    assert (violation.rule, violation.field) == ("R3.11", field)


def test_r3_11_plan_without_a_cocreation_meeting_with_non_governmental_stakeholders_is_refused() -> (
    None
):
    plan = valid_plan(cocreation=valid_cocreation(cocreation_meetings_with_non_governmental=0))

    violation = the_one(refused(plan))

    assert isinstance(violation, TooFewCoCreationMeetings)
    assert (violation.rule, violation.field) == (
        "R3.11",
        "cocreation.cocreation_meetings_with_non_governmental",
    )


def test_r3_11_minimum_number_of_cocreation_meetings_is_a_policy_parameter() -> None:
    plan = valid_plan(cocreation=valid_cocreation(cocreation_meetings_with_non_governmental=1))
    validate_plan(plan)

    violation = the_one(refused(plan, durations=Durations(cocreation_meetings_min=2)))
    assert isinstance(violation, TooFewCoCreationMeetings)


@pytest.mark.parametrize("endorsing", [(), ("",), ("  ", "")])
def test_r3_11_plan_without_an_endorsing_stakeholder_is_refused(
    endorsing: tuple[str, ...],
) -> None:
    plan = valid_plan(vision=valid_vision(endorsing_stakeholders=endorsing))

    violation = the_one(refused(plan))

    assert isinstance(violation, NoEndorsingStakeholders)
    assert (violation.rule, violation.field) == ("R3.11", "vision.endorsing_stakeholders")


# --- R4.0 monitoring body -------------------------------------------------------------


@pytest.mark.parametrize("body", [None, "", "  "])
def test_r4_0_plan_without_a_monitoring_body_is_refused(body: str | None) -> None:
    violation = the_one(refused(valid_plan(monitoring_body=body)))

    assert isinstance(violation, MonitoringBodyMissing)
    assert (violation.rule, violation.field) == ("R4.0", "monitoring_body")


def test_r4_0_monitoring_body_not_endorsed_by_stakeholders_is_refused() -> None:
    violation = the_one(refused(valid_plan(monitoring_body_endorsed=False)))

    assert isinstance(violation, MonitoringBodyNotEndorsed)
    assert (violation.rule, violation.field) == ("R4.0", "monitoring_body_endorsed")


# --- R3.13 joint plans ----------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 5])
def test_r3_13_plan_for_no_jurisdiction_or_more_than_four_is_refused(size: int) -> None:
    members = tuple(valid_jurisdiction(code=f"ES-{k}") for k in range(size))
    plan = valid_plan(jurisdictions=members)

    violations = refused(plan)

    assert [v for v in violations if isinstance(v, CoalitionSizeInvalid)]
    assert ("R3.13", "jurisdictions") in rules_and_fields(violations)


def test_r3_13_coalition_of_jurisdictions_in_different_countries_is_refused() -> None:
    plan = valid_coalition_plan(size=3)
    members = list(plan.jurisdictions)
    members[2] = replace(members[2], country="Portugal")

    violation = the_one(refused(replace(plan, jurisdictions=tuple(members))))

    assert isinstance(violation, CoalitionCountriesDiffer)
    assert (violation.rule, violation.field) == ("R3.13", "jurisdictions[2].country")


def test_r3_13_same_jurisdiction_listed_twice_is_refused() -> None:
    plan = valid_coalition_plan(size=2)
    plan = replace(plan, jurisdictions=(plan.jurisdictions[0], plan.jurisdictions[0]))

    violation = the_one(refused(plan))

    assert isinstance(violation, DuplicateJurisdiction)
    assert (violation.rule, violation.field) == ("R3.13", "jurisdictions[1].code")


SHORT_TERM = date(2028, 6, 30)  # Madrid's term in the mixed-term coalition below
LONG_TERM = date(2029, 12, 31)  # Barcelona's


def mixed_terms_plan(plan_end: date, *commitments: object) -> PlanProposal:
    return valid_plan(
        vision=valid_vision(term_end=LONG_TERM, plan_end=plan_end),
        jurisdictions=(
            valid_jurisdiction(code="ES-BCN", term_end=LONG_TERM),
            valid_jurisdiction(code="ES-MAD", name="Madrid", term_end=SHORT_TERM),
        ),
        commitments=tuple(commitments) or (valid_commitment(),),
    )


def test_r3_13_coalition_plan_may_run_until_two_months_before_the_longest_term() -> None:
    validate_plan(mixed_terms_plan(add_months(LONG_TERM, -2)))


def test_r3_13_coalition_plan_ending_later_than_the_longest_term_allows_is_refused() -> None:
    violation = the_one(refused(mixed_terms_plan(add_months(LONG_TERM, -2) + ONE_DAY)))

    assert isinstance(violation, PlanEndsTooLate)
    assert (violation.rule, violation.field) == ("R3.1", "vision.plan_end")


def test_r3_13_members_own_commitment_must_end_two_months_before_its_own_term() -> None:
    latest = add_months(SHORT_TERM, -2)
    plan_end = add_months(LONG_TERM, -2)
    validate_plan(mixed_terms_plan(plan_end, valid_commitment(jurisdiction="ES-MAD", end=latest)))

    plan = mixed_terms_plan(
        plan_end,
        valid_commitment(jurisdiction="ES-BCN", end=latest + ONE_DAY),
        valid_commitment(jurisdiction="ES-MAD", end=latest + ONE_DAY),
    )
    violation = the_one(refused(plan))

    assert isinstance(violation, CommitmentOutlivesJurisdictionTerm)
    assert (violation.rule, violation.field) == ("R3.13", "commitments[1].end")


def test_r3_13_joint_commitment_may_run_until_two_months_before_the_shortest_partner_term() -> None:
    plan_end = add_months(LONG_TERM, -2)
    validate_plan(mixed_terms_plan(plan_end, valid_commitment(jurisdiction=None, end=date(2028, 4, 30))))


def test_r3_13_joint_commitment_ending_after_the_shortest_partner_term_allows_is_refused() -> None:
    # Madrid's term ends on 30 June 2028: a joint commitment is Madrid's too, so it ends by 30 April 2028.
    plan_end = add_months(LONG_TERM, -2)
    violation = the_one(refused(mixed_terms_plan(plan_end, valid_commitment(jurisdiction=None, end=date(2028, 5, 1)))))
    assert isinstance(violation, CommitmentOutlivesJurisdictionTerm)
    assert (violation.rule, violation.field) == ("R3.13", "commitments[0].end")
    assert "Madrid" in violation.message


@pytest.mark.parametrize("plan", [valid_plan(), valid_coalition_plan(size=2)], ids=["single", "coalition"])
def test_r3_13_commitment_of_a_jurisdiction_outside_the_plan_is_refused(
    plan: PlanProposal,
) -> None:
    plan = replace(plan, commitments=(valid_commitment(jurisdiction="PT-LIS"),))

    violation = the_one(refused(plan))

    assert isinstance(violation, UnknownCommitmentJurisdiction)
    assert (violation.rule, violation.field) == ("R3.13", "commitments[0].jurisdiction")


@pytest.mark.parametrize("poc", [None, " "])
def test_r3_13_coalition_plan_without_its_single_point_of_contact_is_refused(
    poc: str | None,
) -> None:
    violation = the_one(refused(valid_coalition_plan(size=2, point_of_contact=poc)))

    assert isinstance(violation, PointOfContactMissing)
    assert (violation.rule, violation.field) == ("R3.13", "point_of_contact")


def test_r3_13_coalition_plan_without_a_monitoring_body_is_refused_under_r4_0() -> None:
    violation = the_one(refused(valid_coalition_plan(size=3, monitoring_body=None)))

    assert (violation.rule, violation.field) == ("R4.0", "monitoring_body")
