"""The deadline rows that transitions open and close (§4–§6, D1–D3), on both real databases.

Each obligation is checked for its kind, rule ID, local due date and UTC breach instant
(00:00 local time on the day after the due date, D2) in two zones that straddle UTC:
America/New_York (UTC−5, or −4 in summer) and Asia/Seoul (UTC+9, no summer time). The
instants are written out by hand rather than computed with the code under test.
"""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest
from sqlalchemy import select

from lifecycle import audit, commands as c, handlers, samples
from lifecycle.models import Commitment, Deadline
from lifecycle.schemas import PlanIn
from worldkit import make_world

SU = "support-unit"
POC = "poc@city.example"
OBSERVATORY = "University Observatory of Public Policy"
D = dt.date
NEW_YORK, SEOUL = "America/New_York", "Asia/Seoul"


def utc(text: str) -> pendulum.DateTime:
    return pendulum.parse(text, tz="UTC")


@pytest.fixture(params=[NEW_YORK, SEOUL], ids=["new_york", "seoul"])
def zone(request) -> str:
    return request.param


def member_in(world, zone: str, walk: str = "implementing", **kw) -> int:
    code = "gotham" if zone == NEW_YORK else "jongno"
    country = "United States" if zone == NEW_YORK else "South Korea"
    return getattr(world, walk)(code, tz=zone, country=country, **kw)


def rows(world, member_id: int, kind: str) -> list[Deadline]:
    with world.session() as s:
        return list(s.scalars(select(Deadline).where(Deadline.member_id == member_id, Deadline.kind == kind)
                              .order_by(Deadline.id)))


def only(world, member_id: int, kind: str) -> Deadline:
    found = rows(world, member_id, kind)
    assert len(found) == 1, f"expected one {kind} deadline, found {len(found)}"
    return found[0]


def only_for(world, commitment_id: int) -> Deadline:
    """The one deadline about a commitment: its end-of-commitment assessment (R4.2)."""
    with world.session() as s:
        return s.scalars(select(Deadline).where(Deadline.subject_type == "commitment",
                                                Deadline.subject_id == commitment_id)).one()


def row(d: Deadline) -> tuple[str, str, str, dt.date, pendulum.DateTime]:
    assert d.breach_at.timezone_name == "UTC"
    return d.kind, d.rule_id, d.status, d.due_on, d.breach_at


def record_id(world, kind: str, subject_id: int, trigger: str) -> int:
    """The id of the subject's latest audit record for ``trigger``."""
    with world.session() as s:
        return [r.id for r in audit.history(s, kind, subject_id) if r.trigger == trigger][-1]


def status(world, member_id: int, trigger: str, rule: str) -> None:
    """A status by hand; these tests are about the deadlines it opens and closes, so it is an override (D14)."""
    world.run(handlers.apply_status, c.ApplyStatus(member_id=member_id, trigger=trigger, rule=rule, actor=SU,
                                                   reason="as the rule says", override=True))


def commitment_ids(world, member_id: int) -> list[int]:
    with world.session() as s:
        return list(s.scalars(select(Commitment.id).where(Commitment.member_id == member_id).order_by(Commitment.id)))


# ---------------------------------------------------------------- R5.1: accept opens the first-plan deadline


def test_r5_1_accepting_opens_the_first_plan_deadline_due_on_the_calls_date_breached_at_local_midnight(world, zone):
    m = member_in(world, zone, "in_orientation")
    d = only(world, m, "first_plan")
    assert row(d) == ("first_plan", "R5.1", "pending", D(2027, 9, 30), {
        NEW_YORK: utc("2027-10-01T04:00:00"),  # EDT
        SEOUL: utc("2027-09-30T15:00:00"),
    }[zone])
    assert (d.subject_type, d.subject_id) == ("member", m)
    assert d.opened_by == record_id(world, "member", m, "accept")
    assert d.opened_at == utc("2027-01-10T09:00:00")


def test_r5_1_filing_the_first_plan_closes_the_first_plan_deadline_as_met(world, zone):
    m = member_in(world, zone, "co_creating")
    world.at("2027-05-01T09:00:00")
    world.run(handlers.submit_plan, c.SubmitPlan(member_id=m, plan=world.plan(), actor=POC))
    d = only(world, m, "first_plan")
    assert (d.status, d.closed_at, d.closed_by) == ("met", utc("2027-05-01T09:00:00"),
                                                     record_id(world, "member", m, "submit_plan"))


# ---------------------------------------------------------------- submit_plan opens the plan's obligations


# Filed at 2027-03-31 16:00 UTC: still 31 March (Q1) in New York, already 1 April (Q2) in Seoul.
FILED_AT = "2027-03-31T16:00:00"
PLAN_OBLIGATIONS = {
    NEW_YORK: [
        ("plan_end", "R2.5", "pending", D(2029, 6, 30), utc("2029-07-01T04:00:00")),
        ("start_assessment", "R4.1", "pending", D(2027, 5, 31), utc("2027-06-01T04:00:00")),
        ("final_learning_report", "R4.3", "pending", D(2029, 8, 30), utc("2029-08-31T04:00:00")),
        ("quarterly_tracker_check", "R5.4", "pending", D(2027, 9, 30), utc("2027-10-01T04:00:00")),
        ("meeting_check", "R6.2", "pending", D(2028, 3, 31), utc("2028-04-01T04:00:00")),
    ],
    SEOUL: [
        ("plan_end", "R2.5", "pending", D(2029, 6, 30), utc("2029-06-30T15:00:00")),
        ("start_assessment", "R4.1", "pending", D(2027, 6, 1), utc("2027-06-01T15:00:00")),
        ("final_learning_report", "R4.3", "pending", D(2029, 8, 30), utc("2029-08-30T15:00:00")),
        ("quarterly_tracker_check", "R5.4", "pending", D(2027, 12, 31), utc("2027-12-31T15:00:00")),
        ("meeting_check", "R6.2", "pending", D(2028, 4, 1), utc("2028-04-01T15:00:00")),
    ],
}


def test_r2_5_r4_1_r4_3_r5_4_r6_2_filing_a_plan_opens_its_obligations_on_the_local_filing_day(world, zone):
    m = member_in(world, zone, "co_creating")
    world.at(FILED_AT)
    plan_id = world.run(handlers.submit_plan, c.SubmitPlan(member_id=m, plan=world.plan(D(2029, 6, 30)), actor=POC))
    submitted = record_id(world, "member", m, "submit_plan")
    opened = [d for kind in ("plan_end", "start_assessment", "final_learning_report", "quarterly_tracker_check",
                             "meeting_check") for d in rows(world, m, kind)]
    assert [row(d) for d in opened] == PLAN_OBLIGATIONS[zone]
    for d in opened:
        assert (d.subject_type, d.subject_id, d.opened_by, d.opened_at) == ("plan", plan_id, submitted, utc(FILED_AT))


def test_d3_a_plan_filed_on_the_first_day_of_a_quarter_skips_that_quarter(world):
    m = member_in(world, SEOUL, "co_creating")
    world.at("2027-06-30T15:00:00")  # 1 July 2027, 00:00 in Seoul: Q3 is the filing quarter
    world.run(handlers.submit_plan, c.SubmitPlan(member_id=m, plan=world.plan(), actor=POC))
    assert row(only(world, m, "quarterly_tracker_check"))[3:] == (D(2028, 3, 31), utc("2028-03-31T15:00:00"))


# ---------------------------------------------------------------- R4.2: each commitment's end-of-commitment assessment


def test_r4_2_starting_a_commitment_opens_its_assessment_deadline_a_month_after_the_plan_ends(world, zone):
    m = member_in(world, zone)
    ids = commitment_ids(world, m)
    found = rows(world, m, "end_of_commitment_assessment")
    assert [(d.subject_type, d.subject_id) for d in found] == [("commitment", i) for i in ids]
    for d, cid in zip(found, ids, strict=True):
        assert row(d) == ("end_of_commitment_assessment", "R4.2", "pending", D(2029, 7, 30), {
            NEW_YORK: utc("2029-07-31T04:00:00"),
            SEOUL: utc("2029-07-30T15:00:00"),
        }[zone])
        assert d.opened_by == record_id(world, "commitment", cid, "start")


def test_r4_2_completing_a_commitment_re_dates_its_assessment_to_a_month_after_completion(world, zone):
    m = member_in(world, zone)
    first, second = commitment_ids(world, m)[:2]
    world.at("2027-11-20T12:00:00")
    world.run(handlers.complete_commitment, c.CompleteCommitment(commitment_id=first, completed_on=D(2027, 11, 15),
                                                                 actor=POC))
    assert row(only_for(world, first)) == ("end_of_commitment_assessment", "R4.2", "pending", D(2027, 12, 15), {
        NEW_YORK: utc("2027-12-16T05:00:00"),  # EST
        SEOUL: utc("2027-12-15T15:00:00"),
    }[zone])
    assert only_for(world, second).due_on == D(2029, 7, 30), "the other commitments keep the plan-end date"


def test_r4_2_d1_a_commitment_completed_on_31_january_of_a_leap_year_is_assessed_by_29_february(world):
    m = member_in(world, SEOUL)
    cid = commitment_ids(world, m)[0]
    world.at("2028-02-01T09:00:00")
    world.run(handlers.complete_commitment, c.CompleteCommitment(commitment_id=cid, completed_on=D(2028, 1, 31),
                                                                 actor=POC))
    assert row(only_for(world, cid))[3:] == (D(2028, 2, 29), utc("2028-02-29T15:00:00"))


# ---------------------------------------------------------------- R5.2: end_plan opens the next-plan window (D1)


@pytest.mark.parametrize("plan_end, term_end, due", [
    (D(2028, 10, 31), D(2031, 6, 30), D(2029, 2, 28)),
    (D(2031, 10, 31), D(2032, 6, 30), D(2032, 2, 29)),  # 2032 is a leap year
    (D(2028, 8, 31), D(2031, 6, 30), D(2028, 12, 31)),
], ids=["31-oct-to-28-feb", "31-oct-to-29-feb-leap", "31-aug-to-31-dec"])
def test_r5_2_d1_ending_a_plan_opens_the_next_plan_deadline_four_calendar_months_later_clamped(
        world, zone, plan_end, term_end, due):
    m = member_in(world, zone, plan_end=plan_end, term_end=term_end)
    world.at(f"{plan_end + dt.timedelta(days=1)}T12:00:00")
    status(world, m, "end_plan", "R2.5")
    d = only(world, m, "next_plan")
    midnight = pendulum.datetime(due.year, due.month, due.day, tz=zone).add(days=1).in_timezone("UTC")
    assert row(d) == ("next_plan", "R5.2", "pending", due, midnight)
    assert d.opened_by == record_id(world, "member", m, "end_plan")


def test_r5_2_the_next_plan_deadline_in_new_york_falls_at_local_midnight_in_winter_time(world):
    m = member_in(world, NEW_YORK, plan_end=D(2028, 10, 31))
    world.at("2028-11-01T12:00:00")
    status(world, m, "end_plan", "R2.5")
    assert row(only(world, m, "next_plan"))[3:] == (D(2029, 2, 28), utc("2029-03-01T05:00:00"))


def test_r2_5_ending_a_plan_meets_the_plan_end_deadline_and_stops_its_recurring_checks(world):
    m = member_in(world, SEOUL, plan_end=D(2028, 10, 31))
    world.at("2028-11-01T12:00:00")
    status(world, m, "end_plan", "R2.5")
    ended = record_id(world, "member", m, "end_plan")
    assert [(d.status, d.closed_by) for d in rows(world, m, "plan_end")] == [("met", ended)]
    for kind in ("quarterly_tracker_check", "meeting_check"):
        assert [(d.status, d.closed_by) for d in rows(world, m, kind)] == [("cancelled", ended)]
    # The monitoring deliverables stay owed after the plan ends.
    assert row(only(world, m, "final_learning_report"))[1:4] == ("R4.3", "pending", D(2028, 12, 31))
    assert {d.status for d in rows(world, m, "end_of_commitment_assessment")} == {"pending"}


def test_r3_8_filing_the_next_plan_closes_the_next_plan_deadline_as_met(world):
    m = member_in(world, NEW_YORK, plan_end=D(2028, 10, 31))
    world.at("2028-11-01T12:00:00")
    status(world, m, "end_plan", "R2.5")
    world.at("2029-01-15T15:00:00")
    world.run(handlers.record_meeting, c.RecordMeeting(member_id=m, phase="co_creation", held_on=D(2029, 1, 15),
                                                       government_participants=2, non_governmental_participants=3,
                                                       actor=POC))
    plan = PlanIn.model_validate(samples.plan(D(2029, 1, 15), D(2030, 12, 31), 2))
    world.run(handlers.submit_plan, c.SubmitPlan(member_id=m, plan=plan, actor=POC))
    d = only(world, m, "next_plan")
    assert (d.status, d.closed_at, d.closed_by) == ("met", utc("2029-01-15T15:00:00"),
                                                     record_id(world, "member", m, "submit_plan"))
    assert [d.due_on for d in rows(world, m, "plan_end")] == [D(2028, 10, 31), D(2030, 12, 31)]


# ---------------------------------------------------------------- R6.1, R6.5: the probation and revocation clocks


# Made inactive at 2027-10-01 03:00 UTC: 30 September 23:00 in New York, 1 October 12:00 in Seoul.
INACTIVE_AT = "2027-10-01T03:00:00"
PROBATION_CLOCK = {
    NEW_YORK: (D(2028, 3, 30), utc("2028-03-31T04:00:00")),
    SEOUL: (D(2028, 4, 1), utc("2028-04-01T15:00:00")),
}


def test_r6_1_becoming_inactive_opens_the_probation_clock_six_months_from_the_local_day(world, zone):
    m = member_in(world, zone)
    world.at(INACTIVE_AT)
    status(world, m, "become_inactive", "R5.4")
    d = only(world, m, "probation_clock")
    assert row(d) == ("probation_clock", "R6.1", "pending", *PROBATION_CLOCK[zone])
    assert (d.subject_type, d.subject_id, d.opened_by) == ("member", m,
                                                            record_id(world, "member", m, "become_inactive"))


def test_r6_1_resuming_closes_the_probation_clock_as_met(world, zone):
    m = member_in(world, zone)
    world.at(INACTIVE_AT)
    status(world, m, "become_inactive", "R5.4")
    world.at("2027-11-02T10:00:00")
    status(world, m, "resume", "R5.6")
    d = only(world, m, "probation_clock")
    assert (d.status, d.closed_at, d.closed_by) == ("met", utc("2027-11-02T10:00:00"),
                                                     record_id(world, "member", m, "resume"))


def test_r6_1_probation_closes_the_probation_clock_as_breached(world):
    m = member_in(world, SEOUL)
    world.at(INACTIVE_AT)
    status(world, m, "become_inactive", "R5.4")
    world.at("2028-04-01T15:00:00")
    status(world, m, "place_on_probation", "R6.1")
    assert [(d.status, d.closed_by) for d in rows(world, m, "probation_clock")] == [
        ("breached", record_id(world, "member", m, "place_on_probation"))]


# Placed on probation at 2027-12-31 20:00 UTC: 31 December 15:00 in New York, 1 January 05:00 in Seoul.
PROBATION_AT = "2027-12-31T20:00:00"
REVOCATION_CLOCK = {
    NEW_YORK: (D(2028, 4, 30), utc("2028-05-01T04:00:00")),  # 31 Dec + 4 months clamps to 30 April (D1)
    SEOUL: (D(2028, 5, 1), utc("2028-05-01T15:00:00")),
}


def test_r6_5_probation_opens_the_revocation_clock_four_months_from_the_local_day(world, zone):
    m = member_in(world, zone)
    world.at(PROBATION_AT)
    status(world, m, "place_on_probation", "R6.2")
    d = only(world, m, "revocation_clock")
    assert row(d) == ("revocation_clock", "R6.5", "pending", *REVOCATION_CLOCK[zone])
    assert d.opened_by == record_id(world, "member", m, "place_on_probation")


def test_r6_4_reinstating_closes_the_revocation_clock_as_met(world, zone):
    m = member_in(world, zone)
    world.at(PROBATION_AT)
    status(world, m, "place_on_probation", "R6.2")
    world.at("2028-02-01T09:00:00")
    status(world, m, "reinstate", "R6.4")
    d = only(world, m, "revocation_clock")
    assert (d.status, d.closed_at, d.closed_by) == ("met", utc("2028-02-01T09:00:00"),
                                                     record_id(world, "member", m, "reinstate"))


def test_r5_5_approved_voluntary_inactivity_opens_no_deadline_at_all(world):
    m = member_in(world, NEW_YORK)
    with world.session() as s:
        before = sorted((d.id, d.status) for d in s.scalars(select(Deadline).where(Deadline.member_id == m)))
    rid = world.run(handlers.request_voluntary_inactivity, c.RequestVoluntaryInactivity(
        member_id=m, reason="Elections.", stakeholders_consulted=True, actor=POC))
    world.run(handlers.approve_voluntary_inactivity, c.ApproveVoluntaryInactivity(request_id=rid, actor=SU))
    with world.session() as s:
        after = sorted((d.id, d.status) for d in s.scalars(select(Deadline).where(Deadline.member_id == m)))
    assert after == before


def test_r4_reminder_offsets_are_a_setting_of_the_entry_point(db_url):
    """Reminders go out at the offsets the settings give (default 30 and 7 days before the due date)."""
    import pendulum
    from sqlalchemy import select

    from lifecycle.models import Deadline

    world, engine = make_world(db_url, reminder_days=(14, 1))
    try:
        world.at("2027-02-01T09:00:00")
        m = world.in_orientation()
        with world.session() as s:
            d = s.scalars(select(Deadline).where(Deadline.member_id == m, Deadline.kind == "first_plan")).one()
            assert d.reminder_days == [14, 1]
            # 14 days before the 30 September due date, at local midnight in Paris.
            assert d.next_reminder_at == pendulum.datetime(2027, 9, 15, 22, tz="UTC")
    finally:
        engine.dispose()
