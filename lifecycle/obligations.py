"""Opening and closing deadline rows as transitions happen (the deadline table is in policies)."""

from __future__ import annotations

import datetime as dt

import pendulum
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifecycle import outbox
from lifecycle.models import ActionPlan, Commitment, Deadline, Member, TransitionRecord
from policies.calendar import breach_instant, local_date, start_of_local_day
from policies.notices import DEFAULT_REMINDER_DAYS, reminder_days
from policies.sanctions import plan_due_after_return, plan_owed_on_return
from policies.deadlines import (
    CANCELS,
    CLOSES_AS_BREACHED,
    CLOSES_AS_MET,
    DEADLINE_RULES,
    OPENS,
    PLAN_OBLIGATIONS,
    Anchors,
    DeadlineKind,
    DeadlineStatus,
    due_on,
    end_of_commitment_due,
)



# session.info key: member id -> every pending deadline of that member, loaded and locked by the
# caller in this transaction (the deadline engine does so), so lookups need no query.
PENDING_KEY = "pending_deadlines"
# Member transitions that bring a member back from a sanction (R2.7, R2.10).
RETURNS = frozenset({"resume", "reinstate"})


def remember_pending(session: Session, member_id: int, pending: list[Deadline]) -> None:
    """Declare that ``pending`` is every pending deadline of the member, locked in this transaction."""
    session.info.setdefault(PENDING_KEY, {})[member_id] = pending


def matching(deadlines, kinds: set[str] | None, subject: tuple[str, int] | None = None) -> list:
    """The pending ones among ``deadlines`` of these kinds (all when None) about ``subject`` (any when None).

    ``deadlines`` are mapped rows or the batch writer's rows: the command's unit of work and
    the deadline engine's batch decide what the deadline table closes or keeps with it.
    """
    return [d for d in deadlines if d.status == DeadlineStatus.pending.value
            and (kinds is None or d.kind in kinds)
            and (subject is None or (d.subject_type, d.subject_id) == subject)]


def _known_pending(session: Session, member_id: int) -> list[Deadline] | None:
    """The member's deadlines loaded and locked by the caller (``remember_pending``), or None; ``matching`` filters."""
    return session.info.get(PENDING_KEY, {}).get(member_id)


def table_actions(subject_type: str, trigger: str, rule: str | None):
    """What the deadline table asks of one fired transition.

    Returns ``(closes, opens)``: ``closes`` is a list of ``(kinds, status)`` where ``kinds`` None means
    every pending obligation of the member; ``opens`` the kinds to open. Both the unit of work of a
    command and the batch writer of the deadline engine apply it.
    """
    key = (subject_type, trigger)
    closes: list[tuple[tuple[DeadlineKind, ...] | None, DeadlineStatus]] = []
    if CLOSES_AS_MET.get(key):
        closes.append((CLOSES_AS_MET[key], DeadlineStatus.met))
    breached = tuple(
        kind for kind in CLOSES_AS_BREACHED.get(key, ())
        # Inactivity for another rule leaves the plan obligation running.
        if not (kind in (DeadlineKind.first_plan, DeadlineKind.next_plan) and rule not in (DEADLINE_RULES[kind], None))
    )
    if breached:
        closes.append((breached, DeadlineStatus.breached))
    if key in CANCELS:
        closes.append((CANCELS[key], DeadlineStatus.cancelled))
    return closes, OPENS.get(key, ())


def on_transition(ctx, entity, trigger: str, record: TransitionRecord) -> None:
    """Apply the deadline table for one fired transition, in its transaction."""
    session: Session = ctx.session
    member = entity if isinstance(entity, Member) else session.get(Member, entity.member_id)
    if entity is member:
        outbox.on_transition(session, member, record)
    closes, opens = table_actions(entity.subject_type, trigger, ctx.rule)
    for kinds, status in closes:
        if kinds is None:
            close(session, member_id=member.id, kind=None, status=status, now=ctx.now, by=record)
            continue
        for kind in kinds:
            close(session, member_id=member.id, kind=kind, status=status, now=ctx.now, by=record,
                  subject=subject_of(kind, entity, member))
    if (entity.subject_type, trigger) == ("commitment", "complete"):
        _redate_end_of_commitment(session, member, entity, ctx.now)
    for kind in opens:
        plan = entity.plan if isinstance(entity, Commitment) else member.current_plan
        subject_type, subject_id = subject_of(kind, entity, member)
        open_deadline(session, member=member, subject_type=subject_type, subject_id=subject_id, kind=kind,
                      due=due_on(kind, anchors(ctx.now, member.jurisdiction.time_zone, plan,
                                               member.first_plan_due or member.call.first_plan_due)),
                      now=ctx.now, by=record)
    if entity is member and trigger in RETURNS:
        owe_plan_after_return(session, member, record, ctx.now)


def owe_plan_after_return(session: Session, member: Member, record: TransitionRecord, now: pendulum.DateTime) -> None:
    """D10 (D11): a member back in co-creation or orientation without a plan in force owes one.

    The deadline is four months from the return (R5.2's if the member ever filed a plan, R5.1's
    if it never did). One still pending from before (a voluntary pause within its window) is kept
    when it falls later, and otherwise moved to the return's date: a return never shortens it.
    """
    kind = plan_owed_on_return(record.to_state, plan_in_force=member.has_plan_in_force,
                               ever_filed=member.current_plan_id is not None)
    if kind is None:
        return
    tz = member.jurisdiction.time_zone
    due = plan_due_after_return(local_date(now, tz))
    # open_deadline keeps one still pending from before rather than doubling it: it is moved if sooner.
    deadline = open_deadline(session, member=member, subject_type="member", subject_id=member.id, kind=kind, due=due,
                             now=now, by=record)
    if deadline.due_on < due:
        redate(deadline, due, tz, now=now)


def redate(deadline: Deadline, due: dt.date, tz: str, *, now: pendulum.DateTime) -> None:
    """Move a pending obligation to a later local due date; the reminders are owed again for the new date."""
    deadline.due_on = due
    deadline.breach_at = breach_instant(due, tz)
    deadline.reminders_sent = []
    deadline.next_reminder_at = next_reminder(due, tz, deadline.reminder_days or [], after=now)


def anchors(now: pendulum.DateTime, tz: str, plan, first_plan_due) -> Anchors:
    """The dates the deadlines a transition opens are counted from."""
    return Anchors(
        transition_day=local_date(now, tz),
        plan_filed_on=plan.filed_on if plan else None,
        plan_end=plan.end_on if plan else None,
        first_plan_due=first_plan_due,
    )


def subject_of(kind: DeadlineKind, entity, member: Member) -> tuple[str, int]:
    """What an obligation is about: a commitment, the member's current plan, or the member."""
    if kind is DeadlineKind.end_of_commitment_assessment:
        return ("commitment", entity.id)
    if kind in PLAN_OBLIGATIONS and member.current_plan_id is not None:
        return ("plan", member.current_plan_id)
    return ("member", member.id)


def open_deadline(
    session: Session,
    *,
    member: Member,
    subject_type: str,
    subject_id: int,
    kind: DeadlineKind,
    due,
    now: pendulum.DateTime,
    by: TransitionRecord | None,
    reminders: tuple[int, ...] | None = None,
) -> Deadline:
    """Open an obligation; an identical pending one is kept rather than doubled."""
    known = _known_pending(session, member.id)
    if known is not None:
        existing = next(iter(matching(known, {kind.value}, (subject_type, subject_id))), None)
    else:
        existing = session.scalars(
            select(Deadline).where(
                Deadline.member_id == member.id,
                Deadline.subject_type == subject_type,
                Deadline.subject_id == subject_id,
                Deadline.kind == kind.value,
                Deadline.status == DeadlineStatus.pending.value,
            )
        ).first()
    if existing is not None:
        return existing
    if reminders is None:
        reminders = session.info.get("reminder_days", DEFAULT_REMINDER_DAYS)
    deadline = Deadline(**deadline_values(member_id=member.id, tz=member.jurisdiction.time_zone,
                                          subject=(subject_type, subject_id), kind=kind, due=due, now=now,
                                          opened_by=by.id if by is not None else None, reminders=reminders))
    session.add(deadline)
    session.flush()
    if known is not None:
        session.info[PENDING_KEY][member.id].append(deadline)
    session.info.setdefault("opened_deadlines", []).append(deadline)  # fire_deadline asks if one is due already
    return deadline


def deadline_values(*, member_id: int, tz: str, subject: tuple[str, int], kind: DeadlineKind, due, now,
                    opened_by: int | None, reminders) -> dict:
    """The column values of a newly opened obligation due on the local date ``due``."""
    days = () if kind is DeadlineKind.plan_end else reminder_days(reminders)  # a plan's end is an event
    return dict(
        member_id=member_id,
        subject_type=subject[0],
        subject_id=subject[1],
        kind=kind.value,
        rule_id=DEADLINE_RULES[kind],
        due_on=due,
        breach_at=breach_instant(due, tz),
        status=DeadlineStatus.pending.value,
        reminder_days=list(days),
        opened_by=opened_by,
        opened_at=now,
        next_reminder_at=next_reminder(due, tz, days, after=now),
        reminders_sent=[],
    )


def next_reminder(due, tz: str, days, *, after: pendulum.DateTime) -> pendulum.DateTime | None:
    """The first reminder instant still ahead: local midnight ``d`` days before the due date."""
    for d in sorted(days, reverse=True):
        at = start_of_local_day(due - dt.timedelta(days=d), tz)
        if at > after:
            return at
    return None


def close(
    session: Session,
    *,
    member_id: int,
    kind: DeadlineKind | tuple[DeadlineKind, ...] | None,
    status: DeadlineStatus,
    now: pendulum.DateTime,
    by: TransitionRecord | None = None,
    subject: tuple[str, int] | None = None,
    overdue_too: bool = False,
) -> list[Deadline]:
    """Close the member's pending obligations of these kinds (all kinds when ``None``).

    ``overdue_too``: a monitoring deliverable filed late also closes its deadline that was already
    breached (an overdue notice went out) as met, at the filing's instant.
    """
    kinds = None if kind is None else {k.value for k in ((kind,) if isinstance(kind, DeadlineKind) else kind)}
    known = _known_pending(session, member_id)
    if known is not None and not overdue_too:
        closed = matching(known, kinds, subject)
    else:
        open_statuses = [DeadlineStatus.pending.value] + ([DeadlineStatus.breached.value] if overdue_too else [])
        stmt = select(Deadline).where(Deadline.member_id == member_id, Deadline.status.in_(open_statuses))
        if kinds is not None:
            stmt = stmt.where(Deadline.kind.in_(sorted(kinds)))
        if subject is not None:
            stmt = stmt.where(Deadline.subject_type == subject[0], Deadline.subject_id == subject[1])
        closed = list(session.scalars(stmt))
    for deadline in closed:
        deadline.status = status.value
        deadline.closed_at = now
        deadline.closed_by = by.id if by is not None else None
    session.flush()
    return closed


def _redate_end_of_commitment(session: Session, member: Member, commitment: Commitment,
                              now: pendulum.DateTime) -> None:
    """R4.2: once completed, the assessment is due a month later unless the plan-end date is sooner."""
    plan: ActionPlan = commitment.plan
    due = end_of_commitment_due(plan_end=plan.end_on, completed_on=commitment.completed_on)
    for deadline in session.scalars(
        select(Deadline).where(
            Deadline.subject_type == "commitment",
            Deadline.subject_id == commitment.id,
            Deadline.kind == DeadlineKind.end_of_commitment_assessment.value,
            Deadline.status == DeadlineStatus.pending.value,
        )
    ):
        tz = member.jurisdiction.time_zone
        deadline.due_on = due
        deadline.breach_at = breach_instant(due, tz)
        # Reminders follow the new date; those whose day has already passed are no longer owed.
        days = deadline.reminder_days or []
        deadline.reminders_sent = [x for x in days if start_of_local_day(due - dt.timedelta(days=x), tz) <= now]
        deadline.next_reminder_at = next_reminder(due, tz, days, after=now)
