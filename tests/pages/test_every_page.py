"""Every page, in every state a member can reach, in every language, for every role (R8.1, RULEBOOK §0, §2).

The world holds a member in each state of §2 (inactive both by a rule and at its own request),
every kind of monitoring deliverable filed (R4.1-R4.3) beside overdue ones, a status action taken
as an override (D14), and the demo's members. The pages are read from the application's router,
so a page added later is walked as soon as it exists, and a route whose parameters the walk
cannot fill fails the test instead of being skipped.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
import time

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from lifecycle import commands as c, concerns, comments, handlers
from lifecycle.exports import FORMATS
from pagekit import PageWorld, assert_accessible, log_in, make_page_world, settings_for
from policies.assessments import AssessmentKind
from policies.machines import MemberState

LANGS = ("en", "fr", "es")
ROLES = ("public", "su", "poc-a", "mb-a", "sh-a", "auditor")
SU = "support-unit"


# ---------------------------------------------------------------- the world


def _ratings_for_start(world: PageWorld, code: str) -> dict:
    return {"public_influence": "involve",
            "commitments": {str(cid): {"relevant": True, "verifiable": True, "potential_impact": "moderate"}
                            for cid in world.commitments(code)}}


def build_world(url: str) -> PageWorld:
    """Members in every state of §2, every assessment kind filed, overdue deliverables, an override, the demo."""
    from rich.console import Console

    from lifecycle.demo import run_demo

    w = make_page_world(url)  # riverton implementing (plan filed 2027-01-10), lyon co-creating, bogota applicant
    w.person("sh-a", "stakeholder", "riverton")
    w.person("auditor", "auditor")

    w.at("2027-03-01")  # the call is open (R1.1)
    w.applicant("orly")
    w.run(handlers.accept_application, c.AcceptApplication(member_id=w.members["orly"], actor=SU))  # orientation
    w.applicant("rejeton")
    w.run(handlers.reject_application, c.RejectApplication(member_id=w.members["rejeton"], actor=SU,
                                                           reason="The letter of support is unsigned"))
    for code in ("ina", "prob", "rev"):
        w.co_creating(code)
    for code in ("vol", "ovr"):
        w.implementing(code)

    # Riverton's monitoring body files every kind of deliverable (R4.1-R4.3).
    w.at("2027-04-06")
    rid = w.members["riverton"]
    mb = w.people["mb-a"]
    w.run(handlers.file_assessment, c.FileAssessment(member_id=rid, kind="start", actor=mb,
                                                     ratings=_ratings_for_start(w, "riverton")))
    first = w.commitments("riverton")[0]
    w.run(handlers.complete_commitment, c.CompleteCommitment(commitment_id=first, completed_on=dt.date(2027, 4, 6),
                                                             actor=w.people["poc-a"]))
    w.run(handlers.file_assessment, c.FileAssessment(
        member_id=rid, kind="end_of_commitment", actor=mb, commitment_id=first,
        ratings={"completion": "complete", "early_results": "The register is used by the press."}))
    w.run(handlers.file_assessment, c.FileAssessment(
        member_id=rid, kind="final_report", actor=mb, ratings={"summary": "Co-creation worked.", "lessons": "Early."}))
    # A comment waits for moderation (R8.2); a civic-space concern case is open (R6.6).
    w.run(comments.post_comment, c.PostComment(tracker_update_id=w.update_id, author_name="Ana",
                                               body="When will the data be complete?"))
    w.run(concerns.open_case, c.OpenConcernCase(member_id=w.members["lyon"], reported_by="Civic Data Association",
                                                summary="Journalists detained", actor=SU))

    w.at("2027-06-01")
    vol = w.members["vol"]
    request = w.run(handlers.request_voluntary_inactivity, c.RequestVoluntaryInactivity(
        member_id=vol, reason="Municipal restructuring", stakeholders_consulted=True, actor="poc"))
    w.run(handlers.approve_voluntary_inactivity, c.ApproveVoluntaryInactivity(request_id=request, actor=SU))
    w.run(handlers.request_voluntary_inactivity, c.RequestVoluntaryInactivity(  # left pending
        member_id=w.members["lyon"], reason="Elections", stakeholders_consulted=True, actor="poc"))
    # D14: R5.4 does not hold for a plan filed three months ago; the Support Unit overrides it.
    w.run(handlers.apply_status, c.ApplyStatus(member_id=w.members["ovr"], trigger="become_inactive", rule="R5.4",
                                               actor=SU, reason="The tracker is abandoned", override=True))
    w.at("2027-06-02")
    w.fire("vol", "start_assessment")  # due 2027-05-01 (R4.1): breached, still not filed

    w.at("2027-10-01")
    for code in ("ina", "prob", "rev"):
        w.fire(code, "first_plan")  # due 2027-09-30 (R5.1): inactive
    w.at("2028-04-02")
    for code in ("prob", "rev"):
        w.fire(code, "probation_clock")  # six months inactive (R6.1): probation
    w.at("2028-08-03")
    w.fire("rev", "revocation_clock")  # four months on probation (R6.5): revoked

    run_demo(w.factory, console=Console(file=io.StringIO()))
    w.at("2030-01-15")
    return w


def _ids(w: PageWorld) -> dict[str, list[int]]:
    from lifecycle.models import ConcernCase, InactivityRequest, Member

    with w.session() as s:
        return {"members": list(s.scalars(select(Member.id).order_by(Member.id))),
                "inactivity-requests": list(s.scalars(select(InactivityRequest.id).order_by(InactivityRequest.id))),
                "concerns": list(s.scalars(select(ConcernCase.id).order_by(ConcernCase.id)))}


# ---------------------------------------------------------------- the pages, from the router


def page_routes(app) -> list[tuple[str, APIRoute]]:
    """(path template, route) of every GET route outside the JSON API: pages, exports, feeds (and /metrics)."""
    def flat(routes, prefix=""):
        for r in routes:
            if hasattr(r, "original_router"):  # an included router
                yield from flat(r.original_router.routes, prefix + r.include_context.prefix)
            elif isinstance(r, APIRoute):
                yield prefix, r

    return [(prefix + r.path, r) for prefix, r in flat(app.routes)
            if "GET" in r.methods and not (prefix + r.path).startswith("/api")]


PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def fillings(ids: dict[str, list[int]]) -> dict[frozenset[str], list[dict]]:
    """Every value of each set of path parameters the pages take."""
    from web.pages.dashboard import ACTIONS
    from web.pages.monitoring import KINDS

    members = ids["members"]
    return {
        frozenset(): [{}],
        frozenset({"member_id"}): [{"member_id": m} for m in members],
        frozenset({"fmt"}): [{"fmt": f} for f in FORMATS],
        frozenset({"member_id", "slug"}): [{"member_id": m, "slug": k} for m, k in itertools.product(members, KINDS)],
        # A new subject of the Support Unit's actions has no ids here: a KeyError, so the test says so.
        frozenset({"subject", "ident", "name"}): [{"subject": a.subject, "ident": i, "name": a.name}
                                                  for a in ACTIONS.values() for i in ids[a.subject]],
    }


# Pages that answer 400 without their query (the dashboard's "open a member" form): walked with it only.
NEED_A_QUERY = frozenset({"/dashboard/members"})


def extra_queries(ids: dict[str, list[int]]) -> dict[str, list[dict]]:
    """Query strings that change what a page shows: filters, pages, one member's history, the login messages."""
    from lifecycle.public import STATES

    return {
        "/members": [{"state": s} for s in STATES] + [{"country": "Colombia"}, {"per_page": 2, "page": 3}],
        "/exports/members.{fmt}": [{"state": "inactive"}],
        "/exports/history.{fmt}": [{"member": ids["members"][0]}],
        "/login": [{"failed": "1", "next": "/dashboard"}, {"failed": "locked"}],
        "/dashboard/members": [{"id": ids["members"][-1]}],
    }


def urls(app, ids) -> list[tuple[str, str, dict]]:
    """(route template, path, query) of every page to open."""
    fill = fillings(ids)
    extra = extra_queries(ids)
    found = []
    for template, _route in page_routes(app):
        params = frozenset(PARAM.findall(template))
        assert params in fill, f"the walk cannot fill the parameters {sorted(params)} of {template}: add them"
        queries = ([] if template in NEED_A_QUERY else [{}]) + extra.get(template, [])
        for values in fill[params]:
            path = PARAM.sub(lambda m: str(values[m.group(1)]), template)
            found += [(template, path, q) for q in queries]
    return found


# ---------------------------------------------------------------- the walk


def _walk(w: PageWorld, tmp_path) -> dict:
    from web.app import create_app

    app = create_app(settings_for(w.url, tmp_path), session_factory=w.factory, clock=w.clock)
    ids = _ids(w)
    targets = urls(app, ids)
    failures: list[str] = []
    counts = {"requests": 0, "su_rendered": 0}
    for role in ROLES:
        # A server error is collected as the 500 a reader gets, so one run lists every failing page.
        with TestClient(app, raise_server_exceptions=False) as client:
            if role != "public":
                assert log_in(client, w.people[role]).status_code == 303, role
            for lang in LANGS:
                for _template, path, query in targets:
                    response = client.get(path, params={**query, "lang": lang}, follow_redirects=False)
                    counts["requests"] += 1
                    where = f"{role} {lang} {path}?{query}"
                    if response.status_code >= 500:
                        failures.append(f"{where}: {response.status_code} {response.text[:200]}")
                    elif role == "su":
                        # The Support Unit may open every page: anything but a page or a redirect hides one.
                        if response.status_code not in (200, 303):
                            failures.append(f"{where}: the Support Unit got {response.status_code}")
                        elif response.status_code == 200:
                            counts["su_rendered"] += 1
                            if response.headers["content-type"].startswith("text/html"):
                                assert_accessible(response.text, lang)
    assert failures == [], "\n".join(failures[:40])
    counts["urls"] = len(targets)
    counts["redirects"] = sum(1 for template, _, _ in targets if template in NEED_A_QUERY)
    return counts


def test_r8_1_every_page_renders_in_every_state_and_language_for_every_role(db_url, tmp_path, record_property):
    started = time.monotonic()
    w = build_world(db_url)
    try:
        from lifecycle.models import Assessment, Member, TransitionRecord

        with w.session() as s:
            members = s.execute(select(Member.state, Member.voluntary_inactivity)).all()
            kinds = set(s.scalars(select(Assessment.kind)))
            overrides = list(s.scalars(select(TransitionRecord.rule_id).where(TransitionRecord.override.is_(True))))
        # The world is what the test says it is: every state, both kinds of inactivity, every deliverable.
        assert {state for state, _ in members} == {s.value for s in MemberState}
        assert {voluntary for state, voluntary in members if state == "inactive"} == {True, False}
        assert kinds == {k.value for k in AssessmentKind}
        assert "R5.4" in overrides and len(members) >= 13  # the page world's, this test's and the demo's
        built = time.monotonic() - started
        counts = _walk(w, tmp_path)
    finally:
        w.dispose()
    # Every page the Support Unit opened rendered, but the "open a member" form, which redirects.
    assert counts["su_rendered"] == (counts["urls"] - counts["redirects"]) * len(LANGS)
    record_property("figure", f"{counts['requests']} requests over {counts['urls']} urls; world {built:.1f} s, "
                              f"total {time.monotonic() - started:.1f} s")


def test_the_walk_finds_every_page_of_the_router(sqlite_url, tmp_path):
    """The walk reads the router, so the pages each area defines are all in it (and no API route is)."""
    from web.app import create_app

    app = create_app(settings_for(sqlite_url, tmp_path))
    templates = {template for template, _ in page_routes(app)}
    for page in ("/", "/members", "/members/{member_id:int}", "/members/{member_id:int}/deadlines.ics",
                 "/exports", "/exports/members.{fmt}", "/exports/history.{fmt}", "/login", "/dashboard",
                 "/dashboard/members/{member_id:int}", "/dashboard/{subject}/{ident:int}/{name}", "/poc",
                 "/poc/members/{member_id:int}/tracker", "/monitoring", "/monitoring/members/{member_id:int}/{slug}"):
        assert page in templates, page
    assert not any(t.startswith("/api") for t in templates)
    ids = {"members": [1, 2], "inactivity-requests": [7], "concerns": [9]}
    walked = {path for _, path, _ in urls(app, ids)}
    assert {"/dashboard/members/1/status", "/dashboard/inactivity-requests/7/approve", "/dashboard/concerns/9/close",
            "/monitoring/members/2/final-report", "/exports/members.csv", "/members/2/deadlines.ics"} <= walked
