"""Members walked through multi-year stories with the clock, on both databases.

Each scenario moves the clock, runs the commands a POC, the Support Unit and the monitoring
body would, and checks at every stage the member's state, its audit trail (trigger, rule
ID, business date) and its open deadlines (kind, rule ID, local due date).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from lifecycle import audit, commands as c, handlers, samples
from lifecycle.models import ActionPlan, Coalition, Commitment, Deadline, Member, Milestone, TrackerUpdate
from lifecycle.schemas import CommitmentIn, PlanIn
from policies.errors import RuleViolation, TriggerNotAllowed

SU = "support-unit"
POC = "poc@city.example"
OBSERVATORY = "University Observatory of Public Policy"
D = dt.date


# ---------------------------------------------------------------- reading the world


def trail(world, kind: str, subject_id: int) -> list[tuple[str, str, str, str, dt.date]]:
    """The subject's audit chain as (trigger, from, to, rule ID, business date)."""
    with world.session() as s:
        return [(r.trigger, r.from_state, r.to_state, r.rule_id, r.business_time.date())
                for r in audit.history(s, kind, subject_id)]


def last(world, kind: str, subject_id: int) -> tuple[str, str, str, str, dt.date]:
    return trail(world, kind, subject_id)[-1]


def open_deadlines(world, member_id: int) -> list[tuple[str, str, dt.date]]:
    """The member's pending obligations as sorted (kind, rule ID, local due date)."""
    with world.session() as s:
        return sorted((d.kind, d.rule_id, d.due_on) for d in s.scalars(
            select(Deadline).where(Deadline.member_id == member_id, Deadline.status == "pending")))


def owed(world, member_id: int) -> list[tuple[str, str, dt.date]]:
    """Open deadlines other than the recurring checks, which the deadline engine re-opens each time (D3, D8)."""
    return [d for d in open_deadlines(world, member_id) if d[0] not in ("quarterly_tracker_check", "meeting_check")]


def deadline_statuses(world, member_id: int, kind: str) -> list[tuple[str, dt.date]]:
    with world.session() as s:
        return [(d.status, d.due_on) for d in s.scalars(
            select(Deadline).where(Deadline.member_id == member_id, Deadline.kind == kind).order_by(Deadline.id))]


def member(world, member_id: int) -> Member:
    with world.session() as s:
        return s.get(Member, member_id)


def state(world, member_id: int) -> str:
    return member(world, member_id).state


def plan_of(world, member_id: int) -> ActionPlan:
    with world.session() as s:
        plan = s.get(Member, member_id).current_plan
        assert plan.commitments is not None  # loads them while the session is open
        return plan


def commitments(world, member_id: int) -> list[Commitment]:
    with world.session() as s:
        return list(s.scalars(select(Commitment).where(Commitment.member_id == member_id).order_by(Commitment.id)))


def milestones(world, commitment_id: int) -> list[int]:
    with world.session() as s:
        return list(s.scalars(select(Milestone.id).where(Milestone.commitment_id == commitment_id)
                              .order_by(Milestone.position)))


def commitment_states(world, ids) -> list[str]:
    with world.session() as s:
        return [s.get(Commitment, i).state for i in ids]


# ---------------------------------------------------------------- acting


def plan_doc(world, plan_end: dt.date, n: int, **overrides) -> PlanIn:
    return PlanIn.model_validate(samples.plan(world.today(), plan_end, n, **overrides))


def tracker(world, member_id: int, *changes: tuple[int, str], narrative: str = "Quarterly progress") -> int:
    return world.run(handlers.record_tracker_update, c.RecordTrackerUpdate(
        member_id=member_id, narrative=narrative, actor=POC,
        changes=tuple(c.MilestoneChange(milestone_id=m, status=st, delay_reason="Supplier delays"
                                        if st in ("stuck", "incomplete") else None) for m, st in changes)))


def status(world, member_id: int, trigger: str, rule: str, reason: str, actor: str = "system") -> None:
    world.run(handlers.apply_status, c.ApplyStatus(member_id=member_id, trigger=trigger, rule=rule, actor=actor,
                                                   reason=reason))


def start_assessment(world, member_id: int) -> int:
    plan = plan_of(world, member_id)
    ratings = {"public_influence": "collaborate",
               "commitments": {str(x.id): {"relevant": True, "verifiable": True, "potential_impact": "moderate"}
                               for x in plan.commitments if not x.is_replacement}}
    return world.run(handlers.file_assessment, c.FileAssessment(member_id=member_id, kind="start", actor=OBSERVATORY,
                                                                ratings=ratings))


def end_of_commitment_assessment(world, member_id: int, commitment_id: int, completion: str) -> int:
    return world.run(handlers.file_assessment, c.FileAssessment(
        member_id=member_id, kind="end_of_commitment", actor=OBSERVATORY, commitment_id=commitment_id,
        ratings={"completion": completion, "early_results": "Contracts are now published within ten days."}))


def meeting(world, member_id: int, phase: str) -> int:
    return world.run(handlers.record_meeting, c.RecordMeeting(
        member_id=member_id, phase=phase, held_on=world.today(), government_participants=3,
        non_governmental_participants=5, actor=POC))


# ---------------------------------------------------------------- (i) a full plan and the next one


def test_r2_r3_r4_a_member_lives_a_whole_plan_and_files_the_next_within_four_months_r3_8(world):
    world.at("2027-01-10T09:00")
    m = world.applicant("riverton", term_end=D(2031, 6, 30))
    assert state(world, m) == "applicant"
    assert trail(world, "member", m) == [("apply", "", "applicant", "R1.1", D(2027, 1, 10))]
    assert open_deadlines(world, m) == []

    world.at("2027-02-01T09:00")
    world.run(handlers.accept_application, c.AcceptApplication(member_id=m, actor=SU, reason="Strong letter"))
    assert last(world, "member", m) == ("accept", "applicant", "orientation", "R2.1", D(2027, 2, 1))
    assert open_deadlines(world, m) == [("first_plan", "R5.1", D(2027, 9, 30))]

    world.at("2027-03-01T09:00")
    with pytest.raises(RuleViolation, match="orientation") as refused:
        world.run(handlers.start_co_creation, c.StartCoCreation(member_id=m, actor=POC))
    assert refused.value.rule == "R2.3"
    world.at("2027-03-15T09:00")
    world.run(handlers.complete_orientation, c.CompleteOrientation(member_id=m, actor=SU))
    world.at("2027-04-01T09:00")
    world.run(handlers.start_co_creation, c.StartCoCreation(member_id=m, actor=POC))
    assert last(world, "member", m) == ("start_co_creation", "orientation", "co_creation", "R2.3", D(2027, 4, 1))
    world.at("2027-04-20T09:00")
    meeting(world, m, "co_creation")

    # R2.4: the plan is filed; the first-plan deadline is met and the plan's obligations open.
    world.at("2027-06-15T09:00")
    plan_id = world.run(handlers.submit_plan, c.SubmitPlan(member_id=m, plan=plan_doc(world, D(2029, 6, 30), 3),
                                                           actor=POC))
    assert state(world, m) == "implementing"
    assert last(world, "member", m) == ("submit_plan", "co_creation", "implementing", "R2.4", D(2027, 6, 15))
    c1, c2, c3 = (x.id for x in commitments(world, m))
    assert trail(world, "commitment", c1) == [("create", "", "draft", "R3.2", D(2027, 6, 15)),
                                               ("start", "draft", "implementing", "R2.4", D(2027, 6, 15))]
    assert deadline_statuses(world, m, "first_plan") == [("met", D(2027, 9, 30))]
    assert open_deadlines(world, m) == sorted([
        ("plan_end", "R2.5", D(2029, 6, 30)),
        ("start_assessment", "R4.1", D(2027, 8, 15)),
        ("final_learning_report", "R4.3", D(2029, 8, 30)),
        ("quarterly_tracker_check", "R5.4", D(2027, 12, 31)),
        ("meeting_check", "R6.2", D(2028, 6, 15)),
        *[("end_of_commitment_assessment", "R4.2", D(2029, 7, 30))] * 3,
    ])

    # R4.1: the start assessment, due two months after filing, is filed in time.
    world.at("2027-07-20T09:00")
    start_assessment(world, m)
    assert deadline_statuses(world, m, "start_assessment") == [("met", D(2027, 8, 15))]

    # R4.4: a tracker update every quarter, each reporting progress (D4).
    first, second = milestones(world, c1)
    world.at("2027-09-20T09:00")
    tracker(world, m, (first, "in_progress"))
    world.at("2027-11-10T09:00")
    meeting(world, m, "implementation")
    world.at("2027-12-15T09:00")
    tracker(world, m, (first, "finished"), (second, "in_progress"))
    world.at("2028-03-10T09:00")
    tracker(world, m, (second, "finished"))
    with world.session() as s:
        updates = s.execute(select(TrackerUpdate.quarter, TrackerUpdate.progress)
                            .where(TrackerUpdate.member_id == m).order_by(TrackerUpdate.filed_at)).all()
    assert [tuple(u) for u in updates] == [("2027-Q3", True), ("2027-Q4", True), ("2028-Q1", True)]
    assert state(world, m) == "implementing"

    # R4.2: a commitment is completed; its assessment is then due a month after completion.
    world.at("2028-03-20T09:00")
    world.run(handlers.complete_commitment, c.CompleteCommitment(commitment_id=c1, completed_on=D(2028, 3, 15),
                                                                 actor=POC))
    assert last(world, "commitment", c1) == ("complete", "implementing", "completed", "R4.2", D(2028, 3, 20))
    assert ("end_of_commitment_assessment", "R4.2", D(2028, 4, 15)) in open_deadlines(world, m)

    # R3.4: no replacement until the completed commitment is assessed.
    world.at("2028-03-25T09:00")
    replacement = CommitmentIn.model_validate(samples.commitment(D(2028, 5, 1), D(2029, 6, 30), 4))
    with pytest.raises(RuleViolation) as refused:
        world.run(handlers.add_replacement_commitment,
                  c.AddReplacementCommitment(member_id=m, commitment=replacement, actor=POC))
    assert refused.value.rule == "R3.4"

    world.at("2028-04-10T09:00")
    end_of_commitment_assessment(world, m, c1, "complete")
    assert last(world, "commitment", c1) == ("assess", "completed", "assessed", "R4.2", D(2028, 4, 10))
    assert deadline_statuses(world, m, "end_of_commitment_assessment")[0] == ("met", D(2028, 4, 15))

    world.at("2028-04-20T09:00")
    c4 = world.run(handlers.add_replacement_commitment, c.AddReplacementCommitment(
        member_id=m, commitment=replacement, actor=POC, approved_by=("Civic Data Association",),
        decision_process="Forum vote of 2028-04-15, minutes linked."))  # R3.10's approval
    assert trail(world, "commitment", c4) == [("create", "", "draft", "R3.4", D(2028, 4, 20)),
                                               ("start", "draft", "implementing", "R3.4", D(2028, 4, 20))]
    assert open_deadlines(world, m).count(("end_of_commitment_assessment", "R4.2", D(2029, 7, 30))) == 3

    world.at("2028-05-10T09:00")
    meeting(world, m, "implementation")

    # R2.5: the plan's end date passes; commitments not completed end incomplete (R4.2) and the
    # next-plan window opens (R3.8).
    world.at("2029-07-01T09:00")
    status(world, m, "end_plan", "R2.5", "The plan's end date, 2029-06-30, has passed")
    assert state(world, m) == "co_creation"
    assert last(world, "member", m) == ("end_plan", "implementing", "co_creation", "R2.5", D(2029, 7, 1))
    assert plan_of(world, m).status == "ended"
    assert commitment_states(world, (c1, c2, c3, c4)) == ["assessed", "ended_incomplete", "ended_incomplete",
                                                          "ended_incomplete"]
    assert last(world, "commitment", c2) == ("end_incomplete", "implementing", "ended_incomplete", "R4.2",
                                             D(2029, 7, 1))
    assert deadline_statuses(world, m, "plan_end") == [("met", D(2029, 6, 30))]
    assert open_deadlines(world, m) == sorted([
        ("final_learning_report", "R4.3", D(2029, 8, 30)),
        ("next_plan", "R5.2", D(2029, 10, 30)),
        *[("end_of_commitment_assessment", "R4.2", D(2029, 7, 30))] * 3,
    ])

    # R4.2, R4.3: the monitoring body files the remaining assessments and the final learning report.
    world.at("2029-07-20T09:00")
    for x in (c2, c3, c4):
        end_of_commitment_assessment(world, m, x, "limited")
    assert commitment_states(world, (c2, c3, c4)) == ["assessed"] * 3
    world.at("2029-08-20T09:00")
    world.run(handlers.file_assessment, c.FileAssessment(member_id=m, kind="final_report", actor=OBSERVATORY,
                                                         ratings={"summary": "Procurement opened up; keep going."}))
    assert deadline_statuses(world, m, "final_learning_report") == [("met", D(2029, 8, 30))]
    assert open_deadlines(world, m) == [("next_plan", "R5.2", D(2029, 10, 30))]

    # R3.8: the next plan is co-created and filed within four months of the plan's end.
    world.at("2029-09-01T09:00")
    meeting(world, m, "co_creation")
    world.at("2029-10-15T09:00")
    next_plan = world.run(handlers.submit_plan, c.SubmitPlan(member_id=m, plan=plan_doc(world, D(2031, 4, 30), 2),
                                                             actor=POC))
    assert next_plan != plan_id
    assert state(world, m) == "implementing"
    assert deadline_statuses(world, m, "next_plan") == [("met", D(2029, 10, 30))]
    assert open_deadlines(world, m) == sorted([
        ("plan_end", "R2.5", D(2031, 4, 30)),
        ("start_assessment", "R4.1", D(2029, 12, 15)),
        ("final_learning_report", "R4.3", D(2031, 6, 30)),
        ("quarterly_tracker_check", "R5.4", D(2030, 6, 30)),
        ("meeting_check", "R6.2", D(2030, 10, 15)),
        *[("end_of_commitment_assessment", "R4.2", D(2031, 5, 30))] * 2,
    ])
    assert trail(world, "member", m) == [
        ("apply", "", "applicant", "R1.1", D(2027, 1, 10)),
        ("accept", "applicant", "orientation", "R2.1", D(2027, 2, 1)),
        ("start_co_creation", "orientation", "co_creation", "R2.3", D(2027, 4, 1)),
        ("submit_plan", "co_creation", "implementing", "R2.4", D(2027, 6, 15)),
        ("end_plan", "implementing", "co_creation", "R2.5", D(2029, 7, 1)),
        ("submit_plan", "co_creation", "implementing", "R2.4", D(2029, 10, 15)),
    ]
    with world.session() as s:
        assert audit.verify(s).ok


# ---------------------------------------------------------------- (ii) inactive, probation, revoked


def test_r5_4_r6_1_r6_5_an_inactive_member_goes_on_probation_after_six_months_and_is_revoked_after_four(world):
    world.at("2027-02-01T09:00")
    m = world.implementing("riverton", plan_end=D(2029, 6, 30))
    owed_for_the_plan = sorted([
        ("plan_end", "R2.5", D(2029, 6, 30)),
        ("start_assessment", "R4.1", D(2027, 4, 1)),
        ("final_learning_report", "R4.3", D(2029, 8, 30)),
        *[("end_of_commitment_assessment", "R4.2", D(2029, 7, 30))] * 3,
    ])
    assert open_deadlines(world, m) == sorted([
        *owed_for_the_plan,
        ("quarterly_tracker_check", "R5.4", D(2027, 9, 30)),  # filed in Q1: Q2 and Q3 count (D3)
        ("meeting_check", "R6.2", D(2028, 2, 1)),
    ])

    # R5.4: no tracker update in 2027-Q2 and 2027-Q3.
    world.at("2027-10-01T09:00")
    status(world, m, "become_inactive", "R5.4", "No tracker update in 2027-Q2 and 2027-Q3")
    assert state(world, m) == "inactive"
    assert member(world, m).inactivity_rule == "R5.4"
    assert last(world, "member", m) == ("become_inactive", "implementing", "inactive", "R5.4", D(2027, 10, 1))
    assert owed(world, m) == sorted([*owed_for_the_plan, ("probation_clock", "R6.1", D(2028, 4, 1))])

    # R6.1: six months later it has not resumed.
    world.at("2028-04-02T09:00")
    status(world, m, "place_on_probation", "R6.1", "Inactive since 2027-10-01 without resuming")
    assert state(world, m) == "probation"
    assert member(world, m).probation_rule == "R6.1"
    assert last(world, "member", m) == ("place_on_probation", "inactive", "probation", "R6.1", D(2028, 4, 2))
    assert deadline_statuses(world, m, "probation_clock") == [("breached", D(2028, 4, 1))]
    assert owed(world, m) == sorted([*owed_for_the_plan, ("revocation_clock", "R6.5", D(2028, 8, 2))])

    # R6.3: on probation it may continue its activities.
    world.at("2028-05-15T09:00")
    meeting(world, m, "implementation")
    tracker(world, m, narrative="Still reorganising the team")
    assert state(world, m) == "probation"

    # R6.5: four months on probation without meeting the requirements.
    world.at("2028-08-03T09:00")
    still_open = open_deadlines(world, m)
    assert owed(world, m) == sorted([*owed_for_the_plan, ("revocation_clock", "R6.5", D(2028, 8, 2))])
    status(world, m, "revoke", "R6.5", "Four months on probation without meeting the requirements")
    assert state(world, m) == "revoked"
    assert last(world, "member", m) == ("revoke", "probation", "revoked", "R6.5", D(2028, 8, 3))
    assert open_deadlines(world, m) == []
    with world.session() as s:
        revoked = audit.history(s, "member", m)[-1]
        closed = s.scalars(select(Deadline).where(Deadline.member_id == m, Deadline.closed_by == revoked.id)).all()
    assert sorted((d.kind, d.rule_id, d.due_on) for d in closed) == still_open
    assert {d.status for d in closed if d.kind != "revocation_clock"} == {"cancelled"}
    assert deadline_statuses(world, m, "revocation_clock") == [("breached", D(2028, 8, 2))]
    assert [t for t, *_ in trail(world, "member", m)] == [
        "apply", "accept", "start_co_creation", "submit_plan", "become_inactive", "place_on_probation", "revoke"]

    # Revoked is terminal: nothing more happens to the member or its plan.
    c1 = commitments(world, m)[0].id
    [ms, _] = milestones(world, c1)
    refused = [
        (handlers.resume, c.Resume(member_id=m, actor=POC, reason="We are back")),
        (handlers.apply_status, c.ApplyStatus(member_id=m, trigger="reinstate", rule="R6.4", actor=SU,
                                              reason="Requirements met")),
        (handlers.apply_status, c.ApplyStatus(member_id=m, trigger="become_inactive", rule="R5.3", actor=SU,
                                              reason="No progress")),
        (handlers.start_co_creation, c.StartCoCreation(member_id=m, actor=POC)),
        (handlers.submit_plan, c.SubmitPlan(member_id=m, plan=plan_doc(world, D(2030, 6, 30), 2), actor=POC)),
        (handlers.request_voluntary_inactivity, c.RequestVoluntaryInactivity(
            member_id=m, reason="Restructuring", stakeholders_consulted=True, actor=POC)),
        (handlers.record_tracker_update, c.RecordTrackerUpdate(
            member_id=m, narrative="Progress", actor=POC, changes=(c.MilestoneChange(ms, "in_progress"),))),
        (handlers.record_meeting, c.RecordMeeting(member_id=m, phase="implementation", held_on=world.today(),
                                                  government_participants=2, non_governmental_participants=2,
                                                  actor=POC)),
        (handlers.complete_commitment, c.CompleteCommitment(commitment_id=c1, completed_on=world.today(),
                                                            actor=POC)),
    ]
    for handler, command in refused:
        with pytest.raises(TriggerNotAllowed):
            world.run(handler, command)
    assert state(world, m) == "revoked"
    assert len(trail(world, "member", m)) == 7


# ---------------------------------------------------------------- (iii) voluntary inactivity


def test_r5_5_voluntary_inactivity_lasts_beyond_six_months_without_probation_and_ends_with_progress_r5_6(world):
    world.at("2027-02-01T09:00")
    m = world.implementing("riverton", plan_end=D(2029, 6, 30))
    before = open_deadlines(world, m)

    world.at("2027-05-10T09:00")
    # Consulting is recommended, not required: the request is recorded as such, and the Support Unit may decline it.
    unconsulted = world.run(handlers.request_voluntary_inactivity, c.RequestVoluntaryInactivity(
        member_id=m, reason="Municipal restructuring", stakeholders_consulted=False, actor=POC))
    world.run(handlers.decline_voluntary_inactivity, c.DeclineVoluntaryInactivity(
        request_id=unconsulted, actor=SU, reason="Consult the forum and the OGP Local team first."))
    assert state(world, m) == "implementing"
    request = world.run(handlers.request_voluntary_inactivity, c.RequestVoluntaryInactivity(
        member_id=m, reason="Municipal restructuring", stakeholders_consulted=True, actor=POC))
    assert state(world, m) == "implementing"

    world.at("2027-05-20T09:00")
    world.run(handlers.approve_voluntary_inactivity, c.ApproveVoluntaryInactivity(request_id=request, actor=SU))
    assert state(world, m) == "inactive"
    assert member(world, m).voluntary_inactivity is True
    assert last(world, "member", m) == ("approve_voluntary_inactivity", "implementing", "inactive", "R5.5",
                                        D(2027, 5, 20))
    assert deadline_statuses(world, m, "probation_clock") == []
    assert open_deadlines(world, m) == before

    # D4: a stuck milestone is not progress, so the member stays inactive.
    c1 = commitments(world, m)[0].id
    first, _ = milestones(world, c1)
    world.at("2027-09-10T09:00")
    tracker(world, m, (first, "stuck"), narrative="Waiting for the new council")
    assert state(world, m) == "inactive"

    # R6.1: more than six months on, voluntary inactivity never leads to probation.
    world.at("2027-12-01T09:00")
    with pytest.raises(RuleViolation, match="Voluntary") as refused:
        status(world, m, "place_on_probation", "R6.1", "Inactive for six months", actor=SU)
    assert refused.value.rule == "R6.1"
    assert state(world, m) == "inactive"
    assert deadline_statuses(world, m, "probation_clock") == []

    # R5.6: progress on the tracker ends the voluntary inactivity; the plan is in force, so it implements.
    world.at("2028-02-15T09:00")
    tracker(world, m, (first, "in_progress"), narrative="The register is being built again")
    assert state(world, m) == "implementing"
    assert member(world, m).voluntary_inactivity is False
    assert last(world, "member", m) == ("resume", "inactive", "implementing", "R5.6", D(2028, 2, 15))
    assert [t for t, *_ in trail(world, "member", m)] == [
        "apply", "accept", "start_co_creation", "submit_plan", "approve_voluntary_inactivity", "resume"]
    assert deadline_statuses(world, m, "probation_clock") == []
    assert open_deadlines(world, m) == before


# ---------------------------------------------------------------- (iv) a coalition of two


def test_r3_13_a_coalition_of_two_files_one_plan_and_each_member_continues_on_its_own(world):
    # The lead has the shorter term: a joint plan runs on the longest term in the coalition.
    world.at("2027-02-01T09:00")
    lead = world.co_creating("lakeside", term_end=D(2030, 12, 31))
    partner = world.co_creating("riverton", term_end=D(2031, 6, 30))

    # R3.3: seven commitments are too many for one jurisdiction, not for a coalition of two (limit 10).
    world.at("2027-06-15T09:00")
    too_many_alone = plan_doc(world, D(2029, 6, 30), 7)
    with pytest.raises(RuleViolation) as refused:
        world.run(handlers.submit_plan, c.SubmitPlan(member_id=lead, plan=too_many_alone, actor=POC))
    assert refused.value.rule == "R3.3"

    data = samples.plan(world.today(), D(2029, 6, 30), 7, coalition=[partner], coalition_name="Lake and River")
    data["commitments"][0]["jurisdiction"] = "lakeside"
    data["commitments"][0]["end"] = D(2028, 12, 31).isoformat()
    data["commitments"][1]["jurisdiction"] = "riverton"
    plan_id = world.run(handlers.submit_plan, c.SubmitPlan(member_id=lead, plan=PlanIn.model_validate(data),
                                                           actor=POC))
    for m in (lead, partner):
        assert state(world, m) == "implementing"
        assert member(world, m).current_plan_id == plan_id
        assert last(world, "member", m) == ("submit_plan", "co_creation", "implementing", "R2.4", D(2027, 6, 15))
        assert deadline_statuses(world, m, "first_plan") == [("met", D(2027, 9, 30))]
    with world.session() as s:
        coalition = s.scalar(select(Coalition))
        assert sorted(coalition.member_ids) == sorted([lead, partner])
        assert coalition.lead_member_id == lead
        assert s.get(ActionPlan, plan_id).coalition_id == coalition.id
    own_lead, own_partner = commitments(world, lead)[0], commitments(world, partner)[0]
    assert (own_lead.jurisdiction_code, own_partner.jurisdiction_code) == ("lakeside", "riverton")
    assert len(commitments(world, lead)) == 6 and len(commitments(world, partner)) == 1
    # Each member owes the plan's obligations; the assessments of joint commitments fall to the lead.
    for m, own in ((lead, 6), (partner, 1)):
        assert open_deadlines(world, m) == sorted([
            ("plan_end", "R2.5", D(2029, 6, 30)),
            ("start_assessment", "R4.1", D(2027, 8, 15)),
            ("final_learning_report", "R4.3", D(2029, 8, 30)),
            ("quarterly_tracker_check", "R5.4", D(2027, 12, 31)),
            ("meeting_check", "R6.2", D(2028, 6, 15)),
            *[("end_of_commitment_assessment", "R4.2", D(2029, 7, 30))] * own,
        ])

    # Each carries on: the partner reports progress, the lead completes its own commitment.
    world.at("2027-09-20T09:00")
    tracker(world, partner, (milestones(world, own_partner.id)[0], "in_progress"))
    world.at("2028-12-31T09:00")
    world.run(handlers.complete_commitment, c.CompleteCommitment(commitment_id=own_lead.id,
                                                                 completed_on=D(2028, 12, 31), actor=POC))
    assert last(world, "commitment", own_lead.id)[:3] == ("complete", "implementing", "completed")

    # R2.5: the joint plan ends for both; each has its own next-plan window (R3.8).
    world.at("2029-07-01T09:00")
    for m in (lead, partner):
        status(world, m, "end_plan", "R2.5", "The joint plan's end date has passed")
        assert state(world, m) == "co_creation"
        assert last(world, "member", m)[:4] == ("end_plan", "implementing", "co_creation", "R2.5")
        assert ("next_plan", "R5.2", D(2029, 10, 30)) in open_deadlines(world, m)
    assert commitment_states(world, [own_lead.id, own_partner.id]) == ["completed", "ended_incomplete"]

    # R3.13: the coalition lasted one plan period; each files its next plan alone.
    world.at("2029-09-01T09:00")
    meeting(world, lead, "co_creation")
    meeting(world, partner, "co_creation")
    world.at("2029-10-01T09:00")
    partner_plan = world.run(handlers.submit_plan, c.SubmitPlan(
        member_id=partner, plan=plan_doc(world, D(2031, 4, 30), 2), actor=POC))
    world.at("2029-10-15T09:00")
    lead_plan = world.run(handlers.submit_plan, c.SubmitPlan(
        member_id=lead, plan=plan_doc(world, D(2030, 10, 31), 2), actor=POC))
    with world.session() as s:
        assert s.get(ActionPlan, partner_plan).coalition_id is None
        assert s.get(ActionPlan, lead_plan).coalition_id is None
    for m, filed in ((partner, D(2029, 10, 1)), (lead, D(2029, 10, 15))):
        assert state(world, m) == "implementing"
        assert last(world, "member", m) == ("submit_plan", "co_creation", "implementing", "R2.4", filed)
        assert deadline_statuses(world, m, "next_plan") == [("met", D(2029, 10, 30))]
    with world.session() as s:
        assert audit.verify(s).ok
