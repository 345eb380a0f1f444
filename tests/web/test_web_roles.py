"""Role boundaries of RULEBOOK §0, for every route of the API (enumerated, so a new one cannot slip through)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from config.settings import Settings
from lifecycle import commands as c, comments, concerns, handlers
from lifecycle.models import OutboxEvent
from web.app import create_app

ACCESS = {"public", "login", "support_unit", "poc", "monitoring_body", "stakeholder", "auditor"}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _routes() -> list[tuple[str, str, str | None]]:
    """(method, path, x-access) of every API operation, read from the app's OpenAPI document.

    The app is built without a database, only to read its route table; ``x-access`` is what
    ``web.deps.access`` puts on every operation.
    """
    app = create_app(Settings(), session_factory=sessionmaker())
    found = []
    for path, item in app.openapi()["paths"].items():
        if path.startswith("/api"):
            for method, operation in item.items():
                found.append((method.upper(), path, operation.get("x-access")))
    return sorted(found)


ROUTES = _routes()
GUARDED = [(m, p, a) for m, p, a in ROUTES if a != "public"]
GUARDED_WRITES = [(m, p, a) for m, p, a in GUARDED if m in WRITES and a != "login"]


def test_the_route_table_is_not_empty_and_has_writes_of_every_role():
    assert {a for _, _, a in GUARDED_WRITES} >= {"support_unit", "poc", "monitoring_body", "stakeholder"}
    assert len(GUARDED_WRITES) >= 25


@pytest.mark.parametrize("method,path,access", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_every_api_route_declares_who_may_call_it(method, path, access):
    assert access in ACCESS


def _fill(path: str, ids: dict[str, object]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)


def _two_members(web):
    """Member A (with its POC) and member B, implementing, with one of every record a route can name."""
    a = web.implementing("alpha")
    b = web.implementing("beta")
    poc_a = web.person("poc_a", "poc", a)
    web.clock.set(web.clock.now().add(months=1))
    update = web.run(handlers.record_tracker_update, c.RecordTrackerUpdate(member_id=b, narrative="ok", actor="p"))
    request = web.run(handlers.request_voluntary_inactivity, c.RequestVoluntaryInactivity(
        member_id=b, reason="elections", stakeholders_consulted=True, actor="p"))
    comment = web.run(comments.post_comment, c.PostComment(tracker_update_id=update, author_name="x", body="y"))
    case = web.run(concerns.open_case, c.OpenConcernCase(member_id=b, reported_by="ngo", summary="s", actor="su"))
    with web.session() as s:
        letter = s.scalar(select(OutboxEvent.id).where(OutboxEvent.member_id == b))
    ids = {"member_id": b, "commitment_id": web.commitments_of(b)[0]["id"], "request_id": request,
           "comment_id": comment, "case_id": case, "letter_id": letter, "tracker_update_id": update,
           "subject_type": "member", "subject_id": b, "subject_type_": "member"}
    return a, b, poc_a, ids


def test_the_public_is_refused_with_401_on_every_route_that_needs_a_person(web):
    _, _, _, ids = _two_members(web)
    wrong = []
    for method, path, _ in GUARDED:
        r = web.client.request(method, _fill(path, ids), json={})
        body = r.json()
        if (r.status_code, body.get("rule")) != (401, "§0") or not r.headers["content-type"].startswith(
                "application/problem+json") or "www-authenticate" not in r.headers:
            wrong.append((method, path, r.status_code, body))
    assert wrong == []


def test_an_unknown_or_revoked_token_is_refused_with_401(web):
    _, _, _, ids = _two_members(web)
    r = web.client.post(_fill("/api/members/{member_id}/resume", ids), json={"reason": "x"},
                        headers={"Authorization": "Bearer ogp_not-a-token"})
    assert r.status_code == 401 and r.json()["field"] == "Authorization" and "not valid" in r.json()["detail"]


def test_a_poc_of_member_a_is_refused_with_403_on_every_write_about_member_b(web):
    """§0: a point of contact acts for its own member only; other roles' actions name the role they need."""
    _, _, poc_a, ids = _two_members(web)
    wrong = []
    for method, path, access in GUARDED_WRITES:
        r = web.client.request(method, _fill(path, ids), json={}, headers=poc_a.auth)
        body = r.json()
        if r.status_code != 403 or body.get("rule") != "§0" or body.get("role") != access:
            wrong.append((method, path, r.status_code, body))
    assert wrong == []


def test_the_support_unit_passes_every_role_check(web):
    """The Support Unit acts on everything: no route refuses it for its role (it may still break a rule)."""
    _, _, _, ids = _two_members(web)
    su = web.person("su", "support_unit")
    refused = []
    for method, path, _ in GUARDED:
        if path == "/api/session":
            continue
        r = web.client.request(method, _fill(path, ids), json={}, headers=su.auth)
        if r.status_code in (401, 403):
            refused.append((method, path, r.status_code, r.json()))
    assert refused == []


def test_r4_0_a_monitoring_body_files_only_for_the_member_it_monitors(web):
    a, b, _, _ = _two_members(web)
    mb = web.person("observatory", "monitoring_body", a)
    ratings = {"summary": "We learned a lot."}
    r = web.client.post(f"/api/members/{b}/assessments", headers=mb.auth, json={"kind": "final_report",
                                                                                 "ratings": ratings})
    assert r.status_code == 403 and r.json()["role"] == "monitoring_body"
    r = web.client.post(f"/api/members/{a}/assessments", headers=mb.auth, json={"kind": "final_report",
                                                                                 "ratings": ratings})
    assert r.status_code != 403


def test_r3_13_a_poc_acts_for_the_partners_of_the_joint_plan_its_member_files(web):
    su = web.person("su", "support_unit")
    a = web.co_creating("alpha")
    b = web.co_creating("beta")
    poc_a = web.person("poc_a", "poc", a)
    meeting = {"phase": "co_creation", "held_on": web.today().isoformat(), "government_participants": 1,
               "non_governmental_participants": 1}
    assert web.client.post(f"/api/members/{b}/meetings", headers=poc_a.auth, json=meeting).status_code == 403
    joint = web.plan_document(coalition=[b])
    r = web.client.post(f"/api/members/{a}/plans", headers=poc_a.auth, json=joint)
    assert r.status_code == 403 and r.json()["role"] == "poc", "naming a partner it does not act for is refused"
    assert web.client.post(f"/api/members/{a}/plans", headers=su.auth, json=joint).status_code == 201
    assert web.client.post(f"/api/members/{b}/meetings", headers=poc_a.auth, json=meeting).status_code == 201
    who = web.client.get("/api/session", headers=poc_a.auth).json()
    assert who["poc_member_ids"] == [a, b] and who["via"] == "token"
