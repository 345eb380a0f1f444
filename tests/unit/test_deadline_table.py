"""Due dates of the obligations of §3.8, §4–§6 and D3, D8."""

from __future__ import annotations

import datetime as dt

import pytest

from policies.deadlines import (
    CLOSES_AS_MET,
    DEADLINE_RULES,
    MONITORING_DELIVERABLES,
    OPENS,
    Anchors,
    DeadlineKind as K,
    due_on,
    end_of_commitment_due,
)

FILED = dt.date(2027, 6, 15)
PLAN_END = dt.date(2029, 10, 31)
A = Anchors(transition_day=dt.date(2027, 8, 31), plan_filed_on=FILED, plan_end=PLAN_END,
            first_plan_due=dt.date(2027, 9, 30))


def test_r4_1_start_assessment_is_due_two_months_after_filing():
    assert due_on(K.start_assessment, A) == dt.date(2027, 8, 15)


def test_r4_3_final_learning_report_is_due_two_months_after_plan_end():
    assert due_on(K.final_learning_report, A) == dt.date(2029, 12, 31)


def test_r5_2_next_plan_is_due_four_months_after_plan_end_with_d1_clamping():
    assert due_on(K.next_plan, A) == dt.date(2030, 2, 28)
    leap = Anchors(transition_day=FILED, plan_end=dt.date(2027, 10, 31))
    assert due_on(K.next_plan, leap) == dt.date(2028, 2, 29)


def test_r5_1_first_plan_is_due_on_the_calls_deadline():
    assert due_on(K.first_plan, A) == dt.date(2027, 9, 30)


def test_r6_1_probation_clock_runs_six_months_from_the_transition_day():
    assert due_on(K.probation_clock, A) == dt.date(2028, 2, 29)


def test_r6_5_revocation_clock_runs_four_months_from_the_transition_day():
    assert due_on(K.revocation_clock, A) == dt.date(2027, 12, 31)


def test_d3_first_quarterly_check_follows_two_full_quarters_of_implementation():
    assert due_on(K.quarterly_tracker_check, A) == dt.date(2027, 12, 31)


def test_d8_meeting_check_falls_on_the_anniversary_of_filing():
    assert due_on(K.meeting_check, A) == dt.date(2028, 6, 15)


def test_r4_2_end_of_commitment_assessment_is_due_a_month_after_completion_or_plan_end_whichever_first():
    assert end_of_commitment_due(plan_end=PLAN_END, completed_on=None) == dt.date(2029, 11, 30)
    assert end_of_commitment_due(plan_end=PLAN_END, completed_on=dt.date(2028, 1, 31)) == dt.date(2028, 2, 29)
    assert end_of_commitment_due(plan_end=dt.date(2028, 1, 10), completed_on=dt.date(2028, 1, 31)) == dt.date(2028, 2, 10)


def test_every_deadline_kind_has_a_rule_and_a_due_date():
    assert set(DEADLINE_RULES) == set(K)
    for kind in K:
        assert isinstance(due_on(kind, A), dt.date)


def test_a_missing_anchor_is_a_programming_error_not_a_silent_date():
    with pytest.raises(ValueError, match="anchor"):
        due_on(K.start_assessment, Anchors(transition_day=FILED))


def test_r4_monitoring_deliverables_are_the_three_assessments():
    assert MONITORING_DELIVERABLES == {K.start_assessment, K.end_of_commitment_assessment, K.final_learning_report}


def test_r2_4_filing_a_plan_fulfils_the_first_and_next_plan_obligations():
    assert set(CLOSES_AS_MET[("member", "submit_plan")]) == {K.first_plan, K.next_plan}
    assert K.plan_end in OPENS[("member", "submit_plan")]


def test_r6_1_voluntary_inactivity_opens_no_probation_clock():
    assert ("member", "approve_voluntary_inactivity") not in OPENS
