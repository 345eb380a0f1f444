"""Public pages (R8.1, R8.2): the list of members, one member's status, open-data exports and iCal feeds."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from sqlalchemy import select

from lifecycle import commands as c, comments, public
from lifecycle.exports import MEDIA_TYPES, text_chunks
from lifecycle.models import TrackerUpdate
from policies.errors import InvalidInput
from web.pages import i18n
from web.pages.access import check_csrf, current
from web.pages.actions import run_use_case, text
from web.pages.ical import calendar
from web.pages.rendering import page_language, render, rule_title
from web.pages.routing import PageRoute, error_page, reading

router = APIRouter(route_class=PageRoute)


def _int_param(request: Request, name: str, default: int, *, low: int = 1, high: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} is a whole number; got {raw!r}.", field=name) from None
    if value < low or (high is not None and value > high):
        raise InvalidInput(f"{name} is between {low} and {high}; got {value}.", field=name)
    return value


def _filters(request: Request) -> tuple[str | None, str | None]:
    country = (request.query_params.get("country") or "").strip() or None
    state = (request.query_params.get("state") or "").strip() or None
    if state is not None and state not in public.STATES:
        raise InvalidInput(f"state is one of {', '.join(public.STATES)}; got {state!r}.", field="state")
    return country, state


@router.get("/", include_in_schema=False)
@router.get("/members", include_in_schema=False)
def members(request: Request) -> Response:
    factory, clock, _ = reading(request)
    try:
        country, state = _filters(request)
        page = _int_param(request, "page", 1)
        per_page = _int_param(request, "per_page", public.PER_PAGE, high=public.MAX_PER_PAGE)
    except InvalidInput as exc:
        return error_page(request, 400, f"{exc.message} ({exc.field})")
    with factory() as s:
        listing = public.list_members(s, now=clock.now(), country=country, state=state, page=page, per_page=per_page)
        countries = public.countries(s)
    return render(request, "public/members.html", {
        "listing": listing, "countries": countries, "states": public.STATES, "country": country, "state": state,
        "per_page": per_page,
    }, principal=current(request))


@router.get("/members/{member_id:int}", include_in_schema=False)
def member(request: Request, member_id: int) -> Response:
    factory, clock, _ = reading(request)
    with factory() as s:
        data = public.member_page(s, member_id, now=clock.now())
    notice = request.query_params.get("notice")
    return render(request, "public/member.html", {**data, "notice": notice},
                  principal=current(request))


@router.post("/members/{member_id:int}/updates/{update_id:int}/comments", include_in_schema=False)
async def post_comment(request: Request, member_id: int, update_id: int) -> Response:
    """R8.2: anyone may comment on a progress update; the comment waits for moderation."""
    await check_csrf(request)
    form = await request.form()
    factory, clock, _ = reading(request)
    with factory() as s:
        owner = s.scalar(select(TrackerUpdate.member_id).where(TrackerUpdate.id == update_id))
    if owner != member_id:
        return error_page(request, 404, f"Member {member_id} has no tracker update {update_id}.")
    command = c.PostComment(tracker_update_id=update_id, author_name=text(form, "author_name"),
                            body=text(form, "body"), author_email=text(form, "author_email") or None)
    _, refusal = run_use_case(request, comments.post_comment, command)
    if refusal is not None:
        with factory() as s:
            data = public.member_page(s, member_id, now=clock.now())
        return render(request, "public/member.html", {
            **data, "notice": None, "refusal": refusal,
            "comment_form": {"update_id": update_id, "author_name": text(form, "author_name"),
                             "body": text(form, "body")},
        }, status_code=400, principal=current(request))
    return RedirectResponse(f"/members/{member_id}?notice=comment_received#update-{update_id}", status_code=303)


# ---------------------------------------------------------------- open data


def _export(rows: Iterator[dict], fmt: str, fields: tuple[str, ...], filename: str) -> StreamingResponse:
    headers = {"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"}
    return StreamingResponse(text_chunks(rows, fmt, fields), media_type=MEDIA_TYPES[fmt], headers=headers)


@router.get("/exports/members.{fmt}", include_in_schema=False)
def export_members(request: Request, fmt: str) -> Response:
    if fmt not in ("csv", "json"):
        return error_page(request, 404, "Exports are members.csv and members.json.")
    factory, clock, _ = reading(request)
    try:
        country, state = _filters(request)
    except InvalidInput as exc:
        return error_page(request, 400, f"{exc.message} ({exc.field})")
    return _export(public.iter_member_export(factory, now=clock.now(), country=country, state=state), fmt,
                   public.MEMBER_EXPORT_FIELDS, f"members.{fmt}")


@router.get("/exports/history.{fmt}", include_in_schema=False)
def export_history(request: Request, fmt: str) -> Response:
    from lifecycle.audit import EXPORT_FIELDS

    if fmt not in ("csv", "json"):
        return error_page(request, 404, "Exports are history.csv and history.json.")
    factory, _, _ = reading(request)
    try:
        member_id = _int_param(request, "member", 0, low=1) or None
    except InvalidInput as exc:
        return error_page(request, 400, f"{exc.message} ({exc.field})")
    return _export(public.iter_history_export(factory, member_id=member_id), fmt, EXPORT_FIELDS, f"history.{fmt}")


@router.get("/exports", include_in_schema=False)
def exports(request: Request) -> Response:
    return render(request, "public/exports.html", {}, principal=current(request))


@router.get("/members/{member_id:int}/deadlines.ics", include_in_schema=False)
def deadlines_ics(request: Request, member_id: int) -> Response:
    factory, clock, settings = reading(request)
    t = i18n.translator(page_language(request))
    with factory() as s:
        member, deadlines = public.pending_deadlines(s, member_id)
    base = str(request.base_url).rstrip("/")
    events = [
        {"uid_key": f"deadline-{d['id']}", "due_on": d["due_on"],
         "summary": f"{member.name}: {t.maybe('deadline', d['kind'])} ({d['rule_id']} {rule_title(t, d['rule_id'])})",
         "description": t("ics.description", rule=d["rule_id"], title=rule_title(t, d["rule_id"]), name=member.name),
         "url": f"{base}/members/{member.id}"}
        for d in deadlines
    ]
    body = calendar(name=f"{member.name} — OGP Local", events=events, now=clock.now(),
                    domain=getattr(settings, "mail_domain", "ogplocal.example"))
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'inline; filename="member-{member.id}-deadlines.ics"'})
