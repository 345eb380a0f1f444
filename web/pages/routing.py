"""The pages' route class: refusals become pages (login redirect, 403, 404, 400), never JSON problems."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from fastapi import HTTPException
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from policies.errors import NotFound
from web.auth import CsrfRefused
from web.pages.access import Forbidden, LoginRequired, login_redirect
from web.pages.rendering import render

log = structlog.get_logger(__name__)


def error_page(request: Request, status: int, message: str) -> Response:
    from web.pages import i18n
    from web.pages.rendering import page_language

    t = i18n.translator(page_language(request))
    title = t(f"error.title_{status}") if t.has(f"error.title_{status}") else t("error.title")
    return render(request, "error.html", {"status": status, "title": title, "message": message},
                  status_code=status)


class PageRoute(APIRoute):
    """An APIRoute whose access refusals and missing records render as pages in the reader's language."""

    def get_route_handler(self) -> Callable:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            from web.pages import i18n
            from web.pages.rendering import page_language

            try:
                return await original(request)
            except LoginRequired as exc:
                return login_redirect(exc.next_path)
            except Forbidden as exc:
                t = i18n.translator(page_language(request))
                log.info("page_forbidden", path=request.url.path, reason=exc.message_key)
                return error_page(request, 403, t(exc.message_key, **exc.values))
            except NotFound as exc:
                return error_page(request, 404, exc.message)
            except CsrfRefused as exc:
                log.info("page_csrf_refused", path=request.url.path)
                return error_page(request, 403, exc.message)
            except HTTPException as exc:
                if exc.status_code in (400, 403, 404, 405, 409, 422):
                    return error_page(request, exc.status_code, str(exc.detail))
                raise

        return handler


def services(request: Request):
    """The session factory, clock and settings ``create_app`` put on the application."""
    state = request.app.state
    return state.session_factory, state.clock, state.settings


def reading(request: Request):
    """Like ``services``, with read-only sessions: on SQLite page reads never wait for a unit of work."""
    from web.auth import read_factory

    state = request.app.state
    return read_factory(request.app), state.clock, state.settings


def member_brief(request: Request, member_id: int) -> dict:
    """What the role pages (POC, monitoring body) show of one member, read in a read-only session."""
    from lifecycle import public

    factory, clock, _ = reading(request)
    with factory() as s:
        return public.member_brief(s, member_id, now=clock.now())


def role_home(request: Request, who, member_ids, area: str) -> Response:
    """The home of a role's area: the members that person acts for."""
    from lifecycle import public

    factory, _, _ = reading(request)
    with factory() as s:
        members = public.member_names(s, sorted(member_ids))
    return render(request, "staff/home.html", {"members": members, "area": area}, principal=who)
