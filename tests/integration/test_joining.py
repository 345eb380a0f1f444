"""Joining (§1, R2.1–R2.3) on both real databases: reference data, applications, acceptance, orientation."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from lifecycle import audit, commands as c, handlers, samples
from lifecycle.models import Call, Deadline, Jurisdiction, Member, Person, Role
from lifecycle.schemas import LetterOfSupportIn
from policies.errors import InvalidInput, NotFound, Refusals, RuleViolation, TriggerNotAllowed
from worldkit import snapshot, trail

SU = "support-unit"
POC = "poc@city.example"
CALL = "Call 2027"
D = dt.date


def member(world, member_id: int) -> Member:
    with world.session() as s:
        m = s.get(Member, member_id)
        assert m.application is not None  # loads it while the session is open
        return m


def letter(**overrides) -> LetterOfSupportIn:
    return LetterOfSupportIn.model_validate({**samples.letter_of_support(), **overrides})


def apply(world, code: str, *, call: str = CALL, los: LetterOfSupportIn | None = None) -> int:
    return world.run(handlers.apply, c.Apply(jurisdiction=code, call=call, letter_of_support=los or letter(),
                                             actor=POC))


# ---------------------------------------------------------------- register_jurisdiction


def test_a_jurisdiction_is_registered_with_its_time_zone_spelled_as_the_iana_database_does(world):
    jid = world.run(handlers.register_jurisdiction, c.RegisterJurisdiction(
        code="lakeside", name="Lakeside", country="Canada", time_zone="america/toronto", term_end=D(2030, 10, 31)))
    with world.session() as s:
        j = s.get(Jurisdiction, jid)
        assert (j.code, j.country, j.time_zone, j.has_elections, j.term_end) == (
            "lakeside", "Canada", "America/Toronto", True, D(2030, 10, 31))


def test_r1_2_a_jurisdiction_without_elections_keeps_no_term_end(world):
    jid = world.run(handlers.register_jurisdiction, c.RegisterJurisdiction(
        code="hilltown", name="Hilltown", country="Kenya", time_zone="Africa/Nairobi", has_elections=False,
        term_end=D(2030, 1, 1)))
    with world.session() as s:
        j = s.get(Jurisdiction, jid)
        assert (j.has_elections, j.term_end) == (False, None)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "+02:00", "UTC+9", " "])
def test_d2_a_jurisdiction_with_an_unknown_time_zone_is_refused_on_field_time_zone_and_changes_nothing(world, zone):
    before = snapshot(world)
    with pytest.raises(InvalidInput) as exc:
        world.run(handlers.register_jurisdiction, c.RegisterJurisdiction(
            code="nowhere", name="Nowhere", country="France", time_zone=zone, term_end=D(2031, 6, 30)))
    assert exc.value.field == "time_zone"
    assert exc.value.rule == ""  # malformed input: refused before any rule is judged
    assert snapshot(world) == before


def test_r1_2_a_jurisdiction_with_elections_but_no_term_end_is_refused_and_changes_nothing(world):
    before = snapshot(world)
    with pytest.raises(InvalidInput) as exc:
        world.run(handlers.register_jurisdiction, c.RegisterJurisdiction(
            code="nowhere", name="Nowhere", country="France", time_zone="Europe/Paris", term_end=None))
    assert exc.value.rule == "R1.2"
    assert exc.value.field == "term_end"
    assert snapshot(world) == before


def test_a_second_jurisdiction_with_the_same_code_is_refused_and_changes_nothing(world):
    world.jurisdiction("riverton")
    before = snapshot(world)
    with pytest.raises(InvalidInput) as exc:
        world.jurisdiction("riverton", tz="Asia/Seoul")
    assert exc.value.field == "code"
    assert exc.value.rule == ""
    assert snapshot(world) == before


# ---------------------------------------------------------------- open_call


def test_r1_1_a_call_is_opened_with_its_dates_and_first_plan_deadline(world):
    call_id = world.run(handlers.open_call, c.OpenCall(name="Call 2028", opens_on=D(2028, 1, 1),
                                                       closes_on=D(2028, 2, 29), first_plan_due=D(2028, 10, 31)))
    with world.session() as s:
        call = s.get(Call, call_id)
        assert (call.name, call.opens_on, call.closes_on, call.first_plan_due) == (
            "Call 2028", D(2028, 1, 1), D(2028, 2, 29), D(2028, 10, 31))


def test_r1_1_a_call_closing_before_it_opens_is_refused_and_changes_nothing(world):
    before = snapshot(world)
    with pytest.raises(InvalidInput) as exc:
        world.run(handlers.open_call, c.OpenCall(name="Call 2028", opens_on=D(2028, 3, 1), closes_on=D(2028, 2, 1),
                                                 first_plan_due=D(2028, 10, 31)))
    assert exc.value.rule == "R1.1"
    assert snapshot(world) == before


def test_r5_1_a_call_whose_first_plan_deadline_is_not_after_it_closes_is_refused_and_changes_nothing(world):
    before = snapshot(world)
    with pytest.raises(InvalidInput) as exc:
        world.run(handlers.open_call, c.OpenCall(name="Call 2028", opens_on=D(2028, 1, 1), closes_on=D(2028, 3, 31),
                                                 first_plan_due=D(2028, 3, 31)))
    assert exc.value.rule == "R5.1"
    assert exc.value.field == "first_plan_due"
    assert snapshot(world) == before


# ---------------------------------------------------------------- register_person


def test_a_person_is_registered_once_and_gains_one_role_per_registration(world):
    m = world.applicant()
    first = world.run(handlers.register_person, c.RegisterPerson(name="Ana Ruiz", email=" Ana.Ruiz@City.example ",
                                                                 role="poc", member_id=m))
    again = world.run(handlers.register_person, c.RegisterPerson(name="Ana Ruiz", email="ana.ruiz@city.example",
                                                                 role="stakeholder", member_id=m))
    repeat = world.run(handlers.register_person, c.RegisterPerson(name="Ana Ruiz", email="ana.ruiz@city.example",
                                                                  role="poc", member_id=m))
    assert first == again == repeat
    with world.session() as s:
        assert s.get(Person, first).email == "ana.ruiz@city.example"
        roles = sorted((r.role, r.member_id) for r in s.scalars(select(Role).where(Role.person_id == first)))
    assert roles == [("poc", m), ("stakeholder", m)]


def test_a_support_unit_officer_acts_for_no_member(world):
    pid = world.run(handlers.register_person, c.RegisterPerson(name="Officer", email="officer@ogp.example",
                                                               role="support_unit"))
    with world.session() as s:
        assert [(r.role, r.member_id) for r in s.scalars(select(Role).where(Role.person_id == pid))] == [
            ("support_unit", None)]


@pytest.mark.parametrize("email", ["not-an-email", "ana@localhost", "ana ruiz@city.example", "@city.example",
                                   "ana@.example"])
def test_a_person_with_a_malformed_email_is_refused_and_changes_nothing(world, email):
    before = snapshot(world)
    with pytest.raises(InvalidInput) as exc:
        world.run(handlers.register_person, c.RegisterPerson(name="Ana", email=email, role="support_unit"))
    assert exc.value.field == "email"
    assert exc.value.rule == ""
    assert snapshot(world) == before


def test_a_poc_registered_without_a_member_is_refused_and_changes_nothing(world):
    before = snapshot(world)
    with pytest.raises(InvalidInput) as exc:
        world.run(handlers.register_person, c.RegisterPerson(name="Ana", email="ana@city.example", role="poc"))
    assert exc.value.field == "member_id"
    assert snapshot(world) == before


def test_a_poc_registered_for_an_unknown_member_is_refused_and_changes_nothing(world):
    before = snapshot(world)
    with pytest.raises(NotFound) as exc:
        world.run(handlers.register_person, c.RegisterPerson(name="Ana", email="ana@city.example", role="poc",
                                                             member_id=999))
    assert exc.value.rule == ""
    assert snapshot(world) == before


# ---------------------------------------------------------------- apply (R1.1, R1.5)


def test_r1_1_an_application_during_the_call_makes_an_applicant_with_its_letter_and_one_record(world):
    world.jurisdiction("riverton")
    m = apply(world, "riverton")
    got = member(world, m)
    assert got.state == "applicant"
    assert got.first_plan_due == D(2027, 9, 30)
    assert (got.application.applied_on, got.application.los_pages, got.application.los_language) == (
        D(2027, 1, 10), 2, "en")
    assert len(got.application.los_signatories) == 2
    assert trail(world, "member", m) == [("apply", "", "applicant", "R1.1")]
    with world.session() as s:
        assert s.scalars(select(Deadline).where(Deadline.member_id == m)).all() == []


def test_r1_1_an_application_on_the_closing_day_is_accepted(world):
    world.jurisdiction("riverton")
    world.at("2027-03-31T21:00:00")  # 23:00 in Paris, still 31 March there
    m = apply(world, "riverton")
    assert member(world, m).application.applied_on == D(2027, 3, 31)


def test_r1_1_an_application_after_the_call_closed_is_refused_and_changes_nothing(world):
    world.jurisdiction("riverton")
    world.at("2027-04-01T09:00:00")
    before = snapshot(world)
    with pytest.raises(RuleViolation) as exc:
        apply(world, "riverton")
    assert exc.value.rule == "R1.1"
    assert snapshot(world) == before


def test_r1_1_d2_an_application_on_the_first_local_day_after_the_call_is_refused_though_utc_is_still_in_it(world):
    world.jurisdiction("seoulgu", tz="Asia/Seoul", country="South Korea")
    world.at("2027-03-31T16:00:00")  # 1 April, 01:00 in Seoul
    before = snapshot(world)
    with pytest.raises(RuleViolation) as exc:
        apply(world, "seoulgu")
    assert exc.value.rule == "R1.1"
    assert snapshot(world) == before


def test_r1_1_an_application_before_the_call_opens_is_refused_and_changes_nothing(world):
    world.run(handlers.open_call, c.OpenCall(name="Call 2028", opens_on=D(2028, 1, 1), closes_on=D(2028, 3, 31),
                                             first_plan_due=D(2028, 9, 30)))
    world.jurisdiction("riverton")
    before = snapshot(world)
    with pytest.raises(RuleViolation) as exc:
        apply(world, "riverton", call="Call 2028")
    assert exc.value.rule == "R1.1"
    assert snapshot(world) == before


def test_an_application_naming_an_unknown_jurisdiction_or_call_is_refused_and_changes_nothing(world):
    world.jurisdiction("riverton")
    before = snapshot(world)
    with pytest.raises(NotFound) as exc:
        apply(world, "atlantis")
    assert exc.value.field == "jurisdiction"
    with pytest.raises(NotFound) as exc:
        apply(world, "riverton", call="Call 1999")
    assert exc.value.field == "call"
    assert snapshot(world) == before


def test_r1_5_a_jurisdiction_with_a_live_membership_cannot_apply_again_and_changes_nothing(world):
    world.in_orientation("riverton")
    before = snapshot(world)
    with pytest.raises(RuleViolation) as exc:
        apply(world, "riverton")
    assert exc.value.rule == "R1.5"
    assert snapshot(world) == before


def test_r1_5_a_rejected_jurisdiction_applies_in_a_later_call_as_a_new_member_and_the_old_record_stays(world):
    old = world.applicant("riverton")
    world.run(handlers.reject_application, c.RejectApplication(member_id=old, actor=SU, reason="No co-creation yet."))
    world.run(handlers.open_call, c.OpenCall(name="Call 2028", opens_on=D(2028, 1, 1), closes_on=D(2028, 3, 31),
                                             first_plan_due=D(2028, 9, 30)))
    world.at("2028-02-01T09:00:00")
    new = apply(world, "riverton", call="Call 2028")
    assert new != old
    old_m, new_m = member(world, old), member(world, new)
    assert (old_m.state, old_m.application.decision_reason, old_m.application.applied_on) == (
        "rejected", "No co-creation yet.", D(2027, 1, 10))
    assert (new_m.state, new_m.application.applied_on, new_m.first_plan_due) == (
        "applicant", D(2028, 2, 1), D(2028, 9, 30))
    assert old_m.jurisdiction_id == new_m.jurisdiction_id
    assert trail(world, "member", old) == [("apply", "", "applicant", "R1.1"),
                                           ("reject", "applicant", "rejected", "R2.2")]
    assert trail(world, "member", new) == [("apply", "", "applicant", "R1.1")]


# ---------------------------------------------------------------- accept_application (R2.1, R1.2, R1.3)


def test_r2_1_accepting_an_application_moves_it_to_orientation_and_keeps_the_checklist(world):
    m = world.applicant()
    world.at("2027-02-01T10:00:00")
    world.run(handlers.accept_application, c.AcceptApplication(
        member_id=m, actor=SU, reason="Strong track record", checklist={"political_commitment": True},
        notes="Good value proposition"))
    got = member(world, m)
    assert got.state == "orientation"
    assert (got.application.checklist, got.application.reviewer_notes, got.application.decision_reason) == (
        {"political_commitment": True}, "Good value proposition", "Strong track record")
    assert trail(world, "member", m)[-1] == ("accept", "applicant", "orientation", "R2.1")


def test_r1_2_an_application_with_less_than_sixteen_months_left_in_the_term_is_refused_and_changes_nothing(world):
    m = world.applicant(term_end=D(2028, 5, 9))  # applied 2027-01-10: the term must end on 2028-05-10 or later
    before = snapshot(world)
    with pytest.raises(Refusals) as exc:
        world.run(handlers.accept_application, c.AcceptApplication(member_id=m, actor=SU))
    assert exc.value.rule == "R1.2"
    assert [v.rule for v in exc.value.violations] == ["R1.2"]
    assert snapshot(world) == before


def test_r1_2_an_application_with_exactly_sixteen_months_left_is_accepted(world):
    m = world.applicant(term_end=D(2028, 5, 10))
    world.run(handlers.accept_application, c.AcceptApplication(member_id=m, actor=SU))
    assert member(world, m).state == "orientation"


def test_r1_2_a_jurisdiction_without_elections_skips_the_term_check(world):
    m = world.applicant(term_end=None)
    world.run(handlers.accept_application, c.AcceptApplication(member_id=m, actor=SU))
    assert member(world, m).state == "orientation"


def test_r1_3_a_letter_failing_every_point_is_refused_with_one_reason_per_point_and_changes_nothing(world):
    world.jurisdiction("riverton")
    bad = letter(pages=5, language="fr", signatories=[
        {"name": "Deputy clerk", "kind": "government"},
        {"name": "Friends of the park", "kind": "non_governmental", "has_legal_personality": False},
    ])
    m = apply(world, "riverton", los=bad)
    before = snapshot(world)
    with pytest.raises(Refusals) as exc:
        world.run(handlers.accept_application, c.AcceptApplication(member_id=m, actor=SU))
    assert exc.value.rule == "R1.3"
    assert [v.rule for v in exc.value.violations] == ["R1.3"] * 4
    assert {v.field for v in exc.value.violations} >= {"pages", "signatories"}
    assert snapshot(world) == before


def test_r1_3_a_letter_without_a_registered_stakeholder_is_refused_and_changes_nothing(world):
    world.jurisdiction("riverton")
    unsigned = letter(signatories=[{"name": "Mayor", "kind": "government", "is_head_of_government": True}])
    m = apply(world, "riverton", los=unsigned)
    before = snapshot(world)
    with pytest.raises(Refusals) as exc:
        world.run(handlers.accept_application, c.AcceptApplication(member_id=m, actor=SU))
    assert exc.value.rule == "R1.3"
    assert [v.rule for v in exc.value.violations] == ["R1.3"]
    assert snapshot(world) == before


def test_r1_3_a_letter_signed_by_an_official_with_delegated_authority_is_accepted(world):
    world.jurisdiction("riverton")
    delegated = letter(pages=3, signatories=[
        {"name": "Chief of staff", "kind": "government", "has_delegated_authority": True},
        {"name": "Civic Data Association", "kind": "non_governmental", "has_legal_personality": True},
    ])
    m = apply(world, "riverton", los=delegated)
    world.run(handlers.accept_application, c.AcceptApplication(member_id=m, actor=SU))
    assert member(world, m).state == "orientation"


def test_r2_1_accepting_a_member_already_in_orientation_is_refused_and_changes_nothing(world):
    m = world.in_orientation()
    before = snapshot(world)
    with pytest.raises(TriggerNotAllowed) as exc:
        world.run(handlers.accept_application, c.AcceptApplication(member_id=m, actor=SU))
    assert exc.value.rule == "R2.1"
    assert snapshot(world) == before


def test_accepting_an_unknown_member_is_refused_and_changes_nothing(world):
    before = snapshot(world)
    with pytest.raises(NotFound) as exc:
        world.run(handlers.accept_application, c.AcceptApplication(member_id=4242, actor=SU))
    assert exc.value.field == "id"
    assert snapshot(world) == before


# ---------------------------------------------------------------- reject_application (R2.2)


def test_r2_2_rejecting_an_application_records_its_reason(world):
    m = world.applicant()
    world.run(handlers.reject_application, c.RejectApplication(member_id=m, actor=SU, reason="Term too close."))
    got = member(world, m)
    assert (got.state, got.application.decision_reason) == ("rejected", "Term too close.")
    with world.session() as s:
        record = audit.history(s, "member", m)[-1]
        assert (record.trigger, record.to_state, record.rule_id, record.reason, record.actor) == (
            "reject", "rejected", "R2.2", "Term too close.", SU)


@pytest.mark.parametrize("reason", ["", "   "])
def test_r2_2_a_rejection_without_a_reason_is_refused_and_changes_nothing(world, reason):
    m = world.applicant()
    before = snapshot(world)
    with pytest.raises(InvalidInput) as exc:
        world.run(handlers.reject_application, c.RejectApplication(member_id=m, actor=SU, reason=reason))
    assert exc.value.rule == "R2.2"
    assert exc.value.field == "reason"
    assert snapshot(world) == before


def test_r2_2_rejecting_a_member_already_accepted_is_refused_and_changes_nothing(world):
    m = world.in_orientation()
    before = snapshot(world)
    with pytest.raises(TriggerNotAllowed) as exc:
        world.run(handlers.reject_application, c.RejectApplication(member_id=m, actor=SU, reason="Changed our mind."))
    assert exc.value.rule == "R2.2"
    assert snapshot(world) == before


# ---------------------------------------------------------------- orientation and co-creation (R2.3)


def test_r2_3_completing_orientation_is_recorded_without_a_transition(world):
    m = world.in_orientation()
    world.at("2027-02-20T15:00:00")
    world.run(handlers.complete_orientation, c.CompleteOrientation(member_id=m, actor=SU))
    got = member(world, m)
    assert got.state == "orientation"
    assert got.orientation_completed_at.isoformat().startswith("2027-02-20T15:00:00")
    assert [t[0] for t in trail(world, "member", m)] == ["apply", "accept"]


def test_r2_3_completing_orientation_outside_orientation_is_refused_and_changes_nothing(world):
    m = world.applicant()
    before = snapshot(world)
    with pytest.raises(TriggerNotAllowed) as exc:
        world.run(handlers.complete_orientation, c.CompleteOrientation(member_id=m, actor=SU))
    assert exc.value.rule == "R2.3"
    assert snapshot(world) == before


def test_r2_3_starting_co_creation_before_orientation_is_completed_is_refused_and_changes_nothing(world):
    m = world.in_orientation()
    before = snapshot(world)
    with pytest.raises(RuleViolation) as exc:
        world.run(handlers.start_co_creation, c.StartCoCreation(member_id=m, actor=POC))
    assert exc.value.rule == "R2.3"
    assert exc.value.field == "orientation_completed_at"
    assert snapshot(world) == before


def test_r2_3_starting_co_creation_after_orientation_moves_the_member_to_co_creation(world):
    m = world.in_orientation()
    world.run(handlers.complete_orientation, c.CompleteOrientation(member_id=m, actor=SU))
    world.run(handlers.start_co_creation, c.StartCoCreation(member_id=m, actor=POC))
    assert member(world, m).state == "co_creation"
    assert trail(world, "member", m)[-1] == ("start_co_creation", "orientation", "co_creation", "R2.3")


def test_r2_3_an_applicant_cannot_start_co_creation_and_nothing_changes(world):
    m = world.applicant()
    before = snapshot(world)
    with pytest.raises(TriggerNotAllowed) as exc:
        world.run(handlers.start_co_creation, c.StartCoCreation(member_id=m, actor=POC))
    assert exc.value.rule == "R2.3"
    assert snapshot(world) == before
