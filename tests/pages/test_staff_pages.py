"""Pages of the Support Unit, points of contact and monitoring bodies: access (§0), CSRF, and every action."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from pagekit import assert_accessible, csrf_from

LANGS = ("en", "fr", "es")


def _form_post(client, page_path: str, action: str, data: dict, **kw):
    page = client.get(page_path)
    assert page.status_code == 200, page.text[:500]
    return client.post(action, data={**data, "csrf_token": csrf_from(page.text)}, follow_redirects=False, **kw)


# ---------------------------------------------------------------- who may open what (RULEBOOK §0)


@pytest.mark.parametrize("path", ["/dashboard", "/dashboard/members/1", "/dashboard/members/3/accept", "/poc",
                                  "/poc/members/1", "/poc/members/1/tracker", "/monitoring",
                                  "/monitoring/members/1/start"])
def test_the_public_is_sent_to_the_login_page_and_back(client, path):
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


def test_after_login_the_reader_lands_on_the_page_they_asked_for(client, world):
    from pagekit import log_in

    response = log_in(client, world.people["su"], next_path="/dashboard")
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    assert "Support Unit dashboard" in client.get("/dashboard").text


def test_a_wrong_password_shows_the_login_page_with_a_message(client, world):
    from pagekit import log_in

    response = log_in(client, world.people["su"], password="wrong")
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert 'id="login-error"' in page.text


def test_a_poc_of_a_cannot_see_or_act_on_the_pages_of_b(login, world):
    poc_a = login("poc-a")
    lyon = world.members["lyon"]
    for path in (f"/poc/members/{lyon}", f"/poc/members/{lyon}/tracker", f"/poc/members/{lyon}/meeting",
                 f"/poc/members/{lyon}/inactivity"):
        page = poc_a.get(path)
        assert page.status_code == 403, path
        assert f"Only the point of contact of member {lyon}" in page.text
    token = csrf_from(poc_a.get("/poc").text)
    before = world.snapshot()
    refused = poc_a.post(f"/poc/members/{lyon}/inactivity", data={"reason": "x", "stakeholders_consulted": "yes",
                                                                 "csrf_token": token})
    assert refused.status_code == 403
    assert world.snapshot() == before


def test_a_poc_lists_only_its_own_member(login, world):
    page = login("poc-a").get("/poc").text
    assert f'href="/poc/members/{world.members["riverton"]}"' in page
    assert f'href="/poc/members/{world.members["lyon"]}"' not in page


def test_only_the_support_unit_opens_the_dashboard(login):
    assert login("poc-a").get("/dashboard").status_code == 403
    assert login("mb-a").get("/dashboard/members/1").status_code == 403


def test_a_monitoring_body_files_only_for_the_member_it_monitors(login, world):
    mb = login("mb-a")
    assert mb.get(f"/monitoring/members/{world.members['riverton']}/start").status_code == 200
    assert mb.get(f"/monitoring/members/{world.members['lyon']}/start").status_code == 403
    assert mb.get(f"/poc/members/{world.members['riverton']}").status_code == 403


@pytest.mark.parametrize("lang", LANGS)
def test_every_staff_page_renders_in_every_language(login, world, lang):
    rid, bogota = world.members["riverton"], world.members["bogota"]
    pages = {
        "su": ["/dashboard", f"/dashboard/members/{rid}", f"/dashboard/members/{bogota}/accept",
               f"/dashboard/members/{bogota}/reject", f"/dashboard/members/{world.members['lyon']}/extend",
               f"/dashboard/members/{rid}/open-concern"],
        "poc-a": ["/poc", f"/poc/members/{rid}", f"/poc/members/{rid}/tracker", f"/poc/members/{rid}/meeting",
                  f"/poc/members/{rid}/inactivity"],
        "mb-a": ["/monitoring", f"/monitoring/members/{rid}", f"/monitoring/members/{rid}/start",
                 f"/monitoring/members/{rid}/end-of-commitment", f"/monitoring/members/{rid}/final-report"],
    }
    for who, paths in pages.items():
        c = login(who)
        for path in paths:
            page = c.get(path, params={"lang": lang})
            assert page.status_code == 200, (who, path, page.text[:300])
            assert_accessible(page.text, lang)


# ---------------------------------------------------------------- the Support Unit's actions


def test_dashboard_shows_deadlines_letters_states_applicants(login, world):
    html = login("su").get("/dashboard").text
    for heading in ("Members by status", "Overdue deadlines", "Due in the next 30 days", "Applications to decide",
                    "Letters pending and failed", "Comments waiting for moderation"):
        assert heading in html
    # The start assessment (due 2027-03-10) is overdue on 2027-04-05 (R4.1).
    overdue = html.split("Overdue deadlines")[1].split("Due in the next 30 days")[0]
    assert "start assessment" in overdue and "R4.1" in overdue
    assert f'/dashboard/members/{world.members["bogota"]}/accept' in html


def test_r2_1_accepting_an_application_takes_a_confirmation_then_changes_the_status(login, world):
    su = login("su")
    bogota = world.members["bogota"]
    confirm = su.get(f"/dashboard/members/{bogota}/accept")
    assert "starts orientation" in confirm.text and "R2.1" in confirm.text
    assert world.state("bogota") == "applicant"  # the GET changed nothing
    done = su.post(f"/dashboard/members/{bogota}/accept", follow_redirects=False,
                   data={"reason": "Strong letter", "checklist": ["value proposition"],
                         "csrf_token": csrf_from(confirm.text)})
    assert done.status_code == 303 and done.headers["location"] == f"/dashboard/members/{bogota}?notice=done"
    assert world.state("bogota") == "orientation"


def test_r2_2_a_rejection_without_reason_is_refused_with_its_rule_and_nothing_changes(login, world):
    su = login("su")
    bogota = world.members["bogota"]
    before = world.snapshot()
    refused = _form_post(su, f"/dashboard/members/{bogota}/reject", f"/dashboard/members/{bogota}/reject",
                         {"reason": " "})
    assert refused.status_code == 400
    assert "R2.2" in refused.text and "A rejection gives its reason." in refused.text
    assert "Nothing was changed." in refused.text
    assert world.snapshot() == before


def test_r2_1_accepting_twice_is_refused_on_the_page(login, world):
    su = login("su")
    rid = world.members["riverton"]
    refused = _form_post(su, f"/dashboard/members/{rid}/accept", f"/dashboard/members/{rid}/accept", {})
    assert refused.status_code == 409 and 'id="refusal"' in refused.text


def test_an_action_without_the_csrf_token_is_refused_and_changes_nothing(login, world):
    su = login("su")
    bogota = world.members["bogota"]
    su.get("/dashboard")
    before = world.snapshot()
    for token in (None, "forged"):
        data = {"reason": "ok"} | ({"csrf_token": token} if token else {})
        refused = su.post(f"/dashboard/members/{bogota}/accept", data=data)
        assert refused.status_code == 403
    assert world.snapshot() == before


def test_r5_1_the_support_unit_extends_a_first_plan_deadline(login, world):
    from lifecycle.models import Deadline

    su = login("su")
    lyon = world.members["lyon"]
    confirm = su.get(f"/dashboard/members/{lyon}/extend")
    assert "30 Sept 2027" in confirm.text or "September 30, 2027" in confirm.text
    bad = su.post(f"/dashboard/members/{lyon}/extend", data={"new_due": "soon", "reason": "x",
                                                            "csrf_token": csrf_from(confirm.text)})
    assert bad.status_code == 400 and "new_due" in bad.text
    done = su.post(f"/dashboard/members/{lyon}/extend", follow_redirects=False,
                   data={"new_due": "2027-12-31", "reason": "Elections", "csrf_token": csrf_from(confirm.text)})
    assert done.status_code == 303
    with world.session() as s:
        due = s.scalar(select(Deadline.due_on).where(Deadline.member_id == lyon, Deadline.kind == "first_plan"))
    assert due.isoformat() == "2027-12-31"


def test_r6_6_the_support_unit_opens_and_closes_a_concern_case(login, world):
    from lifecycle.models import ConcernCase

    su = login("su")
    rid = world.members["riverton"]
    opened = _form_post(su, f"/dashboard/members/{rid}/open-concern", f"/dashboard/members/{rid}/open-concern",
                        {"reported_by": "Civic Watch", "summary": "Journalists detained after a council debate."})
    assert opened.status_code == 303
    board = su.get("/dashboard").text
    assert "Journalists detained" in board
    case_id = re.search(r"/dashboard/concerns/(\d+)/close", board).group(1)
    missing = _form_post(su, f"/dashboard/concerns/{case_id}/close", f"/dashboard/concerns/{case_id}/close",
                         {"outcome": ""})
    assert missing.status_code == 400 and "R6.6" in missing.text
    closed = _form_post(su, f"/dashboard/concerns/{case_id}/close", f"/dashboard/concerns/{case_id}/close",
                        {"outcome": "Released; the council adopted a protection protocol."})
    assert closed.status_code == 303
    with world.session() as s:
        case = s.get(ConcernCase, int(case_id))
        assert case.status == "closed" and case.closed_by == world.people["su"]


def test_r7_3_a_failed_letter_is_sent_again_from_the_dashboard(login, world):
    from sqlalchemy import update

    from lifecycle.models import OutboxEvent

    with world.session() as s:
        letter_id = s.scalar(select(OutboxEvent.id).order_by(OutboxEvent.id).limit(1))
        s.execute(update(OutboxEvent).where(OutboxEvent.id == letter_id)
                  .values(status="failed", last_error="550 mailbox unavailable", attempts=3))
        s.commit()
    su = login("su")
    board = su.get("/dashboard").text
    assert "550 mailbox unavailable" in board and f"/dashboard/letters/{letter_id}/retry" in board
    done = su.post(f"/dashboard/letters/{letter_id}/retry", data={"csrf_token": csrf_from(board)},
                   follow_redirects=False)
    assert done.status_code == 303
    with world.session() as s:
        assert s.get(OutboxEvent, letter_id).status == "sent"
    # A sent letter is never sent twice (R7.3): the refusal is shown on the dashboard.
    again = su.post(f"/dashboard/letters/{letter_id}/retry", data={"csrf_token": csrf_from(board)})
    assert again.status_code == 409 and "R7.3" in again.text


# ---------------------------------------------------------------- the point of contact's forms


def test_r4_4_a_poc_files_a_tracker_update_with_evidence_and_the_public_sees_it(login, client, world):
    poc = login("poc-a")
    rid = world.members["riverton"]
    ms = world.milestones("riverton")
    form = poc.get(f"/poc/members/{rid}/tracker").text
    done = poc.post(f"/poc/members/{rid}/tracker", follow_redirects=False, data={
        "csrf_token": csrf_from(form), "narrative": "Second review held with 40 residents.",
        f"status-{ms[2]}": "in_progress", f"status-{ms[1]}": "incomplete",
        f"delay-{ms[1]}": "Procurement was appealed.", "evidence": "https://city.example/minutes-q2.pdf",
        "evidence_kind": "forum minutes or decisions"})
    assert done.status_code == 303
    public = client.get(f"/members/{rid}").text
    assert "Second review held with 40 residents." in public
    assert "Procurement was appealed." in public
    assert 'href="https://city.example/minutes-q2.pdf"' in public


def test_r8_1_a_stuck_milestone_needs_its_reason_and_nothing_is_filed(login, world):
    poc = login("poc-a")
    rid = world.members["riverton"]
    ms = world.milestones("riverton")
    before = world.snapshot()
    refused = _form_post(poc, f"/poc/members/{rid}/tracker", f"/poc/members/{rid}/tracker",
                         {"narrative": "Blocked.", f"status-{ms[0]}": "stuck"})
    assert refused.status_code == 400 and "R8.1" in refused.text and "Blocked." in refused.text
    assert world.snapshot() == before


def test_r8_3_an_evidence_link_that_is_not_a_web_link_is_refused_before_filing(login, world):
    poc = login("poc-a")
    rid = world.members["riverton"]
    before = world.snapshot()
    refused = _form_post(poc, f"/poc/members/{rid}/tracker", f"/poc/members/{rid}/tracker",
                         {"narrative": "Fine.", "evidence": "file:///etc/passwd"})
    assert refused.status_code == 400 and "R8.3" in refused.text
    assert world.snapshot() == before


def test_r3_11_a_poc_records_a_meeting(login, world):
    poc = login("poc-a")
    rid = world.members["riverton"]
    done = _form_post(poc, f"/poc/members/{rid}/meeting", f"/poc/members/{rid}/meeting", {
        "phase": "implementation", "held_on": "2027-04-01", "government_participants": "3",
        "non_governmental_participants": "5", "description": "Quarterly forum"})
    assert done.status_code == 303
    assert "Quarterly forum" in poc.get(f"/poc/members/{rid}").text
    future = _form_post(poc, f"/poc/members/{rid}/meeting", f"/poc/members/{rid}/meeting", {
        "phase": "implementation", "held_on": "2030-01-01", "government_participants": "3",
        "non_governmental_participants": "5"})
    assert future.status_code == 400 and "R3.11" in future.text


def test_r5_5_the_inactivity_form_reminds_to_consult_and_a_request_without_it_is_sent_with_the_reminder(login, world):
    poc = login("poc-a")
    rid = world.members["riverton"]
    form = poc.get(f"/poc/members/{rid}/inactivity").text
    assert 'id="consult-reminder"' in form and "non-governmental stakeholders" in form
    sent = poc.post(f"/poc/members/{rid}/inactivity", data={"reason": "Restructuring",
                                                           "csrf_token": csrf_from(form)}, follow_redirects=False)
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/poc/members/{rid}?notice=inactivity_requested_unconsulted"
    page = poc.get(sent.headers["location"]).text
    assert "Remember to consult your non-governmental stakeholders" in page and "(R5.5)" in page
    assert "stakeholders and the OGP Local team not consulted" in page


def test_r5_5_request_then_support_unit_approval_changes_the_public_status(login, client, world):
    poc, su = login("poc-a"), login("su")
    rid = world.members["riverton"]
    asked = _form_post(poc, f"/poc/members/{rid}/inactivity", f"/poc/members/{rid}/inactivity",
                       {"reason": "Municipal restructuring", "stakeholders_consulted": "yes"})
    assert asked.status_code == 303
    board = su.get("/dashboard").text
    request_id = re.search(r"/dashboard/inactivity-requests/(\d+)/approve", board).group(1)
    approved = _form_post(su, f"/dashboard/inactivity-requests/{request_id}/approve",
                          f"/dashboard/inactivity-requests/{request_id}/approve", {"reason": "Agreed"})
    assert approved.status_code == 303
    public = client.get(f"/members/{rid}").text
    assert 'class="state state-inactive"' in public and "voluntary inactivity" in public
    assert ">R5.5</abbr>" in public


# ---------------------------------------------------------------- the monitoring body's forms (§4)


def test_r4_1_the_monitoring_body_files_the_start_assessment_on_the_rulebook_scales(login, world):
    from lifecycle.models import Assessment, Member

    mb = login("mb-a")
    rid = world.members["riverton"]
    with world.session() as s:
        commitments = [c.id for c in s.get(Member, rid).current_plan.commitments]
    form = mb.get(f"/monitoring/members/{rid}/start").text
    for level in ("transformative", "empower", "multistakeholder space"):
        assert level in form
    data = {"csrf_token": csrf_from(form), "public_influence": "involve"}
    for cid in commitments:
        data |= {f"relevant-{cid}": "yes", f"verifiable-{cid}": "no", f"impact-{cid}": "moderate"}
    incomplete = {k: v for k, v in data.items() if k != f"impact-{commitments[0]}"}
    before = world.snapshot()
    refused = mb.post(f"/monitoring/members/{rid}/start", data=incomplete)
    assert refused.status_code == 400 and "R4.1" in refused.text
    assert world.snapshot() == before
    done = mb.post(f"/monitoring/members/{rid}/start", data=data, follow_redirects=False)
    assert done.status_code == 303
    with world.session() as s:
        a = s.scalar(select(Assessment).where(Assessment.kind == "start"))
        assert a.ratings["public_influence"] == "involve"
        assert a.ratings["commitments"][str(commitments[0])] == {"potential_impact": "moderate", "relevant": True,
                                                                 "verifiable": False}


def test_r4_2_and_r4_3_end_of_commitment_and_final_report_forms(login, world):
    mb = login("mb-a")
    rid = world.members["riverton"]
    refused = _form_post(mb, f"/monitoring/members/{rid}/end-of-commitment",
                         f"/monitoring/members/{rid}/end-of-commitment",
                         {"commitment_id": "", "completion": "complete", "early_results": "x"})
    assert refused.status_code == 400 and "R4.2" in refused.text
    bad_scale = _form_post(mb, f"/monitoring/members/{rid}/final-report", f"/monitoring/members/{rid}/final-report",
                           {"summary": ""})
    assert bad_scale.status_code == 400 and "R4.3" in bad_scale.text
    done = _form_post(mb, f"/monitoring/members/{rid}/final-report", f"/monitoring/members/{rid}/final-report",
                      {"summary": "Co-creation improved; two commitments delivered early results."})
    assert done.status_code == 303
    assert "Final learning report" in mb.get(f"/monitoring/members/{rid}").text


def test_the_dashboard_opens_a_member_by_number(login, world):
    su = login("su")
    found = su.get("/dashboard/members", params={"id": str(world.members["lyon"])}, follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"] == f"/dashboard/members/{world.members['lyon']}"
    assert su.get("/dashboard/members", params={"id": "abc"}).status_code == 400
    assert su.get("/dashboard/members/999").status_code == 404
    assert su.get("/dashboard/members/1/teleport").status_code == 404


def test_poc_and_monitoring_homes_are_for_those_roles(login):
    mb, poc = login("mb-a"), login("poc-a")
    assert mb.get("/poc").status_code == 403 and "Only a point of contact" in mb.get("/poc").text
    assert poc.get("/monitoring").status_code == 403
    assert mb.get("/monitoring").status_code == 200 and poc.get("/poc").status_code == 200
    su = login("su")
    assert su.get("/poc").status_code == 200 and su.get("/monitoring").status_code == 200
