"""Monitoring deliverables (§4), the quarterly tracker (R4.4, D4) and evidence links (R8.3) on both real databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from lifecycle import audit, commands as c, handlers
from lifecycle.models import Assessment, Commitment, Deadline, Evidence, Member, Milestone, TrackerUpdate
from policies.errors import InvalidInput, NotFound, RuleViolation, TriggerNotAllowed
from worldkit import snapshot

SU = "support-unit"
POC = "poc@city.example"
OBSERVATORY = "University Observatory of Public Policy"
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


def commitment_ids(world, member_id: int) -> list[int]:
    with world.session() as s:
        return list(s.scalars(select(Commitment.id).where(Commitment.member_id == member_id).order_by(Commitment.id)))


def milestone_ids(world, commitment_id: int) -> list[int]:
    with world.session() as s:
        return list(s.scalars(select(Milestone.id).where(Milestone.commitment_id == commitment_id)
                              .order_by(Milestone.position)))


def deadlines(world, member_id: int, kind: str) -> list[tuple[str, str, dt.date]]:
    with world.session() as s:
        return [(d.status, d.rule_id, d.due_on) for d in s.scalars(
            select(Deadline).where(Deadline.member_id == member_id, Deadline.kind == kind).order_by(Deadline.id))]


def good_start_ratings(world, member_id: int) -> dict:
    return {"public_influence": "collaborate",
            "commitments": {str(cid): {"relevant": True, "verifiable": False, "potential_impact": "moderate"}
                            for cid in commitment_ids(world, member_id)}}


def file(world, member_id: int, kind: str, ratings: dict, commitment_id: int | None = None,
         unmet: tuple[str, ...] = ()) -> int:
    return world.run(handlers.file_assessment, c.FileAssessment(
        member_id=member_id, kind=kind, actor=OBSERVATORY, ratings=ratings, commitment_id=commitment_id,
        unmet_requirements=unmet))


def end_ratings(completion: str = "substantial") -> dict:
    return {"completion": completion, "early_results": "Contracts are published within ten days."}


def tracker(world, member_id: int, *changes: c.MilestoneChange, narrative: str = "Quarterly progress") -> int:
    return world.run(handlers.record_tracker_update, c.RecordTrackerUpdate(
        member_id=member_id, narrative=narrative, actor=POC, changes=tuple(changes)))


def end_plan(world, member_id: int) -> None:
    """The plan ended early by the Support Unit: an override of R2.5 (D14), the end date being years away."""
    world.run(handlers.apply_status, c.ApplyStatus(member_id=member_id, trigger="end_plan", rule="R2.5",
                                                   actor="system", reason="the plan's end date passed", override=True))


# ---------------------------------------------------------------- start assessment (R4.1)


def test_r4_1_a_start_assessment_rating_every_commitment_is_kept_and_meets_its_deadline(world):
    m = world.implementing()
    world.at("2027-03-01T09:00:00")
    ratings = good_start_ratings(world, m)
    aid = file(world, m, "start", ratings, unmet=("regularity",))
    with world.session() as s:
        a = s.get(Assessment, aid)
        assert (a.kind, a.monitoring_body, a.ratings, a.unmet_requirements, a.commitment_id) == (
            "start", OBSERVATORY, ratings, ["regularity"], None)
        d = s.scalars(select(Deadline).where(Deadline.member_id == m, Deadline.kind == "start_assessment")).one()
        assert (d.status, d.rule_id, d.due_on, d.closed_at) == ("met", "R4.1", D(2027, 3, 10), world.clock.now())


@pytest.mark.parametrize("case", ["unrated-commitment", "relevant-not-boolean", "verifiable-missing",
                                  "impact-off-scale", "influence-off-scale", "influence-missing"])
def test_r4_1_a_start_assessment_off_the_rating_scales_is_refused_and_changes_nothing(world, case):
    m = world.implementing()
    ratings = good_start_ratings(world, m)
    first = str(commitment_ids(world, m)[0])
    match case:
        case "unrated-commitment":
            del ratings["commitments"][first]
        case "relevant-not-boolean":
            ratings["commitments"][first]["relevant"] = "yes"
        case "verifiable-missing":
            del ratings["commitments"][first]["verifiable"]
        case "impact-off-scale":
            ratings["commitments"][first]["potential_impact"] = "huge"
        case "influence-off-scale":
            ratings["public_influence"] = "dictate"
        case "influence-missing":
            del ratings["public_influence"]
    expect_refusal(world, lambda: file(world, m, "start", ratings), RuleViolation, "R4.1")
    assert deadlines(world, m, "start_assessment")[0][0] == "pending"


def test_r4_1_a_second_start_assessment_of_the_same_plan_is_refused_and_changes_nothing(world):
    m = world.implementing()
    file(world, m, "start", good_start_ratings(world, m))
    expect_refusal(world, lambda: file(world, m, "start", good_start_ratings(world, m)), RuleViolation, "R4.1",
                   "kind")


def test_r3_11_a_start_assessment_naming_an_unknown_requirement_is_refused_and_changes_nothing(world):
    m = world.implementing()
    expect_refusal(world, lambda: file(world, m, "start", good_start_ratings(world, m), unmet=("vibes",)),
                   InvalidInput, "R3.11", "unmet_requirements")


def test_r4_0_a_member_without_a_plan_files_no_assessment_and_nothing_changes(world):
    m = world.co_creating()
    expect_refusal(world, lambda: file(world, m, "start", {"public_influence": "inform"}), TriggerNotAllowed, "R4.0")


def test_an_assessment_of_an_unknown_kind_is_refused_and_changes_nothing(world):
    m = world.implementing()
    expect_refusal(world, lambda: file(world, m, "midterm", {}), InvalidInput, "", "kind")


# ---------------------------------------------------------------- end-of-commitment assessment (R4.2)


def test_r4_2_an_end_of_commitment_assessment_assesses_the_commitment_and_meets_its_deadline(world):
    m = world.implementing()
    cid = commitment_ids(world, m)[0]
    world.at("2027-06-01T09:00:00")
    world.run(handlers.complete_commitment, c.CompleteCommitment(commitment_id=cid, completed_on=D(2027, 5, 31),
                                                                 actor=POC))
    world.at("2027-06-20T09:00:00")
    aid = file(world, m, "end_of_commitment", end_ratings("complete"), commitment_id=cid)
    with world.session() as s:
        assert s.get(Assessment, aid).commitment_id == cid
        assert s.get(Commitment, cid).state == "assessed"
        record = audit.history(s, "commitment", cid)[-1]
        assert (record.trigger, record.from_state, record.to_state, record.rule_id, record.actor) == (
            "assess", "completed", "assessed", "R4.2", OBSERVATORY)
        d = s.scalars(select(Deadline).where(Deadline.subject_type == "commitment", Deadline.subject_id == cid)).one()
        assert (d.status, d.rule_id, d.due_on, d.closed_by) == ("met", "R4.2", D(2027, 6, 30), record.id)


def test_r4_2_a_commitment_ended_incomplete_is_assessed_after_the_plan_ends(world):
    m = world.implementing()
    cid = commitment_ids(world, m)[1]
    world.at("2029-07-01T09:00:00")
    end_plan(world, m)
    file(world, m, "end_of_commitment", end_ratings("limited"), commitment_id=cid)
    with world.session() as s:
        assert [r.to_state for r in audit.history(s, "commitment", cid)][-2:] == ["ended_incomplete", "assessed"]
    assert ("met", "R4.2", D(2029, 7, 30)) in [
        (st, rule, due) for st, rule, due in deadlines(world, m, "end_of_commitment_assessment")]


@pytest.mark.parametrize("ratings", [{"completion": "mostly", "early_results": "Some."},
                                     {"completion": "complete", "early_results": " "},
                                     {"early_results": "Some."}], ids=["off-scale", "no-results", "no-completion"])
def test_r4_2_an_end_of_commitment_assessment_off_the_completion_scale_is_refused_and_changes_nothing(world, ratings):
    m = world.implementing()
    cid = commitment_ids(world, m)[0]
    world.at("2027-06-01T09:00:00")
    world.run(handlers.complete_commitment, c.CompleteCommitment(commitment_id=cid, completed_on=D(2027, 5, 31),
                                                                 actor=POC))
    expect_refusal(world, lambda: file(world, m, "end_of_commitment", ratings, commitment_id=cid), RuleViolation,
                   "R4.2")


def test_r4_2_an_end_of_commitment_assessment_naming_no_commitment_is_refused_and_changes_nothing(world):
    m = world.implementing()
    expect_refusal(world, lambda: file(world, m, "end_of_commitment", end_ratings()), InvalidInput, "R4.2",
                   "commitment_id")


def test_r4_2_assessing_a_commitment_still_being_implemented_is_refused_and_changes_nothing(world):
    m = world.implementing()
    cid = commitment_ids(world, m)[0]
    expect_refusal(world, lambda: file(world, m, "end_of_commitment", end_ratings(), commitment_id=cid),
                   TriggerNotAllowed, "R4.2")


def test_r4_2_assessing_another_members_commitment_is_refused_and_changes_nothing(world):
    m = world.implementing("riverton")
    other = world.implementing("lakeside")
    cid = commitment_ids(world, other)[0]
    world.at("2027-06-01T09:00:00")
    world.run(handlers.complete_commitment, c.CompleteCommitment(commitment_id=cid, completed_on=D(2027, 5, 31),
                                                                 actor=POC))
    expect_refusal(world, lambda: file(world, m, "end_of_commitment", end_ratings(), commitment_id=cid),
                   InvalidInput, "R4.2", "commitment_id")


# ---------------------------------------------------------------- final learning report (R4.3)


def test_r4_3_the_final_learning_report_after_the_plan_ends_meets_its_deadline(world):
    m = world.implementing()
    world.at("2029-07-01T09:00:00")
    end_plan(world, m)
    world.at("2029-08-15T09:00:00")
    file(world, m, "final_report", {"summary": "What we learned."})
    assert deadlines(world, m, "final_learning_report") == [("met", "R4.3", D(2029, 8, 30))]


def test_r4_3_a_final_report_without_a_summary_is_refused_and_changes_nothing(world):
    m = world.implementing()
    expect_refusal(world, lambda: file(world, m, "final_report", {"summary": ""}), RuleViolation, "R4.3",
                   "ratings.summary")


def test_r4_3_a_second_final_report_is_refused_and_changes_nothing(world):
    m = world.implementing()
    file(world, m, "final_report", {"summary": "What we learned."})
    expect_refusal(world, lambda: file(world, m, "final_report", {"summary": "Again."}), RuleViolation, "R4.3")


# ---------------------------------------------------------------- tracker updates (R4.4, D4)


def test_d4_a_milestone_moving_from_not_started_to_in_progress_is_progress(world):
    m = world.implementing()
    ms = milestone_ids(world, commitment_ids(world, m)[0])[0]
    world.at("2027-05-02T09:00:00")
    uid = tracker(world, m, c.MilestoneChange(milestone_id=ms, status=" IN_PROGRESS "))
    with world.session() as s:
        u = s.get(TrackerUpdate, uid)
        assert (u.progress, u.quarter, u.narrative) == (True, "2027-Q2", "Quarterly progress")
        assert u.changes == [{"milestone_id": ms, "from": "not_started", "to": "in_progress", "delay_reason": None,
                              "progress": True}]
        assert s.get(Milestone, ms).status == "in_progress"


def test_d4_a_stuck_milestone_with_its_delay_reason_is_recorded_but_is_not_progress(world):
    m = world.implementing()
    ms = milestone_ids(world, commitment_ids(world, m)[0])[0]
    uid = tracker(world, m, c.MilestoneChange(milestone_id=ms, status="stuck", delay_reason="Supplier went bust."))
    with world.session() as s:
        assert s.get(TrackerUpdate, uid).progress is False
        assert s.get(Milestone, ms).status == "stuck"


def test_d4_an_update_without_changes_is_not_progress(world):
    m = world.implementing()
    uid = tracker(world, m)
    with world.session() as s:
        assert (s.get(TrackerUpdate, uid).progress, s.get(TrackerUpdate, uid).changes) == (False, [])


def test_r8_1_a_stuck_milestone_without_a_delay_reason_is_refused_and_changes_nothing(world):
    m = world.implementing()
    ms = milestone_ids(world, commitment_ids(world, m)[0])[0]
    expect_refusal(world, lambda: tracker(world, m, c.MilestoneChange(milestone_id=ms, status="stuck")),
                   InvalidInput, "R8.1", "changes.delay_reason")


def test_r3_9_an_unknown_milestone_status_is_refused_and_changes_nothing(world):
    m = world.implementing()
    ms = milestone_ids(world, commitment_ids(world, m)[0])[0]
    expect_refusal(world, lambda: tracker(world, m, c.MilestoneChange(milestone_id=ms, status="almost")),
                   InvalidInput, "R3.9", "changes.status")


def test_r4_4_a_tracker_update_without_a_narrative_is_refused_and_changes_nothing(world):
    m = world.implementing()
    expect_refusal(world, lambda: tracker(world, m, narrative="  "), InvalidInput, "R4.4", "narrative")


def test_r4_4_a_member_without_a_plan_files_no_tracker_update_and_nothing_changes(world):
    m = world.co_creating()
    expect_refusal(world, lambda: tracker(world, m), TriggerNotAllowed, "R4.4", "plan")


def test_r4_4_a_milestone_of_another_members_plan_is_refused_and_changes_nothing(world):
    m = world.implementing("riverton")
    other = world.implementing("lakeside")
    ms = milestone_ids(world, commitment_ids(world, other)[0])[0]
    expect_refusal(world, lambda: tracker(world, m, c.MilestoneChange(milestone_id=ms, status="in_progress")),
                   NotFound, "", "changes.milestone_id")


# ---------------------------------------------------------------- evidence (R8.3)


def test_r8_3_evidence_is_attached_as_a_typed_link_with_its_canonical_kind(world):
    m = world.implementing()
    cid = commitment_ids(world, m)[0]
    eid = world.run(handlers.add_evidence, c.AddEvidence(subject_type="commitment", subject_id=cid,
                                                         kind="  AUDIT report ", url="https://city.example/audit.pdf",
                                                         actor=POC, title="2027 audit"))
    with world.session() as s:
        e = s.get(Evidence, eid)
        assert (e.subject_type, e.subject_id, e.kind, e.url, e.title) == (
            "commitment", cid, "audit report", "https://city.example/audit.pdf", "2027 audit")


def test_r8_3_evidence_of_an_unknown_kind_is_refused_and_changes_nothing(world):
    m = world.implementing()
    expect_refusal(world, lambda: world.run(handlers.add_evidence, c.AddEvidence(
        subject_type="member", subject_id=m, kind="selfie", url="https://city.example/me.jpg", actor=POC)),
        InvalidInput, "R8.3", "kind")


def test_r8_3_evidence_that_is_not_a_web_link_is_refused_and_changes_nothing(world):
    m = world.implementing()
    expect_refusal(world, lambda: world.run(handlers.add_evidence, c.AddEvidence(
        subject_type="member", subject_id=m, kind="media", url="file:///etc/passwd", actor=POC)),
        InvalidInput, "R8.3", "url")


def test_r8_3_evidence_on_an_unknown_subject_is_refused_and_changes_nothing(world):
    world.implementing()
    expect_refusal(world, lambda: world.run(handlers.add_evidence, c.AddEvidence(
        subject_type="galaxy", subject_id=1, kind="media", url="https://city.example/x", actor=POC)),
        InvalidInput, "R8.3", "subject_type")
    expect_refusal(world, lambda: world.run(handlers.add_evidence, c.AddEvidence(
        subject_type="meeting", subject_id=999, kind="media", url="https://city.example/x", actor=POC)),
        NotFound, "", "id")


# ---------------------------------------------------------------- joint plans (R3.13) and earlier plans


def joint_plan(world) -> tuple[int, int]:
    a = world.co_creating("riverton")
    b = world.co_creating("lakeside")
    world.run(handlers.submit_plan, c.SubmitPlan(member_id=a, plan=world.plan(coalition=[b]), actor=POC))
    return a, b


def test_r3_13_r4_1_the_start_assessment_of_a_joint_plan_meets_the_deadline_of_every_coalition_member(world):
    a, b = joint_plan(world)
    file(world, a, "start", good_start_ratings(world, a))
    assert [d[0] for d in deadlines(world, a, "start_assessment")] == ["met"]
    assert [d[0] for d in deadlines(world, b, "start_assessment")] == ["met"]
    expect_refusal(world, lambda: file(world, b, "start", good_start_ratings(world, a)), RuleViolation, "R4.1")


def test_r3_13_r4_3_the_final_report_of_a_joint_plan_meets_the_deadline_of_every_coalition_member(world):
    a, b = joint_plan(world)
    file(world, b, "final_report", {"summary": "What the coalition learned."})
    assert [d[0] for d in deadlines(world, a, "final_learning_report")] == ["met"]
    assert [d[0] for d in deadlines(world, b, "final_learning_report")] == ["met"]


def test_r4_2_a_commitment_of_the_previous_plan_is_assessed_as_part_of_that_plan_after_the_next_is_filed(world):
    m = world.implementing(plan_end=D(2028, 10, 31))
    with world.session() as s:
        first_plan = s.get(Member, m).current_plan_id
    old = commitment_ids(world, m)[0]
    world.at("2028-11-01T09:00:00")
    end_plan(world, m)
    world.at("2028-11-20T09:00:00")
    world.run(handlers.record_meeting, c.RecordMeeting(member_id=m, phase="co_creation", held_on=D(2028, 11, 20),
                                                       government_participants=2, non_governmental_participants=2,
                                                       actor=POC))
    second_plan = world.run(handlers.submit_plan, c.SubmitPlan(
        member_id=m, plan=world.plan(D(2030, 12, 31), monitoring_body={"name": "City Audit Lab", "endorsed": True}),
        actor=POC))
    aid = file(world, m, "end_of_commitment", end_ratings("limited"), commitment_id=old)
    with world.session() as s:
        a = s.get(Assessment, aid)
        assert (a.plan_id, a.monitoring_body) == (first_plan, OBSERVATORY)
        assert a.plan_id != second_plan
        assert s.get(Commitment, old).state == "assessed"


def test_r4_3_final_learning_report_of_an_ended_plan_is_filed_after_the_next_plan_against_that_plan(world):
    from lifecycle import commands as c, handlers
    from lifecycle.models import Deadline, Member
    from sqlalchemy import select
    import datetime as dt

    world.at("2027-02-01T09:00:00")
    m = world.implementing(plan_end=dt.date(2028, 6, 30))
    with world.session() as s:
        first_plan = s.get(Member, m).current_plan_id
    world.at("2028-07-01T09:00:00")
    world.run(handlers.apply_status, c.ApplyStatus(member_id=m, trigger="end_plan", rule="R2.5", actor="system",
                                                   reason="plan ended"))
    world.run(handlers.record_meeting, c.RecordMeeting(member_id=m, phase="co_creation", held_on=world.today(),
                                                       government_participants=2, non_governmental_participants=3,
                                                       actor="poc"))
    world.run(handlers.submit_plan, c.SubmitPlan(member_id=m, plan=world.plan(dt.date(2030, 6, 30), 2), actor="poc"))
    world.at("2028-08-15T09:00:00")
    world.run(handlers.file_assessment, c.FileAssessment(member_id=m, kind="final_report", actor="mb",
                                                         ratings={"summary": "Lessons"}, plan_id=first_plan))
    with world.session() as s:
        reports = {d.subject_id: d.status for d in s.scalars(
            select(Deadline).where(Deadline.member_id == m, Deadline.kind == "final_learning_report"))}
    assert reports[first_plan] == "met"
    assert list(v for k, v in reports.items() if k != first_plan) == ["pending"]


def test_d8_r6_2_a_start_assessment_recording_an_unmet_requirement_places_a_member_without_meetings_on_probation(world):
    from lifecycle import commands as c, handlers
    from lifecycle.models import Member

    world.at("2027-02-01T09:00:00")
    m = world.implementing(commitments=1)
    with world.session() as s:
        cid = s.get(Member, m).current_plan.commitments[0].id
    ratings = {"public_influence": "consult",
               "commitments": {str(cid): {"relevant": True, "verifiable": True, "potential_impact": "minor"}}}
    world.at("2027-03-20T09:00:00")
    world.run(handlers.file_assessment, c.FileAssessment(member_id=m, kind="start", actor="mb", ratings=ratings,
                                                         unmet_requirements=("regularity",)))
    with world.session() as s:
        member = s.get(Member, m)
        assert (member.state, member.probation_rule) == ("probation", "R6.2")
