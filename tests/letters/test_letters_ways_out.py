"""The notice of a commitment change (R3.10) and the letter of a declined request for voluntary inactivity (R5.5)
arrive over SMTP, once, in the member's language, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from babel.dates import format_date
from sqlalchemy import select

from letterworld import SU, SUPPORT_UNIT
from lifecycle import commands as c, handlers
from lifecycle.models import Commitment

PLACES = {"en": "Riverton", "fr": "Rivière-sur-Mer", "es": "Villanueva de la Cañada"}
DECISION = "Forum vote of 20 February 2027; minutes published."
WHY = "The start assessment is due next month; ask again once it is filed."


def long_date(day: dt.date, language: str) -> str:
    return format_date(day, format="long", locale=language)


def first_commitment(world, member_id: int) -> int:
    with world.factory() as s:
        return s.scalars(select(Commitment.id).where(Commitment.member_id == member_id).order_by(Commitment.id)).first()


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_r3_10_the_support_unit_gets_one_notice_of_a_modification_over_smtp_in_the_members_language(
        world, smtp_server, language):
    world.at("2027-01-20T09:00:00Z")
    m = world.implementing("c", name=PLACES[language], language=language)
    cid = first_commitment(world, m)
    world.at("2027-03-01T09:00:00Z")
    world.run(handlers.modify_commitment, c.ModifyCommitment(
        commitment_id=cid, actor="poc@c.example", decision_process=DECISION, approved_by=("Civic Data Association",),
        end=dt.date(2029, 3, 31)))

    (notice,) = world.letters(m, "modification_notice")
    assert world.deliver(notice.id) == "sent", world.letter(notice.id).last_error
    assert world.deliver(notice.id) != "sent", "a second delivery sends nothing (R7.3)"

    (got,) = smtp_server.archive.all()
    assert list(got.rcpt_to) == [SUPPORT_UNIT]
    assert got.message["X-OGP-Letter"] == "modification_notice" and got.message["X-OGP-Rule"] == "R3.10"
    assert got.message["Content-Language"] == language
    text = got.text()
    assert PLACES[language] in got.subject and "R3.10" in got.subject
    for fragment in (PLACES[language], "Open contracting register 1", "Civic Data Association", DECISION, "R3.10",
                     long_date(dt.date(2029, 6, 30), language), long_date(dt.date(2029, 3, 31), language)):
        assert fragment in text, f"{fragment!r} missing from\n{text}"
    assert got.pdf().startswith(b"%PDF")


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_r5_5_a_declined_request_is_a_letter_to_the_poc_copied_to_the_support_unit_citing_r5_5_and_the_reason(
        world, smtp_server, language):
    world.at("2027-01-20T09:00:00Z")
    m = world.implementing("d", name=PLACES[language], language=language)
    world.at("2027-02-01T09:00:00Z")
    rid = world.run(handlers.request_voluntary_inactivity, c.RequestVoluntaryInactivity(
        member_id=m, reason="Municipal elections.", actor="poc@d.example"))
    world.at("2027-02-03T09:00:00Z")
    world.run(handlers.decline_voluntary_inactivity, c.DeclineVoluntaryInactivity(request_id=rid, actor=SU,
                                                                                  reason=WHY))

    events = world.letters(m, "voluntary_inactivity_declined")
    assert [e.recipient_role for e in events] == ["poc", "support_unit"]
    for event in events:
        assert world.deliver(event.id) == "sent", world.letter(event.id).last_error

    by_recipient = {tuple(r.rcpt_to): r for r in smtp_server.archive.all()}
    assert set(by_recipient) == {("poc@d.example", "ana.ruiz@city.example"), (SUPPORT_UNIT,)}
    for got in by_recipient.values():
        text = got.text()
        assert got.message["X-OGP-Rule"] == "R5.5" and got.message["Content-Language"] == language
        assert PLACES[language] in got.subject and "R5.5" in got.subject
        for fragment in (WHY, "Municipal elections.", long_date(dt.date(2027, 2, 1), language),
                         long_date(dt.date(2027, 2, 3), language)):
            assert fragment in text, f"{fragment!r} missing from\n{text}"
