"""The timed rules as pure decisions: the quarterly truth table (D3, D4), the meeting check (D8) and D7."""

from __future__ import annotations

import itertools

import pytest

from policies.calendar import Quarter
from policies.rules import Durations
from policies.timed import SEVERITY, QuarterRecord, meeting_finding, most_severe, quarterly_finding

Q2, Q3 = Quarter(2027, 2), Quarter(2027, 3)


def quarter(q: Quarter = Q2, *, counts: bool = True, updated: bool = False, progressed: bool = False) -> QuarterRecord:
    return QuarterRecord(quarter=q, counts=counts, updated=updated, progressed=progressed)


# ---------------------------------------------------------------- D3: R5.4 and R5.3


def test_d3_r5_4_no_update_in_either_counting_quarter_finds_r5_4():
    assert quarterly_finding(quarter(Q2), quarter(Q3)) == "R5.4"


@pytest.mark.parametrize("updated_in", ["earlier", "later", "both"])
def test_d3_r5_3_updates_without_progress_in_both_counting_quarters_find_r5_3(updated_in):
    earlier = quarter(Q2, updated=updated_in in ("earlier", "both"))
    later = quarter(Q3, updated=updated_in in ("later", "both"))
    assert quarterly_finding(earlier, later) == "R5.3"


@pytest.mark.parametrize("progress_in", ["earlier", "later", "both"])
def test_d3_d4_progress_in_either_counting_quarter_finds_nothing(progress_in):
    earlier = quarter(Q2, updated=True, progressed=progress_in in ("earlier", "both"))
    later = quarter(Q3, updated=True, progressed=progress_in in ("later", "both"))
    assert quarterly_finding(earlier, later) is None


def test_d3_d4_a_commitment_completed_without_an_update_is_progress_and_finds_nothing_of_r5_3():
    # A completion (D4) shows in the record as progress even when the quarter had no tracker update.
    assert quarterly_finding(quarter(Q2, updated=True), quarter(Q3, progressed=True)) is None


@pytest.mark.parametrize("which", ["earlier", "later", "neither"])
def test_d3_a_quarter_that_does_not_count_silences_both_r5_3_and_r5_4(which):
    earlier = quarter(Q2, counts=which not in ("earlier", "neither"))
    later = quarter(Q3, counts=which not in ("later", "neither"))
    assert quarterly_finding(earlier, later) is None


@pytest.mark.parametrize(
    ("counts", "updated", "progressed"),
    list(itertools.product(itertools.product([False, True], repeat=2), repeat=3)),
)
def test_d3_the_quarterly_truth_table_holds_for_every_combination(counts, updated, progressed):
    earlier = quarter(Q2, counts=counts[0], updated=updated[0], progressed=progressed[0])
    later = quarter(Q3, counts=counts[1], updated=updated[1], progressed=progressed[1])
    if not all(counts):
        expected = None
    elif not any(updated):
        expected = "R5.4"
    elif not any(progressed):
        expected = "R5.3"
    else:
        expected = None
    assert quarterly_finding(earlier, later) == expected


def test_d3_r5_4_takes_precedence_over_r5_3_when_neither_quarter_was_updated():
    # No update at all also means no progress: the more specific R5.4 is the finding.
    assert quarterly_finding(quarter(Q2), quarter(Q3)) == "R5.4"


# ---------------------------------------------------------------- D8: R6.2


@pytest.mark.parametrize(("meetings", "expected"), [(0, "R6.2"), (1, "R6.2"), (2, None), (3, None)])
def test_d8_r6_2_fewer_than_two_implementation_meetings_a_year_find_r6_2(meetings, expected):
    assert meeting_finding(meetings) == expected


def test_d8_r6_2_the_yearly_minimum_is_a_policy_parameter():
    strict = Durations(meetings_per_year=4)
    assert meeting_finding(3, durations=strict) == "R6.2"
    assert meeting_finding(4, durations=strict) is None


# ---------------------------------------------------------------- D7: the most severe state wins


def test_d7_revoked_is_more_severe_than_probation_which_is_more_severe_than_inactive():
    assert SEVERITY["revoked"] > SEVERITY["probation"] > SEVERITY["inactive"]


@pytest.mark.parametrize(
    ("dests", "expected"),
    [
        (["inactive", "probation"], "probation"),
        (["probation", "inactive"], "probation"),
        (["inactive", "revoked", "probation"], "revoked"),
        (["inactive"], "inactive"),
        (["inactive", "inactive"], "inactive"),
    ],
)
def test_d7_of_several_findings_the_most_severe_state_wins_whatever_the_order(dests, expected):
    assert most_severe(dests) == expected


def test_d7_no_status_finding_means_no_state_wins():
    assert most_severe([]) is None
    assert most_severe(["co_creation"]) is None  # a state that is not a sanction never competes
