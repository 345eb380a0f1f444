"""The letters outbox: events that owe someone a letter, written in the causing transaction (R7.3)."""

from __future__ import annotations

from typing import Any

import pendulum
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifecycle.models import Member, OutboxEvent, TransitionRecord
from policies.notices import STATUS_LETTERS, STATUS_RECIPIENTS


def emit(
    session: Session,
    *,
    key: str,
    kind: str,
    member_id: int,
    recipient_role: str,
    created_at: pendulum.DateTime,
    rule_id: str | None = None,
    transition_id: int | None = None,
    deadline_id: int | None = None,
    payload: dict[str, Any] | None = None,
    fresh: bool = False,
) -> OutboxEvent:
    """Add one event unless its idempotency key is already there; the caller holds the member's lock.

    ``fresh``: the key names a record created in this transaction, so no event can have it yet
    and the lookup is skipped (the unique key still refuses a double).
    """
    if not fresh:
        existing = session.scalar(select(OutboxEvent).where(OutboxEvent.idempotency_key == key))
        if existing is not None:
            return existing
    event = OutboxEvent(idempotency_key=key, kind=kind, member_id=member_id, rule_id=rule_id,
                        recipient_role=recipient_role, transition_id=transition_id, deadline_id=deadline_id,
                        payload=payload or {}, created_at=created_at, status="pending")
    session.add(event)
    return event


def status_events(member_id: int, record) -> list[dict]:
    """The outbox events a member transition owes (one status letter per recipient), as column values.

    ``record`` is the transition's audit record, already given its id (the idempotency key names it).
    """
    kind = STATUS_LETTERS.get(record.trigger)
    if kind is None or record.subject_type != "member":
        return []
    payload = {"from": record.from_state, "to": record.to_state, "reason": record.reason,
               "business_time": record.business_time.to_iso8601_string()}
    return [dict(idempotency_key=f"transition:{record.id}:{kind}:{role}", kind=kind, member_id=member_id,
                 recipient_role=role, created_at=record.business_time, rule_id=record.rule_id,
                 transition_id=record.id, deadline_id=None, payload=dict(payload), status="pending")
            for role in STATUS_RECIPIENTS]


def on_transition(session: Session, member: Member, record: TransitionRecord) -> None:
    """A member transition that owes a status letter puts one event per recipient in the outbox."""
    for values in status_events(member.id, record):
        # fresh: the key names a record created in this transaction, so no event can have it yet.
        session.add(OutboxEvent(**values))
