"""Approvals of commitment changes (R3.10, R3.4) and decisions on voluntary inactivity (R5.5) over HTTP."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from lifecycle import samples
from lifecycle.models import InactivityRequest, OutboxEvent

PROBLEM = "application/problem+json"


def _poc_and_su(web, code: str = "riverton"):
    su = web.person("su", "support_unit")
    member = web.implementing(code)
    poc = web.person("poc", "poc", member)
    return su, member, poc


def test_r3_10_a_modification_without_approval_is_a_422_problem_naming_r3_10_and_approved_by(web):
    _, member, poc = _poc_and_su(web)
    commitment = web.commitments_of(member)[0]["id"]
    for body in ({"decision_process": "forum vote", "end": "2029-03-31"},
                 {"decision_process": "forum vote", "approved_by": [" "], "end": "2029-03-31"}):
        r = web.client.post(f"/api/commitments/{commitment}/modification", headers=poc.auth, json=body)
        assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
        problem = r.json()
        assert (problem["rule"], problem["field"]) == ("R3.10", "approved_by")
        assert [(v["rule"], v["field"]) for v in problem["violations"]] == [("R3.10", "approved_by")]
        assert "Civic Data Association" in problem["violations"][0]["hint"], "it lists who may approve"
    assert web.client.get(f"/api/commitments/{commitment}").json()["version"] == 1


def test_r3_10_a_withdrawal_approved_by_someone_not_recorded_is_a_422_problem(web):
    _, member, poc = _poc_and_su(web)
    commitment = web.commitments_of(member)[0]["id"]
    r = web.client.post(f"/api/commitments/{commitment}/withdrawal", headers=poc.auth,
                        json={"decision_process": "forum vote", "approved_by": ["City Hall"]})
    assert r.status_code == 422 and r.json()["rule"] == "R3.10" and r.json()["field"] == "approved_by"
    assert "City Hall" in r.json()["violations"][0]["detail"]
    r = web.client.post(f"/api/commitments/{commitment}/withdrawal", headers=poc.auth, json={})
    assert r.status_code == 422 and {v["field"] for v in r.json()["violations"]} == {"approved_by", "decision_process"}


def test_r3_10_an_approved_modification_notifies_the_support_unit(web):
    _, member, poc = _poc_and_su(web)
    commitment = web.commitments_of(member)[0]["id"]
    r = web.client.post(f"/api/commitments/{commitment}/modification", headers=poc.auth, json={
        "decision_process": "forum vote of 3 March", "approved_by": ["neighbourhood councils network"],
        "end": "2029-03-31"})
    assert r.status_code == 200 and r.json()["versions"][-1]["approved_by"] == ["Neighbourhood Councils Network"]
    with web.session() as s:
        kinds = [(e.kind, e.recipient_role) for e in s.scalars(select(OutboxEvent).where(
            OutboxEvent.member_id == member, OutboxEvent.kind == "modification_notice"))]
    assert kinds == [("modification_notice", "support_unit")]


def test_r3_4_a_replacement_without_approval_is_a_422_problem_naming_r3_10(web):
    _, member, poc = _poc_and_su(web)
    r = web.client.post(f"/api/members/{member}/commitments", headers=poc.auth,
                        json=samples.commitment(web.today(), dt.date(2029, 6, 30), 7))
    assert r.status_code == 422
    assert ("R3.10", "approved_by") in {(v["rule"], v["field"]) for v in r.json()["violations"]}


def test_r5_5_a_request_without_consultation_is_accepted_with_a_reminder_and_the_support_unit_declines_it(web):
    su, member, poc = _poc_and_su(web)
    r = web.client.post(f"/api/members/{member}/inactivity-requests", headers=poc.auth, json={"reason": "elections"})
    assert r.status_code == 201
    created = r.json()
    assert created["stakeholders_consulted"] is False and created["reminder"]

    refused = web.client.post(f"/api/inactivity-requests/{created['id']}/decline", headers=su.auth,
                              json={"reason": "  "})
    assert refused.status_code == 422 and (refused.json()["rule"], refused.json()["field"]) == ("R5.5", "reason")
    forbidden = web.client.post(f"/api/inactivity-requests/{created['id']}/decline", headers=poc.auth,
                                json={"reason": "no"})
    assert forbidden.status_code == 403 and forbidden.json()["role"] == "support_unit"

    r = web.client.post(f"/api/inactivity-requests/{created['id']}/decline", headers=su.auth,
                        json={"reason": "The start assessment is due first."})
    assert r.status_code == 200 and r.json()["state"] == "implementing" and r.json()["pending_inactivity_requests"] == []
    with web.session() as s:
        row = s.get(InactivityRequest, created["id"])
        assert (row.status, row.decision_reason) == ("declined", "The start assessment is due first.")
    again = web.client.post(f"/api/inactivity-requests/{created['id']}/decline", headers=su.auth,
                            json={"reason": "twice"})
    assert again.status_code == 422 and again.json()["field"] == "request_id"
    unknown = web.client.post("/api/inactivity-requests/999/decline", headers=su.auth, json={"reason": "x"})
    assert unknown.status_code == 404
