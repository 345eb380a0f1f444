"""Pages of a member's monitoring body (§4): start assessment, end-of-commitment assessments, final learning report.

The forms offer exactly the scales of RULEBOOK §4 (``policies.vocabularies``); the handler
checks them again (``policies.assessments.check_ratings``) and refuses anything else. Each form
is for the member's current plan, or, with ``plan``, for an earlier plan whose deliverables are
still owed: filed late, they are met all the same.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from lifecycle import commands as c, handlers, queries
from policies.assessments import COCREATION_REQUIREMENTS
from policies.errors import InvalidInput, NotFound
from policies.vocabularies import COMPLETION_LEVELS, IMPACT_LEVELS, PUBLIC_INFLUENCE
from web.pages.access import Forbidden, check_csrf, monitoring_for, signed_in
from web.pages.actions import form_values, refusal_status, run_use_case, text
from web.pages.rendering import render
from web.pages.routing import PageRoute, member_brief, reading, role_home

router = APIRouter(route_class=PageRoute)
KINDS = {"start": "start", "end-of-commitment": "end_of_commitment", "final-report": "final_report"}
YES_NO = {"yes": True, "no": False}
# The form that files each overdue deliverable the member page lists (R4.1-R4.3).
FORM_FOR_DEADLINE = {deadline.value: slug for deadline, assessed in queries.DELIVERABLE_KINDS.items()
                     for slug, kind in KINDS.items() if kind == assessed.value}


@router.get("/monitoring", include_in_schema=False)
def home(request: Request) -> Response:
    who = signed_in(request)
    if not (who.monitored_member_ids or who.is_support_unit):
        raise Forbidden("error.forbidden_monitoring_role")
    return role_home(request, who, who.monitored_member_ids, "monitoring")


@router.get("/monitoring/members/{member_id:int}", include_in_schema=False)
def member(request: Request, member_id: int) -> Response:
    who = monitoring_for(request, member_id)
    return render(request, "staff/member.html", {**member_brief(request, member_id), "cases": [], "area": "monitoring",
                                                 "notice": request.query_params.get("notice"),
                                                 "deliverable_forms": FORM_FOR_DEADLINE}, principal=who)


# Record numbers are 32-bit on PostgreSQL: a longer number names no record, and must not reach the database.
MAX_ID = 2**31 - 1


def _number(raw: str) -> int | None:
    """A record number typed or sent in a form (ASCII digits, in range), else None."""
    raw = raw.strip()
    return int(raw) if raw.isascii() and raw.isdigit() and int(raw) <= MAX_ID else None


def _plan_id(raw: str | None) -> int | None:
    """The ``plan`` a form is asked for: none (the current plan) or a plan's number."""
    if raw is None or raw.strip() == "":
        return None
    number = _number(raw)
    if number is None:
        raise InvalidInput(f"{raw.strip()!r} is not the number of an action plan.", rule="R4.0", field="plan")
    return number


def _plan_for(request: Request, member_id: int, plan_id: int | None, brief: dict) -> dict | None:
    """The plan the form files for, with its commitments: the one asked for, else the current one (none before)."""
    chosen = plan_id if plan_id is not None else (brief["plan"] or {}).get("id")
    if chosen is None:
        return None
    factory, _, _ = reading(request)
    with factory() as s:
        return queries.plan_commitments(s, member_id, chosen)


def _initial(plan: dict | None) -> list[dict]:
    """R4.1 rates the plan's initial commitments: not the replacements, not the withdrawn."""
    return [x for x in (plan or {}).get("commitments", []) if not x["replacement"] and x["state"] != "withdrawn"]


def _page(request: Request, who, member_id: int, kind: str, *, plan_id: int | None = None, values=None,
          refusal=None, status_code: int = 200) -> Response:
    brief = member_brief(request, member_id)
    try:
        plan = _plan_for(request, member_id, plan_id, brief)
    except NotFound as exc:
        # Shown with the form's refusal box, which names the field; there is no form for a plan not the member's.
        return _refused_plan(request, who, brief, kind, exc)
    commitments = plan["commitments"] if plan else []
    return render(request, "staff/assessment.html", {
        **brief, "kind": kind, "slug": _slug(kind), "plan": plan, "plan_refused": False, "asked_plan_id": plan_id,
        "commitments": commitments, "initial": _initial(plan),
        "assessable": [x for x in commitments if x["state"] in ("completed", "ended_incomplete")],
        "values": values or {}, "refusal": refusal, "impact_levels": IMPACT_LEVELS,
        "influence_levels": PUBLIC_INFLUENCE, "completion_levels": COMPLETION_LEVELS,
        "requirements": COCREATION_REQUIREMENTS,
    }, status_code=status_code, principal=who)


def _refused_plan(request: Request, who, brief: dict, kind: str, exc: InvalidInput) -> Response:
    status_code = 404 if isinstance(exc, NotFound) else 400
    return render(request, "staff/assessment.html", {
        **brief, "kind": kind, "slug": _slug(kind), "plan": None, "plan_refused": True, "refusal": exc.as_dict(),
        "values": {},
    }, status_code=status_code, principal=who)


def _slug(kind: str) -> str:
    return next(k for k, v in KINDS.items() if v == kind)


def _kind(slug: str) -> str:
    if slug not in KINDS:
        raise NotFound(f"There is no assessment form {slug!r}; use start, end-of-commitment or final-report.",
                       field="kind")
    return KINDS[slug]


@router.get("/monitoring/members/{member_id:int}/{slug}", include_in_schema=False)
def form_page(request: Request, member_id: int, slug: str) -> Response:
    who = monitoring_for(request, member_id)
    kind = _kind(slug)
    try:
        plan_id = _plan_id(request.query_params.get("plan"))
    except InvalidInput as exc:
        return _refused_plan(request, who, member_brief(request, member_id), kind, exc)
    # A link from an overdue R4.2 deliverable names its commitment, chosen already.
    values = {"commitment_id": request.query_params["commitment"]} if "commitment" in request.query_params else None
    return _page(request, who, member_id, kind, plan_id=plan_id, values=values)


def _ratings(kind: str, form, plan: dict | None) -> tuple[dict, int | None, tuple[str, ...]]:
    """The form's answers as the ratings ``check_ratings`` reads (R4.1–R4.3)."""
    if kind == "start":
        per_commitment = {}
        for x in _initial(plan):
            rating: dict[str, Any] = {"potential_impact": text(form, f"impact-{x['id']}")}
            for flag in ("relevant", "verifiable"):
                answer = text(form, f"{flag}-{x['id']}")
                if answer in YES_NO:
                    rating[flag] = YES_NO[answer]
            per_commitment[str(x["id"])] = rating
        ratings = {"commitments": per_commitment, "public_influence": text(form, "public_influence"),
                   "notes": text(form, "notes")}
        return ratings, None, tuple(form.getlist("unmet_requirements"))
    if kind == "end_of_commitment":
        commitment_id = _number(text(form, "commitment_id"))
        if commitment_id is None:
            raise InvalidInput("Choose the commitment this assessment is about.", rule="R4.2", field="commitment_id")
        if plan is not None and commitment_id not in {x["id"] for x in plan["commitments"]}:
            # The handler would assess it within its own plan; the page said which plan it files for.
            raise InvalidInput(f"Commitment {commitment_id} is not in plan {plan['id']}.", rule="R4.2",
                               field="commitment_id")
        ratings = {"completion": text(form, "completion"), "early_results": text(form, "early_results")}
        return ratings, commitment_id, ()
    return {"summary": text(form, "summary"), "lessons": text(form, "lessons")}, None, ()


@router.post("/monitoring/members/{member_id:int}/{slug}", include_in_schema=False)
async def file(request: Request, member_id: int, slug: str) -> Response:
    who = monitoring_for(request, member_id)
    kind = _kind(slug)
    await check_csrf(request)
    form = await request.form()
    values: dict[str, Any] = form_values(form)
    values["unmet_requirements"] = form.getlist("unmet_requirements")
    brief = member_brief(request, member_id)
    try:
        plan_id = _plan_id(text(form, "plan"))
        plan = _plan_for(request, member_id, plan_id, brief)
    except InvalidInput as exc:
        return _refused_plan(request, who, brief, kind, exc)
    try:
        ratings, commitment_id, unmet = _ratings(kind, form, plan)
    except InvalidInput as exc:
        return _page(request, who, member_id, kind, plan_id=plan_id, values=values, refusal=exc.as_dict(),
                     status_code=400)
    command = c.FileAssessment(member_id=member_id, kind=kind, actor=who.actor, ratings=ratings,
                               commitment_id=commitment_id, unmet_requirements=unmet, plan_id=plan_id)
    _, refusal = run_use_case(request, handlers.file_assessment, command)
    if refusal is not None:
        return _page(request, who, member_id, kind, plan_id=plan_id, values=values, refusal=refusal,
                     status_code=refusal_status(refusal))
    return RedirectResponse(f"/monitoring/members/{member_id}?notice=assessment_filed", status_code=303)
