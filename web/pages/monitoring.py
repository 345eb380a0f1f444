"""Pages of a member's monitoring body (§4): start assessment, end-of-commitment assessments, final learning report.

The forms offer exactly the scales of RULEBOOK §4 (``policies.vocabularies``); the handler
checks them again (``policies.assessments.check_ratings``) and refuses anything else.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from lifecycle import commands as c, handlers
from policies.assessments import COCREATION_REQUIREMENTS
from policies.errors import InvalidInput
from policies.vocabularies import COMPLETION_LEVELS, IMPACT_LEVELS, PUBLIC_INFLUENCE
from web.pages.access import Forbidden, check_csrf, monitoring_for, signed_in
from web.pages.actions import form_values, refusal_status, run_use_case, text
from web.pages.rendering import render
from web.pages.routing import PageRoute, member_brief, role_home

router = APIRouter(route_class=PageRoute)
KINDS = {"start": "start", "end-of-commitment": "end_of_commitment", "final-report": "final_report"}
YES_NO = {"yes": True, "no": False}


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
                                                 "notice": request.query_params.get("notice")}, principal=who)


def _page(request: Request, who, member_id: int, kind: str, *, values=None, refusal=None,
          status_code: int = 200) -> Response:
    brief = member_brief(request, member_id)
    initial = [x for x in brief["commitments"] if not x["replacement"] and x["state"] != "withdrawn"]
    return render(request, "staff/assessment.html", {
        **brief, "kind": kind, "slug": next(k for k, v in KINDS.items() if v == kind), "initial": initial,
        "values": values or {}, "refusal": refusal, "impact_levels": IMPACT_LEVELS,
        "influence_levels": PUBLIC_INFLUENCE, "completion_levels": COMPLETION_LEVELS,
        "requirements": COCREATION_REQUIREMENTS,
    }, status_code=status_code, principal=who)


def _kind(slug: str) -> str:
    from policies.errors import NotFound

    if slug not in KINDS:
        raise NotFound(f"There is no assessment form {slug!r}; use start, end-of-commitment or final-report.",
                       field="kind")
    return KINDS[slug]


@router.get("/monitoring/members/{member_id:int}/{slug}", include_in_schema=False)
def form_page(request: Request, member_id: int, slug: str) -> Response:
    who = monitoring_for(request, member_id)
    return _page(request, who, member_id, _kind(slug))


def _ratings(kind: str, form, initial: list[dict]) -> tuple[dict, int | None, tuple[str, ...]]:
    """The form's answers as the ratings ``check_ratings`` reads (R4.1–R4.3)."""
    if kind == "start":
        per_commitment = {}
        for x in initial:
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
        raw = text(form, "commitment_id")
        if not raw.isdigit():
            raise InvalidInput("Choose the commitment this assessment is about.", rule="R4.2", field="commitment_id")
        return {"completion": text(form, "completion"), "early_results": text(form, "early_results")}, int(raw), ()
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
    initial = [x for x in brief["commitments"] if not x["replacement"] and x["state"] != "withdrawn"]
    try:
        ratings, commitment_id, unmet = _ratings(kind, form, initial)
    except InvalidInput as exc:
        return _page(request, who, member_id, kind, values=values, refusal=exc.as_dict(), status_code=400)
    command = c.FileAssessment(member_id=member_id, kind=kind, actor=who.actor, ratings=ratings,
                               commitment_id=commitment_id, unmet_requirements=unmet)
    _, refusal = run_use_case(request, handlers.file_assessment, command)
    if refusal is not None:
        return _page(request, who, member_id, kind, values=values, refusal=refusal, status_code=refusal_status(refusal))
    return RedirectResponse(f"/monitoring/members/{member_id}?notice=assessment_filed", status_code=303)
