"""Pages of a member's point of contact (RULEBOOK §0): tracker updates, meetings, voluntary inactivity, deadlines, letters.

A POC sees and acts for its own member and the partners of a joint plan (R3.13); the
Support Unit may open these pages for any member. Every form posts with a CSRF token and
calls the same handler as the CLI.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from lifecycle import commands as c, handlers
from policies.errors import InvalidInput
from policies.vocabularies import EVIDENCE_KINDS, MEETING_PHASES, MILESTONE_STATUSES
from web.pages.access import Forbidden, check_csrf, poc_for, signed_in
from web.pages.actions import form_values, refusal_status, run_use_case, text
from web.pages.rendering import render
from web.pages.routing import PageRoute, member_brief, role_home

router = APIRouter(route_class=PageRoute)
MAX_LINKS = 20


@router.get("/poc", include_in_schema=False)
def home(request: Request) -> Response:
    who = signed_in(request)
    if not (who.poc_member_ids or who.is_support_unit):
        raise Forbidden("error.forbidden_poc_role")
    return role_home(request, who, who.poc_member_ids, "poc")


@router.get("/poc/members/{member_id:int}", include_in_schema=False)
def member(request: Request, member_id: int) -> Response:
    who = poc_for(request, member_id)
    brief = member_brief(request, member_id)  # its requests say whether it consulted, and any decision's reason
    return render(request, "staff/member.html", {**brief, "cases": [], "area": "poc",
                                                 "notice": request.query_params.get("notice")}, principal=who)


def links(raw: str, *, field: str = "evidence") -> list[str]:
    """One web link per line (R8.3); refused before anything is written when one is not http(s)."""
    found = [line.strip() for line in raw.splitlines() if line.strip()]
    if len(found) > MAX_LINKS:
        raise InvalidInput(f"At most {MAX_LINKS} evidence links at once.", rule="R8.3", field=field)
    for url in found:
        if not url.startswith(("http://", "https://")) or " " in url:
            raise InvalidInput(f"{url!r} is not a web link (http or https).", rule="R8.3", field=field)
    return found


def _evidence_kind(form) -> str:
    kind = text(form, "evidence_kind") or "other"
    if kind not in EVIDENCE_KINDS:
        raise InvalidInput(f"Unknown evidence kind {kind!r}; see the list of R8.3.", rule="R8.3", field="evidence_kind")
    return kind


# ---------------------------------------------------------------- quarterly tracker update (R4.4)


def _tracker_page(request: Request, who, member_id: int, *, values=None, refusal=None, status_code=200) -> Response:
    brief = member_brief(request, member_id)
    return render(request, "staff/tracker.html", {
        **brief, "values": values or {}, "refusal": refusal, "statuses": MILESTONE_STATUSES,
        "evidence_kinds": EVIDENCE_KINDS,
    }, status_code=status_code, principal=who)


@router.get("/poc/members/{member_id:int}/tracker", include_in_schema=False)
def tracker_form(request: Request, member_id: int) -> Response:
    who = poc_for(request, member_id)
    return _tracker_page(request, who, member_id)


@router.post("/poc/members/{member_id:int}/tracker", include_in_schema=False)
async def tracker_post(request: Request, member_id: int) -> Response:
    who = poc_for(request, member_id)
    await check_csrf(request)
    form = await request.form()
    values = form_values(form)
    brief = member_brief(request, member_id)
    try:
        evidence = links(text(form, "evidence"))
        kind = _evidence_kind(form)
    except InvalidInput as exc:
        return _tracker_page(request, who, member_id, values=values, refusal=exc.as_dict(), status_code=400)
    changes = []
    for commitment in brief["commitments"]:
        for milestone in commitment["milestones"]:
            status = text(form, f"status-{milestone['id']}")
            if status and status != milestone["status"]:
                changes.append(c.MilestoneChange(milestone_id=milestone["id"], status=status,
                                                 delay_reason=text(form, f"delay-{milestone['id']}") or None))
    command = c.RecordTrackerUpdate(member_id=member_id, narrative=text(form, "narrative"), actor=who.actor,
                                    changes=tuple(changes))
    update_id, refusal = run_use_case(request, handlers.record_tracker_update, command)
    if refusal is not None:
        return _tracker_page(request, who, member_id, values=values, refusal=refusal,
                             status_code=refusal_status(refusal))
    # The links were checked above, so attaching them cannot be refused after the update is filed.
    for url in evidence:
        run_use_case(request, handlers.add_evidence, c.AddEvidence(
            subject_type="tracker_update", subject_id=update_id, kind=kind, url=url, actor=who.actor))
    return RedirectResponse(f"/poc/members/{member_id}?notice=update_filed", status_code=303)


# ---------------------------------------------------------------- meetings (R3.11)


def _meeting_page(request: Request, who, member_id: int, *, values=None, refusal=None, status_code=200) -> Response:
    brief = member_brief(request, member_id)
    return render(request, "staff/meeting.html", {**brief, "values": values or {}, "refusal": refusal,
                                                  "phases": MEETING_PHASES}, status_code=status_code, principal=who)


@router.get("/poc/members/{member_id:int}/meeting", include_in_schema=False)
def meeting_form(request: Request, member_id: int) -> Response:
    who = poc_for(request, member_id)
    return _meeting_page(request, who, member_id)


def _count(form, name: str) -> int:
    raw = text(form, name)
    if not raw.isdigit():
        raise InvalidInput(f"{name} is a whole number of people; got {raw!r}.", rule="R3.11", field=name)
    return int(raw)


@router.post("/poc/members/{member_id:int}/meeting", include_in_schema=False)
async def meeting_post(request: Request, member_id: int) -> Response:
    who = poc_for(request, member_id)
    await check_csrf(request)
    form = await request.form()
    values = form_values(form)
    try:
        try:
            held_on = dt.date.fromisoformat(text(form, "held_on"))
        except ValueError:
            raise InvalidInput("held_on is a date written YYYY-MM-DD.", rule="R3.11", field="held_on") from None
        command = c.RecordMeeting(member_id=member_id, phase=text(form, "phase"), held_on=held_on,
                                  government_participants=_count(form, "government_participants"),
                                  non_governmental_participants=_count(form, "non_governmental_participants"),
                                  actor=who.actor, description=text(form, "description"),
                                  evidence=tuple(links(text(form, "evidence"))))
    except InvalidInput as exc:
        return _meeting_page(request, who, member_id, values=values, refusal=exc.as_dict(), status_code=400)
    _, refusal = run_use_case(request, handlers.record_meeting, command)
    if refusal is not None:
        return _meeting_page(request, who, member_id, values=values, refusal=refusal,
                             status_code=refusal_status(refusal))
    return RedirectResponse(f"/poc/members/{member_id}?notice=meeting_recorded", status_code=303)


# ---------------------------------------------------------------- voluntary inactivity (R5.5)


def _inactivity_page(request: Request, who, member_id: int, *, values=None, refusal=None,
                     status_code=200) -> Response:
    brief = member_brief(request, member_id)
    return render(request, "staff/inactivity.html", {**brief, "values": values or {}, "refusal": refusal},
                  status_code=status_code, principal=who)


@router.get("/poc/members/{member_id:int}/inactivity", include_in_schema=False)
def inactivity_form(request: Request, member_id: int) -> Response:
    who = poc_for(request, member_id)
    return _inactivity_page(request, who, member_id)


@router.post("/poc/members/{member_id:int}/inactivity", include_in_schema=False)
async def inactivity_post(request: Request, member_id: int) -> Response:
    who = poc_for(request, member_id)
    await check_csrf(request)
    form = await request.form()
    values = form_values(form)
    command = c.RequestVoluntaryInactivity(member_id=member_id, reason=text(form, "reason"),
                                           stakeholders_consulted=form.get("stakeholders_consulted") == "yes",
                                           actor=who.actor)
    _, refusal = run_use_case(request, handlers.request_voluntary_inactivity, command)
    if refusal is not None:
        return _inactivity_page(request, who, member_id, values=values, refusal=refusal,
                                status_code=refusal_status(refusal))
    # R5.5: consulting is recommended, not required; a request sent without it comes back with the reminder.
    notice = "inactivity_requested" if command.stakeholders_consulted else "inactivity_requested_unconsulted"
    return RedirectResponse(f"/poc/members/{member_id}?notice={notice}", status_code=303)
