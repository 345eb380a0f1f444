"""Inactivity, resumption, probation and revocation (§5, §6, R2.5–R2.11) on both real databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from lifecycle import audit, commands as c, handlers
from lifecycle.models import Commitment, Deadline, InactivityRequest, Member, Milestone
from policies.errors import InvalidInput, NotFound, RuleViolation, TriggerNotAllowed
from worldkit import snapshot

SU = "support-unit"
POC = "poc@city.example"
D = dt.date


def expect_refusal(world, call, error, rule: str, field: str | None = None) -> RuleViolation:
    before = snapshot(world)
    with pytest.raises(error) as exc:
        call()
    assert exc.value.rule == rule
    if field is not None:
        assert exc.value.field == field
    assert snapshot(world) == before
    return exc.value


def member(world, member_id: int) -> Member:
    with world.session() as s:
        return s.get(Member, member_id)


def flags(world, member_id: int) -> tuple[str, bool, str | None, str | None]:
    m = member(world, member_id)
    return m.state, m.voluntary_inactivity, m.inactivity_rule, m.probation_rule


def last(world, member_id: int) -> tuple[str, str, str, str, str | None]:
    with world.session() as s:
        r = audit.history(s, "member", member_id)[-1]
        return r.trigger, r.from_state, r.to_state, r.rule_id, r.reason


def deadlines(world, member_id: int, kind: str | None = None) -> list[tuple[str, str, str, dt.date]]:
    """The member's obligations as (kind, status, rule ID, local due date), in the order they were opened."""
    stmt = select(Deadline).where(Deadline.member_id == member_id).order_by(Deadline.id)
    if kind is not None:
        stmt = stmt.where(Deadline.kind == kind)
    with world.session() as s:
        return [(d.kind, d.status, d.rule_id, d.due_on) for d in s.scalars(stmt)]


def status(world, member_id: int, trigger: str, rule: str, reason: str = "as the rule says", **kw) -> None:
    world.run(handlers.apply_status, c.ApplyStatus(member_id=member_id, trigger=trigger, rule=rule, actor=SU,
                                                   reason=reason, **kw))


def request(world, member_id: int, *, consulted: bool = True, reason: str = "Elections and a new team.") -> int:
    return world.run(handlers.request_voluntary_inactivity, c.RequestVoluntaryInactivity(
        member_id=member_id, reason=reason, stakeholders_consulted=consulted, actor=POC))


def approve(world, request_id: int, reason: str | None = None) -> None:
    world.run(handlers.approve_voluntary_inactivity, c.ApproveVoluntaryInactivity(request_id=request_id, actor=SU,
                                                                                  reason=reason))


def resume(world, member_id: int, reason: str = "Co-creation restarted with the forum.") -> None:
    """The Support Unit resumes a member, giving its reason (R5.6)."""
    status(world, member_id, "resume", "R5.6", reason=reason)


def poc_resume(world, member_id: int, reason: str = "The new team is in place.") -> None:
    """The point of contact asks to resume: it lifts voluntary inactivity only (D9, D13)."""
    world.run(handlers.resume, c.Resume(member_id=member_id, actor=POC, reason=reason))


def first_milestone(world, member_id: int) -> int:
    with world.session() as s:
        return s.scalars(select(Milestone.id).join(Commitment).where(Commitment.member_id == member_id)
                         .order_by(Milestone.id)).first()


def tracker(world, member_id: int, milestone_id: int, milestone_status: str, delay_reason: str | None = None) -> int:
    return world.run(handlers.record_tracker_update, c.RecordTrackerUpdate(
        member_id=member_id, narrative="This quarter", actor=POC,
        changes=(c.MilestoneChange(milestone_id=milestone_id, status=milestone_status, delay_reason=delay_reason),)))


def inactive_voluntarily(world) -> int:
    m = world.implementing()
    approve(world, request(world, m))
    return m


def on_probation(world) -> int:
    """Inactive on 1 March 2027 and on probation (R6.1) on 1 September 2027, both by hand as overrides (D14)."""
    m = world.implementing()
    world.at("2027-03-01T09:00:00")
    status(world, m, "become_inactive", "R5.4", override=True)
    world.at("2027-09-01T09:00:00")
    status(world, m, "place_on_probation", "R6.1", override=True)
    return m


# ---------------------------------------------------------------- voluntary inactivity (R5.5)


def test_r5_5_a_request_without_consulting_the_stakeholders_is_accepted_and_records_that_they_were_not(world):
    m = world.implementing()
    rid = request(world, m, consulted=False)
    with world.session() as s:
        r = s.get(InactivityRequest, rid)
        assert (r.status, r.stakeholders_consulted) == ("pending", False)
    assert member(world, m).state == "implementing"


def test_r5_5_a_request_without_a_reason_is_refused_and_changes_nothing(world):
    m = world.implementing()
    expect_refusal(world, lambda: request(world, m, reason=" "), InvalidInput, "R5.5", "reason")


def test_r5_5_d11_a_member_in_orientation_may_ask_for_voluntary_inactivity(world):
    m = world.in_orientation()
    approve(world, request(world, m))
    assert flags(world, m) == ("inactive", True, "R5.5", None)
    assert last(world, m)[:4] == ("approve_voluntary_inactivity", "orientation", "inactive", "R5.5")


def test_r5_5_a_second_request_while_one_is_pending_is_refused_and_changes_nothing(world):
    m = world.implementing()
    request(world, m)
    expect_refusal(world, lambda: request(world, m), RuleViolation, "R5.5", "member_id")


def test_r5_5_a_request_waits_for_the_support_unit_without_changing_the_member(world):
    m = world.implementing()
    rid = request(world, m)
    with world.session() as s:
        r = s.get(InactivityRequest, rid)
        assert (r.member_id, r.status, r.stakeholders_consulted, r.reason) == (
            m, "pending", True, "Elections and a new team.")
    assert flags(world, m) == ("implementing", False, None, None)


def test_r5_5_approving_makes_the_member_voluntarily_inactive_with_no_probation_clock(world):
    m = world.implementing()
    rid = request(world, m)
    world.at("2027-02-01T09:00:00")
    approve(world, rid)
    assert flags(world, m) == ("inactive", True, "R5.5", None)
    assert last(world, m) == ("approve_voluntary_inactivity", "implementing", "inactive", "R5.5",
                              "Elections and a new team.")
    with world.session() as s:
        r = s.get(InactivityRequest, rid)
        assert (r.status, r.decided_at) == ("approved", world.clock.now())
    assert deadlines(world, m, "probation_clock") == []


def test_r5_5_approving_from_co_creation_also_opens_no_probation_clock(world):
    m = world.co_creating()
    approve(world, request(world, m), reason="Approved by the Support Unit.")
    assert flags(world, m) == ("inactive", True, "R5.5", None)
    assert last(world, m)[3:] == ("R5.5", "Approved by the Support Unit.")
    assert deadlines(world, m, "probation_clock") == []
    assert deadlines(world, m, "first_plan") == [("first_plan", "pending", "R5.1", D(2027, 9, 30))]


def test_r5_5_approving_a_request_twice_is_refused_and_changes_nothing(world):
    m = world.implementing()
    rid = request(world, m)
    approve(world, rid)
    expect_refusal(world, lambda: approve(world, rid), RuleViolation, "R5.5", "request_id")


def test_r5_5_approving_a_request_of_a_member_made_inactive_meanwhile_is_refused_and_changes_nothing(world):
    m = world.implementing()
    rid = request(world, m)
    status(world, m, "become_inactive", "R5.4", override=True)
    expect_refusal(world, lambda: approve(world, rid), TriggerNotAllowed, "R5.5")


def test_r5_5_approving_an_unknown_request_is_refused_and_changes_nothing(world):
    world.implementing()
    expect_refusal(world, lambda: approve(world, 77), NotFound, "", "id")


def test_r6_1_voluntary_inactivity_never_leads_to_probation_and_the_refusal_changes_nothing(world):
    m = inactive_voluntarily(world)
    world.at("2027-09-01T09:00:00")
    expect_refusal(world, lambda: status(world, m, "place_on_probation", "R6.1"), RuleViolation, "R6.1", "rule")
    assert flags(world, m) == ("inactive", True, "R5.5", None)


# ---------------------------------------------------------------- resume (R2.7, R5.6)


def test_r2_7_resuming_with_a_plan_in_force_returns_to_implementing_and_meets_the_probation_clock(world):
    m = world.implementing()
    world.at("2027-03-01T09:00:00")
    status(world, m, "become_inactive", "R5.4", override=True)
    world.at("2027-04-01T09:00:00")
    resume(world, m)
    assert flags(world, m) == ("implementing", False, None, None)
    assert last(world, m) == ("resume", "inactive", "implementing", "R5.6", "Co-creation restarted with the forum.")
    assert deadlines(world, m, "probation_clock") == [("probation_clock", "met", "R6.1", D(2027, 9, 1))]


def test_r2_7_resuming_after_the_plan_ended_returns_to_co_creation(world):
    m = world.implementing()
    world.at("2029-07-01T09:00:00")
    status(world, m, "end_plan", "R2.5")
    world.at("2029-11-01T09:00:00")
    status(world, m, "become_inactive", "R5.2")
    world.at("2029-12-01T09:00:00")
    resume(world, m)
    assert flags(world, m) == ("co_creation", False, None, None)
    assert last(world, m)[:3] == ("resume", "inactive", "co_creation")
    # D10: back in co-creation without a plan, it owes one four months after the return (1 April 2030).
    assert deadlines(world, m, "next_plan") == [("next_plan", "breached", "R5.2", D(2029, 10, 30)),
                                                ("next_plan", "pending", "R5.2", D(2030, 4, 1))]


def test_r2_7_resuming_from_voluntary_inactivity_clears_the_voluntary_flag(world):
    m = inactive_voluntarily(world)
    poc_resume(world, m, reason="The new team is in place.")
    assert flags(world, m) == ("implementing", False, None, None)
    assert last(world, m) == ("resume", "inactive", "implementing", "R5.5", "The new team is in place.")


def test_r5_6_d13_a_point_of_contact_cannot_lift_an_involuntary_inactivity_and_is_told_what_would(world):
    m = world.implementing()
    status(world, m, "become_inactive", "R5.4", override=True)
    refusal = expect_refusal(world, lambda: poc_resume(world, m), RuleViolation, "R5.6", "state")
    for evidence in ("tracker update showing progress", "co-creation meeting", "valid action plan"):
        assert evidence in refusal.message
    assert member(world, m).state == "inactive"


def test_r2_7_an_active_member_cannot_resume_and_nothing_changes(world):
    m = world.implementing()
    expect_refusal(world, lambda: poc_resume(world, m), TriggerNotAllowed, "R5.5", "state")
    expect_refusal(world, lambda: resume(world, m), TriggerNotAllowed, "R5.6", "rule")


def test_r5_6_resuming_without_saying_how_is_refused_and_changes_nothing(world):
    m = inactive_voluntarily(world)
    expect_refusal(world, lambda: poc_resume(world, m, reason=""), InvalidInput, "R5.6", "reason")


def test_r5_6_progress_reported_while_inactive_resumes_the_member(world):
    m = world.implementing()
    world.at("2027-03-01T09:00:00")
    status(world, m, "become_inactive", "R5.3", override=True)
    world.at("2027-05-01T09:00:00")
    uid = tracker(world, m, first_milestone(world, m), "in_progress")
    assert flags(world, m) == ("implementing", False, None, None)
    assert last(world, m) == ("resume", "inactive", "implementing", "R5.6",
                              f"tracker update {uid} reports progress, filed by {POC}")
    with world.session() as s:
        assert audit.history(s, "member", m)[-1].actor == "system"
    assert deadlines(world, m, "probation_clock") == [("probation_clock", "met", "R6.1", D(2027, 9, 1))]


def test_r5_6_progress_reported_during_voluntary_inactivity_ends_it(world):
    m = inactive_voluntarily(world)
    tracker(world, m, first_milestone(world, m), "finished")
    assert flags(world, m) == ("implementing", False, None, None)


def test_r5_6_d4_a_stuck_milestone_reported_while_inactive_leaves_the_member_inactive(world):
    m = world.implementing()
    status(world, m, "become_inactive", "R5.3", override=True)
    tracker(world, m, first_milestone(world, m), "stuck", delay_reason="The budget was frozen.")
    assert member(world, m).state == "inactive"


def test_r6_4_d13_progress_on_probation_for_r6_1_reinstates_the_member_at_once(world):
    m = on_probation(world)
    world.at("2027-10-05T09:00:00")
    tracker(world, m, first_milestone(world, m), "in_progress")
    assert flags(world, m) == ("implementing", False, None, None)
    trigger, source, dest, rule, _ = last(world, m)
    assert (trigger, source, dest, rule) == ("reinstate", "probation", "implementing", "R6.4")
    assert deadlines(world, m, "revocation_clock") == [("revocation_clock", "met", "R6.5", D(2028, 1, 1))]


def test_r6_3_r6_4_a_member_on_probation_for_r6_2_keeps_filing_updates_and_progress_does_not_reinstate_it(world):
    m = world.implementing()
    world.at("2027-03-01T09:00:00")
    status(world, m, "place_on_probation", "R6.2", override=True)
    tracker(world, m, first_milestone(world, m), "in_progress")
    assert member(world, m).state == "probation"


# ---------------------------------------------------------------- apply_status: inactivity (R2.6)


def test_r2_6_a_co_creating_member_becomes_inactive_under_r5_1_once_its_first_plan_is_late(world):
    m = world.co_creating()
    world.at("2027-10-01T09:00:00")
    status(world, m, "become_inactive", "R5.1", reason="deadline passed")
    assert flags(world, m) == ("inactive", False, "R5.1", None)
    assert last(world, m) == ("become_inactive", "co_creation", "inactive", "R5.1", "deadline passed")
    assert deadlines(world, m, "probation_clock") == [("probation_clock", "pending", "R6.1", D(2028, 4, 1))]
    assert deadlines(world, m, "first_plan") == [("first_plan", "breached", "R5.1", D(2027, 9, 30))]


def test_d14_r5_4_is_refused_for_a_co_creating_member_even_as_an_override(world):
    m = world.co_creating()
    expect_refusal(world, lambda: status(world, m, "become_inactive", "R5.4", override=True), TriggerNotAllowed,
                   "R5.4", "rule")


@pytest.mark.parametrize("rule", ["R5.3", "R5.4"])
def test_r2_6_an_implementing_member_becomes_inactive_under_r5_3_or_r5_4(world, rule):
    m = world.implementing()
    world.at("2027-10-01T09:00:00")
    # D3: 2027-Q2 and 2027-Q3 both count and have no update, which is R5.4; R5.3 is then an override (D14).
    status(world, m, "become_inactive", rule, evidence=("https://city.example/tracker",), override=rule == "R5.3")
    assert flags(world, m) == ("inactive", False, rule, None)
    with world.session() as s:
        assert list(audit.history(s, "member", m)[-1].evidence) == ["https://city.example/tracker"]


def test_r2_6_r5_2_a_member_without_its_next_plan_becomes_inactive_and_the_next_plan_deadline_is_breached(world):
    m = world.implementing()
    world.at("2029-07-01T09:00:00")
    status(world, m, "end_plan", "R2.5")
    world.at("2029-10-31T09:00:00")
    status(world, m, "become_inactive", "R5.2")
    assert flags(world, m) == ("inactive", False, "R5.2", None)
    assert deadlines(world, m, "next_plan") == [("next_plan", "breached", "R5.2", D(2029, 10, 30))]


def test_d11_d14_an_orientation_member_is_made_inactive_only_once_its_first_plan_is_late(world):
    m = world.in_orientation()
    world.at("2027-09-30T09:00:00")
    refusal = expect_refusal(world, lambda: status(world, m, "become_inactive", "R5.1"), RuleViolation, "R5.1", "rule")
    assert "30 September 2027" in refusal.message
    world.at("2027-10-01T09:00:00")
    status(world, m, "become_inactive", "R5.1")
    assert last(world, m)[:4] == ("become_inactive", "orientation", "inactive", "R5.1")


def test_r2_6_inactivity_citing_a_rule_outside_r5_1_to_r5_4_is_refused_and_changes_nothing(world):
    m = world.implementing()
    expect_refusal(world, lambda: status(world, m, "become_inactive", "R6.1"), InvalidInput, "R6.1", "rule")


def test_an_unknown_status_action_is_refused_and_changes_nothing(world):
    m = world.implementing()
    expect_refusal(world, lambda: status(world, m, "banish", "R6.5"), InvalidInput, "", "trigger")


def test_a_status_applied_without_a_reason_is_refused_and_changes_nothing(world):
    m = world.implementing()
    expect_refusal(world, lambda: status(world, m, "become_inactive", "R5.4", reason="  "), InvalidInput, "R5.4",
                   "reason")


# ---------------------------------------------------------------- apply_status: plan end (R2.5)


def test_r2_5_ending_the_plan_returns_to_co_creation_and_ends_unfinished_commitments_incomplete(world):
    m = world.implementing()
    with world.session() as s:
        done, *rest = s.scalars(select(Commitment.id).where(Commitment.member_id == m).order_by(Commitment.id)).all()
    world.at("2028-01-10T09:00:00")
    world.run(handlers.complete_commitment, c.CompleteCommitment(commitment_id=done, completed_on=D(2028, 1, 9),
                                                                 actor=POC))
    world.at("2029-07-01T09:00:00")
    status(world, m, "end_plan", "R2.5", reason="the plan's end date passed")
    assert flags(world, m) == ("co_creation", False, None, None)
    assert last(world, m) == ("end_plan", "implementing", "co_creation", "R2.5", "the plan's end date passed")
    with world.session() as s:
        assert s.get(Member, m).current_plan.status == "ended"
        assert [s.get(Commitment, i).state for i in (done, *rest)] == ["completed", "ended_incomplete",
                                                                        "ended_incomplete"]
        assert audit.history(s, "commitment", rest[0])[-1].rule_id == "R4.2"


def test_r2_5_a_co_creating_member_has_no_plan_to_end_and_nothing_changes(world):
    m = world.co_creating()
    expect_refusal(world, lambda: status(world, m, "end_plan", "R2.5"), TriggerNotAllowed, "R2.5", "rule")


# ---------------------------------------------------------------- apply_status: probation (R2.8, R2.9)


def test_r2_8_r6_1_an_inactive_member_goes_on_probation_and_its_revocation_clock_starts(world):
    m = on_probation(world)
    assert flags(world, m) == ("probation", False, "R5.4", "R6.1")
    assert last(world, m)[:4] == ("place_on_probation", "inactive", "probation", "R6.1")
    assert deadlines(world, m, "probation_clock") == [("probation_clock", "breached", "R6.1", D(2027, 9, 1))]
    assert deadlines(world, m, "revocation_clock") == [("revocation_clock", "pending", "R6.5", D(2028, 1, 1))]


def test_r6_1_an_active_member_is_not_placed_on_probation_for_inactivity_and_nothing_changes(world):
    m = world.implementing()
    expect_refusal(world, lambda: status(world, m, "place_on_probation", "R6.1"), TriggerNotAllowed, "R6.1", "rule")


@pytest.mark.parametrize("walk", ["co_creating", "implementing"])
def test_r2_9_r6_2_an_active_member_without_engagement_goes_on_probation(world, walk):
    m = getattr(world, walk)()
    before = member(world, m).state
    status(world, m, "place_on_probation", "R6.2", reason="one implementation meeting in twelve months", override=True)
    assert flags(world, m) == ("probation", False, None, "R6.2")
    assert last(world, m)[:4] == ("place_on_probation", before, "probation", "R6.2")
    assert [d[:3] for d in deadlines(world, m, "revocation_clock")] == [("revocation_clock", "pending", "R6.5")]


def test_r6_2_an_inactive_member_is_not_placed_on_probation_under_r6_2_and_nothing_changes(world):
    m = world.implementing()
    status(world, m, "become_inactive", "R5.4", override=True)
    expect_refusal(world, lambda: status(world, m, "place_on_probation", "R6.2"), TriggerNotAllowed, "R6.2", "rule")


# ---------------------------------------------------------------- apply_status: reinstate (R2.10), revoke (R2.11)


def test_r2_10_reinstating_returns_to_implementing_with_a_plan_in_force_and_meets_the_revocation_clock(world):
    m = on_probation(world)
    world.at("2027-11-01T09:00:00")
    status(world, m, "reinstate", "R6.4", reason="two implementation meetings held", override=True)
    assert flags(world, m) == ("implementing", False, None, None)
    assert last(world, m) == ("reinstate", "probation", "implementing", "R6.4", "two implementation meetings held")
    assert deadlines(world, m, "revocation_clock") == [("revocation_clock", "met", "R6.5", D(2028, 1, 1))]


def test_r2_10_reinstating_without_a_plan_in_force_returns_to_co_creation(world):
    m = world.co_creating()
    status(world, m, "place_on_probation", "R6.2", override=True)
    status(world, m, "reinstate", "R6.4", override=True)
    assert flags(world, m) == ("co_creation", False, None, None)


def test_r2_10_an_implementing_member_cannot_be_reinstated_and_nothing_changes(world):
    m = world.implementing()
    expect_refusal(world, lambda: status(world, m, "reinstate", "R6.4"), TriggerNotAllowed, "R6.4", "rule")


def test_r2_11_revoking_a_member_on_probation_closes_every_pending_deadline(world):
    m = on_probation(world)
    with world.session() as s:
        pending_before = {d.kind for d in s.scalars(select(Deadline).where(Deadline.member_id == m,
                                                                           Deadline.status == "pending"))}
    assert {"revocation_clock", "plan_end", "start_assessment", "end_of_commitment_assessment"} <= pending_before
    world.at("2028-01-02T09:00:00")
    status(world, m, "revoke", "R6.5", reason="four months on probation")
    assert flags(world, m)[0] == "revoked"
    assert last(world, m)[:4] == ("revoke", "probation", "revoked", "R6.5")
    by_status: dict[str, set[str]] = {}
    with world.session() as s:
        for d in s.scalars(select(Deadline).where(Deadline.member_id == m, Deadline.closed_at == world.clock.now())):
            by_status.setdefault(d.status, set()).add(d.kind)
        assert s.scalars(select(Deadline).where(Deadline.member_id == m, Deadline.status == "pending")).all() == []
    assert by_status == {"breached": {"revocation_clock"}, "cancelled": pending_before - {"revocation_clock"}}


def test_r2_11_a_revoked_members_commitments_can_no_longer_change_and_nothing_changes(world):
    m = on_probation(world)
    status(world, m, "revoke", "R6.5", override=True)
    with world.session() as s:
        cid = s.scalars(select(Commitment.id).where(Commitment.member_id == m)).first()
    expect_refusal(world, lambda: world.run(handlers.complete_commitment, c.CompleteCommitment(
        commitment_id=cid, completed_on=D(2027, 9, 1), actor=POC)), TriggerNotAllowed, "R2.11", "state")


def test_r2_11_an_implementing_member_cannot_be_revoked_and_nothing_changes(world):
    m = world.implementing()
    expect_refusal(world, lambda: status(world, m, "revoke", "R6.5"), TriggerNotAllowed, "R6.5", "rule")
