"""Who approves a change to a plan's commitments, and the notice the OGP Local team gets (R3.10, R3.4), on both
real databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from config.settings import Settings
from lifecycle import audit, commands as c, handlers, samples
from lifecycle.models import Commitment, CommitmentVersion, OutboxEvent
from lifecycle.schemas import CommitmentIn
from policies.errors import ApproverNotRecorded, Refusals
from policies.plans import ModificationNotApproved
from workers.letters.render import build_context, render
from worldkit import snapshot

SU = "support-unit"
POC = "poc@city.example"
OBSERVATORY = "University Observatory of Public Policy"
ENDORSERS = ("Civic Data Association", "Neighbourhood Councils Network")  # samples.plan's endorsing stakeholders
DECISION = "Forum vote of 2027-02-20, minutes linked."
D = dt.date


def first_commitment(world, member_id: int) -> int:
    with world.session() as s:
        return s.scalars(select(Commitment.id).where(Commitment.member_id == member_id).order_by(Commitment.id)).first()


def modify(world, commitment_id: int, *, approved_by=ENDORSERS[:1], decision_process=DECISION, **changes) -> None:
    world.run(handlers.modify_commitment, c.ModifyCommitment(
        commitment_id=commitment_id, actor=POC, decision_process=decision_process, approved_by=tuple(approved_by),
        **changes))


def withdraw(world, commitment_id: int, *, approved_by=ENDORSERS[:1], decision_process=DECISION) -> None:
    world.run(handlers.withdraw_commitment, c.WithdrawCommitment(
        commitment_id=commitment_id, actor=POC, decision_process=decision_process, approved_by=tuple(approved_by)))


def stakeholder(world, member_id: int, name: str, organisation: str | None, email: str) -> None:
    world.run(handlers.register_person, c.RegisterPerson(name=name, email=email, role="stakeholder",
                                                         organisation=organisation, member_id=member_id))


def notices(world, member_id: int) -> list[OutboxEvent]:
    with world.session() as s:
        return list(s.scalars(select(OutboxEvent).where(OutboxEvent.member_id == member_id,
                                                        OutboxEvent.kind == "modification_notice")
                              .order_by(OutboxEvent.id)))


def latest_version(world, commitment_id: int) -> CommitmentVersion:
    with world.session() as s:
        return s.scalars(select(CommitmentVersion).where(CommitmentVersion.commitment_id == commitment_id)
                         .order_by(CommitmentVersion.version.desc())).first()


def refused(world, call, rule: str = "R3.10") -> Refusals:
    before = snapshot(world)
    with pytest.raises(Refusals) as exc:
        call()
    assert exc.value.rule == rule
    assert snapshot(world) == before, "a refusal changes nothing, and writes no notice"
    return exc.value


# ---------------------------------------------------------------- who approves (R3.10)


def test_r3_10_modification_without_approval_is_refused_naming_r3_10(world):
    m = world.implementing()
    cid = first_commitment(world, m)
    err = refused(world, lambda: modify(world, cid, end=D(2029, 3, 31), approved_by=()))
    (violation,) = err.violations
    assert isinstance(violation, ModificationNotApproved)
    assert (violation.rule, violation.field) == ("R3.10", "approved_by")
    assert all(name in violation.hint for name in ENDORSERS), "it lists who may approve"


def test_r3_10_withdrawal_without_approval_is_refused_naming_r3_10(world):
    m = world.implementing()
    cid = first_commitment(world, m)
    err = refused(world, lambda: withdraw(world, cid, approved_by=("   ",)))
    assert [(v.rule, v.field) for v in err.violations] == [("R3.10", "approved_by")]


def test_r3_10_an_approver_not_recorded_for_the_plan_is_refused_listing_who_may_approve(world):
    m = world.implementing()
    cid = first_commitment(world, m)
    err = refused(world, lambda: modify(world, cid, title="Renamed", approved_by=("The Mayor's Office",)))
    (violation,) = err.violations
    assert isinstance(violation, ApproverNotRecorded)
    assert violation.field == "approved_by" and "The Mayor's Office" in violation.message
    assert all(name in violation.hint for name in ENDORSERS)


def test_r3_10_a_stakeholder_account_of_the_member_approves_by_its_name_or_its_organisation(world):
    m = world.implementing()
    cid = first_commitment(world, m)
    stakeholder(world, m, "Lena Ortiz", "Open Budget Watch", "lena@budgetwatch.example")

    modify(world, cid, title="Open contracting register, city-wide", approved_by=("open budget watch", "Lena Ortiz"))

    assert list(latest_version(world, cid).approved_by) == ["Open Budget Watch", "Lena Ortiz"]


def test_r3_10_a_stakeholder_of_another_member_may_not_approve(world):
    m = world.implementing()
    other = world.in_orientation("lakeside")
    stakeholder(world, other, "Omar Haddad", "Lakeside Residents", "omar@lakeside.example")
    cid = first_commitment(world, m)
    err = refused(world, lambda: modify(world, cid, title="Renamed", approved_by=("Lakeside Residents",)))
    assert [type(v) for v in err.violations] == [ApproverNotRecorded]


def test_r3_10_approvers_are_kept_in_the_version_as_the_plan_spells_them(world):
    m = world.implementing()
    cid = first_commitment(world, m)
    world.at("2027-03-01T09:00:00")
    modify(world, cid, end=D(2029, 3, 31), approved_by=("civic data association", " Neighbourhood  Councils Network"))
    version = latest_version(world, cid)
    assert (version.version, version.change, list(version.approved_by), version.decision_process) == (
        2, "modified", list(ENDORSERS), DECISION)


# ---------------------------------------------------------------- the OGP Local team is notified (R3.10)


def test_r3_10_an_accepted_modification_writes_one_notice_to_the_support_unit_with_what_changed(world):
    m = world.implementing()
    cid = first_commitment(world, m)
    world.at("2027-03-01T09:00:00")
    modify(world, cid, end=D(2029, 3, 31), title="Open contracting register, city-wide")

    (notice,) = notices(world, m)
    with world.session() as s:
        record = audit.history(s, "commitment", cid)[-1]
    assert (notice.recipient_role, notice.rule_id, notice.status) == ("support_unit", "R3.10", "pending")
    assert notice.idempotency_key == f"commitment:{cid}:v2:modification_notice:support_unit"
    assert (notice.transition_id, record.trigger) == (record.id, "modify"), "written with the change, in its transaction"
    assert notice.payload["change"] == "modified" and notice.payload["version"] == 2
    assert notice.payload["approved_by"] == list(ENDORSERS[:1])
    assert notice.payload["decision_process"] == DECISION
    assert notice.payload["changes"] == [
        {"field": "title", "from": "Open contracting register 1", "to": "Open contracting register, city-wide"},
        {"field": "end", "from": "2029-06-30", "to": "2029-03-31"},
    ]


def test_r3_10_each_version_gets_its_own_notice_and_a_withdrawal_says_so(world):
    m = world.implementing()
    cid = first_commitment(world, m)
    world.at("2027-03-01T09:00:00")
    modify(world, cid, title="Renamed once")
    world.at("2027-04-01T09:00:00")
    withdraw(world, cid)

    keys = [(n.idempotency_key, n.payload["change"]) for n in notices(world, m)]
    assert keys == [(f"commitment:{cid}:v2:modification_notice:support_unit", "modified"),
                    (f"commitment:{cid}:v3:modification_notice:support_unit", "withdrawn")]


def test_r3_10_the_notice_names_commitment_member_change_approvers_process_and_rule_in_the_members_language(
        world, tmp_path):
    m = world.implementing("lyon", language="fr")
    cid = first_commitment(world, m)
    world.at("2027-03-01T09:00:00")
    modify(world, cid, end=D(2029, 3, 31), approved_by=ENDORSERS)
    (notice,) = notices(world, m)

    settings = Settings(_env_file=None, data_dir=tmp_path, support_unit_email="su@ogplocal.example")
    with world.session() as s:
        ctx = build_context(s, s.get(OutboxEvent, notice.id), settings=settings)
    letter = render(ctx)

    assert ctx.language == "fr" and ctx.rule_id == "R3.10" and ctx.reason == DECISION
    assert ctx.dates == {"effective_on": D(2027, 3, 1), "submitted_on": D(2027, 1, 10)}
    assert ctx.commitment["changes"] == ({"field": "end", "from": D(2029, 6, 30), "to": D(2029, 3, 31)},)
    assert "Lyon" in letter.subject and f"engagement {cid}" in letter.subject and "R3.10" in letter.subject
    for text in (letter.text, letter.html):
        assert "Open contracting register 1" in text
        assert "30 juin 2029" in text and "31 mars 2029" in text
        assert all(name in text for name in ENDORSERS)
        assert DECISION in text
        assert "avis concernant Lyon" in text, "addressed to the Support Unit as a notice, not as a copy"


# ---------------------------------------------------------------- replacements (R3.4) need the same approval


def assessed_completion(world, member_id: int) -> None:
    first = first_commitment(world, member_id)
    world.at("2027-06-01T09:00:00")
    world.run(handlers.complete_commitment, c.CompleteCommitment(commitment_id=first, completed_on=D(2027, 5, 31),
                                                                 actor=POC))
    world.run(handlers.file_assessment, c.FileAssessment(
        member_id=member_id, kind="end_of_commitment", actor=OBSERVATORY, commitment_id=first,
        ratings={"completion": "complete", "early_results": "Contracts are published within ten days."}))


def replace(world, member_id: int, **approval) -> int:
    doc = CommitmentIn.model_validate(samples.commitment(D(2027, 6, 10), D(2029, 6, 30), 9))
    return world.run(handlers.add_replacement_commitment, c.AddReplacementCommitment(
        member_id=member_id, commitment=doc, actor=POC, **approval))


def test_r3_4_a_replacement_without_approval_is_refused_naming_r3_10_and_changes_nothing(world):
    m = world.implementing()
    assessed_completion(world, m)
    world.at("2027-06-10T09:00:00")
    err = refused(world, lambda: replace(world, m, decision_process=DECISION), rule="R3.10")
    assert [(v.rule, v.field) for v in err.violations] == [("R3.10", "approved_by")]
    err = refused(world, lambda: replace(world, m, approved_by=("Unknown Collective",), decision_process=DECISION),
                  rule="R3.10")
    assert [type(v) for v in err.violations] == [ApproverNotRecorded]
    err = refused(world, lambda: replace(world, m, approved_by=ENDORSERS[:1]), rule="R3.10")
    assert [(v.rule, v.field) for v in err.violations] == [("R3.10", "decision_process")]


def test_r3_4_an_approved_replacement_keeps_its_approvers_and_decision_in_its_first_version(world):
    m = world.implementing()
    assessed_completion(world, m)
    world.at("2027-06-10T09:00:00")
    new = replace(world, m, approved_by=("neighbourhood councils network",), decision_process=DECISION)
    version = latest_version(world, new)
    assert (version.version, version.change, list(version.approved_by), version.decision_process) == (
        1, "created", ["Neighbourhood Councils Network"], DECISION)
