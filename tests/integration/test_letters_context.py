"""A letter's context comes from the outbox row, the member, its jurisdiction and the transition (R7.1, R7.2)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from config.settings import Settings
from lifecycle import commands as c, handlers
from lifecycle.models import Deadline, OutboxEvent
from workers.letters.render import build_context, render, render_event

SU = "support-unit"
SUPPORT_UNIT = "su@ogplocal.example"


def settings(tmp_path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, support_unit_email=SUPPORT_UNIT)


def inactive_for_r5_4(world, *, language: str = "fr", code: str = "lyon") -> int:
    """A member walked to implementing, then made inactive by the Support Unit under R5.4 (an override, D14).

    The transition is at 22:30 UTC on 30 August, already 31 August in Paris: the letter
    must use the local date (D2), and six months from 31 August is 29 February (D1).
    """
    m = world.implementing(code, language=language, country="France", tz="Europe/Paris")
    world.at("2027-08-30T22:30:00")
    world.run(handlers.apply_status, c.ApplyStatus(member_id=m, trigger="become_inactive", rule="R5.4", actor=SU,
                                                   reason="no tracker update in 2027-Q2 and 2027-Q3", override=True))
    return m


def outbox(world, member_id: int, kind: str) -> list[OutboxEvent]:
    with world.session() as s:
        return list(s.scalars(select(OutboxEvent).where(OutboxEvent.member_id == member_id, OutboxEvent.kind == kind)
                              .order_by(OutboxEvent.id)))


def test_r7_2_an_r5_4_inactivity_letter_is_french_with_the_local_date_and_the_probation_date(world, tmp_path):
    m = inactive_for_r5_4(world)
    events = outbox(world, m, "inactive")
    assert [e.recipient_role for e in events] == ["poc", "support_unit"]

    with world.session() as s:
        event = s.get(OutboxEvent, events[0].id)
        ctx = build_context(s, event, settings=settings(tmp_path))
        letter = render_event(s, event, settings=settings(tmp_path))
        probation_clock = s.scalar(select(Deadline.due_on).where(Deadline.member_id == m,
                                                                 Deadline.kind == "probation_clock"))

    assert ctx.language == "fr" and letter.language == "fr"
    assert ctx.kind == "inactive" and ctx.rule_id == "R5.4" and ctx.recipient_role == "poc"
    assert ctx.member_name == "Lyon" and ctx.country == "France"
    assert ctx.event_date == dt.date(2027, 8, 31)  # local to Paris, not the UTC date
    assert ctx.dates == {"effective_on": dt.date(2027, 8, 31), "resume_by": dt.date(2028, 2, 29)}
    assert probation_clock == ctx.dates["resume_by"]  # the same date the engine will act on (R6.1, D5)
    assert ctx.reason == "no tracker update in 2027-Q2 and 2027-Q3"
    assert ctx.support_unit_email == SUPPORT_UNIT and ctx.reference == f"OGP-L-{event.id}"

    assert "R5.4" in letter.subject and "31 août 2027" in letter.subject
    for text in (letter.text, letter.html):
        assert "R5.4" in text and "R6.1" in text
        assert "31 août 2027" in text and "29 février 2028" in text
        assert "Madame, Monsieur," in text
    assert letter.pdf.startswith(b"%PDF")
    assert letter == render(ctx)  # render_event is render(build_context(...))


def test_r7_2_the_support_unit_copy_says_it_is_a_copy(world, tmp_path):
    m = inactive_for_r5_4(world)
    copy = outbox(world, m, "inactive")[1]

    with world.session() as s:
        letter = render_event(s, s.get(OutboxEvent, copy.id), settings=settings(tmp_path))

    assert "copie de la lettre adressée à Lyon" in letter.text


def test_r7_2_a_jurisdiction_whose_language_has_no_templates_gets_english(world, tmp_path):
    m = inactive_for_r5_4(world, language="de", code="bonn")
    event = outbox(world, m, "inactive")[0]

    with world.session() as s:
        letter = render_event(s, s.get(OutboxEvent, event.id), settings=settings(tmp_path))

    assert letter.language == "en"
    assert "August 31, 2027" in letter.text and "February 29, 2028" in letter.text


def test_r7_2_the_acceptance_letter_gives_the_first_plan_deadline_of_the_call(world, tmp_path):
    m = world.in_orientation("quito", language="es", country="Ecuador", tz="America/Guayaquil")
    event = outbox(world, m, "accepted")[0]

    with world.session() as s:
        ctx = build_context(s, s.get(OutboxEvent, event.id), settings=settings(tmp_path))

    assert ctx.rule_id == "R2.1" and ctx.language == "es"
    assert ctx.dates["first_plan_due"] == dt.date(2027, 9, 30)
    assert "30 de septiembre de 2027" in render(ctx).text
