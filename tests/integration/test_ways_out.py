"""The ways out of sanctions (R5.6, R6.4, R2.7, R2.10, D10–D14) as multi-year stories, on both real databases.

Members live in Europe/Paris: a deadline due on local date D is breached at 00:00 Paris time
on D+1 (22:00 UTC on D in summer, 23:00 UTC in winter). Dates are worked by hand from the
rulebook; the world's default clock files plans on 10 January 2027, so the first quarterly
check looks at 2027-Q2 and 2027-Q3 and is breached at 2027-09-30T22:00Z (D3).
"""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from config.settings import Settings
from lifecycle import audit, commands as c, engine, handlers, samples
from lifecycle.clock import FixedClock
from lifecycle.models import Deadline, Member, Milestone, Commitment, OutboxEvent, TransitionRecord
from lifecycle.schemas import PlanIn
from policies.errors import RuleViolation, TriggerNotAllowed
from workers.letters.render import build_context
from worldkit import snapshot

SU = "support-unit"
POC = "poc@city.example"
OBSERVATORY = "observatory@uni.example"
D = dt.date


def utc(text: str) -> pendulum.DateTime:
    return pendulum.parse(text, tz="UTC")


def tick(world, when: str) -> None:
    now = utc(when)
    world.clock.set(now)
    with capture_logs() as logs:
        engine.tick(now, session_factory=world.factory, clock=FixedClock(now))
    assert [e for e in logs if e["event"] in ("batch_failed", "deadline_failed")] == []


def member(world, member_id: int) -> Member:
    with world.session() as s:
        return s.get(Member, member_id)


def trail(world, member_id: int) -> list[tuple]:
    """(trigger, from, to, rule, actor, business time) of every member record after the first three."""
    with world.session() as s:
        return [(r.trigger, r.from_state, r.to_state, r.rule_id, r.actor, r.business_time)
                for r in audit.history(s, "member", member_id)]


def deadlines(world, member_id: int, kind: str) -> list[tuple]:
    with world.session() as s:
        return [(d.status, d.rule_id, d.due_on) for d in s.scalars(
            select(Deadline).where(Deadline.member_id == member_id, Deadline.kind == kind).order_by(Deadline.id))]


def letters(world, member_id: int, kind: str) -> list[tuple]:
    with world.session() as s:
        return [(e.recipient_role, e.rule_id) for e in s.scalars(
            select(OutboxEvent).where(OutboxEvent.member_id == member_id, OutboxEvent.kind == kind)
            .order_by(OutboxEvent.id))]


def letter_dates(world, member_id: int, kind: str, tmp_path) -> dict:
    settings = Settings(_env_file=None, data_dir=tmp_path, support_unit_email="support@ogp.example")
    with world.session() as s:
        event = s.scalars(select(OutboxEvent).where(OutboxEvent.member_id == member_id, OutboxEvent.kind == kind,
                                                    OutboxEvent.recipient_role == "poc")
                          .order_by(OutboxEvent.id.desc())).first()
        return dict(build_context(s, event, settings=settings).dates)


def milestones(world, member_id: int) -> list[int]:
    with world.session() as s:
        return list(s.scalars(select(Milestone.id).join(Commitment).where(Commitment.member_id == member_id)
                              .order_by(Milestone.id)))


def tracker(world, member_id: int, when: str, *changes: tuple[int, str]) -> int:
    world.at(when)
    return world.run(handlers.record_tracker_update, c.RecordTrackerUpdate(
        member_id=member_id, narrative="Quarterly progress", actor=POC,
        changes=tuple(c.MilestoneChange(milestone_id=m, status=st, delay_reason="Supplier delays"
                                        if st in ("stuck", "incomplete") else None) for m, st in changes)))


def meeting(world, member_id: int, when: str, phase: str, held_on: dt.date, non_governmental: int = 3) -> int:
    world.at(when)
    return world.run(handlers.record_meeting, c.RecordMeeting(
        member_id=member_id, phase=phase, held_on=held_on, government_participants=2,
        non_governmental_participants=non_governmental, actor=POC))


def status(world, member_id: int, trigger: str, rule: str, *, override: bool = False, reason: str = "as found"):
    world.run(handlers.apply_status, c.ApplyStatus(member_id=member_id, trigger=trigger, rule=rule, actor=SU,
                                                   reason=reason, override=override))


# ---------------------------------------------------------------- R6.4, R2.10: automatic reinstatement


def test_r6_4_r2_10_a_member_that_rectifies_on_probation_is_reinstated_at_once_and_never_revoked(world, tmp_path):
    m = world.implementing()
    tick(world, "2027-10-01T08:00:00")  # R5.4: no tracker update in 2027-Q2 and 2027-Q3
    tick(world, "2028-04-02T08:00:00")  # R6.1: six months from 1 October 2027 run to 1 April 2028
    assert member(world, m).state == "probation"
    assert deadlines(world, m, "revocation_clock") == [("pending", "R6.5", D(2028, 8, 2))]

    tracker(world, m, "2028-06-01T09:00:00", (milestones(world, m)[0], "in_progress"))
    assert trail(world, m)[-1] == ("reinstate", "probation", "implementing", "R6.4", "system",
                                   utc("2028-06-01T09:00:00"))
    assert (member(world, m).state, member(world, m).probation_rule) == ("implementing", None)
    assert deadlines(world, m, "revocation_clock") == [("met", "R6.5", D(2028, 8, 2))]
    assert letters(world, m, "reinstated") == [("poc", "R6.4"), ("support_unit", "R6.4")]
    assert "next_update_by" in letter_dates(world, m, "reinstated", tmp_path)

    tick(world, "2028-08-04T08:00:00")
    tick(world, "2028-12-01T08:00:00")
    assert member(world, m).state == "implementing"
    assert "revoke" not in [t[0] for t in trail(world, m)]


def test_r6_4_r6_2_probation_is_not_lifted_by_a_tracker_update_but_by_the_d8_meeting_count(world):
    m = world.implementing()
    world.at("2027-02-15T09:00:00")
    plan = member(world, m).current_plan_id
    with world.session() as s:
        initial = s.scalars(select(Commitment.id).where(Commitment.plan_id == plan)).all()
    ratings = {"public_influence": "consult",
               "commitments": {str(i): {"relevant": True, "verifiable": True, "potential_impact": "minor"}
                               for i in initial}}
    world.run(handlers.file_assessment, c.FileAssessment(member_id=m, kind="start", actor=OBSERVATORY,
                                                         ratings=ratings, unmet_requirements=("regularity",)))
    assert trail(world, m)[-1][:5] == ("place_on_probation", "implementing", "probation", "R6.2", "system")

    tracker(world, m, "2027-03-01T09:00:00", (milestones(world, m)[0], "in_progress"))
    meeting(world, m, "2027-03-10T09:00:00", "implementation", D(2027, 3, 9))
    meeting(world, m, "2027-03-12T09:00:00", "co_creation", D(2027, 3, 11))  # resumption evidence, not R6.2's
    assert member(world, m).state == "probation"

    meeting(world, m, "2027-04-10T09:00:00", "implementation", D(2027, 4, 9))  # the second: D8's count is met
    assert trail(world, m)[-1] == ("reinstate", "probation", "implementing", "R6.4", "system",
                                   utc("2027-04-10T09:00:00"))
    assert [d[0] for d in deadlines(world, m, "revocation_clock")] == ["met"]


# ---------------------------------------------------------------- R5.6, D13: resumption on evidence


def test_r5_6_d10_a_member_that_resumes_to_co_creation_and_files_nothing_is_inactive_again_four_months_later(
        world, tmp_path):
    m = world.co_creating()  # first plan due 30 September 2027 (the call's deadline)
    tick(world, "2027-10-01T08:00:00")
    assert trail(world, m)[-1][:4] == ("become_inactive", "co_creation", "inactive", "R5.1")

    meeting(world, m, "2027-11-15T09:00:00", "co_creation", D(2027, 11, 14))
    assert trail(world, m)[-1] == ("resume", "inactive", "co_creation", "R5.6", "system", utc("2027-11-15T09:00:00"))
    assert deadlines(world, m, "probation_clock") == [("met", "R6.1", D(2028, 4, 1))]
    # D10: never filed a plan, so R5.1 again, four months from the return (15 November + 4 months).
    assert deadlines(world, m, "first_plan") == [("breached", "R5.1", D(2027, 9, 30)),
                                                 ("pending", "R5.1", D(2028, 3, 15))]
    assert letter_dates(world, m, "reinstated", tmp_path)["plan_due"] == D(2028, 3, 15)

    tick(world, "2028-03-15T08:00:00")
    assert member(world, m).state == "co_creation"
    tick(world, "2028-03-16T08:00:00")  # breached at 00:00 on 16 March in Paris (23:00 UTC on the 15th)
    assert trail(world, m)[-1] == ("become_inactive", "co_creation", "inactive", "R5.1", "system",
                                   utc("2028-03-15T23:00:00"))


def test_r5_6_d13_a_co_creation_meeting_held_before_the_inactivity_does_not_resume_the_member(world):
    m = world.co_creating()
    tick(world, "2027-10-01T08:00:00")
    meeting(world, m, "2027-10-05T09:00:00", "co_creation", D(2027, 9, 20))
    meeting(world, m, "2027-10-06T09:00:00", "co_creation", D(2027, 10, 6), non_governmental=0)
    assert member(world, m).state == "inactive"


def test_r5_6_d13_filing_a_valid_plan_while_inactive_resumes_the_member_to_implementing(world):
    m = world.co_creating()
    tick(world, "2027-10-01T08:00:00")
    world.at("2027-11-02T09:00:00")
    bad = PlanIn.model_validate(samples.plan(world.today(), D(2029, 6, 30), 6))  # R3.3: six is over the limit
    before = snapshot(world)
    with pytest.raises(RuleViolation) as refused:
        world.run(handlers.submit_plan, c.SubmitPlan(member_id=m, plan=bad, actor=POC))
    assert refused.value.rule == "R3.3"
    assert snapshot(world) == before

    plan_id = world.run(handlers.submit_plan, c.SubmitPlan(member_id=m, plan=world.plan(D(2029, 6, 30)), actor=POC))
    at = utc("2027-11-02T09:00:00")
    assert trail(world, m)[-2:] == [("submit_plan", "inactive", "inactive", "R5.6", POC, at),
                                    ("resume", "inactive", "implementing", "R5.6", "system", at)]
    assert member(world, m).current_plan_id == plan_id
    assert deadlines(world, m, "probation_clock") == [("met", "R6.1", D(2028, 4, 1))]
    assert deadlines(world, m, "start_assessment") == [("pending", "R4.1", D(2028, 1, 2))]


def test_r6_3_r6_4_a_plan_filed_on_probation_for_r6_1_is_recorded_and_reinstates_the_member(world):
    m = world.co_creating()
    tick(world, "2027-10-01T08:00:00")
    tick(world, "2028-04-02T08:00:00")
    assert member(world, m).state == "probation"
    world.at("2028-05-02T09:00:00")
    world.run(handlers.submit_plan, c.SubmitPlan(member_id=m, plan=world.plan(D(2030, 6, 30)), actor=POC))
    at = utc("2028-05-02T09:00:00")
    assert trail(world, m)[-2:] == [("submit_plan", "probation", "probation", "R6.3", POC, at),
                                    ("reinstate", "probation", "implementing", "R6.4", "system", at)]
    assert [d[0] for d in deadlines(world, m, "revocation_clock")] == ["met"]


def test_d12_r5_3_a_milestone_toggled_between_stuck_and_in_progress_makes_the_member_inactive(world):
    m = world.implementing()
    first = milestones(world, m)[0]
    tracker(world, m, "2027-02-01T09:00:00", (first, "in_progress"))  # progress, in a quarter that does not count
    tracker(world, m, "2027-05-03T09:00:00", (first, "stuck"))
    back = tracker(world, m, "2027-08-02T09:00:00", (first, "in_progress"))  # as far as before: not progress
    with world.session() as s:
        from lifecycle.models import TrackerUpdate

        assert s.get(TrackerUpdate, back).progress is False
        assert s.get(Milestone, first).furthest_status == "in_progress"
    tick(world, "2027-10-01T08:00:00")
    assert trail(world, m)[-1] == ("become_inactive", "implementing", "inactive", "R5.3", "system",
                                   utc("2027-09-30T22:00:00"))

    tracker(world, m, "2027-10-20T09:00:00", (first, "stuck"))
    tracker(world, m, "2027-10-21T09:00:00", (first, "in_progress"))
    assert member(world, m).state == "inactive", "D12: back to in_progress again is not evidence of resumption"
    tracker(world, m, "2027-10-22T09:00:00", (first, "finished"))
    assert trail(world, m)[-1][:4] == ("resume", "inactive", "implementing", "R5.6")


# ---------------------------------------------------------------- D11: orientation


def test_d11_a_member_still_in_orientation_when_its_first_plan_is_late_becomes_inactive_and_returns_to_orientation(
        world):
    m = world.in_orientation()
    tick(world, "2027-10-01T08:00:00")
    assert trail(world, m)[-1] == ("become_inactive", "orientation", "inactive", "R5.1", "system",
                                   utc("2027-09-30T22:00:00"))
    assert letters(world, m, "inactive") == [("poc", "R5.1"), ("support_unit", "R5.1")]
    meeting(world, m, "2027-10-10T09:00:00", "co_creation", D(2027, 10, 9))
    assert trail(world, m)[-1][:4] == ("resume", "inactive", "orientation", "R5.6")
    # It owes its first plan four months from the return, so it cannot stay in orientation for ever.
    assert deadlines(world, m, "first_plan")[-1] == ("pending", "R5.1", D(2028, 2, 10))


def test_d11_a_member_that_completed_orientation_returns_to_co_creation(world):
    m = world.in_orientation()
    world.run(handlers.complete_orientation, c.CompleteOrientation(member_id=m, actor=SU))
    tick(world, "2027-10-01T08:00:00")
    meeting(world, m, "2027-10-10T09:00:00", "co_creation", D(2027, 10, 9))
    assert trail(world, m)[-1][:4] == ("resume", "inactive", "co_creation", "R5.6")


# ---------------------------------------------------------------- R3.13: joint plans count for the coalition


def test_r3_13_a_joint_plans_tracker_update_resumes_every_partner_and_its_meetings_count_for_each(world):
    world.at("2027-02-01T09:00")
    lead = world.co_creating("lakeside")
    partner = world.co_creating("riverton")
    world.at("2027-02-10T09:00")
    data = samples.plan(world.today(), D(2029, 6, 30), 4, coalition=[partner], coalition_name="Lake and River")
    world.run(handlers.submit_plan, c.SubmitPlan(member_id=lead, plan=PlanIn.model_validate(data), actor=POC))
    tick(world, "2027-10-01T08:00:00")  # R5.4 for both: the joint tracker is silent in Q2 and Q3
    assert (member(world, lead).state, member(world, partner).state) == ("inactive", "inactive")

    with world.session() as s:
        joint = s.scalars(select(Milestone.id).join(Commitment).where(Commitment.member_id == lead)
                          .order_by(Milestone.id)).first()
    tracker(world, lead, "2027-10-15T09:00:00", (joint, "in_progress"))
    for m in (lead, partner):
        assert trail(world, m)[-1][:5] == ("resume", "inactive", "implementing", "R5.6", "system")

    # D8: the lead's two implementation meetings count for the partner at the plan's anniversary.
    meeting(world, lead, "2027-11-05T09:00:00", "implementation", D(2027, 11, 4))
    meeting(world, lead, "2027-12-05T09:00:00", "implementation", D(2027, 12, 4))
    tracker(world, lead, "2027-12-20T09:00:00", (joint, "finished"))
    tick(world, "2028-02-11T08:00:00")  # the meeting check of 10 February 2028
    assert member(world, partner).state == "implementing"
    assert "place_on_probation" not in [t[0] for t in trail(world, partner)]


# ---------------------------------------------------------------- D14: guarded manual statuses


def test_d14_a_revocation_before_four_months_of_probation_is_refused_naming_r6_5_unless_overridden(world):
    m = world.co_creating()
    tick(world, "2027-10-01T08:00:00")
    tick(world, "2028-04-02T08:00:00")  # on probation from 2 April 2028 (local): four months run to 2 August
    world.at("2028-08-01T09:00:00")
    before = snapshot(world)
    with pytest.raises(RuleViolation) as refused:
        status(world, m, "revoke", "R6.5")
    assert refused.value.rule == "R6.5" and "2 August 2028" in refused.value.message
    assert snapshot(world) == before

    status(world, m, "revoke", "R6.5", override=True, reason="Gross civic-space violations confirmed.")
    with world.session() as s:
        record = audit.history(s, "member", m)[-1]
        assert (record.trigger, record.rule_id, record.override, record.reason) == (
            "revoke", "R6.5", True, "Gross civic-space violations confirmed.")
        assert audit.verify(s).ok
        assert audit.record_hash(record) == record.hash


def test_d14_a_status_whose_rule_holds_needs_no_override_and_is_not_marked_as_one(world):
    m = world.co_creating()
    tick(world, "2027-10-01T08:00:00")
    world.at("2028-04-01T09:00:00")  # six months from 1 October 2027 end on 1 April: not yet (D2, D5)
    with pytest.raises(RuleViolation) as refused:
        status(world, m, "place_on_probation", "R6.1")
    assert refused.value.rule == "R6.1"
    world.at("2028-04-02T09:00:00")
    status(world, m, "place_on_probation", "R6.1")
    with world.session() as s:
        assert audit.history(s, "member", m)[-1].override is False


def test_d14_a_rule_cited_from_a_state_it_does_not_apply_to_is_refused_even_as_an_override(world):
    m = world.implementing()
    before = snapshot(world)
    with pytest.raises(TriggerNotAllowed) as refused:
        status(world, m, "place_on_probation", "R6.1", override=True)
    assert refused.value.rule == "R6.1"
    assert snapshot(world) == before


# ---------------------------------------------------------------- point 6: stale obligations


def test_r4_1_a_start_assessment_of_an_earlier_plan_filed_late_closes_its_own_overdue_deadline_as_met(world):
    m = world.implementing(plan_end=D(2028, 3, 31))
    first_plan = member(world, m).current_plan_id
    tick(world, "2027-03-12T08:00:00")  # R4.1: due 10 March 2027, overdue from 11 March
    assert deadlines(world, m, "start_assessment") == [("breached", "R4.1", D(2027, 3, 10))]
    world.at("2027-04-01T09:00:00")
    status(world, m, "end_plan", "R2.5", override=True, reason="The plan was replaced early.")
    world.at("2027-04-10T09:00:00")
    world.run(handlers.submit_plan, c.SubmitPlan(member_id=m, plan=world.plan(D(2030, 3, 31)), actor=POC))
    with world.session() as s:
        initial = s.scalars(select(Commitment.id).where(Commitment.plan_id == first_plan)).all()
    ratings = {"public_influence": "consult",
               "commitments": {str(i): {"relevant": True, "verifiable": True, "potential_impact": "minor"}
                               for i in initial}}
    world.at("2027-05-01T09:00:00")
    world.run(handlers.file_assessment, c.FileAssessment(member_id=m, kind="start", actor=OBSERVATORY,
                                                         ratings=ratings, plan_id=first_plan))
    with world.session() as s:
        owed = s.scalars(select(Deadline).where(Deadline.subject_type == "plan", Deadline.subject_id == first_plan,
                                                Deadline.kind == "start_assessment")).one()
        assert (owed.status, owed.due_on, owed.closed_at) == ("met", D(2027, 3, 10), utc("2027-05-01T09:00:00"))
        assert owed.closed_at > owed.breach_at  # met, late
    # The second plan's own start assessment is still owed.
    assert deadlines(world, m, "start_assessment")[-1] == ("pending", "R4.1", D(2027, 6, 10))


def test_no_record_exists_without_its_transition_after_the_ways_out(world):
    m = world.co_creating()
    tick(world, "2027-10-01T08:00:00")
    meeting(world, m, "2027-11-15T09:00:00", "co_creation", D(2027, 11, 14))
    with world.session() as s:
        assert audit.verify(s).ok
        kinds = [r.trigger for r in s.scalars(select(TransitionRecord).where(TransitionRecord.subject_id == m,
                                                                             TransitionRecord.subject_type == "member"))]
    assert kinds[-2:] == ["become_inactive", "resume"]


def _voluntary_pause(world, m: int, start: str, end: str) -> None:
    world.at(start)
    rid = world.run(handlers.request_voluntary_inactivity, c.RequestVoluntaryInactivity(
        member_id=m, reason="Municipal elections", stakeholders_consulted=True, actor=POC))
    world.run(handlers.approve_voluntary_inactivity, c.ApproveVoluntaryInactivity(request_id=rid, actor=SU))
    world.at(end)
    world.run(handlers.resume, c.Resume(member_id=m, actor=POC, reason="The new council is in place."))


def test_d10_a_return_never_shortens_a_plan_deadline_still_pending_but_moves_a_sooner_one(world):
    m = world.co_creating()  # first plan due 30 September 2027
    _voluntary_pause(world, m, "2027-02-01T09:00:00", "2027-03-01T09:00:00")  # return + 4 months = 1 July: sooner
    assert deadlines(world, m, "first_plan") == [("pending", "R5.1", D(2027, 9, 30))]
    _voluntary_pause(world, m, "2027-07-01T09:00:00", "2027-08-01T09:00:00")  # return + 4 months = 1 December
    assert deadlines(world, m, "first_plan") == [("pending", "R5.1", D(2027, 12, 1))]
