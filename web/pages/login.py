"""The login page; the form posts to the backbone's ``POST /login``."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from web.pages.access import current
from web.pages.rendering import render
from web.pages.routing import PageRoute

router = APIRouter(route_class=PageRoute)


def safe_next(value: str | None) -> str:
    """Only a path on this site: never another host (an open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


@router.get("/login", include_in_schema=False)
def login_page(request: Request) -> Response:
    q = request.query_params
    return render(request, "login.html", {"next_path": safe_next(q.get("next")), "error": bool(q.get("failed") or q.get("error")),
                                          "locked": q.get("failed") == "locked",
                                          "email": q.get("email", "")}, principal=current(request))
