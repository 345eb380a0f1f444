"""Reference data: jurisdictions, calls for applications (R1.1) and people with their roles (Support Unit)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from lifecycle import commands as c, handlers
from web.auth import Principal
from web.deps import access, require_support_unit, run
from web.schemas import CallCreate, CreatedRead, JurisdictionCreate, PersonCreate

router = APIRouter(tags=["reference data"])
SupportUnit = Annotated[Principal, Depends(require_support_unit)]


@router.post("/jurisdictions", status_code=201, response_model=CreatedRead, **access("support_unit"))
def register_jurisdiction(request: Request, body: JurisdictionCreate, who: SupportUnit) -> CreatedRead:
    """Register a jurisdiction (name, country, IANA time zone, term end for R1.2)."""
    ident = run(request, handlers.register_jurisdiction, c.RegisterJurisdiction(**body.model_dump()))
    return CreatedRead(id=ident, message=f"jurisdiction {body.code} registered")


@router.post("/calls", status_code=201, response_model=CreatedRead, **access("support_unit"))
def open_call(request: Request, body: CallCreate, who: SupportUnit) -> CreatedRead:
    """Open a call for applications (R1.1) with its default first-plan deadline (R5.1)."""
    ident = run(request, handlers.open_call, c.OpenCall(**body.model_dump()))
    return CreatedRead(id=ident, message=f"call {body.name} opened")


@router.post("/people", status_code=201, response_model=CreatedRead, **access("support_unit"))
def add_person(request: Request, body: PersonCreate, who: SupportUnit) -> CreatedRead:
    """Record a person and one of their roles (RULEBOOK §0)."""
    ident = run(request, handlers.register_person, c.RegisterPerson(**body.model_dump()))
    return CreatedRead(id=ident, message=f"person {ident} recorded as {body.role}")
