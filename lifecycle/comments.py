"""Public comments on tracker updates (R8.2): posted by anyone, shown once the Support Unit approves them."""

from __future__ import annotations

import structlog

from lifecycle import commands as c
from lifecycle.clock import Clock
from lifecycle.models import Comment, TrackerUpdate
from lifecycle.uow import UnitOfWork
from policies.errors import InvalidInput, RuleViolation

log = structlog.get_logger(__name__)

DECISIONS = {"approve": "approved", "reject": "rejected"}
MAX_BODY = 5000


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def post_comment(cmd: c.PostComment, *, uow: UnitOfWork, clock: Clock) -> int:
    """R8.2: a comment on a progress update, pending until moderated."""
    if _blank(cmd.author_name) or len(cmd.author_name) > 200:
        raise InvalidInput("A comment gives its author's name (up to 200 characters).", rule="R8.2",
                           field="author_name")
    if _blank(cmd.body) or len(cmd.body) > MAX_BODY:
        raise InvalidInput(f"A comment says something, in at most {MAX_BODY} characters.", rule="R8.2", field="body")
    email = None
    if not _blank(cmd.author_email):
        email = cmd.author_email.strip()
        local, _, domain = email.partition("@")
        if not local or "." not in domain or " " in email or len(email) > 320:
            raise InvalidInput(f"{email!r} is not an e-mail address.", rule="R8.2", field="author_email")
    with uow:
        update = uow.get(TrackerUpdate, cmd.tracker_update_id, what="tracker update")
        comment = Comment(tracker_update_id=update.id, member_id=update.member_id, author_name=cmd.author_name.strip(),
                          author_email=email, body=cmd.body.strip(), status="pending", created_at=clock.now())
        uow.session.add(comment)
        uow.session.flush()
        uow.commit()
    log.info("comment_posted", comment_id=comment.id, tracker_update_id=update.id)
    return comment.id


def moderate_comment(cmd: c.ModerateComment, *, uow: UnitOfWork, clock: Clock) -> str:
    """The Support Unit approves or rejects a pending comment; returns its new status."""
    status = DECISIONS.get(cmd.decision)
    if status is None:
        raise InvalidInput("A moderation decision is approve or reject.", rule="R8.2", field="decision")
    with uow:
        comment = uow.lock(Comment, cmd.comment_id, what="comment")
        if comment.status != "pending":
            raise RuleViolation(f"Comment {comment.id} was already {comment.status}.", rule="R8.2", field="status")
        comment.status = status
        comment.moderated_at = clock.now()
        comment.moderated_by = cmd.actor
        comment.moderation_note = cmd.note
        uow.commit()
    log.info("comment_moderated", comment_id=cmd.comment_id, status=status, actor=cmd.actor)
    return status
