"""Every letter kind, caused by real transitions and by the deadline engine, arrives over SMTP in the member's
language with its member, its rule and its dates (R7.1, R7.2), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pendulum
import pytest
from babel.dates import format_date

from letterworld import SU, SUPPORT_UNIT
from lifecycle import commands as c, handlers
from lifecycle.engine import tick
from lifecycle.models import Deadline, OutboxEvent, TransitionRecord
from policies.calendar import local_date

TZ = "Europe/Paris"
# Names with the letters each language needs, so that encodings are tested along the way.
PLACES = {"en": "Riverton", "fr": "Rivière-sur-Mer", "es": "Villanueva de la Cañada"}
GREETINGS = {"en": "Dear Sir or Madam,", "fr": "Madame, Monsieur,", "es": "Estimada señora, estimado señor:"}
MONITORING_BODY = "observatory@university.example"


def long_date(day: dt.date, language: str) -> str:
    """A date as a reader of the language writes it (1 October 2027: "October 1, 2027", "1 octobre 2027"...)."""
    return format_date(day, format="long", locale=language)


@dataclass
class Expected:
    """One letter the walk must have caused, and what it must say."""

    member: str
    kind: str
    rule: str
    role: str = "poc"
    deadline_kind: str | None = None
    dates: tuple[dt.date, ...] = ()


def walk(world, language: str) -> dict[str, int]:
    """Five members of one language through every letter-causing event, at known instants."""
    def name(letter: str) -> str:
        return f"{PLACES[language]} {letter}"

    m: dict[str, int] = {}
    world.at("2027-01-15T10:00:00Z")
    m["A"] = world.accepted("a", name=name("A"), language=language, tz=TZ)
    world.at("2027-01-16T10:00:00Z")
    m["B"] = world.applicant("b", name=name("B"), language=language, tz=TZ)
    world.run(handlers.reject_application, c.RejectApplication(member_id=m["B"], actor=SU,
                                                               reason="no co-creation track record"))
    world.at("2027-01-20T09:00:00Z")
    m["C"] = world.implementing("c", name=name("C"), language=language, tz=TZ)  # plan filed: R4.1 due 2027-03-20
    world.person(m["C"], "monitoring_body", MONITORING_BODY, name="University Observatory")
    m["D"] = world.co_creating("d", name=name("D"), language=language, tz=TZ)
    m["E"] = world.co_creating("e", name=name("E"), language=language, tz=TZ)

    world.at("2027-02-01T09:00:00Z")
    request = world.run(handlers.request_voluntary_inactivity, c.RequestVoluntaryInactivity(
        member_id=m["D"], reason="municipal elections", stakeholders_consulted=True, actor="poc@d.example"))
    world.run(handlers.approve_voluntary_inactivity, c.ApproveVoluntaryInactivity(request_id=request, actor=SU))
    world.at("2027-02-10T09:00:00Z")
    # Both by hand ahead of what D8 and D13 would find: overrides (D14).
    world.status(m["E"], "place_on_probation", "R6.2", "no meeting with non-governmental stakeholders", override=True)
    world.at("2027-03-01T09:00:00Z")
    world.status(m["E"], "reinstate", "R6.4", "two meetings held and minuted", override=True)

    for instant in ("2027-03-14T09:00:00Z",  # the 7-day reminder of C's start assessment (R4.1)
                    "2027-03-22T09:00:00Z"):  # and then its overdue notice
        world.at(instant)
        tick(world.clock.now(), session_factory=world.factory, clock=world.clock)
    world.at("2027-10-01T09:00:00Z")
    world.status(m["C"], "become_inactive", "R5.4", "no tracker update in the second and third quarters")
    for instant in ("2028-04-02T09:00:00Z",  # six months inactive: probation (R6.1)
                    "2028-08-04T09:00:00Z"):  # four months on probation: revoked (R6.5)
        world.at(instant)
        tick(world.clock.now(), session_factory=world.factory, clock=world.clock)
    return m


def expected_letters() -> list[Expected]:
    return [
        Expected("A", "accepted", "R2.1", dates=(dt.date(2027, 1, 15), dt.date(2027, 9, 30))),
        Expected("B", "rejected", "R2.2", dates=(dt.date(2027, 1, 16),)),
        Expected("C", "reminder", "R4.1", role="monitoring_body", deadline_kind="start_assessment",
                 dates=(dt.date(2027, 3, 20),)),
        Expected("C", "overdue", "R4.1", role="monitoring_body", deadline_kind="start_assessment",
                 dates=(dt.date(2027, 3, 20),)),
        Expected("C", "overdue", "R4.1", deadline_kind="start_assessment", dates=(dt.date(2027, 3, 20),)),
        # R5.4 and D5: probation is due six months after the day of inactivity.
        Expected("C", "inactive", "R5.4", dates=(dt.date(2027, 10, 1), dt.date(2028, 4, 1))),
        Expected("C", "inactive", "R5.4", role="support_unit", dates=(dt.date(2027, 10, 1),)),
        Expected("C", "probation", "R6.1"),  # dated by the engine's transition, read back below
        Expected("C", "revoked", "R6.5"),
        Expected("D", "voluntary_inactivity_approved", "R5.5", dates=(dt.date(2027, 2, 1),)),
        Expected("E", "probation", "R6.2", dates=(dt.date(2027, 2, 10),)),
        Expected("E", "reinstated", "R6.4", dates=(dt.date(2027, 3, 1),)),
    ]


def find(world, member_id: int, want: Expected) -> OutboxEvent:
    found = [e for e in world.letters(member_id, want.kind)
             if e.rule_id == want.rule and e.recipient_role == want.role
             and (want.deadline_kind is None or e.payload.get("deadline_kind") == want.deadline_kind)]
    assert len(found) == 1, f"{want}: expected exactly one outbox event, found {found}"
    return found[0]


def event_dates(world, event: OutboxEvent) -> list[dt.date]:
    """The dates the event itself fixes: its transition's local day, or its deadline's due date."""
    with world.factory() as s:
        if event.transition_id is not None:
            record = s.get(TransitionRecord, event.transition_id)
            return [local_date(record.business_time, TZ)]
        return [s.get(Deadline, event.deadline_id).due_on]


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_r7_1_r7_2_every_status_and_deadline_letter_arrives_over_smtp_in_the_members_language_with_its_name_rule_and_dates(
        world, smtp_server, language):
    members = walk(world, language)
    wanted = expected_letters()
    events = [find(world, members[w.member], w) for w in wanted]
    for event in events:  # only these: the walk caused more (findings of the late ticks), which other tests cover
        assert world.deliver(event.id) == "sent", world.letter(event.id).last_error

    archive = {r.message_id: r for r in smtp_server.archive.all()}
    assert len(archive) == len(events)
    for want, event in zip(wanted, events):
        stored = world.letter(event.id)
        got = archive[stored.message_id]
        what = f"{language} {want.kind} {want.rule} to {want.role} of member {want.member}"
        text, html, subject = got.text(), got.html(), got.subject
        place = f"{PLACES[language]} {want.member}"
        assert place in subject and place in text and place in html, what
        assert want.rule in text and want.rule in subject, what
        assert got.message["X-OGP-Rule"] == want.rule and got.message["X-OGP-Letter"] == want.kind, what
        assert got.message["Content-Language"] == language == stored.language, what
        assert GREETINGS[language] in text, what
        for day in (*want.dates, *event_dates(world, event)):
            assert long_date(day, language) in text, f"{what}: {long_date(day, language)} missing from\n{text}"
        assert got.pdf().startswith(b"%PDF") and got.pdf() == stored.pdf, what
        expected_to = {"support_unit": [SUPPORT_UNIT], "monitoring_body": [MONITORING_BODY]}.get(
            want.role, [f"poc@{want.member.lower()}.example"] + (["ana.ruiz@city.example"] if want.member == "C"
                                                                  else []))
        assert list(got.rcpt_to) == expected_to == stored.recipients, what

    # R7.2: the dates are the reader's own way of writing them.
    inactive = archive[world.letter(events[5].id).message_id].text()
    assert {"en": "October 1, 2027", "fr": "1 octobre 2027", "es": "1 de octubre de 2027"}[language] in inactive
    assert {"en": "April 1, 2028", "fr": "1 avril 2028", "es": "1 de abril de 2028"}[language] in inactive
    # The engine fired R6.1 and R6.5 as system transitions at the breach of their clocks.
    with world.factory() as s:
        fired = {r.rule_id: (r.actor, local_date(r.business_time, TZ)) for r in s.query(TransitionRecord).where(
            TransitionRecord.subject_id == members["C"], TransitionRecord.subject_type == "member",
            TransitionRecord.rule_id.in_(["R6.1", "R6.5"]))}
    assert fired == {"R6.1": ("system", dt.date(2028, 4, 2)), "R6.5": ("system", dt.date(2028, 8, 3))}


def test_r7_2_a_jurisdiction_in_a_language_without_templates_gets_its_letters_in_english(world, smtp_server):
    m = world.accepted("hafen", name="Hafenstadt", language="de")
    letter = world.letters(m, "accepted")[0]
    assert world.deliver(letter.id) == "sent"
    stored = world.letter(letter.id)
    (got,) = smtp_server.archive.all()
    assert stored.language == "en" == got.message["Content-Language"]
    assert GREETINGS["en"] in got.text() and "Hafenstadt" in got.text()


def test_r7_1_letters_are_dated_at_their_event_however_late_they_are_sent(world, smtp_server):
    world.at("2027-01-15T10:00:00Z")
    m = world.accepted("late", name="Lateville")
    letter = world.letters(m, "accepted")[0]
    world.at("2027-06-30T09:00:00Z")  # the worker was down for months
    assert world.deliver(letter.id) == "sent"
    (got,) = smtp_server.archive.all()
    assert got.message["Date"].datetime == pendulum.datetime(2027, 1, 15, 10, tz="UTC")
    assert long_date(dt.date(2027, 1, 15), "en") in got.text()
    assert world.letter(letter.id).sent_at == pendulum.datetime(2027, 6, 30, 9, tz="UTC")
