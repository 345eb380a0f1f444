"""Who may approve a change to a plan's commitments (R3.10), for modifications, withdrawals and replacements (R3.4)."""

from __future__ import annotations

from datetime import date

import pytest

from policies.calendar import add_months
from policies.errors import ApproverNotRecorded, Refusals, RuleViolation
from policies.plans import (
    DecisionProcessUndocumented,
    ModificationNotApproved,
    NoReplacementSlot,
    check_modification,
    check_replacement,
)
from policies.proposals import CommitmentProposal
from factories import valid_commitment

SUBMITTED_ON = date(2027, 1, 10)
TODAY = date(2027, 3, 1)
PLAN_END = date(2029, 6, 30)
ENDORSERS = ("Civic Data Association", "Neighbourhood Councils Network")
DECISION = "Forum vote of 20 February 2027; minutes linked."


def modification(**overrides: object) -> dict[str, object]:
    return {"submitted_on": SUBMITTED_ON, "today": TODAY, "approved_by": ENDORSERS[:1], "stakeholders": ENDORSERS,
            "decision_process": DECISION, **overrides}


def replacement(**overrides: object) -> dict[str, object]:
    return {"today": TODAY, "plan_end": PLAN_END, "open_commitments": 2, "limit": 5, "assessed_completed": 1,
            "replacements_so_far": 0, "approved_by": ENDORSERS[:1], "stakeholders": ENDORSERS,
            "decision_process": DECISION, **overrides}


def new_commitment() -> CommitmentProposal:
    return valid_commitment(start=TODAY, end=add_months(TODAY, 12))


def refused_modification(**overrides: object) -> list[RuleViolation]:
    with pytest.raises(Refusals) as caught:
        check_modification(**modification(**overrides))
    assert caught.value.rule == "R3.10"
    return caught.value.violations


def refused_replacement(**overrides: object) -> list[RuleViolation]:
    with pytest.raises(Refusals) as caught:
        check_replacement(new_commitment(), **replacement(**overrides))
    return caught.value.violations


# ---------------------------------------------------------------- modifications and withdrawals (R3.10)


def test_r3_10_an_endorser_approves_and_is_returned_as_the_plan_records_it() -> None:
    approvers = check_modification(**modification(approved_by=("  civic DATA   association ",)))

    assert approvers == ("Civic Data Association",)


def test_r3_10_a_stakeholder_named_twice_approves_once() -> None:
    approvers = check_modification(**modification(approved_by=("Civic Data Association", "civic data association",
                                                                "Neighbourhood Councils Network")))

    assert approvers == ENDORSERS


@pytest.mark.parametrize("approved_by", [(), ("",), ("  ", "\t")], ids=["none", "empty", "blank"])
def test_r3_10_modification_without_approval_is_refused_naming_r3_10_and_approved_by(approved_by) -> None:
    (violation,) = refused_modification(approved_by=approved_by)

    assert isinstance(violation, ModificationNotApproved)
    assert (violation.rule, violation.field) == ("R3.10", "approved_by")
    assert all(name in violation.hint for name in ENDORSERS), "the refusal lists who may approve"


def test_r3_10_an_approver_not_recorded_for_the_plan_is_refused_listing_who_may_approve() -> None:
    (violation,) = refused_modification(approved_by=("Friends of the Mayor",))

    assert isinstance(violation, ApproverNotRecorded)
    assert (violation.rule, violation.field) == ("R3.10", "approved_by")
    assert "Friends of the Mayor" in violation.message
    assert all(name in violation.hint for name in ENDORSERS)


def test_r3_10_one_unknown_approver_among_known_ones_is_refused_naming_only_it() -> None:
    (violation,) = refused_modification(approved_by=("Civic Data Association", "City Hall"))

    assert isinstance(violation, ApproverNotRecorded)
    assert "City Hall" in violation.message and "Civic Data Association" not in violation.message


def test_r3_10_a_plan_without_recorded_stakeholders_says_how_to_record_them() -> None:
    (violation,) = refused_modification(approved_by=("Civic Data Association",), stakeholders=("", " "))

    assert isinstance(violation, ApproverNotRecorded)
    assert "stakeholders of the member" in violation.hint


def test_r3_10_late_unapproved_and_undocumented_are_reported_together() -> None:
    violations = refused_modification(today=add_months(SUBMITTED_ON, 6).replace(day=11), approved_by=(),
                                      decision_process=" ")

    assert [(v.rule, v.field) for v in violations] == [
        ("R3.10", "submitted_on"), ("R3.10", "approved_by"), ("R3.10", "decision_process")]


# ---------------------------------------------------------------- replacements (R3.4 with R3.10's approval)


def test_r3_4_an_approved_and_documented_replacement_returns_its_approvers() -> None:
    assert check_replacement(new_commitment(), **replacement(approved_by=("neighbourhood councils network",))) == (
        "Neighbourhood Councils Network",)


def test_r3_4_a_replacement_without_approval_is_refused_naming_r3_10_and_approved_by() -> None:
    (violation,) = refused_replacement(approved_by=())

    assert isinstance(violation, ModificationNotApproved)
    assert (violation.rule, violation.field) == ("R3.10", "approved_by")


def test_r3_4_a_replacement_approved_by_someone_not_recorded_is_refused() -> None:
    (violation,) = refused_replacement(approved_by=("A consultancy",))

    assert isinstance(violation, ApproverNotRecorded)
    assert violation.field == "approved_by"


def test_r3_4_a_replacement_without_a_decision_process_is_refused() -> None:
    (violation,) = refused_replacement(decision_process="")

    assert isinstance(violation, DecisionProcessUndocumented)
    assert (violation.rule, violation.field) == ("R3.10", "decision_process")


def test_r3_4_a_replacement_without_a_slot_or_approval_reports_both_rules() -> None:
    violations = refused_replacement(assessed_completed=0, approved_by=())

    assert [type(v) for v in violations] == [NoReplacementSlot, ModificationNotApproved]
    assert [v.rule for v in violations] == ["R3.4", "R3.10"]
