"""Who is reading a page, and what they may do: the backbone's principal and CSRF token, as the pages use them.

Protected pages send an anonymous reader to the login page (and back afterwards); a
signed-in reader without the role gets a 403 page that says which role is needed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse

from web.auth import CSRF_FIELD, Principal, authenticate, check_csrf as _check_csrf, csrf_token


class LoginRequired(Exception):
    """Raised when an anonymous reader opens a page that needs a signed-in person."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class Forbidden(Exception):
    """Raised when the signed-in person has no role that allows the page or the action."""

    def __init__(self, message_key: str, **values: Any) -> None:
        super().__init__(message_key)
        self.message_key = message_key
        self.values = values


def current(request: Request) -> Principal:
    """The principal of this request: a signed-in person (session cookie or token), or the public."""
    return authenticate(request)


def signed_in(request: Request) -> Principal:
    p = current(request)
    if not p.is_authenticated:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return p


def support_unit(request: Request) -> Principal:
    p = signed_in(request)
    if not p.is_support_unit:
        raise Forbidden("error.forbidden_support_unit")
    return p


def poc_for(request: Request, member_id: int) -> Principal:
    p = signed_in(request)
    if not p.can_act_for_member(member_id):
        raise Forbidden("error.forbidden_poc", member_id=member_id)
    return p


def monitoring_for(request: Request, member_id: int) -> Principal:
    p = signed_in(request)
    if not p.can_monitor_member(member_id):
        raise Forbidden("error.forbidden_monitoring", member_id=member_id)
    return p


def login_redirect(next_path: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(next_path, safe='/')}", status_code=303)


def csrf_field_value(request: Request) -> str:
    """The token that this reader's forms carry in their ``csrf_token`` field."""
    return csrf_token(request)


async def check_csrf(request: Request) -> None:
    """Refuse a form whose ``csrf_token`` is missing or not this reader's (CsrfRefused, nothing changed)."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    _check_csrf(request, sent if isinstance(sent, str) else None)
