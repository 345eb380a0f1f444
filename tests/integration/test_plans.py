"""Co-creation meetings and filing action plans (R2.4, §3, R3.13) on both real databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from lifecycle import audit, commands as c, handlers, samples
from lifecycle.models import ActionPlan, Coalition, Commitment, Evidence, Meeting, Member
from lifecycle.schemas import PlanIn
from policies.errors import InvalidInput, Refusals, TriggerNotAllowed
from worldkit import snapshot, trail, state

SU = "support-unit"
POC = "poc@city.example"
D = dt.date


def plan_doc(world, plan_end: dt.date = D(2029, 6, 30), n: int = 3, *, commitments: list[dict] | None = None,
             **overrides) -> PlanIn:
    data = samples.plan(world.today(), plan_end, n, **overrides)
    if commitments is not None:
        data["commitments"] = commitments
    return PlanIn.model_validate(data)


def commitment(world, end: dt.date = D(2029, 6, 30), n: int = 1, **overrides) -> dict:
    return samples.commitment(world.today(), end, n, **overrides)


def submit(world, member_id: int, plan: PlanIn) -> int:
    return world.run(handlers.submit_plan, c.SubmitPlan(member_id=member_id, plan=plan, actor=POC))


def meeting(world, member_id: int, *, phase: str = "co_creation", held_on: dt.date | None = None,
            non_governmental: int = 4, evidence: tuple[str, ...] = ()) -> int:
    return world.run(handlers.record_meeting, c.RecordMeeting(
        member_id=member_id, phase=phase, held_on=held_on or world.today(), government_participants=3,
        non_governmental_participants=non_governmental, actor=POC, evidence=evidence))


def co_creating_without_meeting(world, code: str = "riverton", **kw) -> int:
    m = world.in_orientation(code, **kw)
    world.run(handlers.complete_orientation, c.CompleteOrientation(member_id=m, actor=SU))
    world.run(handlers.start_co_creation, c.StartCoCreation(member_id=m, actor=POC))
    return m


def refused(world, member_id: int, plan: PlanIn, rule: str) -> Refusals:
    """Submit a plan that must be refused under ``rule`` alone, and check that nothing changed."""
    before = snapshot(world)
    with pytest.raises(Refusals) as exc:
        submit(world, member_id, plan)
    assert exc.value.rule == rule
    assert {v.rule for v in exc.value.violations} == {rule}
    assert snapshot(world) == before
    assert state(world, member_id) == "co_creation"
    return exc.value


# ---------------------------------------------------------------- record_meeting (R3.11)


def test_r3_11_a_meeting_is_recorded_with_its_participants_and_minutes_as_evidence(world):
    m = co_creating_without_meeting(world)
    mid = meeting(world, m, held_on=D(2027, 1, 8), evidence=("https://city.example/minutes/1",))
    with world.session() as s:
        got = s.get(Meeting, mid)
        assert (got.member_id, got.phase, got.held_on, got.government_participants,
                got.non_governmental_participants) == (m, "co_creation", D(2027, 1, 8), 3, 4)
        ev = s.scalars(select(Evidence).where(Evidence.subject_type == "meeting", Evidence.subject_id == mid)).all()
        assert [(e.kind, e.url) for e in ev] == [("forum minutes or decisions", "https://city.example/minutes/1")]


def test_r3_11_a_meeting_of_an_unknown_phase_is_refused_and_changes_nothing(world):
    m = co_creating_without_meeting(world)
    before = snapshot(world)
    with pytest.raises(InvalidInput) as exc:
        meeting(world, m, phase="party")
    assert exc.value.rule == "R3.11"
    assert exc.value.field == "phase"
    assert snapshot(world) == before


def test_r3_11_a_meeting_held_tomorrow_is_refused_and_changes_nothing(world):
    m = co_creating_without_meeting(world)
    before = snapshot(world)
    with pytest.raises(InvalidInput) as exc:
        meeting(world, m, held_on=D(2027, 1, 11))
    assert exc.value.rule == "R3.11"
    assert exc.value.field == "held_on"
    assert snapshot(world) == before


def test_r3_11_a_meeting_with_negative_participants_is_refused_and_changes_nothing(world):
    m = co_creating_without_meeting(world)
    before = snapshot(world)
    with pytest.raises(InvalidInput) as exc:
        meeting(world, m, non_governmental=-1)
    assert exc.value.rule == "R3.11"
    assert snapshot(world) == before


def test_r3_11_an_applicant_records_no_meeting_and_nothing_changes(world):
    m = world.applicant()
    before = snapshot(world)
    with pytest.raises(TriggerNotAllowed) as exc:
        meeting(world, m)
    assert exc.value.rule == "R3.11"
    assert snapshot(world) == before


# ---------------------------------------------------------------- submit_plan: success (R2.4)


def test_r2_4_a_valid_plan_makes_the_member_and_each_commitment_implementing_with_a_record_each(world):
    m = world.co_creating()
    world.at("2027-02-15T10:00:00")
    plan_id = submit(world, m, plan_doc(world, D(2029, 6, 30), 3))
    with world.session() as s:
        member = s.get(Member, m)
        plan = s.get(ActionPlan, plan_id)
        assert (member.state, member.current_plan_id) == ("implementing", plan_id)
        assert (plan.status, plan.filed_on, plan.end_on, plan.monitoring_body, plan.coalition_id) == (
            "in_force", D(2027, 2, 15), D(2029, 6, 30), "University Observatory of Public Policy", None)
        commitments = s.scalars(select(Commitment).where(Commitment.plan_id == plan_id).order_by(Commitment.id)).all()
        assert [(x.state, x.member_id, x.version, x.submitted_on, x.is_replacement) for x in commitments] == [
            ("implementing", m, 1, D(2027, 2, 15), False)] * 3
        assert [len(x.milestones) for x in commitments] == [2, 2, 2]
        ids = [x.id for x in commitments]
    assert trail(world, "member", m)[-1] == ("submit_plan", "co_creation", "implementing", "R2.4")
    for cid in ids:
        assert trail(world, "commitment", cid) == [("create", "", "draft", "R3.2"),
                                                   ("start", "draft", "implementing", "R2.4")]


def test_r3_3_a_single_jurisdiction_may_file_five_commitments(world):
    m = world.co_creating()
    submit(world, m, plan_doc(world, n=5))
    assert state(world, m) == "implementing"


def test_r3_1_a_plan_ending_exactly_two_months_before_the_term_ends_is_accepted(world):
    m = world.co_creating()  # term ends 2031-06-30
    submit(world, m, plan_doc(world, D(2031, 4, 30)))
    assert state(world, m) == "implementing"


# ---------------------------------------------------------------- submit_plan: refusals


def test_r3_1_a_plan_ending_after_the_term_allows_is_refused_and_changes_nothing(world):
    m = world.co_creating()  # term ends 2031-06-30: plans end by 2031-04-30
    refused(world, m, plan_doc(world, D(2031, 5, 1)), "R3.1")


def test_r3_1_a_plan_without_elections_lasting_over_four_years_is_refused_and_changes_nothing(world):
    m = world.co_creating(term_end=None)
    refused(world, m, plan_doc(world, D(2031, 1, 11)), "R3.1")


def test_r3_3_six_commitments_for_one_jurisdiction_are_refused_and_change_nothing(world):
    m = world.co_creating()
    err = refused(world, m, plan_doc(world, n=6), "R3.3")
    assert err.violations[0].field == "commitments"


def test_r3_3_a_plan_without_commitments_is_refused_and_changes_nothing(world):
    m = world.co_creating()
    refused(world, m, plan_doc(world, commitments=[]), "R3.3")


def test_r3_5_a_commitment_shorter_than_a_year_is_refused_and_changes_nothing(world):
    m = world.co_creating()
    short = commitment(world, D(2027, 12, 31), 1)
    err = refused(world, m, plan_doc(world, commitments=[short, commitment(world, n=2)]), "R3.5")
    assert err.violations[0].field == "commitments[0].end"


def test_r3_5_a_commitment_ending_after_the_plan_is_refused_and_changes_nothing(world):
    m = world.co_creating()
    refused(world, m, plan_doc(world, D(2029, 6, 30), commitments=[commitment(world, D(2029, 7, 31))]), "R3.5")


@pytest.mark.parametrize("overrides", [
    {"ogp_values": []},
    {"policy_areas": ["Open Data", "Open Contracting", "Tax"]},
    {"sectors": ["Underwater Basket Weaving"]},
    {"problem": ""},
    {"milestones": []},
    {"resources_secured": "maybe"},
], ids=["no-ogp-value", "three-policy-areas", "unknown-sector", "no-problem", "no-milestone", "bad-secured"])
def test_r3_7_a_commitment_missing_an_annex_2_field_is_refused_and_changes_nothing(world, overrides):
    m = world.co_creating()
    refused(world, m, plan_doc(world, commitments=[commitment(world, **overrides)]), "R3.7")


def test_r3_11_a_plan_without_a_recorded_co_creation_meeting_is_refused_and_changes_nothing(world):
    m = co_creating_without_meeting(world)
    err = refused(world, m, plan_doc(world), "R3.11")
    assert err.violations[0].field == "cocreation.cocreation_meetings_with_non_governmental"


def test_r3_11_a_meeting_without_non_governmental_participants_does_not_count_and_the_plan_is_refused(world):
    m = co_creating_without_meeting(world)
    meeting(world, m, non_governmental=0)
    meeting(world, m, phase="implementation")
    refused(world, m, plan_doc(world), "R3.11")


def test_r3_11_a_plan_without_a_forum_or_endorsing_stakeholders_is_refused_and_changes_nothing(world):
    m = world.co_creating()
    err = refused(world, m, plan_doc(world, forum=None, endorsing_stakeholders=[]), "R3.11")
    assert {v.field for v in err.violations} == {"cocreation.forum_exists", "vision.endorsing_stakeholders"}


def test_r2_4_a_member_still_in_orientation_cannot_file_a_plan_and_nothing_changes(world):
    m = world.in_orientation()
    before = snapshot(world)
    with pytest.raises(TriggerNotAllowed) as exc:
        submit(world, m, plan_doc(world))
    assert exc.value.rule == "R2.4"
    assert snapshot(world) == before


def test_r2_4_a_member_already_implementing_cannot_file_a_second_plan_and_nothing_changes(world):
    m = world.implementing()
    before = snapshot(world)
    with pytest.raises(TriggerNotAllowed) as exc:
        submit(world, m, plan_doc(world))
    assert exc.value.rule == "R2.4"
    assert snapshot(world) == before


# ---------------------------------------------------------------- joint plans (R3.13)


def test_r3_13_two_members_of_one_country_file_jointly_and_both_implement_one_plan(world):
    a = world.co_creating("riverton")
    b = world.co_creating("lakeside")
    own = commitment(world, n=1, jurisdiction="lakeside")
    joint = [commitment(world, n=n) for n in range(2, 7)]  # six in all: over one member's limit, within a pair's
    plan_id = submit(world, a, plan_doc(world, commitments=[own, *joint], coalition=[b],
                                        coalition_name="Riverton and Lakeside"))
    with world.session() as s:
        ma, mb = s.get(Member, a), s.get(Member, b)
        assert (ma.state, mb.state) == ("implementing", "implementing")
        assert ma.current_plan_id == mb.current_plan_id == plan_id
        plan = s.get(ActionPlan, plan_id)
        coalition = s.get(Coalition, plan.coalition_id)
        assert (coalition.name, coalition.lead_member_id, sorted(coalition.member_ids)) == (
            "Riverton and Lakeside", a, sorted([a, b]))
        owners = [(x.member_id, x.jurisdiction_code, x.state)
                  for x in s.scalars(select(Commitment).where(Commitment.plan_id == plan_id).order_by(Commitment.id))]
    assert owners == [(b, "lakeside", "implementing")] + [(a, None, "implementing")] * 5
    for m in (a, b):
        assert trail(world, "member", m)[-1] == ("submit_plan", "co_creation", "implementing", "R2.4")


def test_r3_13_members_of_different_countries_cannot_file_jointly_and_nothing_changes(world):
    a = world.co_creating("riverton")
    b = world.co_creating("sevilla", country="Spain")
    err = refused(world, a, plan_doc(world, coalition=[b]), "R3.13")
    assert err.violations[0].field == "jurisdictions[1].country"
    assert state(world, b) == "co_creation"


def test_r3_13_a_partner_not_yet_co_creating_stops_the_joint_plan_and_nothing_changes(world):
    a = world.co_creating("riverton")
    b = world.in_orientation("lakeside")
    before = snapshot(world)
    with pytest.raises(TriggerNotAllowed) as exc:
        submit(world, a, plan_doc(world, coalition=[b]))
    assert exc.value.rule == "R2.4"
    assert snapshot(world) == before


def test_r3_13_a_commitment_outliving_its_own_jurisdictions_term_is_refused_and_changes_nothing(world):
    a = world.co_creating("riverton", term_end=D(2031, 6, 30))
    b = world.co_creating("lakeside", term_end=D(2029, 3, 31))  # its own commitments end by 2029-01-31
    own = commitment(world, D(2029, 6, 30), 1, jurisdiction="lakeside")
    refused(world, a, plan_doc(world, commitments=[own, commitment(world, n=2)], coalition=[b]), "R3.13")
