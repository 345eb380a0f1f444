"""The ways out of sanctions as pure decisions (policies.sanctions): D10–D14, R5.6, R6.4; no database."""

from __future__ import annotations

import datetime as dt

import pytest

from policies.deadlines import DeadlineKind
from policies.errors import InvalidInput, RuleViolation, TriggerNotAllowed
from policies.sanctions import (
    Activity,
    StandingFacts,
    check_status_action,
    exit_on_evidence,
    furthest,
    is_progress,
    plan_due_after_return,
    plan_owed_on_return,
    why_status_rule_fails,
)

D = dt.date


# ---------------------------------------------------------------- D12: progress


@pytest.mark.parametrize(("reached", "status", "progress"), [
    ("not_started", "in_progress", True),
    ("not_started", "finished", True),
    ("in_progress", "finished", True),
    ("in_progress", "in_progress", False),  # stuck -> in_progress again: the furthest was in_progress
    ("finished", "in_progress", False),
    ("in_progress", "stuck", False),
    ("not_started", "incomplete", False),
    (None, "not_started", False),
])
def test_d12_progress_is_a_status_beyond_the_furthest_ever_reached(reached, status, progress):
    assert is_progress(reached, status) is progress


def test_d12_the_furthest_status_never_moves_back():
    reached = None
    for status in ("in_progress", "stuck", "in_progress", "not_started", "finished", "stuck"):
        reached = furthest(reached, status)
    assert reached == "finished"


# ---------------------------------------------------------------- R5.6, R6.4, D13: evidence


@pytest.mark.parametrize("evidence", [Activity.progress, Activity.co_creation_meeting, Activity.plan_filed])
def test_r5_6_d13_any_evidence_of_resumption_resumes_an_inactive_member(evidence):
    assert exit_on_evidence("inactive", probation_rule=None, evidence=evidence, meetings=0).trigger == "resume"


def test_r5_6_an_implementation_meeting_alone_does_not_resume_an_inactive_member():
    assert exit_on_evidence("inactive", probation_rule=None, evidence=Activity.implementation_meeting,
                            meetings=5) is None


def test_r6_4_d13_probation_for_r6_1_ends_on_evidence_of_resumption():
    leave = exit_on_evidence("probation", probation_rule="R6.1", evidence=Activity.progress, meetings=0)
    assert (leave.trigger, leave.rule) == ("reinstate", "R6.4")


@pytest.mark.parametrize(("meetings", "reinstated"), [(0, False), (1, False), (2, True), (3, True)])
def test_r6_4_d13_probation_for_r6_2_ends_when_the_d8_count_reaches_two(meetings, reinstated):
    for evidence in Activity:
        leave = exit_on_evidence("probation", probation_rule="R6.2", evidence=evidence, meetings=meetings)
        assert (leave is not None) is reinstated


@pytest.mark.parametrize("state", ["orientation", "co_creation", "implementing", "revoked", "rejected"])
def test_evidence_changes_nothing_for_a_member_without_a_sanction(state):
    assert exit_on_evidence(state, probation_rule=None, evidence=Activity.progress, meetings=9) is None


# ---------------------------------------------------------------- D10, D11: the plan owed after a return


@pytest.mark.parametrize(("dest", "in_force", "filed", "owed"), [
    ("co_creation", False, True, DeadlineKind.next_plan),
    ("co_creation", False, False, DeadlineKind.first_plan),
    ("orientation", False, False, DeadlineKind.first_plan),
    ("implementing", True, True, None),
    ("co_creation", True, True, None),
])
def test_d10_a_return_without_a_plan_in_force_owes_r5_2_if_ever_filed_else_r5_1(dest, in_force, filed, owed):
    assert plan_owed_on_return(dest, plan_in_force=in_force, ever_filed=filed) is owed


@pytest.mark.parametrize(("returned", "due"), [(D(2027, 11, 15), D(2028, 3, 15)), (D(2028, 10, 31), D(2029, 2, 28)),
                                               (D(2027, 10, 31), D(2028, 2, 29))])
def test_d10_d1_the_plan_is_due_four_calendar_months_after_the_return(returned, due):
    assert plan_due_after_return(returned) == due


# ---------------------------------------------------------------- D14: status actions by hand


def facts(state: str, today: D, since: D = D(2028, 4, 2), **kw) -> StandingFacts:
    return StandingFacts(state=state, today=today, status_since=since, **kw)


@pytest.mark.parametrize(("today", "holds"), [(D(2028, 8, 1), False), (D(2028, 8, 2), False), (D(2028, 8, 3), True)])
def test_d14_r6_5_holds_from_the_day_after_four_months_of_probation(today, holds):
    # On probation from 2 April 2028: four months run to 2 August, breached at local midnight (D2, D5).
    assert (why_status_rule_fails("revoke", "R6.5", facts("probation", today)) is None) is holds


@pytest.mark.parametrize(("today", "holds"), [(D(2029, 2, 28), False), (D(2029, 3, 1), True)])
def test_d14_r6_1_counts_six_months_from_the_inactivity_with_end_of_month_clamping(today, holds):
    # Inactive from 31 August 2028: six months end on 28 February 2029 (D1).
    f = facts("inactive", today, since=D(2028, 8, 31))
    assert (why_status_rule_fails("place_on_probation", "R6.1", f) is None) is holds


def test_d14_r5_1_holds_once_the_first_plan_is_late_and_never_after_a_plan_was_filed():
    late = facts("orientation", D(2027, 10, 1), first_plan_due=D(2027, 9, 30))
    assert why_status_rule_fails("become_inactive", "R5.1", late) is None
    assert "30 September 2027" in why_status_rule_fails(
        "become_inactive", "R5.1", facts("co_creation", D(2027, 9, 30), first_plan_due=D(2027, 9, 30)))
    assert why_status_rule_fails("become_inactive", "R5.1", facts("co_creation", D(2028, 1, 1),
                                                                    first_plan_due=D(2027, 9, 30), ever_filed=True))


def test_d14_r5_3_and_r5_4_hold_only_as_the_quarters_just_ended_find():
    f = facts("implementing", D(2027, 10, 1), quarterly_finding="R5.4", plan_in_force=True)
    assert why_status_rule_fails("become_inactive", "R5.4", f) is None
    assert why_status_rule_fails("become_inactive", "R5.3", f) is not None


def test_d14_r6_2_holds_at_the_anniversary_with_fewer_than_two_meetings():
    filed = D(2027, 1, 10)
    assert why_status_rule_fails("place_on_probation", "R6.2",
                                 facts("implementing", D(2028, 1, 9), plan_filed_on=filed, meetings=0)) is not None
    assert why_status_rule_fails("place_on_probation", "R6.2",
                                 facts("implementing", D(2028, 1, 10), plan_filed_on=filed, meetings=1)) is None
    assert why_status_rule_fails("place_on_probation", "R6.2",
                                 facts("implementing", D(2028, 1, 10), plan_filed_on=filed, meetings=2)) is not None
    assert why_status_rule_fails("place_on_probation", "R6.2",
                                 facts("implementing", D(2027, 3, 1), plan_filed_on=filed,
                                       unmet_in_start_assessment=True)) is None


def test_d14_r6_4_for_r6_1_needs_evidence_and_for_r6_2_the_meeting_count():
    assert why_status_rule_fails("reinstate", "R6.4", facts("probation", D(2028, 5, 1), probation_rule="R6.1"))
    assert why_status_rule_fails("reinstate", "R6.4", facts("probation", D(2028, 5, 1), probation_rule="R6.1",
                                                            resumption_since_status=True)) is None
    assert why_status_rule_fails("reinstate", "R6.4", facts("probation", D(2028, 5, 1), probation_rule="R6.2",
                                                            resumption_since_status=True, meetings=1))
    assert why_status_rule_fails("reinstate", "R6.4", facts("probation", D(2028, 5, 1), probation_rule="R6.2",
                                                            meetings=2)) is None


def test_d14_a_rule_that_does_not_hold_is_refused_naming_it_unless_overridden():
    early = facts("probation", D(2028, 6, 1))
    with pytest.raises(RuleViolation) as refused:
        check_status_action("revoke", "R6.5", early, override=False)
    assert (refused.value.rule, refused.value.field) == ("R6.5", "rule")
    assert "2 August 2028" in refused.value.message
    assert check_status_action("revoke", "R6.5", early, override=True) is True
    assert check_status_action("revoke", "R6.5", facts("probation", D(2028, 8, 3)), override=True) is False


def test_d14_a_wrong_state_voluntary_probation_or_unknown_pairing_is_refused_even_as_an_override():
    with pytest.raises(TriggerNotAllowed):
        check_status_action("become_inactive", "R5.4", facts("co_creation", D(2028, 1, 1)), override=True)
    with pytest.raises(RuleViolation) as refused:
        check_status_action("place_on_probation", "R6.1", facts("inactive", D(2030, 1, 1), voluntary=True),
                            override=True)
    assert refused.value.rule == "R6.1"
    with pytest.raises(InvalidInput):
        check_status_action("revoke", "R6.1", facts("probation", D(2030, 1, 1)), override=True)
