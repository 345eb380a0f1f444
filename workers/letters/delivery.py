"""Delivering the letters of the outbox: each event yields exactly one letter, whatever crashes (R7.3).

A letter is rendered once, in a transaction that locks the member and then its outbox
row, and stored on the row with its recipients and a Message-ID derived from the event's
idempotency key. Only then is it handed to the transport, outside any transaction, and a
second transaction marks it sent. A worker that dies between the hand-over and the mark
leaves the row pending; the retry sends the same stored letter under the same Message-ID,
so the event still has one letter, and any second copy is recognisably the same message.

On PostgreSQL the row stays locked (``SKIP LOCKED`` for everyone else) while it is being
sent, so two messages for the same letter never send it side by side.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import format_datetime

import structlog
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from lifecycle.clock import Clock
from lifecycle.models import Member, OutboxEvent, Person, Role
from policies.errors import NotFound, RuleViolation
from policies.machines import CommitmentState
from workers.letters.transport import (
    Outgoing,
    PermanentDeliveryError,
    TemporaryDeliveryError,
    Transport,
    envelope_sender,
)

log = structlog.get_logger(__name__)

PENDING, SENT, FAILED = "pending", "sent", "failed"
# What ``deliver`` reports.
DELIVERED = "sent"
ALREADY_SENT = "already sent"
NOT_SENT = "failed"
BUSY = "busy"  # another worker is sending it right now
MISSING = "missing"

_in_flight: set[int] = set()
_in_flight_lock = threading.Lock()


def key_hash(key: str) -> str:
    """The stable name of an event's letter: 32 hex digits of the SHA-256 of its idempotency key."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def message_id_for(key: str, domain: str) -> str:
    """The Message-ID of an event's letter; the same on every attempt, so copies are recognisably one letter."""
    return f"<{key_hash(key)}@{domain}>"


# ---------------------------------------------------------------- recipients


def resolve_recipients(session: Session, event: OutboxEvent, *, settings: Settings) -> list[str]:
    """The addresses a letter goes to, by the role it is addressed to.

    ``poc``: every person with the member's poc role and the lead-agency contacts of the
    commitments of its current plan; ``monitoring_body``: the member's monitoring-body
    people; ``support_unit``: the Support Unit's address from the settings.
    """
    if event.recipient_role == "support_unit":
        return [settings.support_unit_email.strip().lower()] if settings.support_unit_email else []
    found = list(session.scalars(
        select(Person.email).join(Role, Role.person_id == Person.id)
        .where(Role.member_id == event.member_id, Role.role == event.recipient_role).order_by(Person.id)))
    if event.recipient_role == "poc":
        member = session.get(Member, event.member_id)
        plan = member.current_plan if member is not None else None
        for commitment in plan.commitments if plan is not None else ():
            if commitment.state == CommitmentState.withdrawn:
                continue
            agency = (commitment.details or {}).get("lead_agency") or {}
            if isinstance(agency, dict) and agency.get("email"):
                found.append(str(agency["email"]))
    unique: list[str] = []
    for address in found:
        address = address.strip().lower()
        if address and address not in unique:
            unique.append(address)
    return unique


def _no_recipient_error(session: Session, event: OutboxEvent) -> str:
    member = session.get(Member, event.member_id)
    who = f"member {event.member_id}" + (f" ({member.jurisdiction.name})" if member is not None else "")
    where = {
        "poc": "no person with the poc role and no lead-agency e-mail in its current plan",
        "monitoring_body": "no person with the monitoring_body role",
        "support_unit": "no Support Unit address in the settings (OGP_SUPPORT_UNIT_EMAIL)",
    }.get(event.recipient_role, f"no one in the role {event.recipient_role!r}")
    fix = ("Set OGP_SUPPORT_UNIT_EMAIL" if event.recipient_role == "support_unit" else
           f"Record one with `ogp-lifecycle person add --role {event.recipient_role} --member {event.member_id}`")
    return f"No recipient: {who} has {where}. {fix}, then run `ogp-lifecycle letters retry {event.id}`."


# ---------------------------------------------------------------- rendering


def _render(session: Session, event: OutboxEvent, *, settings: Settings, clock: Clock) -> None:
    from workers.letters.render import render_event

    rendered = render_event(session, event, settings=settings)
    member = session.get(Member, event.member_id)
    event.language = _language(rendered, member)
    event.subject = rendered.subject[:300]
    event.body_text = rendered.text
    event.body_html = rendered.html
    event.pdf = rendered.pdf
    event.message_id = message_id_for(event.idempotency_key, settings.mail_domain)
    event.rendered_at = clock.now()


def _language(rendered, member: Member | None) -> str:
    language = getattr(rendered, "language", None)
    if language:
        return str(language)
    return member.jurisdiction.language if member is not None else "en"


def _lock_member_then_letter(session: Session, outbox_id: int, member_id: int) -> OutboxEvent | None:
    """Member first, as every handler locks; then the letter, skipped if another worker is sending it."""
    session.scalars(select(Member).where(Member.id == member_id).with_for_update(of=Member)
                    .execution_options(populate_existing=True)).unique().one_or_none()
    return _lock_letter(session, outbox_id, skip_locked=True)


def _lock_letter(session: Session, outbox_id: int, *, skip_locked: bool = False) -> OutboxEvent | None:
    stmt = select(OutboxEvent).where(OutboxEvent.id == outbox_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=skip_locked)
    return session.scalars(stmt).one_or_none()


def _prepare(outbox_id: int, *, session_factory: sessionmaker, settings: Settings, clock: Clock,
             recipients: bool = True) -> tuple[str | None, OutboxEvent | None]:
    """Transaction 1: render the letter and find its recipients, unless done already. Returns (outcome, letter)."""
    with session_factory() as s:
        row = s.execute(select(OutboxEvent.member_id, OutboxEvent.status, OutboxEvent.rendered_at,
                               OutboxEvent.recipients).where(OutboxEvent.id == outbox_id)).first()
        if row is None:
            return MISSING, None
        if row.status != PENDING and recipients:
            return (ALREADY_SENT if row.status == SENT else NOT_SENT), None
        if row.rendered_at is not None and (row.recipients or not recipients):
            event = s.get(OutboxEvent, outbox_id)
            s.commit()
            return None, event
        event = _lock_member_then_letter(s, outbox_id, row.member_id)
        if event is None:
            return BUSY, None
        if event.status != PENDING and recipients:
            return (ALREADY_SENT if event.status == SENT else NOT_SENT), None
        if event.rendered_at is None:
            try:
                _render(s, event, settings=settings, clock=clock)
            except (DBAPIError, ImportError):
                raise  # the database was away, or a deployment is half done: a retry will do
            except Exception as exc:  # a letter that cannot be rendered waits for a fix and `letters retry`
                s.rollback()
                event = _lock_letter(s, outbox_id)
                event.status, event.attempts = FAILED, event.attempts + 1
                event.last_error = f"cannot render the letter: {type(exc).__name__}: {exc}"
                s.commit()
                log.error("letter_failed", outbox_id=outbox_id, kind=event.kind, error=event.last_error)
                return NOT_SENT, event
        if recipients and not event.recipients:
            event.recipients = resolve_recipients(s, event, settings=settings)
            if not event.recipients:
                event.status, event.attempts = FAILED, event.attempts + 1
                event.last_error = _no_recipient_error(s, event)
                s.commit()
                log.warning("letter_failed", outbox_id=outbox_id, kind=event.kind, member_id=event.member_id,
                            error=event.last_error)
                return NOT_SENT, event
        s.commit()
        return None, event


# ---------------------------------------------------------------- the message


def build_message(event: OutboxEvent, *, settings: Settings) -> Outgoing:
    """The MIME letter: text and HTML alternatives, the PDF attached, the stable Message-ID, dated at the event."""
    name = key_hash(event.idempotency_key)
    message = EmailMessage()
    message["Subject"] = event.subject or ""
    message["From"] = settings.mail_from
    message["To"] = ", ".join(event.recipients)
    message["Date"] = format_datetime(event.created_at)
    message["Message-ID"] = event.message_id
    message["Auto-Submitted"] = "auto-generated"
    message["X-OGP-Letter"] = event.kind
    if event.rule_id:
        message["X-OGP-Rule"] = event.rule_id
    message.set_content(event.body_text or "")
    if event.body_html:
        message.add_alternative(event.body_html, subtype="html")
    if event.pdf:
        message.add_attachment(event.pdf, maintype="application", subtype="pdf",
                               filename=f"ogp-local-{event.kind.replace('_', '-')}-{name[:8]}.pdf")
    if event.language:  # set last: building the body moves Content-* headers into its parts
        message["Content-Language"] = event.language
    return Outgoing(message=message, sender=envelope_sender(settings.mail_from), recipients=tuple(event.recipients),
                    name=name, pdf=event.pdf or b"")


# ---------------------------------------------------------------- delivering


@contextmanager
def _exclusive(outbox_id: int) -> Iterator[bool]:
    """Within one process, one thread at a time sends a given letter."""
    in_flight = _in_flight
    with _in_flight_lock:
        mine = outbox_id not in in_flight
        if mine:
            in_flight.add(outbox_id)
    try:
        yield mine
    finally:
        if mine:
            with _in_flight_lock:
                in_flight.discard(outbox_id)


def _mark_sent(session: Session, event: OutboxEvent, *, clock: Clock, refused: dict[str, str]) -> None:
    """Transaction 2: the letter is out."""
    event.status = SENT
    event.sent_at = clock.now()
    event.attempts = event.attempts + 1
    event.last_error = ("refused by the mail server, the others received it: "
                        + "; ".join(f"{a}: {r}" for a, r in refused.items())) if refused else None
    session.commit()


def _record_failure(session: Session, outbox_id: int, *, error: str, permanent: bool) -> None:
    """The attempt counts; a permanent failure waits for ``letters retry``, a temporary one for the broker's retry."""
    session.rollback()
    event = _lock_letter(session, outbox_id)
    if event is None or event.status != PENDING:
        return
    event.attempts = event.attempts + 1
    event.last_error = error
    if permanent:
        event.status = FAILED
    session.commit()


def deliver(outbox_id: int, *, session_factory: sessionmaker, transport: Transport, settings: Settings,
            clock: Clock) -> str:
    """Render (once), send and mark one letter; idempotent. Returns what happened.

    ``"sent"``, ``"already sent"``, ``"failed"`` (permanently; ``letters retry`` sends it again),
    ``"busy"`` (another worker is sending it) or ``"missing"``. Raises
    ``TemporaryDeliveryError`` when a later attempt may succeed: the letter stays pending.
    """
    with _exclusive(outbox_id) as mine:
        if not mine:
            return BUSY
        outcome, snapshot = _prepare(outbox_id, session_factory=session_factory, settings=settings, clock=clock)
        if outcome is not None:
            return outcome
        with session_factory() as s:
            if s.get_bind().dialect.name == "postgresql":
                # Held until marked: a second worker skips the letter instead of sending it alongside.
                event = _lock_letter(s, outbox_id, skip_locked=True)
                if event is None:
                    return BUSY
                if event.status != PENDING:
                    return ALREADY_SENT if event.status == SENT else NOT_SENT
            else:
                # SQLite: no transaction is open while sending, or the whole database would wait for the mail server.
                event = snapshot
            letter = build_message(event, settings=settings)
            try:
                handed = transport.send(letter)
            except TemporaryDeliveryError as exc:
                _record_failure(s, outbox_id, error=str(exc), permanent=False)
                log.warning("letter_deferred", outbox_id=outbox_id, kind=event.kind, error=str(exc))
                raise
            except PermanentDeliveryError as exc:
                _record_failure(s, outbox_id, error=str(exc), permanent=True)
                log.warning("letter_failed", outbox_id=outbox_id, kind=event.kind, member_id=event.member_id,
                            error=str(exc))
                return NOT_SENT
            if s.get_bind().dialect.name != "postgresql":
                event = _lock_letter(s, outbox_id)
                if event.status != PENDING:
                    return ALREADY_SENT if event.status == SENT else NOT_SENT
            _mark_sent(s, event, clock=clock, refused=handed.refused)
        log.info("letter_sent", outbox_id=outbox_id, kind=event.kind, member_id=event.member_id,
                 rule_id=event.rule_id, message_id=event.message_id, recipients=len(event.recipients),
                 attempts=event.attempts)
        return DELIVERED


def retry(outbox_id: int, *, session_factory: sessionmaker, transport: Transport, settings: Settings,
          clock: Clock) -> str:
    """Put a failed (or pending) letter back to pending with its recipients found afresh, and send it now."""
    with session_factory() as s:
        event = _lock_letter(s, outbox_id)
        if event is None:
            raise NotFound(f"There is no letter {outbox_id}.", field="id")
        if event.status == SENT:
            raise RuleViolation(f"Letter {outbox_id} was sent on {event.sent_at.to_iso8601_string()}; "
                                "sending it again would make a second letter for one event.", rule="R7.3",
                                field="id")
        event.status = PENDING
        event.recipients = []  # whoever was fixed (a new point of contact, the Support Unit's address) gets it
        s.commit()
    return deliver(outbox_id, session_factory=session_factory, transport=transport, settings=settings, clock=clock)


def ensure_rendered(outbox_id: int, *, session_factory: sessionmaker, settings: Settings,
                    clock: Clock) -> OutboxEvent:
    """The letter, rendered and stored if it was not yet (for ``letters pdf``); sends nothing."""
    outcome, event = _prepare(outbox_id, session_factory=session_factory, settings=settings, clock=clock,
                              recipients=False)
    if outcome == MISSING:
        raise NotFound(f"There is no letter {outbox_id}.", field="id")
    if event is None or event.rendered_at is None:
        with session_factory() as s:
            event = s.get(OutboxEvent, outbox_id)
            s.commit()
    return event


def pending_ids(session: Session, *, limit: int | None = None, after: int = 0) -> list[int]:
    """Pending letters in id order (oldest first), from the one after ``after``."""
    stmt = select(OutboxEvent.id).where(OutboxEvent.status == PENDING, OutboxEvent.id > after).order_by(OutboxEvent.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))
