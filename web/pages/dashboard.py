"""The Support Unit's dashboard: deadlines, letters, members by state, decisions and moderation.

Every decision is two steps: a GET page that says what will happen and asks for the
reason, then a CSRF-protected POST that calls the same handler as the CLI. A refusal is
shown on the confirmation page with its rule ID and sentence; nothing was changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from lifecycle import commands as c, comments, concerns, handlers, public
from lifecycle.models import Comment, ConcernCase, InactivityRequest, Jurisdiction, Member, TrackerUpdate
from policies.errors import InvalidInput, NotFound
from policies.machines import MEMBER_TRANSITIONS
from policies.vocabularies import LOS_POINTS
from web.pages.access import check_csrf, support_unit
from web.pages.actions import refusal_status, run_use_case, text
from web.pages.rendering import render
from web.pages.routing import PageRoute, error_page, reading, services

router = APIRouter(route_class=PageRoute)


@dataclass(frozen=True)
class FormField:
    name: str
    kind: str  # text | textarea | date | checkboxes | select | checkbox (one, sent as "yes")
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Action:
    """One decision of the Support Unit: its subject, its form, the handler it calls."""

    name: str
    subject: str  # members | inactivity-requests | concerns
    rule: str
    fields: tuple[FormField, ...]
    handler: Callable
    command: Callable[[int, Any, str], Any]
    danger: bool = False


def _date(form, name: str) -> dt.date:
    raw = text(form, name)
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{name} is a date written YYYY-MM-DD; got {raw!r}.", rule="R5.1", field=name) from None


# The Support Unit's status actions, each with a rule it may cite (R2.5-R2.11), as one choice: "trigger rule".
STATUS_CHANGES: tuple[str, ...] = tuple(f"{trigger} {rule}" for trigger, rules in handlers.SUPPORT_UNIT_TRIGGERS.items()
                                        for rule in rules)


def status_changes_from(state: str) -> tuple[str, ...]:
    """The status actions the transition table allows from ``state``; all when none does (the handler says why)."""
    possible = {row.trigger for row in MEMBER_TRANSITIONS if state in row.source}
    found = tuple(choice for choice in STATUS_CHANGES if choice.split(" ")[0] in possible)
    return found or STATUS_CHANGES


def _apply_status(ident: int, form, actor: str) -> c.ApplyStatus:
    """D14: the status action as chosen; ``override`` takes it although its rule does not hold yet."""
    choice = text(form, "status_change")
    if choice not in STATUS_CHANGES:
        raise InvalidInput("Choose a status action and the rule that justifies it.", field="status_change")
    trigger, rule = choice.split(" ")
    return c.ApplyStatus(member_id=ident, trigger=trigger, rule=rule, actor=actor, reason=text(form, "reason"),
                         override=form.get("override") == "yes")


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("accept", "members", "R2.1",
           (FormField("reason", "textarea"), FormField("notes", "textarea"),
            FormField("checklist", "checkboxes", choices=LOS_POINTS)),
           handlers.accept_application,
           lambda ident, form, actor: c.AcceptApplication(
               member_id=ident, actor=actor, reason=text(form, "reason") or None, notes=text(form, "notes") or None,
               checklist={point: point in form.getlist("checklist") for point in LOS_POINTS})),
    Action("reject", "members", "R2.2", (FormField("reason", "textarea", required=True),),
           handlers.reject_application,
           lambda ident, form, actor: c.RejectApplication(member_id=ident, actor=actor, reason=text(form, "reason")),
           danger=True),
    Action("extend", "members", "R5.1",
           (FormField("new_due", "date", required=True), FormField("reason", "textarea", required=True)),
           handlers.extend_first_plan_deadline,
           lambda ident, form, actor: c.ExtendFirstPlanDeadline(member_id=ident, new_due=_date(form, "new_due"),
                                                                actor=actor, reason=text(form, "reason"))),
    Action("open-concern", "members", "R6.6",
           (FormField("reported_by", "text", required=True), FormField("summary", "textarea", required=True)),
           concerns.open_case,
           lambda ident, form, actor: c.OpenConcernCase(member_id=ident, reported_by=text(form, "reported_by"),
                                                        summary=text(form, "summary"), actor=actor)),
    Action("approve", "inactivity-requests", "R5.5", (FormField("reason", "textarea"),),
           handlers.approve_voluntary_inactivity,
           lambda ident, form, actor: c.ApproveVoluntaryInactivity(request_id=ident, actor=actor,
                                                                   reason=text(form, "reason") or None)),
    Action("decline", "inactivity-requests", "R5.5", (FormField("reason", "textarea", required=True),),
           handlers.decline_voluntary_inactivity,
           lambda ident, form, actor: c.DeclineVoluntaryInactivity(request_id=ident, actor=actor,
                                                                   reason=text(form, "reason")),
           danger=True),
    Action("close", "concerns", "R6.6", (FormField("outcome", "textarea", required=True),),
           concerns.close_case,
           lambda ident, form, actor: c.CloseConcernCase(case_id=ident, outcome=text(form, "outcome"), actor=actor)),
    Action("status", "members", "D14",
           (FormField("status_change", "select", required=True, choices=STATUS_CHANGES),
            FormField("reason", "textarea", required=True), FormField("override", "checkbox")),
           handlers.apply_status, _apply_status, danger=True),
)}


def _member_of(request: Request, subject: str, ident: int) -> int:
    """The member an action's subject belongs to (NotFound when there is none)."""
    factory, _, _ = reading(request)
    model, what = {"members": (Member, "member"), "inactivity-requests": (InactivityRequest, "inactivity request"),
                   "concerns": (ConcernCase, "concern case")}[subject]
    with factory() as s:
        row = s.get(model, ident)
        if row is None:
            raise NotFound(f"There is no {what} {ident}.", field="id")
        return row.id if model is Member else row.member_id


def _subject_detail(request: Request, action: Action, ident: int) -> dict[str, Any]:
    factory, _, _ = reading(request)
    with factory() as s:
        if action.subject == "concerns":
            k = s.get(ConcernCase, ident)
            return {"case": {"id": k.id, "summary": k.summary, "reported_by": k.reported_by, "opened_at": k.opened_at,
                             "status": k.status}}
    return {}


@router.get("/dashboard", include_in_schema=False)
def dashboard(request: Request) -> Response:
    who = support_unit(request)
    factory, clock, _ = reading(request)
    with factory() as s:
        board = public.dashboard(s, now=clock.now())
        pending_comments = _pending_comments(s)
        cases = _open_cases(s)
    return render(request, "staff/dashboard.html", {
        "board": board, "comments": pending_comments, "cases": cases, "notice": request.query_params.get("notice"),
        "refusal": None,
    }, principal=who)


def _pending_comments(s) -> list[dict]:
    stmt = (select(Comment.id, Comment.member_id, Comment.tracker_update_id, Comment.author_name, Comment.body,
                   Comment.created_at, Jurisdiction.name, TrackerUpdate.quarter)
            .join(Member, Comment.member_id == Member.id).join(Jurisdiction, Member.jurisdiction_id == Jurisdiction.id)
            .join(TrackerUpdate, Comment.tracker_update_id == TrackerUpdate.id)
            .where(Comment.status == "pending").order_by(Comment.id).limit(200))
    return [{"id": r[0], "member_id": r[1], "update_id": r[2], "author": r[3], "body": r[4], "created_at": r[5],
             "name": r[6], "quarter": r[7]} for r in s.execute(stmt)]


def _open_cases(s) -> list[dict]:
    stmt = (select(ConcernCase.id, ConcernCase.member_id, ConcernCase.reported_by, ConcernCase.summary,
                   ConcernCase.opened_at, Jurisdiction.name)
            .join(Member, ConcernCase.member_id == Member.id).join(Jurisdiction, Member.jurisdiction_id == Jurisdiction.id)
            .where(ConcernCase.status == "open").order_by(ConcernCase.opened_at, ConcernCase.id).limit(200))
    return [{"id": r[0], "member_id": r[1], "reported_by": r[2], "summary": r[3], "opened_at": r[4], "name": r[5]}
            for r in s.execute(stmt)]


@router.get("/dashboard/members", include_in_schema=False)
def find_member(request: Request) -> Response:
    """The dashboard's "open a member" form (works without JavaScript)."""
    support_unit(request)
    raw = (request.query_params.get("id") or "").strip()
    if not raw.isdigit():
        return error_page(request, 400, f"id is a member number; got {raw!r}. (id)")
    return RedirectResponse(f"/dashboard/members/{int(raw)}", status_code=303)


@router.get("/dashboard/members/{member_id:int}", include_in_schema=False)
def member(request: Request, member_id: int) -> Response:
    who = support_unit(request)
    factory, clock, _ = reading(request)
    with factory() as s:
        brief = public.member_brief(s, member_id, now=clock.now())
        cases = [k for k in _open_cases(s) if k["member_id"] == member_id]
    return render(request, "staff/member.html", {**brief, "cases": cases, "notice": request.query_params.get("notice"),
                                                 "area": "dashboard"}, principal=who)


def _action(name: str) -> Action:
    found = ACTIONS.get(name)
    if found is None:
        raise NotFound(f"There is no action {name!r}.", field="action")
    return found


def _confirm(request: Request, who, action: Action, ident: int, *, values=None, refusal=None,
             status_code: int = 200) -> Response:
    member_id = _member_of(request, action.subject, ident)
    factory, clock, _ = reading(request)
    with factory() as s:
        brief = public.member_brief(s, member_id, now=clock.now())
    # A select offers what applies to the member as it stands (the status actions from its state).
    choices = {f.name: status_changes_from(brief["member"].state) if f.name == "status_change" else f.choices
               for f in action.fields if f.kind == "select"}
    return render(request, "staff/confirm.html", {
        "action": action, "ident": ident, "brief": brief, "values": values or {}, "refusal": refusal,
        "choices": choices, "form_action": f"/dashboard/{action.subject}/{ident}/{action.name}",
        **_subject_detail(request, action, ident),
    }, status_code=status_code, principal=who)


@router.post("/dashboard/comments/{comment_id:int}/moderate", include_in_schema=False)
async def moderate(request: Request, comment_id: int) -> Response:
    """R8.2: approve or reject a comment from the queue (one click, CSRF-protected)."""
    who = support_unit(request)
    await check_csrf(request)
    form = await request.form()
    command = c.ModerateComment(comment_id=comment_id, decision=text(form, "decision"), actor=who.actor,
                                note=text(form, "note") or None)
    _, refusal = run_use_case(request, comments.moderate_comment, command)
    if refusal is not None:
        return _board_with_refusal(request, who, refusal)
    return RedirectResponse("/dashboard?notice=done#moderation", status_code=303)


@router.post("/dashboard/letters/{letter_id:int}/retry", include_in_schema=False)
async def retry_letter(request: Request, letter_id: int) -> Response:
    """R7.3: a failed letter goes back to pending and is sent now; a sent one is never sent twice."""
    from policies.errors import RuleViolation
    from workers.letters import delivery
    from workers.letters.transport import TemporaryDeliveryError, make_transport

    who = support_unit(request)
    await check_csrf(request)
    factory, clock, settings = services(request)
    try:
        delivery.retry(letter_id, session_factory=factory, transport=make_transport(settings), settings=settings,
                       clock=clock)
    except RuleViolation as exc:
        return _board_with_refusal(request, who, exc.as_dict())
    except TemporaryDeliveryError:
        return RedirectResponse("/dashboard?notice=letter_deferred#letters", status_code=303)
    return RedirectResponse("/dashboard?notice=letter_retried#letters", status_code=303)


def _board_with_refusal(request: Request, who, refusal: dict) -> Response:
    factory, clock, _ = reading(request)
    with factory() as s:
        board = public.dashboard(s, now=clock.now())
        pending_comments = _pending_comments(s)
        cases = _open_cases(s)
    return render(request, "staff/dashboard.html", {"board": board, "comments": pending_comments, "cases": cases,
                                                    "notice": None, "refusal": refusal},
                  status_code=refusal_status(refusal), principal=who)


# The generic action routes come last: Starlette matches in order, and the fixed paths above must win.


@router.get("/dashboard/{subject}/{ident:int}/{name}", include_in_schema=False)
def confirm(request: Request, subject: str, ident: int, name: str) -> Response:
    who = support_unit(request)
    action = _action(name)
    if action.subject != subject:
        raise NotFound(f"There is no action {name!r} on {subject}.", field="action")
    return _confirm(request, who, action, ident)


@router.post("/dashboard/{subject}/{ident:int}/{name}", include_in_schema=False)
async def perform(request: Request, subject: str, ident: int, name: str) -> Response:
    who = support_unit(request)
    await check_csrf(request)
    action = _action(name)
    if action.subject != subject:
        raise NotFound(f"There is no action {name!r} on {subject}.", field="action")
    member_id = _member_of(request, subject, ident)
    form = await request.form()
    values = {f.name: (form.getlist(f.name) if f.kind == "checkboxes" else text(form, f.name)) for f in action.fields}
    try:
        command = action.command(ident, form, who.actor)
    except InvalidInput as exc:
        return _confirm(request, who, action, ident, values=values, refusal=exc.as_dict(), status_code=400)
    _, refusal = run_use_case(request, action.handler, command)
    if refusal is not None:
        return _confirm(request, who, action, ident, values=values, refusal=refusal,
                        status_code=refusal_status(refusal))
    return RedirectResponse(f"/dashboard/members/{member_id}?notice=done", status_code=303)
