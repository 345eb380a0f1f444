"""Logging in and out: ``/api/session`` for programs and scripts, ``POST /login`` and ``/logout`` for forms."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse

from lifecycle import accounts, commands as c
from web.auth import SESSION_COOKIE, Principal, authenticate, principal_for, read_factory, session_csrf
from web.deps import access, principal, require_csrf, require_login, run
from web.schemas import DoneRead, LoginCreate, PrincipalRead, RoleRead, SessionRead

router = APIRouter(tags=["session"])


def principal_read(who: Principal) -> dict:
    return PrincipalRead(person_id=who.person_id, name=who.name, email=who.email, via=who.via,
                         roles=[RoleRead(role=g.role, member_id=g.member_id) for g in who.roles],
                         poc_member_ids=sorted(who.poc_member_ids),
                         monitored_member_ids=sorted(who.monitored_member_ids)).model_dump()


def _open_session(request: Request, email: str, password: str) -> tuple[accounts.LoginResult, Principal]:
    result = run(request, accounts.login, c.Login(email=email, password=password))
    from lifecycle.models import Person

    with read_factory(request.app)() as s:
        who = principal_for(s, s.get(Person, result.person_id), via="session")
    return result, who


def _set_cookie(request: Request, response, result: accounts.LoginResult) -> None:
    settings = request.app.state.settings
    max_age = max(1, int((result.expires_at - request.app.state.clock.now()).total_seconds()))
    response.set_cookie(SESSION_COOKIE, result.token, max_age=max_age, path="/", httponly=True, samesite="lax",
                        secure=settings.environment == "production")


def _end(request: Request, response) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        run(request, accounts.end_session, c.EndSession(token=token))
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


def safe_next(target: str | None) -> str:
    """Only a path of this site: never another host, scheme or a protocol-relative ``//host``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


# ---------------------------------------------------------------- the API


@router.post("/api/session", status_code=201, response_model=SessionRead, **access("public"))
def log_in(request: Request, body: LoginCreate) -> JSONResponse:
    """Log in with e-mail address and password; the session cookie ``ogp_session`` is set.

    Writes authenticated by this cookie send the returned ``csrf_token`` as ``X-CSRF-Token``.
    Programs should rather use an API token (``Authorization: Bearer …``).
    """
    result, who = _open_session(request, body.email, body.password)
    data = {**principal_read(who), "csrf_token": session_csrf(result.token),
            "expires_at": result.expires_at.to_iso8601_string()}
    response = JSONResponse(SessionRead.model_validate(data).model_dump(), status_code=201)
    _set_cookie(request, response, result)
    return response


@router.get("/api/session", response_model=PrincipalRead, **access("public"))
def who_am_i(who: Annotated[Principal, Depends(principal)]) -> dict:
    """Who the request is from: the person and roles of its token or session, or the public."""
    return principal_read(who)


@router.delete("/api/session", response_model=DoneRead, **access("login"))
def log_out(request: Request, who: Annotated[Principal, Depends(require_login)]) -> JSONResponse:
    """End the login session of the cookie (an API token stays valid until revoked)."""
    response = JSONResponse({"message": "logged out"})
    _end(request, response)
    return response


# ---------------------------------------------------------------- forms (the login page is web.pages')


@router.post("/login", include_in_schema=False, dependencies=[Depends(require_csrf)], **access("public"))
def log_in_form(request: Request, email: Annotated[str, Form(max_length=320)],
                password: Annotated[str, Form(max_length=1000)],
                next: Annotated[str, Form(max_length=2000)] = "/"):
    """The login form: to ``next`` (a path of this site) on success, back to ``/login?failed=1`` otherwise."""
    target = safe_next(next)
    try:
        result, _ = _open_session(request, email, password)
    except accounts.LoginFailed as exc:
        failed = "locked" if isinstance(exc, accounts.LoginThrottled) else "1"
        return RedirectResponse(f"/login?failed={failed}&next={quote(target)}", status_code=303)
    response = RedirectResponse(target, status_code=303)
    _set_cookie(request, response, result)
    return response


@router.post("/logout", include_in_schema=False, dependencies=[Depends(require_csrf)], **access("public"))
def log_out_form(request: Request):
    authenticate(request)
    response = RedirectResponse("/", status_code=303)
    _end(request, response)
    return response
