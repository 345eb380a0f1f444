"""The JSON API: every use case over HTTP through the same handlers as the command line, on both databases."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import select

from lifecycle import samples
from lifecycle.models import Evidence, Finding, OutboxEvent

PROBLEM = "application/problem+json"


def test_support_unit_registers_jurisdictions_calls_and_people(web):
    su = web.person("su", "support_unit")
    r = web.client.post("/api/jurisdictions", headers=su.auth, json={
        "code": "lakeside", "name": "Lakeside", "country": "Chile", "time_zone": "America/Santiago",
        "term_end": "2030-12-31", "language": "es"})
    assert r.status_code == 201 and r.json()["id"] > 0
    r = web.client.post("/api/calls", headers=su.auth, json={
        "name": "Call 2028", "opens_on": "2028-01-01", "closes_on": "2028-03-31", "first_plan_due": "2028-09-30"})
    assert r.status_code == 201
    r = web.client.post("/api/people", headers=su.auth, json={
        "name": "Rosa", "email": "rosa@lakeside.example", "role": "auditor"})
    assert r.status_code == 201


def test_r1_1_an_application_outside_an_open_call_is_a_problem_naming_the_rule(web):
    su = web.person("su", "support_unit")
    web.jurisdiction("riverton")
    web.clock.set(web.clock.now().add(months=6))
    r = web.client.post("/api/members", headers=su.auth, json={
        "jurisdiction": "riverton", "call": "Call 2027", "letter_of_support": samples.letter_of_support()})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["rule"] == "R1.1" and body["status"] == 422 and body["instance"] == "/api/members"


def test_a_member_walks_from_application_to_its_first_plan_over_http(web):
    su = web.person("su", "support_unit")
    web.jurisdiction("riverton")
    r = web.client.post("/api/members", headers=su.auth, json={
        "jurisdiction": "riverton", "call": "Call 2027", "letter_of_support": samples.letter_of_support()})
    assert r.status_code == 201
    member = r.json()["id"]
    poc = web.person("poc", "poc", member)
    r = web.client.post(f"/api/members/{member}/accept", headers=su.auth, json={"reason": "strong letter",
                                                                               "checklist": {"ambition": True}})
    assert r.status_code == 200 and r.json()["state"] == "orientation"
    # R2.3: co-creation starts once orientation is completed.
    r = web.client.post(f"/api/members/{member}/co-creation", headers=poc.auth)
    assert r.status_code == 422 and r.json()["rule"] == "R2.3" and r.json()["field"] == "orientation_completed_at"
    assert web.client.post(f"/api/members/{member}/orientation", headers=su.auth).json()["orientation_completed"]
    assert web.client.post(f"/api/members/{member}/co-creation", headers=poc.auth).json()["state"] == "co_creation"
    r = web.client.post(f"/api/members/{member}/meetings", headers=poc.auth, json={
        "phase": "co_creation", "held_on": web.today().isoformat(), "government_participants": 3,
        "non_governmental_participants": 5, "evidence": ["https://city.example/minutes/1"]})
    assert r.status_code == 201
    r = web.client.post(f"/api/members/{member}/plans", headers=poc.auth, json=web.plan_document())
    assert r.status_code == 201, r.text
    detail = web.client.get(f"/api/members/{member}").json()
    assert detail["state"] == "implementing" and detail["plan"]["id"] == r.json()["id"]
    assert [h["trigger"] for h in web.client.get(f"/api/members/{member}/history").json()] == [
        "apply", "accept", "start_co_creation", "submit_plan"]
    assert len(web.client.get(f"/api/members/{member}/commitments").json()) == 3
    kinds = {d["kind"] for d in web.client.get(f"/api/members/{member}/deadlines").json()}
    assert "start_assessment" in kinds
    assert {d["member_id"] for d in web.client.get("/api/deadlines", params={"member_id": member}).json()} == {member}
    assert [m["id"] for m in web.client.get("/api/members", params={"state": "implementing"}).json()] == [member]
    assert web.client.get(f"/api/audit/member/{member}").json()[0]["rule_id"] == "R1.1"


def test_r2_2_the_support_unit_rejects_an_application_with_its_reason(web):
    su = web.person("su", "support_unit")
    member = web.applicant("riverton")
    r = web.client.post(f"/api/members/{member}/reject", headers=su.auth, json={"reason": " "})
    assert r.status_code == 422 and r.json()["rule"] == "R2.2" and r.json()["field"] == "reason"
    r = web.client.post(f"/api/members/{member}/reject", headers=su.auth, json={"reason": "no stakeholder signed"})
    assert r.status_code == 200 and r.json()["state"] == "rejected"


def test_r2_4_a_plan_that_breaks_several_rules_lists_every_refusal(web):
    member = web.co_creating("riverton")
    poc = web.person("poc", "poc", member)
    doc = web.plan_document(commitments=6, endorsing_stakeholders=[], plan_end=dt.date(2031, 6, 1))
    r = web.client.post(f"/api/members/{member}/plans", headers=poc.auth, json=doc)
    assert r.status_code == 422
    body = r.json()
    assert body["type"].endswith("/refusals")
    rules = {v["rule"] for v in body["violations"]}
    assert {"R3.1", "R3.3", "R3.11"} <= rules


def test_a_plan_body_with_an_unknown_key_is_a_validation_problem_naming_the_field(web):
    member = web.co_creating("riverton")
    poc = web.person("poc", "poc", member)
    r = web.client.post(f"/api/members/{member}/plans", headers=poc.auth, json={**web.plan_document(), "colour": 1})
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["field"] == "colour"


def test_implementation_tracker_completion_assessment_and_replacement_over_http(web):
    su = web.person("su", "support_unit")
    member = web.implementing("riverton")
    poc = web.person("poc", "poc", member)
    mb = web.person("observatory", "monitoring_body", member)
    commitments = web.commitments_of(member)
    first, second, third = (c["id"] for c in commitments)
    milestone = commitments[0]["milestones"][0]["id"]
    web.clock.set(web.clock.now().add(months=2))
    r = web.client.post(f"/api/members/{member}/tracker-updates", headers=poc.auth, json={
        "narrative": "The register is online.", "changes": [{"milestone_id": milestone, "status": "in_progress"}]})
    assert r.status_code == 201
    update = r.json()["id"]
    # R3.10: a modification within six months, approved and documented.
    r = web.client.post(f"/api/commitments/{second}/modification", headers=poc.auth, json={
        "decision_process": "forum vote of 3 March", "approved_by": ["Civic Data Association"],
        "title": "Open contracting register, second edition"})
    assert r.status_code == 200 and r.json()["version"] == 2
    r = web.client.post(f"/api/commitments/{third}/withdrawal", headers=poc.auth, json={
        "decision_process": "forum vote", "approved_by": ["Civic Data Association"]})
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"
    r = web.client.post(f"/api/commitments/{first}/completion", headers=poc.auth, json={
        "completed_on": web.today().isoformat()})
    assert r.status_code == 200 and r.json()["state"] == "completed"
    r = web.client.post(f"/api/members/{member}/assessments", headers=mb.auth, json={
        "kind": "end_of_commitment", "commitment_id": first,
        "ratings": {"completion": "complete", "early_results": "Contracts are read by journalists."}})
    assert r.status_code == 201, r.text
    assert web.client.get(f"/api/commitments/{first}").json()["state"] == "assessed"
    assert [h["to_state"] for h in web.client.get(f"/api/commitments/{first}/history").json()][-1] == "assessed"
    start = web.today()
    r = web.client.post(f"/api/members/{member}/commitments", headers=poc.auth,
                        json={**samples.commitment(start, dt.date(2029, 6, 30), 7), "decision_process": "forum vote",
                              "approved_by": ["Civic Data Association"]})
    assert r.status_code == 201, r.text
    r = web.client.post(f"/api/evidence/tracker_update/{update}", headers=poc.auth, json={
        "kind": "media", "url": "https://news.example/register", "title": "Coverage"})
    assert r.status_code == 201
    with web.session() as s:
        assert s.scalar(select(Evidence.subject_type).where(Evidence.id == r.json()["id"])) == "tracker_update"
    r = web.client.post(f"/api/evidence/member/{member}", headers=poc.auth, json={"kind": "horoscope",
                                                                                 "url": "https://x.example"})
    assert r.status_code == 422 and r.json()["rule"] == "R8.3"
    assert su  # the Support Unit exists beside them; it is not needed here


def test_r5_5_voluntary_inactivity_is_asked_approved_and_ended_over_http(web):
    su = web.person("su", "support_unit")
    member = web.implementing("riverton")
    poc = web.person("poc", "poc", member)
    # R5.5: consulting is recommended, not required: the request is sent, with a reminder.
    r = web.client.post(f"/api/members/{member}/inactivity-requests", headers=poc.auth, json={
        "reason": "elections", "stakeholders_consulted": False})
    assert r.status_code == 201 and r.json()["stakeholders_consulted"] is False and "R5.5" in r.json()["reminder"]
    r = web.client.post(f"/api/inactivity-requests/{r.json()['id']}/decline", headers=su.auth,
                        json={"reason": "consult the forum first"})
    assert r.status_code == 200 and r.json()["state"] == "implementing"
    r = web.client.post(f"/api/members/{member}/inactivity-requests", headers=poc.auth, json={
        "reason": "elections", "stakeholders_consulted": True})
    assert r.status_code == 201 and r.json()["reminder"] is None
    r = web.client.post(f"/api/inactivity-requests/{r.json()['id']}/approval", headers=su.auth, json={})
    assert r.status_code == 200 and r.json()["state"] == "inactive" and r.json()["voluntary_inactivity"]
    r = web.client.post(f"/api/members/{member}/resume", headers=poc.auth, json={"reason": "back after elections"})
    assert r.status_code == 200 and r.json()["state"] == "implementing"


def test_the_support_unit_applies_a_status_citing_its_rule_and_a_wrong_state_is_a_conflict(web):
    su = web.person("su", "support_unit")
    member = web.implementing("riverton")
    r = web.client.post(f"/api/members/{member}/status", headers=su.auth, json={
        "action": "become_inactive", "rule": "R6.1", "reason": "by hand"})
    assert r.status_code == 422 and r.json()["field"] == "rule"
    # D14: R5.4 does not hold for a plan filed today: refused naming the rule, unless taken as an override.
    r = web.client.post(f"/api/members/{member}/status", headers=su.auth, json={
        "action": "become_inactive", "rule": "R5.4", "reason": "no tracker update in two quarters"})
    assert r.status_code == 422 and r.json()["rule"] == "R5.4"
    r = web.client.post(f"/api/members/{member}/status", headers=su.auth, json={
        "action": "become_inactive", "rule": "R5.4", "reason": "the tracker is abandoned", "override": True})
    assert r.status_code == 200 and r.json()["state"] == "inactive" and r.json()["inactivity_rule"] == "R5.4"
    assert [(h["rule_id"], h["override"]) for h in r.json()["history"]][-1] == ("R5.4", True)
    assert not any(h["override"] for h in r.json()["history"][:-1])
    r = web.client.post(f"/api/members/{member}/co-creation", headers=su.auth)
    assert r.status_code == 409 and r.json()["type"].endswith("/trigger-not-allowed")


def test_r5_1_the_support_unit_extends_a_new_members_first_plan_deadline(web):
    su = web.person("su", "support_unit")
    member = web.co_creating("riverton")
    r = web.client.post(f"/api/members/{member}/first-plan-deadline", headers=su.auth, json={
        "new_due": "2027-08-01", "reason": "earlier than the deadline"})
    assert r.status_code == 422 and r.json()["rule"] == "R5.1" and r.json()["field"] == "new_due"
    r = web.client.post(f"/api/members/{member}/first-plan-deadline", headers=su.auth, json={
        "new_due": "2027-12-31", "reason": "floods"})
    assert r.status_code == 200
    assert [d["due_on"] for d in r.json()["deadlines"] if d["kind"] == "first_plan"] == ["2027-12-31"]


def test_r8_2_the_public_comments_and_sees_only_what_the_support_unit_approved(web):
    su = web.person("su", "support_unit")
    member = web.implementing("riverton")
    poc = web.person("poc", "poc", member)
    web.clock.set(web.clock.now().add(months=1))
    update = web.client.post(f"/api/members/{member}/tracker-updates", headers=poc.auth,
                             json={"narrative": "Work started."}).json()["id"]
    r = web.client.post(f"/api/tracker-updates/{update}/comments", json={"author_name": " ", "body": "hi"})
    assert r.status_code == 422 and r.json()["rule"] == "R8.2" and r.json()["field"] == "author_name"
    good = web.client.post(f"/api/tracker-updates/{update}/comments", json={
        "author_name": "Lina", "author_email": "lina@mail.example", "body": "Where is the data?"}).json()["id"]
    bad = web.client.post(f"/api/tracker-updates/{update}/comments", json={
        "author_name": "Spam", "body": "buy now"}).json()["id"]
    assert web.client.get(f"/api/tracker-updates/{update}/comments").json() == []
    queue = web.client.get("/api/comments", headers=su.auth).json()
    assert [c["id"] for c in queue] == [good, bad] and all("author_email" not in c for c in queue)
    r = web.client.post(f"/api/comments/{good}/moderation", headers=su.auth, json={"decision": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["moderated_by"] == su.email
    web.client.post(f"/api/comments/{bad}/moderation", headers=su.auth, json={"decision": "reject", "note": "spam"})
    r = web.client.post(f"/api/comments/{bad}/moderation", headers=su.auth, json={"decision": "approve"})
    assert r.status_code == 422 and r.json()["rule"] == "R8.2"
    assert [c["body"] for c in web.client.get(f"/api/tracker-updates/{update}/comments").json()] == [
        "Where is the data?"]


def test_r6_6_a_stakeholder_reports_a_concern_and_the_support_unit_closes_it_with_its_outcome(web):
    su = web.person("su", "support_unit")
    auditor = web.person("auditor", "auditor")
    member = web.implementing("riverton")
    ngo = web.person("ngo", "stakeholder", member)
    r = web.client.post(f"/api/members/{member}/concern-cases", headers=ngo.auth, json={
        "reported_by": "Free Press Collective", "summary": "Journalists detained after a protest."})
    assert r.status_code == 201
    case = r.json()["id"]
    assert web.client.get("/api/concern-cases", headers=auditor.auth).json()[0]["status"] == "open"
    r = web.client.post(f"/api/concern-cases/{case}/closure", headers=su.auth, json={"outcome": " "})
    assert r.status_code == 422 and r.json()["rule"] == "R6.6"
    r = web.client.post(f"/api/concern-cases/{case}/closure", headers=su.auth, json={
        "outcome": "Dialogue with the mayor; journalists released; membership continues."})
    assert r.status_code == 200 and r.json()["status"] == "closed" and r.json()["closed_by"] == su.email
    assert web.client.get(f"/api/concern-cases/{case}", headers=su.auth).json()["outcome"].startswith("Dialogue")
    findings = web.client.get(f"/api/members/{member}/findings", headers=auditor.auth).json()
    assert [(f["rule_id"], f["outcome"]) for f in findings] == [("R6.6", "concern_opened"), ("R6.6", "concern_closed")]
    with web.session() as s:  # the reporter is named in the case only, never in the member's findings
        assert all("Free Press" not in d for d in s.scalars(select(Finding.detail)))


def test_auditors_export_and_verify_the_history_and_read_the_letters(web):
    su = web.person("su", "support_unit")
    auditor = web.person("auditor", "auditor")
    member = web.implementing("riverton")
    exported = web.client.get("/api/audit-export", headers=auditor.auth)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/json")
    records = exported.json()
    assert {r["subject_type"] for r in records} == {"member", "commitment"}
    as_csv = web.client.get("/api/audit-export", params={"format": "csv"}, headers=auditor.auth)
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert len(list(csv.DictReader(io.StringIO(as_csv.text)))) == len(records)
    verified = web.client.get("/api/audit-verification", headers=auditor.auth).json()
    assert verified["ok"] and verified["records"] == len(records)
    letters = web.client.get("/api/letters", params={"member_id": member}, headers=auditor.auth).json()
    assert letters and {x["kind"] for x in letters} >= {"accepted"}
    letter = letters[0]["id"]
    assert web.client.get(f"/api/letters/{letter}", headers=auditor.auth).json()["idempotency_key"]
    # A failed letter is retried by the Support Unit; the folder transport delivers it.
    with web.session() as s:
        s.get(OutboxEvent, letter).status = "failed"
        s.commit()
    r = web.client.post(f"/api/letters/{letter}/retry", headers=su.auth)
    assert r.status_code == 200 and r.json()["status"] == "sent"
    r = web.client.post(f"/api/letters/{letter}/retry", headers=su.auth)
    assert r.status_code == 422 and r.json()["rule"] == "R7.3"


def test_unknown_records_are_not_found_problems(web):
    su = web.person("su", "support_unit")
    for path in ("/api/members/999", "/api/commitments/999", "/api/tracker-updates/999/comments"):
        r = web.client.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM) and r.json()["instance"] == path
    r = web.client.post("/api/members/999/accept", headers=su.auth, json={})
    assert r.status_code == 404 and r.json()["detail"] == "There is no member 999."


def test_inputs_beyond_what_the_database_holds_are_validation_problems_not_server_errors(web):
    su = web.person("su", "support_unit")
    web.jurisdiction("riverton")
    letter = {**samples.letter_of_support(), "pages": 10**30}
    r = web.client.post("/api/members", headers=su.auth, json={"jurisdiction": "riverton", "call": "Call 2027",
                                                                "letter_of_support": letter})
    assert r.status_code == 422 and r.json()["field"] == "letter_of_support.pages"
    member = web.co_creating("lakeside")
    r = web.client.post(f"/api/members/{member}/plans", headers=su.auth,
                        json=web.plan_document(coalition=[10**12]))
    assert r.status_code == 422 and r.json()["field"] == "coalition.0"


def test_r4_1_start_ratings_that_are_not_a_mapping_per_commitment_are_a_validation_problem(web):
    su = web.person("su", "support_unit")
    member = web.implementing("riverton")
    for ratings, field in (({"commitments": 5}, "ratings.commitments"),
                           ({"commitments": {"1": "good"}}, "ratings.commitments.1")):
        r = web.client.post(f"/api/members/{member}/assessments", headers=su.auth,
                            json={"kind": "start", "ratings": ratings})
        assert r.status_code == 422 and r.json()["field"] == field
    r = web.client.post(f"/api/members/{member}/assessments", headers=su.auth,
                        json={"kind": "start", "ratings": {"public_influence": "consult"}})
    assert r.status_code == 422 and r.json()["rule"] == "R4.1" and r.json()["field"].startswith("ratings.commitments")
