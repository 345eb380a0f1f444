"""The deadline engine (§4–§6, D2, D3, D5–D9): ``tick`` and ``fire_deadline`` on both real databases.

Every member lives in Europe/Paris unless a test says otherwise, so a deadline due on local
date D is breached at 00:00 Paris time on D+1: 22:00 UTC on D in summer, 23:00 UTC in winter.
The instants are written out by hand rather than computed with the code under test; only the
two-year jump also checks its D5 chain against the calendar functions.
"""

from __future__ import annotations

import datetime as dt
import threading

import pendulum
import pytest
from sqlalchemy import func, select, update
from structlog.testing import capture_logs

from lifecycle import audit, commands as c, engine, handlers
from lifecycle.clock import FixedClock
from lifecycle.models import ActionPlan, Commitment, Deadline, Finding, Member, Milestone, OutboxEvent
from policies.calendar import add_months, breach_instant, local_date
from policies.errors import InvalidInput

SU = "support-unit"
POC = "poc@city.example"
PARIS, SEOUL = "Europe/Paris", "Asia/Seoul"
D = dt.date


def utc(text: str) -> pendulum.DateTime:
    return pendulum.parse(text, tz="UTC")


# ---------------------------------------------------------------- driving time


def tick(world, when: str, *, batch_may_fail: bool = False) -> engine.TickReport:
    """One sweep of the engine as of ``when``; the world's clock moves there too.

    A batch that fails is fired again deadline by deadline, which would hide a fault of the
    batch path from the assertions: unless a test expects one, a failed batch fails the test.
    """
    now = utc(when)
    world.clock.set(now)
    with capture_logs() as logs:
        report = engine.tick(now, session_factory=world.factory, clock=FixedClock(now))
    if not batch_may_fail:
        assert [e for e in logs if e["event"] == "batch_failed"] == []
    return report


def fire(world, deadline_id: int, when: str) -> engine.FireReport:
    now = utc(when)
    world.clock.set(now)
    return engine.fire_deadline(deadline_id, uow=world.uow(), clock=FixedClock(now))


# ---------------------------------------------------------------- reading the world


def member(world, member_id: int) -> Member:
    with world.session() as s:
        return s.get(Member, member_id)


def deadlines(world, member_id: int, kind: str) -> list[Deadline]:
    with world.session() as s:
        return list(s.scalars(select(Deadline).where(Deadline.member_id == member_id, Deadline.kind == kind)
                              .order_by(Deadline.id)))


def pending(world, member_id: int, kind: str) -> Deadline:
    found = [d for d in deadlines(world, member_id, kind) if d.status == "pending"]
    assert len(found) == 1, f"expected one pending {kind} deadline, found {len(found)}"
    return found[0]


def only(world, member_id: int, kind: str) -> Deadline:
    found = deadlines(world, member_id, kind)
    assert len(found) == 1, f"expected one {kind} deadline, found {len(found)}"
    return found[0]


def system_trail(world, member_id: int) -> list[tuple]:
    """The member's transitions fired by the engine: (trigger, from, to, rule, business time)."""
    with world.session() as s:
        records = audit.history(s, "member", member_id)
    return [(r.trigger, r.from_state, r.to_state, r.rule_id, r.business_time) for r in records if r.actor == "system"]


def last_record(world, member_id: int):
    with world.session() as s:
        return audit.history(s, "member", member_id)[-1]


def findings(world, member_id: int) -> list[tuple]:
    """(rule, outcome, deadline kind, found at, transition id) in the order they were recorded."""
    with world.session() as s:
        rows = s.execute(select(Finding, Deadline.kind).join(Deadline, Finding.deadline_id == Deadline.id)
                         .where(Finding.member_id == member_id, Finding.outcome != "extended").order_by(Finding.id))
        return [(f.rule_id, f.outcome, kind, f.found_at, f.transition_id) for f, kind in rows]


def letters(world, member_id: int, kind: str | None = None) -> list[tuple]:
    """Outbox events: (kind, recipient role, rule, created at), in the order they were written."""
    stmt = select(OutboxEvent).where(OutboxEvent.member_id == member_id).order_by(OutboxEvent.id)
    if kind is not None:
        stmt = stmt.where(OutboxEvent.kind == kind)
    with world.session() as s:
        return [(e.kind, e.recipient_role, e.rule_id, e.created_at) for e in s.scalars(stmt)]


def count(world, model) -> int:
    with world.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def commitments(world, member_id: int) -> list[Commitment]:
    with world.session() as s:
        return list(s.scalars(select(Commitment).where(Commitment.member_id == member_id).order_by(Commitment.id)))


def milestone_ids(world, member_id: int) -> list[int]:
    with world.session() as s:
        return list(s.scalars(select(Milestone.id).join(Commitment).where(Commitment.member_id == member_id)
                              .order_by(Milestone.id)))


def status_letters(kind: str, rule: str, at: pendulum.DateTime) -> list[tuple]:
    return [(kind, "poc", rule, at), (kind, "support_unit", rule, at)]


# ---------------------------------------------------------------- acting


def tracker(world, member_id: int, when: str, *moves: tuple[int, str]) -> int:
    world.at(when)
    return world.run(handlers.record_tracker_update, c.RecordTrackerUpdate(
        member_id=member_id, narrative="What happened this quarter", actor=POC,
        changes=tuple(c.MilestoneChange(milestone_id=mid, status=st) for mid, st in moves)))


def meeting(world, member_id: int, held_on: dt.date, *, phase: str = "implementation",
            non_governmental: int = 3) -> int:
    world.at(f"{held_on.isoformat()}T18:00:00")
    return world.run(handlers.record_meeting, c.RecordMeeting(
        member_id=member_id, phase=phase, held_on=held_on, government_participants=2,
        non_governmental_participants=non_governmental, actor=POC))


def voluntarily_inactive(world, member_id: int, when: str) -> None:
    world.at(when)
    request = world.run(handlers.request_voluntary_inactivity, c.RequestVoluntaryInactivity(
        member_id=member_id, reason="A new administration takes office.", stakeholders_consulted=True, actor=POC))
    world.run(handlers.approve_voluntary_inactivity, c.ApproveVoluntaryInactivity(request_id=request, actor=SU))


def extend(world, member_id: int, new_due: dt.date) -> int:
    return world.run(handlers.extend_first_plan_deadline, c.ExtendFirstPlanDeadline(
        member_id=member_id, new_due=new_due, actor=SU, reason="The council was dissolved for a month."))


def kept_on_track(world, member_id: int) -> None:
    """Progress reported in 2027-Q2 and 2027-Q4, so that no quarterly check of 2027 finds anything (D3)."""
    first, second = milestone_ids(world, member_id)[:2]
    tracker(world, member_id, "2027-05-15T09:00:00", (first, "in_progress"))
    tracker(world, member_id, "2027-11-15T09:00:00", (second, "in_progress"))


def move_deadline(world, deadline_id: int, due: dt.date, tz: str = PARIS) -> None:
    """Re-date a pending deadline by hand, to line two rules up on one instant (D7)."""
    with world.session() as s:
        s.execute(update(Deadline).where(Deadline.id == deadline_id)
                  .values(due_on=due, breach_at=breach_instant(due, tz), next_reminder_at=None))
        s.commit()


# ---------------------------------------------------------------- R5.1: the first plan


def test_r5_1_a_co_creating_member_without_a_plan_by_the_calls_date_becomes_inactive_at_local_midnight(world):
    m = world.co_creating()
    assert tick(world, "2027-09-30T21:59:59").deadlines == 0  # still 30 September in Paris
    assert member(world, m).state == "co_creation"

    report = tick(world, "2027-10-01T08:00:00")
    at = utc("2027-09-30T22:00:00")  # 1 October, 00:00 in Paris (D2)
    r = last_record(world, m)
    assert (r.trigger, r.from_state, r.to_state, r.rule_id, r.actor, r.business_time) == (
        "become_inactive", "co_creation", "inactive", "R5.1", "system", at)
    assert r.recorded_at != at  # the record time is the wall clock, the business time is the breach (D5)
    got = member(world, m)
    assert (got.state, got.inactivity_rule, got.voluntary_inactivity, got.state_since) == (
        "inactive", "R5.1", False, at)
    d = only(world, m, "first_plan")
    assert (d.status, d.rule_id, d.closed_at, d.closed_by) == ("breached", "R5.1", at, r.id)
    assert findings(world, m) == [("R5.1", "transition", "first_plan", at, r.id)]
    assert letters(world, m, "inactive") == status_letters("inactive", "R5.1", at)
    clock = only(world, m, "probation_clock")
    assert (clock.status, clock.rule_id, clock.due_on, clock.opened_by) == ("pending", "R6.1", D(2028, 4, 1), r.id)
    assert [t["rule_id"] for t in report.transitions] == ["R5.1"]


def test_r5_1_an_extension_holds_off_inactivity_until_the_new_date(world):
    m = world.co_creating()
    world.at("2027-09-01T09:00:00")
    extend(world, m, D(2027, 12, 15))
    tick(world, "2027-10-01T08:00:00")
    assert member(world, m).state == "co_creation"
    d = pending(world, m, "first_plan")
    assert (d.due_on, d.breach_at) == (D(2027, 12, 15), utc("2027-12-15T23:00:00"))
    assert findings(world, m) == []

    tick(world, "2027-12-16T08:00:00")
    at = utc("2027-12-15T23:00:00")
    assert system_trail(world, m) == [("become_inactive", "co_creation", "inactive", "R5.1", at)]
    assert (only(world, m, "first_plan").status, only(world, m, "first_plan").closed_at) == ("breached", at)
    assert only(world, m, "probation_clock").due_on == D(2028, 6, 16)


@pytest.mark.parametrize("new_due", [D(2027, 9, 29), D(2027, 9, 30)], ids=["earlier", "same_day"])
def test_r5_1_an_extension_to_an_earlier_or_the_same_date_is_refused_and_the_deadline_stays(world, new_due):
    m = world.co_creating()
    with pytest.raises(InvalidInput) as exc:
        extend(world, m, new_due)
    assert (exc.value.rule, exc.value.field) == ("R5.1", "new_due")
    d = pending(world, m, "first_plan")
    assert (d.due_on, d.breach_at) == (D(2027, 9, 30), utc("2027-09-30T22:00:00"))
    tick(world, "2027-10-01T08:00:00")
    assert member(world, m).state == "inactive"


def test_r5_1_d6_a_member_that_filed_its_first_plan_in_time_has_the_deadline_met_and_stays_implementing(world):
    m = world.co_creating()
    world.at("2027-09-30T21:00:00")  # 23:00 on the due date in Paris: still in time (D2)
    world.run(handlers.submit_plan, c.SubmitPlan(member_id=m, plan=world.plan(), actor=POC))
    tick(world, "2027-10-01T08:00:00")
    d = only(world, m, "first_plan")
    assert (d.status, d.closed_at) == ("met", utc("2027-09-30T21:00:00"))
    assert member(world, m).state == "implementing"
    assert system_trail(world, m) == []
    assert [f for f in findings(world, m) if f[0] == "R5.1"] == []
    assert letters(world, m, "inactive") == []


def test_r5_1_d9_a_first_plan_deadline_passing_during_voluntary_inactivity_is_recorded_not_met(world):
    m = world.co_creating()
    voluntarily_inactive(world, m, "2027-06-01T09:00:00")
    tick(world, "2027-10-01T08:00:00")
    at = utc("2027-09-30T22:00:00")
    got = member(world, m)
    assert (got.state, got.voluntary_inactivity) == ("inactive", True)
    assert system_trail(world, m) == []
    d = only(world, m, "first_plan")
    assert (d.status, d.closed_at, d.closed_by) == ("breached", at, None)  # the plan is still owed (D6)
    assert findings(world, m) == [("R5.1", "recorded", "first_plan", at, None)]
    assert [e[:3] for e in letters(world, m, "overdue")] == [("overdue", "poc", "R5.1"),
                                                             ("overdue", "support_unit", "R5.1")]


# ---------------------------------------------------------------- R2.5 plan end and R5.2 next plan


def test_r2_5_plan_end_returns_the_member_to_co_creation_ends_open_commitments_and_opens_the_next_plan_deadline(world):
    m = world.implementing()
    done = commitments(world, m)[0].id
    world.at("2028-03-01T09:00:00")
    world.run(handlers.complete_commitment, c.CompleteCommitment(commitment_id=done, completed_on=D(2028, 2, 15),
                                                                 actor=POC))
    plan_end = pending(world, m, "plan_end")
    assert plan_end.breach_at == utc("2029-06-30T22:00:00")

    fire(world, plan_end.id, "2029-07-01T06:00:00")
    at = utc("2029-06-30T22:00:00")
    assert system_trail(world, m) == [("end_plan", "implementing", "co_creation", "R2.5", at)]
    assert member(world, m).state == "co_creation"
    ended = commitments(world, m)
    assert [x.state for x in ended] == ["completed", "ended_incomplete", "ended_incomplete"]
    with world.session() as s:
        assert s.get(ActionPlan, plan_end.subject_id).status == "ended"
        for x in ended[1:]:
            r = audit.history(s, "commitment", x.id)[-1]
            assert (r.trigger, r.to_state, r.rule_id, r.actor, r.business_time) == (
                "end_incomplete", "ended_incomplete", "R4.2", "system", at)
    assert (only(world, m, "plan_end").status, only(world, m, "plan_end").closed_at) == ("met", at)
    for kind in ("quarterly_tracker_check", "meeting_check"):
        assert [(d.status, d.closed_at) for d in deadlines(world, m, kind)] == [("cancelled", at)]
    nxt = pending(world, m, "next_plan")
    assert (nxt.rule_id, nxt.due_on, nxt.breach_at) == ("R5.2", D(2029, 10, 30), utc("2029-10-30T23:00:00"))
    assert findings(world, m) == []  # the end of a plan is an event, not a breach
    assert [e for e in letters(world, m) if e[3] >= utc("2029-06-30T22:00:00")] == []


def test_r5_2_a_member_without_a_new_plan_four_months_after_its_plan_ended_becomes_inactive(world):
    m = world.implementing()
    fire(world, pending(world, m, "plan_end").id, "2029-07-01T06:00:00")
    tick(world, "2029-10-30T22:59:59")  # still 30 October in Paris: only the overdue deliverables fire
    assert member(world, m).state == "co_creation"

    tick(world, "2029-10-31T06:00:00")
    at = utc("2029-10-30T23:00:00")  # summer time has ended: 00:00 in Paris is 23:00 UTC
    assert system_trail(world, m)[-1] == ("become_inactive", "co_creation", "inactive", "R5.2", at)
    got = member(world, m)
    assert (got.state, got.inactivity_rule) == ("inactive", "R5.2")
    nxt = only(world, m, "next_plan")
    assert (nxt.status, nxt.closed_at, nxt.closed_by) == ("breached", at, last_record(world, m).id)
    assert findings(world, m)[-1] == ("R5.2", "transition", "next_plan", at, last_record(world, m).id)
    assert letters(world, m, "inactive") == status_letters("inactive", "R5.2", at)
    assert pending(world, m, "probation_clock").due_on == D(2030, 4, 30)


def test_r5_2_d6_a_new_plan_filed_within_four_months_meets_the_next_plan_deadline_without_a_transition(world):
    m = world.implementing()
    fire(world, pending(world, m, "plan_end").id, "2029-07-01T06:00:00")
    world.at("2029-09-03T09:00:00")
    world.run(handlers.submit_plan, c.SubmitPlan(member_id=m, plan=world.plan(D(2031, 3, 31)), actor=POC))
    tick(world, "2029-10-31T06:00:00")
    assert (only(world, m, "next_plan").status, only(world, m, "next_plan").closed_at) == (
        "met", utc("2029-09-03T09:00:00"))
    assert member(world, m).state == "implementing"
    assert [t[0] for t in system_trail(world, m)] == ["end_plan"]


def test_r3_13_r2_5_a_joint_plans_end_returns_every_coalition_member_to_co_creation(world):
    lead = world.co_creating("riverton")
    partner = world.co_creating("lakeside")
    world.run(handlers.submit_plan, c.SubmitPlan(member_id=lead, plan=world.plan(coalition=[partner]), actor=POC))
    ends = [pending(world, m, "plan_end") for m in (lead, partner)]
    assert ends[0].subject_id == ends[1].subject_id  # one plan, one obligation per member
    for d in ends:  # in id order, as a tick claims them
        fire(world, d.id, "2029-07-01T06:00:00")
    at = utc("2029-06-30T22:00:00")
    for m in (lead, partner):
        assert member(world, m).state == "co_creation"
        assert system_trail(world, m) == [("end_plan", "implementing", "co_creation", "R2.5", at)]
        assert (only(world, m, "plan_end").status, pending(world, m, "next_plan").due_on) == ("met", D(2029, 10, 30))
    assert {x.state for m in (lead, partner) for x in commitments(world, m)} == {"ended_incomplete"}


# ---------------------------------------------------------------- D3: R5.4 and R5.3


def test_d3_r5_4_no_tracker_update_in_two_counting_quarters_makes_an_implementing_member_inactive(world):
    m = world.implementing()  # filed 2027-01-10: Q1 is the filing quarter, Q2 and Q3 count
    check = pending(world, m, "quarterly_tracker_check")
    assert (check.due_on, check.rule_id) == (D(2027, 9, 30), "R5.4")
    tick(world, "2027-10-01T08:00:00")
    at = utc("2027-09-30T22:00:00")
    r = last_record(world, m)
    assert system_trail(world, m) == [("become_inactive", "implementing", "inactive", "R5.4", at)]
    assert member(world, m).inactivity_rule == "R5.4"
    assert findings(world, m)[-1] == ("R5.4", "transition", "quarterly_tracker_check", at, r.id)
    first, successor = deadlines(world, m, "quarterly_tracker_check")
    assert (first.status, first.closed_at, first.closed_by) == ("breached", at, r.id)
    assert (successor.status, successor.due_on, successor.opened_at, successor.opened_by) == (
        "pending", D(2027, 12, 31), at, r.id)
    assert letters(world, m, "inactive") == status_letters("inactive", "R5.4", at)


def test_d3_r5_3_updates_without_progress_in_two_counting_quarters_make_the_member_inactive_under_r5_3(world):
    m = world.implementing()
    stuck = milestone_ids(world, m)[0]
    tracker(world, m, "2027-05-15T09:00:00")
    world.at("2027-08-15T09:00:00")
    world.run(handlers.record_tracker_update, c.RecordTrackerUpdate(
        member_id=m, narrative="Procurement is blocked", actor=POC,
        changes=(c.MilestoneChange(milestone_id=stuck, status="stuck", delay_reason="The tender failed."),)))
    tick(world, "2027-10-01T08:00:00")
    at = utc("2027-09-30T22:00:00")
    assert system_trail(world, m) == [("become_inactive", "implementing", "inactive", "R5.3", at)]
    assert member(world, m).inactivity_rule == "R5.3"
    assert findings(world, m)[-1][:4] == ("R5.3", "transition", "quarterly_tracker_check", at)
    assert deadlines(world, m, "quarterly_tracker_check")[0].status == "breached"
    assert letters(world, m, "inactive") == status_letters("inactive", "R5.3", at)


@pytest.mark.parametrize("progress_on", ["2027-05-15T09:00:00", "2027-08-15T09:00:00"], ids=["q2", "q3"])
def test_d3_d4_progress_in_either_counting_quarter_meets_the_check_and_opens_the_next_one(world, progress_on):
    m = world.implementing()
    ms = milestone_ids(world, m)[0]
    other = "2027-08-15T09:00:00" if progress_on.startswith("2027-05") else "2027-05-15T09:00:00"
    for when in sorted([progress_on, other]):
        if when == progress_on:
            tracker(world, m, when, (ms, "in_progress"))
        else:
            tracker(world, m, when)
    tick(world, "2027-10-01T08:00:00")
    at = utc("2027-09-30T22:00:00")
    assert member(world, m).state == "implementing"
    assert system_trail(world, m) == []
    first, successor = deadlines(world, m, "quarterly_tracker_check")
    assert (first.status, first.closed_at, first.closed_by) == ("met", at, None)
    assert (successor.status, successor.due_on, successor.breach_at, successor.opened_at) == (
        "pending", D(2027, 12, 31), utc("2027-12-31T23:00:00"), at)
    assert [f for f in findings(world, m) if f[2] == "quarterly_tracker_check"] == []


def test_d3_the_filing_quarter_never_counts_even_when_a_check_covers_it(world):
    m = world.implementing()  # filed in 2027-Q1, co-creating until 10 January
    check = pending(world, m, "quarterly_tracker_check")
    move_deadline(world, check.id, D(2027, 6, 30))  # a check over Q1 and Q2, with no update in either
    tick(world, "2027-07-01T08:00:00")
    first, successor = deadlines(world, m, "quarterly_tracker_check")
    assert (first.status, first.closed_at) == ("met", utc("2027-06-30T22:00:00"))
    assert member(world, m).state == "implementing"
    assert successor.due_on == D(2027, 9, 30)  # Q2 and Q3: both count, and the next check finds R5.4
    tick(world, "2027-10-01T08:00:00")
    assert system_trail(world, m)[-1][3] == "R5.4"


def test_d3_quarters_spent_inactive_do_not_count_and_the_check_is_met(world):
    m = world.implementing()
    voluntarily_inactive(world, m, "2027-08-01T09:00:00")  # inactive for part of Q3
    tick(world, "2027-10-01T08:00:00")
    assert member(world, m).state == "inactive"
    assert deadlines(world, m, "quarterly_tracker_check")[0].status == "met"
    assert [f for f in findings(world, m) if f[2] == "quarterly_tracker_check"] == []


# ---------------------------------------------------------------- D9: findings while inactive


def test_d9_while_inactive_a_quarterly_finding_is_recorded_without_a_transition(world):
    m = world.implementing()
    # Inactive from the very instant Q3 ends, so Q2 and Q3 were implementing throughout and both count.
    voluntarily_inactive(world, m, "2027-09-30T22:00:00")
    before = last_record(world, m)
    tick(world, "2027-10-01T08:00:00")
    at = utc("2027-09-30T22:00:00")
    assert last_record(world, m).id == before.id
    assert system_trail(world, m) == []
    got = member(world, m)
    assert (got.state, got.voluntary_inactivity, got.inactivity_rule) == ("inactive", True, "R5.5")
    assert findings(world, m)[-1] == ("R5.4", "recorded", "quarterly_tracker_check", at, None)
    first, successor = deadlines(world, m, "quarterly_tracker_check")
    assert (first.status, first.closed_by) == ("breached", None)
    assert (successor.status, successor.due_on) == ("pending", D(2027, 12, 31))
    notices = [e for e in letters(world, m, "overdue") if e[2] == "R5.4"]
    assert notices == [("overdue", "poc", "R5.4", at), ("overdue", "support_unit", "R5.4", at)]


def test_d9_plan_end_while_inactive_ends_the_plan_and_opens_the_next_plan_without_a_member_transition(world):
    m = world.implementing()
    voluntarily_inactive(world, m, "2027-02-01T09:00:00")
    plan_end = pending(world, m, "plan_end")
    fire(world, plan_end.id, "2029-07-01T06:00:00")
    at = utc("2029-06-30T22:00:00")
    assert member(world, m).state == "inactive"
    assert system_trail(world, m) == []
    ended = commitments(world, m)
    assert [x.state for x in ended] == ["ended_incomplete"] * 3
    with world.session() as s:
        assert s.get(ActionPlan, plan_end.subject_id).status == "ended"
        for x in ended:
            r = audit.history(s, "commitment", x.id)[-1]
            assert (r.trigger, r.rule_id, r.actor, r.business_time) == ("end_incomplete", "R4.2", "system", at)
    assert (only(world, m, "plan_end").status, only(world, m, "plan_end").closed_at) == ("met", at)
    assert [d.status for d in deadlines(world, m, "quarterly_tracker_check")] == ["cancelled"]
    assert [d.status for d in deadlines(world, m, "meeting_check")] == ["cancelled"]
    nxt = pending(world, m, "next_plan")
    assert (nxt.due_on, nxt.opened_at) == (D(2029, 10, 30), at)
    world.at("2029-08-01T09:00:00")
    world.run(handlers.resume, c.Resume(member_id=m, actor=POC, reason="A new team starts co-creation."))
    assert member(world, m).state == "co_creation"  # R2.7: back to the phase its plan is in (none in force)


# ---------------------------------------------------------------- D8 / R6.2: meetings


def test_d8_r6_2_fewer_than_two_implementation_meetings_with_stakeholders_in_a_year_put_the_member_on_probation(world):
    m = world.implementing()  # its co-creation meeting does not count for implementation
    kept_on_track(world, m)
    meeting(world, m, D(2027, 6, 1))
    meeting(world, m, D(2027, 9, 1), non_governmental=0)  # no non-governmental participant: does not count
    tick(world, "2028-01-11T08:00:00")
    at = utc("2028-01-10T23:00:00")
    r = last_record(world, m)
    assert system_trail(world, m) == [("place_on_probation", "implementing", "probation", "R6.2", at)]
    got = member(world, m)
    assert (got.state, got.probation_rule) == ("probation", "R6.2")
    first, successor = deadlines(world, m, "meeting_check")
    assert (first.status, first.closed_at, first.closed_by) == ("breached", at, r.id)
    assert (successor.status, successor.due_on) == ("pending", D(2029, 1, 10))
    assert findings(world, m)[-1] == ("R6.2", "transition", "meeting_check", at, r.id)
    assert letters(world, m, "probation") == status_letters("probation", "R6.2", at)
    assert pending(world, m, "revocation_clock").due_on == D(2028, 5, 11)


def test_d8_r6_2_two_implementation_meetings_in_the_year_meet_the_check_and_open_the_next_anniversarys(world):
    m = world.implementing()
    kept_on_track(world, m)
    meeting(world, m, D(2027, 4, 1))
    meeting(world, m, D(2028, 1, 10))  # on the anniversary itself: still within the 12 months
    tick(world, "2028-01-11T08:00:00")
    assert member(world, m).state == "implementing"
    assert system_trail(world, m) == []
    first, successor = deadlines(world, m, "meeting_check")
    assert (first.status, first.closed_at) == ("met", utc("2028-01-10T23:00:00"))
    assert (successor.status, successor.due_on, successor.breach_at) == (
        "pending", D(2029, 1, 10), utc("2029-01-10T23:00:00"))
    assert [f for f in findings(world, m) if f[0] == "R6.2"] == []


# ---------------------------------------------------------------- R6.1: six months inactive


def test_r6_1_six_months_after_inactivity_the_member_goes_on_probation(world):
    m = world.co_creating()
    tick(world, "2027-10-01T08:00:00")
    inactive_at = utc("2027-09-30T22:00:00")
    tick(world, "2028-04-01T21:59:59")
    assert member(world, m).state == "inactive"
    tick(world, "2028-04-02T08:00:00")
    at = utc("2028-04-01T22:00:00")
    r = last_record(world, m)
    assert system_trail(world, m) == [("become_inactive", "co_creation", "inactive", "R5.1", inactive_at),
                                      ("place_on_probation", "inactive", "probation", "R6.1", at)]
    assert member(world, m).probation_rule == "R6.1"
    clock = only(world, m, "probation_clock")
    assert (clock.status, clock.closed_at, clock.closed_by) == ("breached", at, r.id)
    assert findings(world, m)[-1] == ("R6.1", "transition", "probation_clock", at, r.id)
    assert letters(world, m, "probation") == status_letters("probation", "R6.1", at)
    revocation = pending(world, m, "revocation_clock")
    assert (revocation.due_on, revocation.breach_at, revocation.opened_by) == (
        D(2028, 8, 2), utc("2028-08-02T22:00:00"), r.id)


def test_r6_1_voluntary_inactivity_never_leads_to_probation_even_after_twelve_months(world):
    m = world.implementing()
    voluntarily_inactive(world, m, "2027-02-01T09:00:00")
    tick(world, "2028-02-02T08:00:00")
    got = member(world, m)
    assert (got.state, got.voluntary_inactivity) == ("inactive", True)
    assert system_trail(world, m) == []
    assert deadlines(world, m, "probation_clock") == []
    assert [f for f in findings(world, m) if f[0] == "R6.1"] == []
    assert letters(world, m, "probation") == []


def test_r6_1_d6_resuming_before_six_months_closes_the_probation_clock_as_met(world):
    m = world.implementing()
    tick(world, "2027-10-01T08:00:00")  # R5.4
    tick(world, "2028-02-01T08:00:00")  # the meeting check of 10 January finds R6.2 while inactive: recorded
    tracker(world, m, "2028-02-01T09:00:00", (milestone_ids(world, m)[0], "in_progress"))  # R5.6
    assert member(world, m).state == "implementing"
    tick(world, "2028-04-02T08:00:00")
    assert member(world, m).state == "implementing"
    # R5.6: the progress resumed the member by itself (actor system), citing the rule.
    assert [(t[0], t[3]) for t in system_trail(world, m)] == [("become_inactive", "R5.4"), ("resume", "R5.6")]
    assert [(f[0], f[1]) for f in findings(world, m) if f[0] == "R6.2"] == [("R6.2", "recorded")]
    clock = only(world, m, "probation_clock")
    assert (clock.status, clock.closed_at) == ("met", utc("2028-02-01T09:00:00"))
    assert [f for f in findings(world, m) if f[0] == "R6.1"] == []


# ---------------------------------------------------------------- R6.5: revocation


def test_r6_5_four_months_on_probation_revoke_the_membership_and_cancel_every_pending_deadline(world):
    m = world.implementing()
    tick(world, "2027-10-01T08:00:00")  # R5.4
    tick(world, "2028-04-02T08:00:00")  # R6.1
    revocation = pending(world, m, "revocation_clock")
    check = pending(world, m, "quarterly_tracker_check")
    move_deadline(world, check.id, D(2028, 8, 2))  # a recurring check due with the revocation
    tick(world, "2028-08-03T08:00:00")
    at = utc("2028-08-02T22:00:00")
    r = last_record(world, m)
    assert system_trail(world, m)[-1] == ("revoke", "probation", "revoked", "R6.5", at)
    got = member(world, m)
    assert got.state == "revoked"
    with world.session() as s:
        assert s.get(ActionPlan, got.current_plan_id).status == "revoked"
        rows = list(s.scalars(select(Deadline).where(Deadline.member_id == m)))
        assert [d for d in rows if d.status == "pending"] == []
        cancelled = [d for d in rows if d.status == "cancelled"]
        assert {d.kind for d in cancelled} >= {"plan_end", "meeting_check", "final_learning_report",
                                               "end_of_commitment_assessment"}
        assert {(d.closed_at, d.closed_by) for d in cancelled} == {(at, r.id)}
        newest = max(d.id for d in rows)
    assert (only(world, m, "revocation_clock").status, only(world, m, "revocation_clock").closed_by) == (
        "breached", r.id)
    assert revocation.id == only(world, m, "revocation_clock").id
    assert findings(world, m)[-1] == ("R6.5", "transition", "revocation_clock", at, r.id)
    assert letters(world, m, "revoked") == status_letters("revoked", "R6.5", at)
    tick(world, "2030-01-01T00:00:00")  # no successor was opened: nothing is left to fire
    with world.session() as s:
        assert s.scalar(select(func.max(Deadline.id)).where(Deadline.member_id == m)) == newest
    assert system_trail(world, m)[-1][0] == "revoke"


# ---------------------------------------------------------------- D7: one instant, two rules


def test_d7_a_meeting_check_and_a_quarterly_check_at_one_instant_put_the_member_on_probation_and_record_both(world):
    m = world.co_creating()
    world.at("2027-03-31T10:00:00")  # 31 March in Paris: the meeting anniversary falls on a quarter's end
    world.run(handlers.submit_plan, c.SubmitPlan(member_id=m, plan=world.plan(), actor=POC))
    tracker(world, m, "2027-08-01T09:00:00", (milestone_ids(world, m)[0], "in_progress"))  # 2027-Q3 only
    meeting_check = pending(world, m, "meeting_check")
    assert meeting_check.due_on == D(2028, 3, 31)

    report = tick(world, "2028-04-01T08:00:00")
    at = utc("2028-03-31T22:00:00")
    r = last_record(world, m)
    assert system_trail(world, m) == [("place_on_probation", "implementing", "probation", "R6.2", at)]
    assert [(t["rule_id"], t["to_state"]) for t in report.transitions] == [("R6.2", "probation")]
    at_that_instant = sorted(f[:5] for f in findings(world, m) if f[3] == at)
    assert at_that_instant == [("R5.4", "superseded", "quarterly_tracker_check", at, None),
                               ("R6.2", "transition", "meeting_check", at, r.id)]
    checks = [d for d in deadlines(world, m, "quarterly_tracker_check") if d.due_on == D(2028, 3, 31)]
    assert [(d.status, d.closed_at) for d in checks] == [("breached", at)]
    assert (deadlines(world, m, "meeting_check")[0].status, deadlines(world, m, "meeting_check")[0].closed_by) == (
        "breached", r.id)
    assert letters(world, m, "probation") == status_letters("probation", "R6.2", at)
    assert letters(world, m, "inactive") == []
    assert pending(world, m, "quarterly_tracker_check").due_on == D(2028, 6, 30)
    assert pending(world, m, "meeting_check").due_on == D(2029, 3, 31)
    assert pending(world, m, "revocation_clock").due_on == D(2028, 8, 1)


# ---------------------------------------------------------------- R4.1–R4.3: overdue deliverables


def test_r4_1_a_start_assessment_not_filed_by_its_due_date_is_overdue_and_the_member_state_is_unchanged(world):
    m = world.implementing()
    tick(world, "2027-03-11T08:00:00")
    at = utc("2027-03-10T23:00:00")
    d = only(world, m, "start_assessment")
    assert (d.status, d.closed_at, d.closed_by) == ("breached", at, None)
    assert findings(world, m) == [("R4.1", "overdue", "start_assessment", at, None)]
    assert letters(world, m, "overdue") == [("overdue", role, "R4.1", at)
                                            for role in ("monitoring_body", "poc", "support_unit")]
    assert member(world, m).state == "implementing"
    assert system_trail(world, m) == []


@pytest.mark.parametrize(("kind", "rule", "breach"), [
    ("end_of_commitment_assessment", "R4.2", "2029-07-30T22:00:00"),
    ("final_learning_report", "R4.3", "2029-08-30T22:00:00"),
])
def test_r4_2_r4_3_an_overdue_deliverable_after_the_plan_ended_sends_notices_and_changes_no_state(
        world, kind, rule, breach):
    m = world.implementing()
    fire(world, pending(world, m, "plan_end").id, "2029-07-01T06:00:00")
    owed = deadlines(world, m, kind)  # one per commitment for R4.2, one per plan for R4.3
    assert {d.breach_at for d in owed} == {utc(breach)}
    fire(world, owed[0].id, breach)  # deliverables due at one instant are judged together
    at = utc(breach)
    assert [d.status for d in deadlines(world, m, kind)] == ["breached"] * len(owed)
    assert member(world, m).state == "co_creation"
    assert findings(world, m) == [(rule, "overdue", kind, at, None) for _ in owed]
    assert letters(world, m, "overdue") == [("overdue", role, rule, at) for _ in owed
                                            for role in ("monitoring_body", "poc", "support_unit")]
    assert [t[0] for t in system_trail(world, m)] == ["end_plan"]


def test_r4_1_a_start_assessment_filed_in_time_is_never_overdue(world):
    m = world.implementing()
    world.at("2027-03-10T22:30:00")  # 23:30 on the due date in Paris
    ratings = {"public_influence": "involve",
               "commitments": {str(x.id): {"relevant": True, "verifiable": True, "potential_impact": "minor"}
                               for x in commitments(world, m)}}
    world.run(handlers.file_assessment, c.FileAssessment(member_id=m, kind="start", actor="observatory",
                                                         ratings=ratings))
    tick(world, "2027-03-11T08:00:00")
    assert only(world, m, "start_assessment").status == "met"
    assert findings(world, m) == []
    assert letters(world, m, "overdue") == []


# ---------------------------------------------------------------- reminders


def test_reminders_go_out_thirty_and_seven_days_before_at_local_midnight_once_per_recipient(world):
    m = world.implementing()
    d = pending(world, m, "start_assessment")  # due 10 March 2027
    assert (d.reminder_days, d.next_reminder_at) == ([30, 7], utc("2027-02-07T23:00:00"))

    assert tick(world, "2027-02-07T22:59:59").reminders == 0
    first = tick(world, "2027-02-07T23:00:00")  # 8 February, 00:00 in Paris: 30 days before
    thirty = utc("2027-02-07T23:00:00")
    assert first.reminders == 1
    assert letters(world, m, "reminder") == [("reminder", "monitoring_body", "R4.1", thirty),
                                             ("reminder", "poc", "R4.1", thirty)]
    assert tick(world, "2027-02-07T23:00:00").reminders == 0
    assert len(letters(world, m, "reminder")) == 2

    tick(world, "2027-03-02T23:00:00")  # 3 March, 00:00 in Paris: 7 days before
    seven = utc("2027-03-02T23:00:00")
    assert letters(world, m, "reminder")[2:] == [("reminder", "monitoring_body", "R4.1", seven),
                                                 ("reminder", "poc", "R4.1", seven)]
    with world.session() as s:
        days = [e.payload["days_before"] for e in s.scalars(select(OutboxEvent).where(
            OutboxEvent.member_id == m, OutboxEvent.kind == "reminder").order_by(OutboxEvent.id))]
    assert days == [30, 30, 7, 7]
    d = pending(world, m, "start_assessment")
    assert (d.reminders_sent, d.next_reminder_at) == ([30, 7], None)
    tick(world, "2027-03-05T00:00:00")
    assert len(letters(world, m, "reminder")) == 4


def test_r5_1_reminders_of_the_first_plan_deadline_go_to_the_point_of_contact_and_restart_after_an_extension(world):
    m = world.co_creating()
    tick(world, "2027-08-31T00:00:00")  # due 30 September: 30 days before is 31 August, 00:00 in Paris
    assert letters(world, m, "reminder") == [("reminder", "poc", "R5.1", utc("2027-08-30T22:00:00"))]
    world.at("2027-09-01T09:00:00")
    extend(world, m, D(2027, 12, 15))
    tick(world, "2027-11-15T00:00:00")
    assert letters(world, m, "reminder")[1:] == [("reminder", "poc", "R5.1", utc("2027-11-14T23:00:00"))]


def test_r4_2_reminders_of_an_end_of_commitment_assessment_follow_its_date_when_the_commitment_completes(world):
    m = world.implementing()
    done = commitments(world, m)[0].id
    world.at("2028-03-01T09:00:00")
    world.run(handlers.complete_commitment, c.CompleteCommitment(commitment_id=done, completed_on=D(2028, 2, 15),
                                                                 actor=POC))
    d = [x for x in deadlines(world, m, "end_of_commitment_assessment") if x.subject_id == done][0]
    assert (d.due_on, d.next_reminder_at) == (D(2028, 3, 15), utc("2028-03-07T23:00:00"))
    tick(world, "2028-03-08T00:00:00")  # 7 days before, 00:00 in Paris; the 30-day one had passed already
    with world.session() as s:
        sent = [(e.recipient_role, e.payload["days_before"], e.created_at) for e in s.scalars(
            select(OutboxEvent).where(OutboxEvent.deadline_id == d.id, OutboxEvent.kind == "reminder")
            .order_by(OutboxEvent.id))]
    assert sent == [("monitoring_body", 7, utc("2028-03-07T23:00:00")), ("poc", 7, utc("2028-03-07T23:00:00"))]


# ---------------------------------------------------------------- idempotency (D6, R7.3)


def test_d6_firing_the_same_deadline_twice_makes_one_transition_one_finding_and_one_set_of_letters(world):
    m = world.co_creating()
    d = pending(world, m, "first_plan")
    first = fire(world, d.id, "2027-10-01T08:00:00")
    again = fire(world, d.id, "2027-10-01T08:00:05")
    assert (len(first.transitions), first.deadlines) == (1, 1)
    assert (again.transitions, again.findings, again.deadlines) == ([], [], 0)
    assert len(system_trail(world, m)) == 1
    assert len(findings(world, m)) == 1
    assert letters(world, m, "inactive") == status_letters("inactive", "R5.1", utc("2027-09-30T22:00:00"))


def test_d6_two_ticks_at_the_same_instant_fire_each_rule_once(world):
    m = world.implementing()
    first = tick(world, "2027-10-01T08:00:00")
    outbox_rows = count(world, OutboxEvent)
    again = tick(world, "2027-10-01T08:00:00")
    assert (again.deadlines, again.transitions, again.findings) == (0, [], [])
    assert [t["rule_id"] for t in first.transitions] == ["R5.4"]
    assert len(system_trail(world, m)) == 1
    assert count(world, OutboxEvent) == outbox_rows
    assert [f[0] for f in findings(world, m)] == ["R4.1", "R5.4"]


def test_a_tick_in_batches_writes_what_firing_each_deadline_alone_writes(world):
    """The tick's batch path and ``fire_deadline`` leave the same history, deadlines, findings and letters."""
    batched = [world.co_creating("riverton"), world.implementing("hillview")]
    alone = [world.co_creating("lakeside"), world.implementing("oakdale")]
    for when in ("2027-10-01T08:00:00", "2028-04-03T08:00:00", "2028-08-04T08:00:00"):
        one_by_one = fire_one_by_one(world, alone, when)  # first, so that the tick finds only the others due
        assert [(t["trigger"], t["rule_id"], t["business_time"]) for t in tick(world, when).transitions] == one_by_one

    def outcome(m):
        with world.session() as s:
            row = s.get(Member, m)
            state = (row.state, row.state_since, row.inactivity_rule, row.probation_rule, row.voluntary_inactivity)
            obligations = [(d.kind, d.rule_id, d.status, d.due_on, d.breach_at, d.closed_at, d.reminder_days,
                            d.reminders_sent, d.next_reminder_at, d.opened_by is None, d.closed_by is None)
                           for d in s.scalars(select(Deadline).where(Deadline.member_id == m).order_by(Deadline.id))]
            trail = [(r.trigger, r.from_state, r.to_state, r.rule_id, r.business_time, r.seq,
                      r.reason if r.actor == "system" else None) for r in audit.history(s, "member", m)]
        return state, obligations, trail, [f[:4] for f in findings(world, m)], letters(world, m)

    for b, a in zip(batched, alone, strict=True):
        assert outcome(b) == outcome(a)
    assert [t[0] for t in system_trail(world, batched[0])] == ["become_inactive", "place_on_probation", "revoke"]
    with world.session() as s:
        assert audit.verify(s).ok


def test_d6_two_ticks_at_once_in_small_batches_fire_each_members_chain_exactly_once(world):
    members = [world.co_creating(f"town-{i}") for i in range(12)]
    now = utc("2029-01-11T00:00:00")  # each member's R5.1, then R6.1, then R6.5 are all due
    world.clock.set(now)
    reports, errors = [], []

    def run():
        try:
            reports.append(engine.tick(now, session_factory=world.factory, clock=FixedClock(now), batch=3))
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            errors.append(exc)

    with capture_logs() as logs:
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert errors == []
    assert [e["event"] for e in logs if e.get("log_level") == "error"] == []  # no failed batch, no deadlock
    assert sum(len(r.transitions) for r in reports) == 3 * len(members)
    for m in members:
        assert [t[3] for t in system_trail(world, m)] == ["R5.1", "R6.1", "R6.5"]
        assert len(letters(world, m, "revoked")) == 2
    with world.session() as s:
        assert audit.verify(s).ok


def fire_one_by_one(world, members: list[int], when: str) -> list[tuple]:
    """Fire the members' due deadlines one at a time with ``fire_deadline``, in breach order."""
    fired = []
    while True:
        with world.session() as s:
            due = s.scalars(select(Deadline.id).where(Deadline.member_id.in_(members), Deadline.status == "pending",
                                                      Deadline.breach_at <= utc(when))
                            .order_by(Deadline.breach_at, Deadline.id).limit(1)).first()
        if due is None:
            return fired
        fired += [(t["trigger"], t["rule_id"], t["business_time"]) for t in fire(world, due, when).transitions]


# ---------------------------------------------------------------- a jump of two years in one tick


def test_d5_a_tick_two_years_ahead_fires_every_rule_in_due_order_and_chains_the_clocks_from_business_times(world):
    newcomer = world.co_creating("riverton")  # R5.1 -> R6.1 -> R6.5
    silent = world.implementing("lakeside")  # R4.1 overdue, R5.4 -> R6.1 -> R6.5
    resting = world.implementing("hillview")
    voluntarily_inactive(world, resting, "2027-02-01T09:00:00")  # R5.5: stays inactive, never on probation
    world.at("2027-02-01T10:00:00")
    seoul = world.co_creating("jongno", tz=SEOUL, country="South Korea")
    world.run(handlers.submit_plan, c.SubmitPlan(member_id=seoul, plan=world.plan(D(2028, 2, 29)), actor=POC))

    report = tick(world, "2029-01-11T00:00:00")
    assert report.failed == []

    paris_chain = [("become_inactive", "co_creation", "inactive", "R5.1", utc("2027-09-30T22:00:00")),
                   ("place_on_probation", "inactive", "probation", "R6.1", utc("2028-04-01T22:00:00")),
                   ("revoke", "probation", "revoked", "R6.5", utc("2028-08-02T22:00:00"))]
    assert system_trail(world, newcomer) == paris_chain
    assert system_trail(world, silent) == [("become_inactive", "implementing", "inactive", "R5.4",
                                            paris_chain[0][4]), *paris_chain[1:]]
    assert system_trail(world, resting) == []
    assert system_trail(world, seoul) == [
        ("become_inactive", "implementing", "inactive", "R5.4", utc("2027-09-30T15:00:00")),
        ("place_on_probation", "inactive", "probation", "R6.1", utc("2028-04-01T15:00:00")),
        ("revoke", "probation", "revoked", "R6.5", utc("2028-08-02T15:00:00")),
    ]
    states = {m: member(world, m).state for m in (newcomer, silent, resting, seoul)}
    assert states == {newcomer: "revoked", silent: "revoked", resting: "inactive", seoul: "revoked"}

    for m in (newcomer, silent, seoul):
        trail = system_trail(world, m)
        times = [t[4] for t in trail]
        assert times == sorted(set(times))  # strictly increasing
        tz = member(world, m).jurisdiction.time_zone
        # D5: each clock runs from the business time of the transition that conferred the status.
        assert times[1] == breach_instant(add_months(local_date(times[0], tz), 6), tz)
        assert times[2] == breach_instant(add_months(local_date(times[1], tz), 4), tz)
        found = [f[3] for f in findings(world, m)]
        assert found == sorted(found)
        with world.session() as s:
            assert s.scalar(select(func.count()).select_from(Deadline).where(
                Deadline.member_id == m, Deadline.status == "pending")) == 0

    # The Seoul plan ended while the member was inactive (D9), and its next-plan deadline passed while
    # it was on probation: both are findings without a transition of their own.
    assert [(f[0], f[1]) for f in findings(world, seoul) if f[0] in ("R5.2", "R6.2")] == [
        ("R6.2", "recorded"), ("R5.2", "recorded")]
    assert [x.state for x in commitments(world, seoul)] == ["ended_incomplete"] * 3
    assert {f[1] for f in findings(world, resting)} <= {"overdue", "recorded"}

    fired = [pendulum.parse(t["business_time"]) for t in report.transitions]
    assert fired == sorted(fired)  # across members too, rules fired in breach order
    assert len(report.transitions) == 9
    with world.session() as s:
        assert audit.verify(s).ok
    assert tick(world, "2029-01-11T00:00:00").transitions == []


# ---------------------------------------------------------------- a broken deadline among others


def test_a_deadline_whose_judgement_fails_is_reported_left_pending_and_does_not_stop_the_others(world, monkeypatch):
    broken, sound = world.co_creating("riverton"), world.co_creating("lakeside")
    bad = only(world, broken, "first_plan").id
    judge = engine.judge

    def failing(session, member, deadline, plan):
        if deadline.id == bad:
            raise RuntimeError("simulated fault")
        return judge(session, member, deadline, plan)

    monkeypatch.setattr(engine, "judge", failing)
    report = tick(world, "2027-10-01T08:00:00", batch_may_fail=True)

    assert report.failed == [bad]
    assert member(world, sound).state == "inactive"  # fired after the failure, on a fresh connection
    assert member(world, broken).state == "co_creation"
    assert only(world, broken, "first_plan").status == "pending"  # nothing of the failed unit of work stayed
    assert system_trail(world, broken) == []

    monkeypatch.setattr(engine, "judge", judge)
    assert tick(world, "2027-10-01T08:05:00").failed == []
    assert [t[3] for t in system_trail(world, broken)] == ["R5.1"]
