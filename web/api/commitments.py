"""Commitments (R3.4, R3.10, R4.2) and evidence links (R8.3)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from lifecycle import audit as audit_trail, commands as c, handlers, queries
from web.auth import Principal, read_factory
from web.deps import Id, SubjectType, access, act_for_commitment, act_for_subject, db, run
from web.schemas import (AuditRecordRead, CommitmentDetailRead, CompletionCreate, CreatedRead, EvidenceCreate,
                         ModificationCreate, WithdrawalCreate)

router = APIRouter(tags=["commitments"])
Poc = Annotated[Principal, Depends(act_for_commitment)]
Db = Annotated[Session, Depends(db)]


def _commitment(request: Request, commitment_id: int) -> dict:
    with read_factory(request.app)() as s:
        return queries.commitment_detail(s, commitment_id)


@router.get("/commitments/{commitment_id}", response_model=CommitmentDetailRead, **access("public"))
def show_commitment(commitment_id: Id, session: Db) -> dict:
    """A commitment with its milestones, versions (R3.10) and history."""
    return queries.commitment_detail(session, commitment_id)


@router.get("/commitments/{commitment_id}/history", response_model=list[AuditRecordRead], **access("public"))
def commitment_history(commitment_id: Id, session: Db) -> list[dict]:
    """The commitment's transition history."""
    queries.commitment_detail(session, commitment_id)  # refuses an unknown commitment
    return [audit_trail.as_row(r) for r in audit_trail.history(session, "commitment", commitment_id)]


@router.post("/commitments/{commitment_id}/completion", response_model=CommitmentDetailRead, **access("poc"))
def complete_commitment(request: Request, commitment_id: Id, body: CompletionCreate, who: Poc) -> dict:
    """Report a commitment completed (opens its R4.2 assessment window)."""
    run(request, handlers.complete_commitment, c.CompleteCommitment(
        commitment_id=commitment_id, completed_on=body.completed_on, actor=who.actor, evidence=tuple(body.evidence)))
    return _commitment(request, commitment_id)


@router.post("/commitments/{commitment_id}/modification", response_model=CommitmentDetailRead, **access("poc"))
def modify_commitment(request: Request, commitment_id: Id, body: ModificationCreate, who: Poc) -> dict:
    """Re-time or re-plan a commitment within six months of its submission (R3.10).

    The change is approved by non-governmental stakeholders recorded for the plan and its decision process is
    documented; without them it is a 422 problem naming R3.10 and the field. The Support Unit is notified by letter.
    """
    run(request, handlers.modify_commitment, c.ModifyCommitment(
        commitment_id=commitment_id, actor=who.actor, decision_process=body.decision_process,
        approved_by=tuple(body.approved_by), start=body.start, end=body.end, title=body.title,
        milestones=tuple(body.milestones) if body.milestones is not None else None))
    return _commitment(request, commitment_id)


@router.post("/commitments/{commitment_id}/withdrawal", response_model=CommitmentDetailRead, **access("poc"))
def withdraw_commitment(request: Request, commitment_id: Id, body: WithdrawalCreate, who: Poc) -> dict:
    """Remove a commitment within six months of its submission, approved and documented (R3.10); the Support Unit
    is notified by letter."""
    run(request, handlers.withdraw_commitment, c.WithdrawCommitment(
        commitment_id=commitment_id, actor=who.actor, decision_process=body.decision_process,
        approved_by=tuple(body.approved_by)))
    return _commitment(request, commitment_id)


@router.post("/evidence/{subject_type}/{subject_id}", status_code=201, response_model=CreatedRead,
             **access("poc"))
def add_evidence(request: Request, subject_type: SubjectType, subject_id: Id, body: EvidenceCreate,
                 who: Annotated[Principal, Depends(act_for_subject)]) -> CreatedRead:
    """Attach a typed evidence link (R8.3) to a member, plan, commitment, meeting or tracker update."""
    ident = run(request, handlers.add_evidence, c.AddEvidence(subject_type=subject_type, subject_id=subject_id,
                                                              kind=body.kind, url=body.url, actor=who.actor,
                                                              title=body.title))
    return CreatedRead(id=ident, message=f"evidence {ident} attached")
