"""The transition tables and the shared machines built from them (RULEBOOK §2)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lifecycle.machines import machine, possible_triggers
from policies.machines import (
    COMMITMENT_TRANSITIONS,
    MEMBER_TRANSITIONS,
    CommitmentState,
    MemberState,
    mermaid,
    rows_for,
)


def _member(state: str, plan_in_force: bool = False, orientation_pending: bool = False):
    return SimpleNamespace(state=state, has_plan_in_force=plan_in_force, orientation_pending=orientation_pending,
                           subject_type="member")


@pytest.mark.parametrize(
    ("rule", "trigger", "source", "dest"),
    [
        ("R2.1", "accept", "applicant", "orientation"),
        ("R2.2", "reject", "applicant", "rejected"),
        ("R2.3", "start_co_creation", "orientation", "co_creation"),
        ("R2.4", "submit_plan", "co_creation", "implementing"),
        ("R2.5", "end_plan", "implementing", "co_creation"),
        ("R2.6", "become_inactive", "orientation", "inactive"),
        ("R2.6", "become_inactive", "co_creation", "inactive"),
        ("R2.6", "become_inactive", "implementing", "inactive"),
        ("R2.8", "place_on_probation", "inactive", "probation"),
        ("R2.9", "place_on_probation", "implementing", "probation"),
        ("R2.9", "place_on_probation", "co_creation", "probation"),
        ("R2.11", "revoke", "probation", "revoked"),
    ],
)
def test_r2_member_table_holds_each_transition_of_the_rulebook(rule, trigger, source, dest):
    rows = rows_for("member", trigger, source)
    assert [(r.rule, r.dest) for r in rows] == [(rule, dest)]


PHASES = [(True, False, "implementing"), (False, False, "co_creation"), (False, True, "orientation")]


@pytest.mark.parametrize(("plan_in_force", "orientation_pending", "dest"), PHASES)
def test_r2_7_d11_resuming_returns_to_the_phase_of_the_current_plan(plan_in_force, orientation_pending, dest):
    member = _member("inactive", plan_in_force, orientation_pending)
    assert machine("member").events["resume"].trigger(member, ctx=_NullCtx()) is True
    assert member.state == dest


@pytest.mark.parametrize(("plan_in_force", "orientation_pending", "dest"), PHASES)
def test_r2_10_d11_reinstatement_returns_to_the_phase_of_the_current_plan(plan_in_force, orientation_pending, dest):
    member = _member("probation", plan_in_force, orientation_pending)
    machine("member").events["reinstate"].trigger(member, ctx=_NullCtx())
    assert member.state == dest


def test_d11_a_member_in_orientation_may_become_inactive_and_ask_for_voluntary_inactivity():
    assert [r.dest for r in rows_for("member", "become_inactive", "orientation")] == ["inactive"]
    assert [r.rule for r in rows_for("member", "approve_voluntary_inactivity", "orientation")] == ["R5.5"]


@pytest.mark.parametrize(("state", "rule"), [("inactive", "R5.6"), ("probation", "R6.3")])
def test_d13_r6_3_a_plan_filed_while_sanctioned_is_recorded_without_changing_the_state(state, rule):
    member = _member(state)
    assert [(r.rule, r.dest) for r in rows_for("member", "submit_plan", state)] == [(rule, "=")]
    machine("member").events["submit_plan"].trigger(member, ctx=_NullCtx())
    assert member.state == state


def test_r2_terminal_states_offer_no_trigger():
    for state in (MemberState.revoked, MemberState.rejected):
        assert possible_triggers(_member(state)) == []
    for state in (CommitmentState.assessed, CommitmentState.withdrawn):
        assert possible_triggers(SimpleNamespace(state=state, subject_type="commitment")) == []


def test_r2_no_member_state_is_unreachable_from_applicant():
    reachable, frontier = {"applicant"}, ["applicant"]
    while frontier:
        state = frontier.pop()
        for row in MEMBER_TRANSITIONS:
            if state in row.source and row.dest != "=" and row.dest not in reachable:
                reachable.add(row.dest)
                frontier.append(row.dest)
    assert reachable == {s.value for s in MemberState}


def test_r2_commitment_table_follows_draft_implementing_completed_assessed():
    path = [("start", "draft", "implementing"), ("complete", "implementing", "completed"),
            ("assess", "completed", "assessed")]
    for trigger, source, dest in path:
        assert [r.dest for r in rows_for("commitment", trigger, source)] == [dest]
    assert [r.dest for r in rows_for("commitment", "end_incomplete", "implementing")] == ["ended_incomplete"]
    assert [r.dest for r in rows_for("commitment", "withdraw", "implementing")] == ["withdrawn"]


def test_r3_10_a_modification_keeps_the_commitment_in_its_state():
    commitment = SimpleNamespace(state="implementing", subject_type="commitment")
    machine("commitment").events["modify"].trigger(commitment, ctx=_NullCtx())
    assert commitment.state == "implementing"


def test_the_diagram_is_drawn_from_the_same_table():
    drawing = mermaid("member") + mermaid("commitment")
    for row in (*MEMBER_TRANSITIONS, *COMMITMENT_TRANSITIONS):
        assert f": {row.trigger}" in drawing
        assert f"({row.rule})" in drawing


def test_machines_are_built_once_and_shared():
    assert machine("member") is machine("member")
    assert machine("member").models == []


class _NullCtx:
    """Stands in for a TransitionContext; the after-callbacks are bypassed below."""


@pytest.fixture(autouse=True)
def _no_side_effects(monkeypatch):
    # These tests look at the machine alone; audit and deadlines are tested on real databases.
    import lifecycle.machines as m

    monkeypatch.setattr(m, "_after", lambda row, event: None)
    m.machine.cache_clear()
    yield
    m.machine.cache_clear()
