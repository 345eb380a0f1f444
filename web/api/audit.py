"""The audit trail (show, export, verify) and the letters outbox (list, show, retry)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from lifecycle import audit as audit_trail, exports, queries
from web.auth import Principal, read_factory
from web.deps import Id, access, db, read_audit, require_support_unit
from web.schemas import AuditRecordRead, LetterDetailRead, LetterRead, VerifyRead

router = APIRouter(tags=["audit and letters"])
Db = Annotated[Session, Depends(db)]
Reader = Annotated[Principal, Depends(read_audit)]


@router.get("/audit/{subject_type}/{subject_id}", response_model=list[AuditRecordRead], **access("public"))
def show_history(subject_type: Literal["member", "commitment"], subject_id: Id, session: Db) -> list[dict]:
    """The transition history of one member or commitment (public, R8.1), with the letters caused."""
    return queries.with_letters(session, [audit_trail.as_row(r)
                                          for r in audit_trail.history(session, subject_type, subject_id)])


EXPORT_RESPONSES = {200: {"description": "every transition record, in chain order",
                          "content": {"application/json": {"schema": {
                              "type": "array", "items": {"$ref": "#/components/schemas/AuditRecordRead"}}},
                              "text/csv": {"schema": {"type": "string"}}}}}


@router.get("/audit-export", response_class=Response, responses=EXPORT_RESPONSES, **access("auditor"))
def export_history(request: Request, who: Reader,
                   format: Annotated[Literal["json", "csv"], Query()] = "json") -> Response:
    """Export the whole history as JSON or CSV (auditors and the Support Unit), streamed."""
    factory = read_factory(request.app)

    def chunks():
        # A session of the stream's own: it lives as long as the response is being sent.
        with factory() as session:
            yield from audit_trail.export_chunks(audit_trail.iter_records(session), format)

    return StreamingResponse(chunks(), media_type=exports.MEDIA_TYPES[format],
                             headers={"Content-Disposition": f'attachment; filename="audit.{format}"'})


@router.get("/audit-verification", response_model=VerifyRead, **access("auditor"))
def verify_history(session: Db, who: Reader) -> VerifyRead:
    """Recompute every hash chain; ``ok`` is false and ``first_bad`` names the first bad record if any."""
    report = audit_trail.verify(session)
    return VerifyRead(ok=report.ok, chains=report.chains, records=report.records,
                      first_bad=report.first_bad.__dict__ if report.first_bad else None)


@router.get("/letters", response_model=list[LetterRead], **access("auditor"))
def list_letters(session: Db, who: Reader,
                 status: Literal["pending", "sent", "failed", "all"] = "all",
                 member_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> list[dict]:
    """Letters of the outbox (R7.1–R7.3), oldest first, with their delivery state."""
    return queries.list_letters(session, status=None if status == "all" else status, member_id=member_id)


@router.get("/letters/{letter_id}", response_model=LetterDetailRead, **access("auditor"))
def show_letter(letter_id: Id, session: Db, who: Reader) -> dict:
    """One letter: its text, recipients, Message-ID, status, and the transition or deadline it came from."""
    return queries.letter_detail(session, letter_id)


@router.post("/letters/{letter_id}/retry", response_model=LetterDetailRead, **access("support_unit"))
def retry_letter(request: Request, letter_id: Id,
                 who: Annotated[Principal, Depends(require_support_unit)]) -> dict:
    """Put a failed letter back to pending and send it now (R7.3: still one letter per event)."""
    from workers.letters import delivery
    from workers.letters.transport import TemporaryDeliveryError, make_transport

    settings = request.app.state.settings
    with read_factory(request.app)() as s:
        queries.letter_detail(s, letter_id)  # refuses an unknown letter before touching the transport
    try:
        delivery.retry(letter_id, session_factory=request.app.state.session_factory,
                       transport=make_transport(settings), settings=settings, clock=request.app.state.clock)
    except TemporaryDeliveryError:
        pass  # the letter stays pending and the workers try again; its state says so
    with read_factory(request.app)() as s:
        return queries.letter_detail(s, letter_id)
