"""Voluntary inactivity on the pages (R5.5): the Support Unit sees whether the stakeholders were consulted, and
declines a request with its reason, confirm-then-POST, in every language."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lifecycle import commands as c, handlers
from pagekit import assert_accessible, csrf_from

LANGS = ("en", "fr", "es")
WHY = "The start assessment is due next month; ask again once it is filed."


def ask(world, code: str, *, consulted: bool) -> int:
    return world.run(handlers.request_voluntary_inactivity, c.RequestVoluntaryInactivity(
        member_id=world.members[code], reason="Municipal restructuring", stakeholders_consulted=consulted,
        actor=world.people["poc-a"]))


def test_r5_5_the_dashboard_shows_whether_each_request_was_consulted_and_offers_approve_and_decline(login, world):
    consulted, unconsulted = ask(world, "riverton", consulted=True), ask(world, "lyon", consulted=False)
    board = login("su").get("/dashboard").text
    assert re.search(rf'id="consulted-request-{consulted}">yes<', board)
    assert re.search(rf'id="consulted-request-{unconsulted}">no<', board)
    for rid in (consulted, unconsulted):
        assert f'href="/dashboard/inactivity-requests/{rid}/approve"' in board
        assert f'href="/dashboard/inactivity-requests/{rid}/decline"' in board


@pytest.mark.parametrize("lang", LANGS)
def test_r5_5_the_decline_confirmation_page_shows_the_request_and_asks_for_a_reason(login, world, lang):
    rid = ask(world, "riverton", consulted=False)
    page = login("su").get(f"/dashboard/inactivity-requests/{rid}/decline?lang={lang}")
    assert page.status_code == 200
    assert_accessible(page.text, lang)
    assert "Municipal restructuring" in page.text and 'id="request-consulted"' in page.text
    assert re.search(r'<textarea id="reason" name="reason" rows="4" required>', page.text)
    assert f'action="/dashboard/inactivity-requests/{rid}/decline"' in page.text and "R5.5" in page.text


def test_r5_5_support_unit_declines_request_with_reason_and_letter_from_the_dashboard(login, world):
    from lifecycle.models import InactivityRequest, OutboxEvent

    rid = ask(world, "riverton", consulted=False)
    su = login("su")
    page = su.get(f"/dashboard/inactivity-requests/{rid}/decline").text
    before = world.snapshot()
    blank = su.post(f"/dashboard/inactivity-requests/{rid}/decline",
                    data={"reason": " ", "csrf_token": csrf_from(page)})
    assert blank.status_code == 400 and "R5.5" in blank.text
    assert world.snapshot() == before, "a refusal changes nothing"
    no_token = su.post(f"/dashboard/inactivity-requests/{rid}/decline", data={"reason": WHY})
    assert no_token.status_code == 403 and world.snapshot() == before

    done = su.post(f"/dashboard/inactivity-requests/{rid}/decline", data={"reason": WHY, "csrf_token": csrf_from(page)},
                   follow_redirects=False)
    member = world.members["riverton"]
    assert done.status_code == 303 and done.headers["location"] == f"/dashboard/members/{member}?notice=done"
    assert world.state("riverton") == "implementing"
    with world.session() as s:
        assert s.get(InactivityRequest, rid).status == "declined"
        kinds = {(e.kind, e.recipient_role) for e in s.scalars(select(OutboxEvent).where(
            OutboxEvent.member_id == member, OutboxEvent.kind == "voluntary_inactivity_declined"))}
    assert kinds == {("voluntary_inactivity_declined", "poc"), ("voluntary_inactivity_declined", "support_unit")}
    shown = su.get(done.headers["location"]).text
    assert "declined" in shown and WHY in shown
    assert f"/dashboard/inactivity-requests/{rid}/decline" not in shown, "a decided request offers no decision"


def test_r5_5_d11_a_member_in_orientation_may_ask_from_its_poc_page(login, world):
    now = world.clock.now()
    world.at("2027-03-01")  # during the call
    m = world.applicant("quito", country="Ecuador", tz="America/Guayaquil", language="es")
    world.run(handlers.accept_application, c.AcceptApplication(member_id=m, actor="support-unit"))
    world.clock.set(now)
    world.person("poc-q", "poc", "quito")
    poc = login("poc-q")
    assert f'href="/poc/members/{m}/inactivity"' in poc.get(f"/poc/members/{m}").text
    form = poc.get(f"/poc/members/{m}/inactivity").text
    sent = poc.post(f"/poc/members/{m}/inactivity", data={"reason": "Orientation postponed by the elections",
                                                         "stakeholders_consulted": "yes", "csrf_token": csrf_from(form)},
                    follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"].endswith("notice=inactivity_requested")
