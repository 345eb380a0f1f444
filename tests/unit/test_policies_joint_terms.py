"""R3.13 in a coalition: a replacement commitment ends two months before the term it belongs to."""

from __future__ import annotations

from datetime import date

import pytest
from factories import valid_commitment

from policies.errors import Refusals
from policies.plans import CommitmentOutlivesJurisdictionTerm, check_replacement

TODAY = date(2028, 1, 15)
PLAN_END = date(2031, 4, 30)  # the coalition's plan runs on the longest term, 30 June 2031
OWNER_TERM = date(2029, 12, 31)  # the owner's own term: its commitments end by 31 October 2029


def arguments(**overrides: object) -> dict[str, object]:
    return {"today": TODAY, "plan_end": PLAN_END, "open_commitments": 4, "limit": 10, "assessed_completed": 1,
            "replacements_so_far": 0, "approved_by": ("Civic Data Association",),
            "stakeholders": ("Civic Data Association",), "decision_process": "Forum vote of 10 January; minutes.",
            "term_end": OWNER_TERM, **overrides}


def test_r3_13_r3_4_a_replacement_ending_two_months_before_its_owners_term_is_accepted():
    check_replacement(valid_commitment(start=TODAY, end=date(2029, 10, 31)), **arguments())


def test_r3_13_r3_4_a_replacement_outliving_its_owners_term_is_refused_though_the_plan_runs_longer():
    with pytest.raises(Refusals) as refused:
        check_replacement(valid_commitment(start=TODAY, end=date(2029, 11, 1)), **arguments())
    (violation,) = refused.value.violations
    assert isinstance(violation, CommitmentOutlivesJurisdictionTerm)
    assert (violation.rule, violation.field) == ("R3.13", "end")


def test_r3_4_without_a_coalition_term_the_plan_period_alone_bounds_a_replacement():
    check_replacement(valid_commitment(start=TODAY, end=date(2030, 6, 30)), **arguments(term_end=None))
