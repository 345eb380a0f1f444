"""FastAPI dependencies: settings, clock, units of work, the principal and the role checks of RULEBOOK §0."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import Depends, Path, Request
from starlette.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from lifecycle.clock import Clock
from lifecycle.models import ActionPlan, Commitment, Meeting, Member, TrackerUpdate
from lifecycle.uow import UnitOfWork
from policies.errors import NotFound
from web.auth import (CSRF_FIELD, CSRF_HEADER, Forbidden, NotAuthenticated, Principal, authenticate, check_csrf,
                      read_factory)

MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


def clock(request: Request) -> Clock:
    return request.app.state.clock


def uow(request: Request) -> UnitOfWork:
    return UnitOfWork(request.app.state.session_factory)


def db(request: Request) -> Iterator[Session]:
    """A read-only session for the request (see ``web.auth.read_factory``)."""
    with read_factory(request.app)() as session:
        yield session


def run(request: Request, handler, command):
    """Call one use case of ``lifecycle`` with a fresh unit of work and the app's clock."""
    return handler(command, uow=uow(request), clock=request.app.state.clock)


def principal(request: Request) -> Principal:
    """The person asking (bearer token or session cookie), or the public."""
    return authenticate(request)


def require_login(request: Request) -> Principal:
    who = authenticate(request)
    if not who.is_authenticated:
        if getattr(request.state, "bad_credentials", False):
            raise NotAuthenticated("This API token is not valid (unknown or revoked).", field="Authorization",
                                   hint="Create a new one with `ogp-lifecycle account token create`.")
        raise NotAuthenticated("Log in first, or send an API token as `Authorization: Bearer …`.",
                               field="Authorization")
    return who


async def _submitted_csrf(request: Request) -> str | None:
    """The CSRF token a request carries: the ``X-CSRF-Token`` header, or the ``csrf_token`` form field."""
    submitted = request.headers.get(CSRF_HEADER)
    if not submitted and "form" in request.headers.get("content-type", ""):
        value = (await request.form()).get(CSRF_FIELD)  # parsed once; the route's Form fields reuse it
        submitted = value if isinstance(value, str) else None
    return submitted


async def require_csrf(request: Request) -> None:
    """For form posts: the ``csrf_token`` field (or the ``X-CSRF-Token`` header) matches this browser's token.

    Requests authenticated by an API bearer token are not exposed to cross-site forgery and pass.
    """
    who = await run_in_threadpool(authenticate, request)
    if who.via != "token":
        check_csrf(request, await _submitted_csrf(request))


async def _csrf_of_session(request: Request) -> None:
    # Only a write riding on the session cookie can be forged by another site; the public is refused
    # by require_login afterwards with 401, and API tokens are not sent by browsers on their own.
    who = await run_in_threadpool(authenticate, request)
    if who.via == "session":
        check_csrf(request, await _submitted_csrf(request))


def require_writer(request: Request, _csrf: Annotated[None, Depends(_csrf_of_session)]) -> Principal:
    """A logged-in person; a write authenticated by the session cookie also carries its CSRF token
    (``X-CSRF-Token`` header from scripts, ``csrf_token`` field from forms)."""
    return require_login(request)


Writer = Annotated[Principal, Depends(require_writer)]
Viewer = Annotated[Principal, Depends(principal)]


def require_support_unit(who: Writer) -> Principal:
    if not who.is_support_unit:
        raise Forbidden("Only the Support Unit may do this.", role="support_unit")
    return who


def read_support_unit(who: Annotated[Principal, Depends(require_login)]) -> Principal:
    if not who.is_support_unit:
        raise Forbidden("Only the Support Unit may see this.", role="support_unit")
    return who


def read_audit(who: Annotated[Principal, Depends(require_login)]) -> Principal:
    """The full history export and its verification: auditors and the Support Unit."""
    if not (who.is_support_unit or who.is_auditor):
        raise Forbidden("Only an auditor or the Support Unit may do this.", role="auditor")
    return who


def _poc_of(who: Principal, member_id: int) -> Principal:
    if not who.can_act_for_member(member_id):
        raise Forbidden(f"Only the point of contact of member {member_id} (or the Support Unit) may do this.",
                        role="poc")
    return who


def _get(session: Session, model, ident: int, what: str):
    row = session.get(model, ident)
    if row is None:
        raise NotFound(f"There is no {what} {ident}.", field="id")
    return row


def act_for_member(request: Request, who: Writer, member_id: Id) -> Principal:
    """The point of contact of this member (or of a joint plan's partner, R3.13), or the Support Unit."""
    if not who.is_support_unit:
        with read_factory(request.app)() as s:
            _get(s, Member, member_id, "member")
    return _poc_of(who, member_id)


def act_for_commitment(request: Request, who: Writer, commitment_id: Id) -> Principal:
    with read_factory(request.app)() as s:
        member_id = _get(s, Commitment, commitment_id, "commitment").member_id
    return _poc_of(who, member_id)


def monitor_member(request: Request, who: Writer, member_id: Id) -> Principal:
    """The monitoring body of this member's plan (R4.0), or the Support Unit."""
    if not who.can_monitor_member(member_id):
        raise Forbidden(f"Only the monitoring body of member {member_id} (or the Support Unit) may do this.",
                        role="monitoring_body")
    return who


def raise_concern(request: Request, who: Writer, member_id: Id) -> Principal:
    """R6.6: a concern comes from the member's non-governmental stakeholders, or the Support Unit records it."""
    if not (who.is_support_unit or member_id in who.stakeholder_member_ids):
        raise Forbidden(f"Only a non-governmental stakeholder of member {member_id} (or the Support Unit) may "
                        "report a civic-space concern.", role="stakeholder")
    return who


EVIDENCE_SUBJECTS = {"member": Member, "commitment": Commitment, "meeting": Meeting, "plan": ActionPlan,
                     "tracker_update": TrackerUpdate}


def member_of_subject(session: Session, subject_type: str, subject_id: int) -> int:
    model = EVIDENCE_SUBJECTS[subject_type]
    row = _get(session, model, subject_id, subject_type.replace("_", " "))
    return row.id if model is Member else row.member_id


SubjectType = Literal["member", "commitment", "meeting", "plan", "tracker_update"]


def act_for_subject(request: Request, who: Writer, subject_type: Annotated[SubjectType, Path()],
                    subject_id: Id) -> Principal:
    """Evidence (R8.3) is attached by the point of contact of the member the subject belongs to."""
    with read_factory(request.app)() as s:
        member_id = member_of_subject(s, subject_type, subject_id)
    return _poc_of(who, member_id)


def access(kind: str) -> dict:
    """Route options naming who may call it (``x-access`` in the OpenAPI document; the tests enumerate it)."""
    return {"openapi_extra": {"x-access": kind}}
