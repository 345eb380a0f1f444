"""Public comments on progress updates (R8.2): anyone posts, the Support Unit moderates, the approved show."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from lifecycle import commands as c, comments, queries
from lifecycle.models import TrackerUpdate
from policies.errors import NotFound
from web.auth import Principal, read_factory
from web.deps import Id, access, db, read_support_unit, require_support_unit, run
from web.schemas import CommentCreate, CommentRead, CreatedRead, ModerationCreate

router = APIRouter(tags=["comments"])
Db = Annotated[Session, Depends(db)]


@router.get("/tracker-updates/{tracker_update_id}/comments", response_model=list[CommentRead], **access("public"))
def approved_comments(tracker_update_id: Id, session: Db) -> list[dict]:
    """The approved comments on a tracker update, oldest first."""
    if session.get(TrackerUpdate, tracker_update_id) is None:
        raise NotFound(f"There is no tracker update {tracker_update_id}.", field="id")
    return queries.list_comments(session, tracker_update_id=tracker_update_id, status="approved")


@router.post("/tracker-updates/{tracker_update_id}/comments", status_code=201, response_model=CreatedRead,
             **access("public"))
def post_comment(request: Request, tracker_update_id: Id, body: CommentCreate) -> CreatedRead:
    """Comment on a progress update (R8.2); it is shown once the Support Unit approves it. No login needed."""
    ident = run(request, comments.post_comment, c.PostComment(
        tracker_update_id=tracker_update_id, author_name=body.author_name, body=body.body,
        author_email=body.author_email))
    return CreatedRead(id=ident, message=f"comment {ident} received; it is shown once approved")


@router.get("/comments", response_model=list[CommentRead], **access("support_unit"))
def moderation_queue(session: Db, who: Annotated[Principal, Depends(read_support_unit)],
                     status: Literal["pending", "approved", "rejected", "all"] = "pending",
                     member_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> list[dict]:
    """Comments by status (default: those waiting for moderation), for the Support Unit."""
    return queries.list_comments(session, member_id=member_id, status=None if status == "all" else status)


@router.post("/comments/{comment_id}/moderation", response_model=CommentRead, **access("support_unit"))
def moderate(request: Request, comment_id: Id, body: ModerationCreate,
             who: Annotated[Principal, Depends(require_support_unit)]) -> dict:
    """Approve or reject a pending comment (R8.2)."""
    run(request, comments.moderate_comment, c.ModerateComment(comment_id=comment_id, decision=body.decision,
                                                              actor=who.actor, note=body.note))
    with read_factory(request.app)() as s:
        return queries.comment_detail(s, comment_id)
