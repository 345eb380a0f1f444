"""Refusals as RFC 9457 problem responses (``application/problem+json``), from one table.

Every typed error of ``policies.errors`` (and the web's own access errors) maps to a status,
a title and a problem type; the body carries the rule ID, the field at fault, the hint and,
for several refusals at once, each of them. A bare ``ValueError`` is never mapped: it is a
bug, and it stays a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from lifecycle.accounts import LoginFailed, LoginThrottled
from policies.errors import InvalidInput, NotFound, Refusals, RuleViolation, TriggerNotAllowed
from web.auth import CsrfRefused, Forbidden, NotAuthenticated

log = structlog.get_logger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "/problems/"


class ProblemItem(BaseModel):
    rule: str | None = None
    field: str | None = None
    detail: str
    hint: str | None = None


class Problem(BaseModel):
    """An RFC 9457 problem, with the rulebook's rule ID and the input field at fault."""

    type: str = Field(description="URI reference naming the kind of problem")
    title: str
    status: int
    detail: str
    instance: str | None = Field(default=None, description="the request path")
    rule: str | None = Field(default=None, description="rulebook rule ID, e.g. R3.1 (§0 for access rules)")
    field: str | None = Field(default=None, description="the input field at fault")
    hint: str | None = None
    role: str | None = Field(default=None, description="the role the action needs (403)")
    violations: list[ProblemItem] | None = Field(default=None, description="every rule not met (Refusals)")


@dataclass(frozen=True)
class Kind:
    status: int
    title: str
    slug: str


# Most specific first: the first class an error is an instance of decides.
TABLE: list[tuple[type[Exception], Kind]] = [
    (LoginThrottled, Kind(429, "Too many failed logins", "login-throttled")),
    (LoginFailed, Kind(401, "Login failed", "login-failed")),
    (NotAuthenticated, Kind(401, "Not logged in", "not-authenticated")),
    (Forbidden, Kind(403, "Not allowed for your role", "forbidden")),
    (CsrfRefused, Kind(403, "Form token missing or wrong", "csrf")),
    (NotFound, Kind(404, "Not found", "not-found")),
    (Refusals, Kind(422, "Several rules are not met", "refusals")),
    (TriggerNotAllowed, Kind(409, "Not possible in the current state", "trigger-not-allowed")),
    (InvalidInput, Kind(422, "Invalid input", "invalid-input")),
    (RuleViolation, Kind(422, "A rule is not met", "rule-violation")),
    (DataError, Kind(422, "A value does not fit", "data-error")),
]
VALIDATION = Kind(422, "Invalid request", "validation")
# Every status a problem can have, for the OpenAPI documentation of each operation.
STATUSES = sorted({k.status for _, k in TABLE} | {400, 404, 405, VALIDATION.status})


def kind_of(exc: Exception) -> Kind | None:
    for cls, kind in TABLE:
        if isinstance(exc, cls):
            return kind
    return None


def problem_body(exc: Exception, kind: Kind, instance: str) -> dict[str, Any]:
    body: dict[str, Any] = {"type": TYPE_BASE + kind.slug, "title": kind.title, "status": kind.status,
                            "instance": instance}
    if isinstance(exc, RuleViolation):
        body.update(detail=exc.message, rule=exc.rule or None, field=exc.field, hint=exc.hint)
        if isinstance(exc, Forbidden):
            body["role"] = exc.role
        if isinstance(exc, Refusals):
            body["violations"] = [{"rule": v.rule or None, "field": v.field, "detail": v.message, "hint": v.hint}
                                  for v in exc.violations]
    else:  # DataError: a value the database cannot hold (too long, out of range)
        body.update(detail="A value is too long or out of range for what it is stored in.", rule=None)
    return {k: v for k, v in body.items() if v is not None}


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=body["status"], media_type=MEDIA_TYPE, headers=headers)


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith("/api") and "text/html" in request.headers.get("accept", "")


async def _on_error(request: Request, exc: Exception):
    kind = kind_of(exc)
    if kind is None:  # not ours to map: let it be a server error
        raise exc
    if isinstance(exc, NotAuthenticated) and _wants_page(request) and request.method == "GET":
        # A browser sent to a page that needs a login goes to the login page, then back.
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    body = problem_body(exc, kind, request.url.path)
    log.info("request_refused", path=request.url.path, status=kind.status, rule=body.get("rule"),
             field=body.get("field"), problem=kind.slug)
    headers = {"WWW-Authenticate": 'Bearer realm="ogp-lifecycle"'} if kind.status == 401 else None
    return problem_response(body, headers)


async def _on_validation(request: Request, exc: RequestValidationError):
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"] if p not in ("body",)) or None
    more = f" ({len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    body = {"type": TYPE_BASE + VALIDATION.slug, "title": VALIDATION.title, "status": VALIDATION.status,
            "detail": f"{where or 'request'}: {first['msg']}{more}.", "instance": request.url.path,
            "violations": [{"field": ".".join(str(p) for p in e["loc"] if p != "body") or None, "detail": e["msg"]}
                           for e in errors[:20]]}
    if where:
        body["field"] = where
    return problem_response(body)


async def _on_http(request: Request, exc: StarletteHTTPException):
    if exc.status_code < 400:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
    title = {404: "Not found", 405: "Method not allowed", 400: "Bad request"}.get(exc.status_code, "Error")
    body = {"type": "about:blank", "title": title, "status": exc.status_code, "detail": str(exc.detail),
            "instance": request.url.path}
    return problem_response(body, exc.headers)


async def _on_bug(request: Request, exc: Exception):
    # A bug, not a refusal: still a 500, but logged with its traceback and answered as a problem.
    log.error("request_failed", path=request.url.path, method=request.method, exc_info=exc)
    return problem_response({"type": "about:blank", "title": "Internal error", "status": 500,
                             "detail": "The server could not complete this request; the error was logged.",
                             "instance": request.url.path})


def install(app: FastAPI) -> None:
    for cls, _ in TABLE:
        app.add_exception_handler(cls, _on_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_bug)


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Every 4xx of every operation is documented as ``application/problem+json`` with the Problem schema."""
    ref = {"$ref": "#/components/schemas/Problem"}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status in STATUSES:
                entry = operation["responses"].setdefault(str(status), {"description": f"Problem ({status})"})
                entry["content"] = {MEDIA_TYPE: {"schema": ref}}
    schema.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
    schema.get("components", {}).get("schemas", {}).pop("ValidationError", None)
    return schema
