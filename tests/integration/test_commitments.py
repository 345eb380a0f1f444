"""Commitments during implementation (R3.4, R3.10, R4.2) on both real databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from lifecycle import audit, commands as c, handlers, samples
from lifecycle.models import Commitment, CommitmentVersion, Deadline, Member
from lifecycle.schemas import CommitmentIn, MilestoneIn
from policies.errors import InvalidInput, NotFound, Refusals, TriggerNotAllowed
from worldkit import snapshot, trail

SU = "support-unit"
POC = "poc@city.example"
OBSERVATORY = "University Observatory of Public Policy"
FORUM = ("Civic Data Association", "Neighbourhood Councils Network")
D = dt.date


def commitment_ids(world, member_id: int) -> list[int]:
    with world.session() as s:
        return list(s.scalars(select(Commitment.id).where(Commitment.member_id == member_id).order_by(Commitment.id)))


def get(world, commitment_id: int) -> Commitment:
    with world.session() as s:
        x = s.get(Commitment, commitment_id)
        assert x.milestones is not None and x.versions is not None  # loads them while the session is open
        return x


def versions(world, commitment_id: int) -> list[tuple]:
    with world.session() as s:
        return [(v.version, v.change, v.snapshot["end"], v.snapshot["title"], v.decision_process, list(v.approved_by))
                for v in s.scalars(select(CommitmentVersion).where(CommitmentVersion.commitment_id == commitment_id)
                                   .order_by(CommitmentVersion.version))]


def eoc_deadlines(world, commitment_id: int) -> list[tuple[str, dt.date]]:
    with world.session() as s:
        return [(d.status, d.due_on) for d in s.scalars(select(Deadline).where(
            Deadline.subject_type == "commitment", Deadline.subject_id == commitment_id).order_by(Deadline.id))]


def modify(world, commitment_id: int, *, approved_by=FORUM,
           decision_process="Forum vote of 2027-02-20, minutes linked.", **changes) -> None:
    world.run(handlers.modify_commitment, c.ModifyCommitment(
        commitment_id=commitment_id, actor=POC, decision_process=decision_process, approved_by=tuple(approved_by),
        **changes))


def withdraw(world, commitment_id: int, *, approved_by=FORUM, decision_process="Forum vote, minutes linked.") -> None:
    world.run(handlers.withdraw_commitment, c.WithdrawCommitment(
        commitment_id=commitment_id, actor=POC, decision_process=decision_process, approved_by=tuple(approved_by)))


def complete(world, commitment_id: int, on: dt.date) -> None:
    world.run(handlers.complete_commitment, c.CompleteCommitment(commitment_id=commitment_id, completed_on=on,
                                                                 actor=POC))


def assess(world, member_id: int, commitment_id: int, completion: str = "complete") -> int:
    return world.run(handlers.file_assessment, c.FileAssessment(
        member_id=member_id, kind="end_of_commitment", actor=OBSERVATORY, commitment_id=commitment_id,
        ratings={"completion": completion, "early_results": "Contracts are published within ten days."}))


def replacement(world, member_id: int, start: dt.date, end: dt.date = D(2029, 6, 30)) -> int:
    doc = CommitmentIn.model_validate(samples.commitment(start, end, 9))
    return world.run(handlers.add_replacement_commitment, c.AddReplacementCommitment(
        member_id=member_id, commitment=doc, actor=POC, approved_by=FORUM[:1],
        decision_process="Forum vote, minutes linked."))


def expect_refusal(world, call, error=Refusals, rule: str = "", field: str | None = None):
    before = snapshot(world)
    with pytest.raises(error) as exc:
        call()
    assert exc.value.rule == rule
    if field is not None:
        assert exc.value.field == field
    assert snapshot(world) == before
    return exc.value


# ---------------------------------------------------------------- complete_commitment (R4.2)


def test_r4_2_completing_a_commitment_records_the_date_and_the_transition(world):
    m = world.implementing()
    cid = commitment_ids(world, m)[0]
    world.at("2027-06-01T09:00:00")
    complete(world, cid, D(2027, 5, 31))
    got = get(world, cid)
    assert (got.state, got.completed_on) == ("completed", D(2027, 5, 31))
    assert trail(world, "commitment", cid)[-1] == ("complete", "implementing", "completed", "R4.2")


def test_r4_2_a_completion_dated_after_today_is_refused_and_changes_nothing(world):
    m = world.implementing()
    cid = commitment_ids(world, m)[0]
    world.at("2027-06-01T09:00:00")
    expect_refusal(world, lambda: complete(world, cid, D(2027, 6, 2)), InvalidInput, "R4.2", "completed_on")


def test_r4_2_a_completion_dated_before_the_commitment_starts_is_refused_and_changes_nothing(world):
    m = world.implementing()
    cid = commitment_ids(world, m)[0]
    expect_refusal(world, lambda: complete(world, cid, D(2027, 1, 9)), InvalidInput, "R4.2", "completed_on")


def test_r4_2_completing_a_commitment_twice_is_refused_and_changes_nothing(world):
    m = world.implementing()
    cid = commitment_ids(world, m)[0]
    world.at("2027-06-01T09:00:00")
    complete(world, cid, D(2027, 5, 31))
    expect_refusal(world, lambda: complete(world, cid, D(2027, 6, 1)), TriggerNotAllowed, "R4.2")


def test_completing_an_unknown_commitment_is_refused_and_changes_nothing(world):
    world.implementing()
    expect_refusal(world, lambda: complete(world, 9999, D(2027, 1, 10)), NotFound, "", "id")


# ---------------------------------------------------------------- modify_commitment (R3.10)


def test_r3_10_a_modification_within_six_months_increments_the_version_and_keeps_every_version(world):
    m = world.implementing()
    cid = commitment_ids(world, m)[0]
    world.at("2027-03-01T09:00:00")
    modify(world, cid, end=D(2029, 3, 31), title="Open contracting register, city-wide")
    got = get(world, cid)
    assert (got.version, got.end_on, got.title, got.state) == (
        2, D(2029, 3, 31), "Open contracting register, city-wide", "implementing")
    assert versions(world, cid) == [
        (1, "created", "2029-06-30", "Open contracting register 1", None, []),
        (2, "modified", "2029-03-31", "Open contracting register, city-wide",
         "Forum vote of 2027-02-20, minutes linked.", list(FORUM)),
    ]
    with world.session() as s:
        record = audit.history(s, "commitment", cid)[-1]
        assert (record.trigger, record.from_state, record.to_state, record.rule_id, record.reason) == (
            "modify", "implementing", "implementing", "R3.10", "Forum vote of 2027-02-20, minutes linked.")

    world.at("2027-07-10T09:00:00")  # submitted 2027-01-10: the last day of the window
    new_milestone = MilestoneIn.model_validate(samples.milestone(D(2027, 8, 1), D(2028, 12, 31), 7))
    modify(world, cid, milestones=(new_milestone,))
    got = get(world, cid)
    assert got.version == 3
    assert [ms.outcome for ms in got.milestones] == [new_milestone.outcome]
    assert [v[:2] for v in versions(world, cid)] == [(1, "created"), (2, "modified"), (3, "modified")]
    with world.session() as s:
        v3 = s.scalars(select(CommitmentVersion).where(CommitmentVersion.commitment_id == cid,
                                                       CommitmentVersion.version == 3)).one()
        assert [ms["outcome"] for ms in v3.snapshot["milestones"]] == [new_milestone.outcome]
        v1 = s.scalars(select(CommitmentVersion).where(CommitmentVersion.commitment_id == cid,
                                                       CommitmentVersion.version == 1)).one()
        assert len(v1.snapshot["milestones"]) == 2, "an earlier version keeps the milestones it had"


def test_r3_10_a_modification_after_six_months_is_refused_and_changes_nothing(world):
    m = world.implementing()
    cid = commitment_ids(world, m)[0]
    world.at("2027-07-11T09:00:00")
    err = expect_refusal(world, lambda: modify(world, cid, end=D(2029, 3, 31)), Refusals, "R3.10")
    assert [v.field for v in err.violations] == ["submitted_on"]
    assert get(world, cid).version == 1


def test_r3_10_a_modification_without_the_stakeholders_approval_is_refused_and_changes_nothing(world):
    m = world.implementing()
    cid = commitment_ids(world, m)[0]
    err = expect_refusal(world, lambda: modify(world, cid, end=D(2029, 3, 31), approved_by=()), Refusals, "R3.10")
    assert [v.field for v in err.violations] == ["approved_by"]


def test_r3_10_a_modification_without_a_documented_decision_is_refused_and_changes_nothing(world):
    m = world.implementing()
    cid = commitment_ids(world, m)[0]
    err = expect_refusal(world, lambda: modify(world, cid, end=D(2029, 3, 31), decision_process=" "),
                         Refusals, "R3.10")
    assert [v.field for v in err.violations] == ["decision_process"]


def test_r3_5_a_modification_shortening_a_commitment_below_a_year_is_refused_and_changes_nothing(world):
    m = world.implementing()
    cid = commitment_ids(world, m)[0]
    err = expect_refusal(world, lambda: modify(world, cid, end=D(2027, 12, 31)), Refusals, "R3.5")
    assert {v.rule for v in err.violations} == {"R3.5"}


def test_r3_10_a_completed_commitment_can_no_longer_be_modified_and_nothing_changes(world):
    m = world.implementing()
    cid = commitment_ids(world, m)[0]
    world.at("2027-06-01T09:00:00")
    complete(world, cid, D(2027, 5, 31))
    expect_refusal(world, lambda: modify(world, cid, title="Renamed"), TriggerNotAllowed, "R3.10")


# ---------------------------------------------------------------- withdraw_commitment (R3.10)


def test_r3_10_withdrawing_a_commitment_keeps_a_version_and_cancels_its_assessment_deadline(world):
    m = world.implementing()
    cid = commitment_ids(world, m)[0]
    world.at("2027-04-01T09:00:00")
    withdraw(world, cid)
    got = get(world, cid)
    assert (got.state, got.version) == ("withdrawn", 2)
    assert [v[:2] for v in versions(world, cid)] == [(1, "created"), (2, "withdrawn")]
    assert trail(world, "commitment", cid)[-1] == ("withdraw", "implementing", "withdrawn", "R3.10")
    assert eoc_deadlines(world, cid) == [("cancelled", D(2029, 7, 30))]
    with world.session() as s:
        assert s.get(Member, m).state == "implementing"


def test_r3_10_withdrawing_after_six_months_is_refused_and_changes_nothing(world):
    m = world.implementing()
    cid = commitment_ids(world, m)[0]
    world.at("2027-08-01T09:00:00")
    expect_refusal(world, lambda: withdraw(world, cid), Refusals, "R3.10")


def test_r3_10_withdrawing_without_approval_is_refused_and_changes_nothing(world):
    m = world.implementing()
    cid = commitment_ids(world, m)[0]
    expect_refusal(world, lambda: withdraw(world, cid, approved_by=()), Refusals, "R3.10")


def test_r3_10_withdrawing_a_commitment_twice_is_refused_and_changes_nothing(world):
    m = world.implementing()
    cid = commitment_ids(world, m)[0]
    withdraw(world, cid)
    expect_refusal(world, lambda: withdraw(world, cid), TriggerNotAllowed, "R3.10")


# ---------------------------------------------------------------- add_replacement_commitment (R3.4)


def test_r3_4_a_replacement_without_an_assessed_completed_commitment_is_refused_and_changes_nothing(world):
    m = world.implementing()
    world.at("2027-06-01T09:00:00")
    err = expect_refusal(world, lambda: replacement(world, m, D(2027, 6, 1)), Refusals, "R3.4")
    assert {v.rule for v in err.violations} == {"R3.4"}


def test_r3_4_a_completed_commitment_whose_assessment_is_not_filed_frees_no_slot(world):
    m = world.implementing()
    world.at("2027-06-01T09:00:00")
    complete(world, commitment_ids(world, m)[0], D(2027, 5, 31))
    expect_refusal(world, lambda: replacement(world, m, D(2027, 6, 1)), Refusals, "R3.4")


def test_r3_4_after_a_completion_and_its_assessment_a_replacement_is_added_and_starts(world):
    m = world.implementing()
    first = commitment_ids(world, m)[0]
    world.at("2027-06-01T09:00:00")
    complete(world, first, D(2027, 5, 31))
    assess(world, m, first)
    world.at("2027-06-10T09:00:00")
    new = replacement(world, m, D(2027, 6, 10))
    got = get(world, new)
    assert (got.state, got.is_replacement, got.submitted_on, got.version, got.member_id) == (
        "implementing", True, D(2027, 6, 10), 1, m)
    assert get(world, first).state == "assessed"
    assert trail(world, "commitment", new) == [("create", "", "draft", "R3.4"),
                                               ("start", "draft", "implementing", "R3.4")]
    assert eoc_deadlines(world, new) == [("pending", D(2029, 7, 30))]

    # The slot is used: a second replacement waits for another assessed completion.
    expect_refusal(world, lambda: replacement(world, m, D(2027, 6, 10)), Refusals, "R3.4")


def test_r3_4_a_replacement_ending_after_the_plan_is_refused_and_changes_nothing(world):
    m = world.implementing()
    first = commitment_ids(world, m)[0]
    world.at("2027-06-01T09:00:00")
    complete(world, first, D(2027, 5, 31))
    assess(world, m, first)
    err = expect_refusal(world, lambda: replacement(world, m, D(2027, 6, 1), D(2029, 7, 31)), Refusals, "R3.4")
    assert [v.field for v in err.violations] == ["end"]


def test_r3_4_a_member_without_a_plan_in_force_adds_no_replacement_and_nothing_changes(world):
    m = world.co_creating()
    expect_refusal(world, lambda: replacement(world, m, D(2027, 1, 10)), TriggerNotAllowed, "R3.4", "plan")
