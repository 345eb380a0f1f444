"""Civic-space concern cases (R6.6): reported by a member's stakeholders, handled by the Support Unit."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from lifecycle import commands as c, concerns, queries
from web.auth import Principal, read_factory
from web.deps import Id, access, db, raise_concern, read_audit, require_support_unit, run
from web.schemas import ConcernCaseCreate, ConcernCaseRead, ConcernClosureCreate, CreatedRead

router = APIRouter(tags=["concern cases"])
Db = Annotated[Session, Depends(db)]
Reader = Annotated[Principal, Depends(read_audit)]


@router.get("/concern-cases", response_model=list[ConcernCaseRead], **access("auditor"))
def list_cases(session: Db, who: Reader, status: Literal["open", "closed", "all"] = "all",
               member_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> list[dict]:
    """Concern cases, oldest first (the Support Unit and auditors: reporters may be at risk)."""
    return queries.list_concern_cases(session, member_id=member_id, status=None if status == "all" else status)


@router.get("/concern-cases/{case_id}", response_model=ConcernCaseRead, **access("auditor"))
def show_case(case_id: Id, session: Db, who: Reader) -> dict:
    return queries.concern_case_detail(session, case_id)


@router.post("/members/{member_id}/concern-cases", status_code=201, response_model=CreatedRead,
             **access("stakeholder"))
def open_case(request: Request, member_id: Id, body: ConcernCaseCreate,
              who: Annotated[Principal, Depends(raise_concern)]) -> CreatedRead:
    """Open a concern case on a report of gross civic-space violations (R6.6)."""
    ident = run(request, concerns.open_case, c.OpenConcernCase(member_id=member_id, reported_by=body.reported_by,
                                                               summary=body.summary, actor=who.actor))
    return CreatedRead(id=ident, message=f"concern case {ident} opened")


@router.post("/concern-cases/{case_id}/closure", response_model=ConcernCaseRead, **access("support_unit"))
def close_case(request: Request, case_id: Id, body: ConcernClosureCreate,
               who: Annotated[Principal, Depends(require_support_unit)]) -> dict:
    """Close a concern case, recording the outcome decided for it (R6.6)."""
    run(request, concerns.close_case, c.CloseConcernCase(case_id=case_id, outcome=body.outcome, actor=who.actor))
    with read_factory(request.app)() as s:
        return queries.concern_case_detail(s, case_id)
