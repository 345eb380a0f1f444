"""The deadline engine: judge due deadlines as of a business instant and fire their rules.

``fire_deadline(id)`` is the unit of work of the timed workers: it locks the member, judges
every pending deadline of that member breached at the same instant together (D7), fires at
most one status transition with actor ``system`` and the deadline's rule, records every
finding, closes the deadlines (breached when the rule held, met when it no longer did, D6),
and opens the successors of recurring checks. Firing twice is a no-op.

``tick(now)`` claims due deadlines in breach order, in batches, and fires each batch in one
transaction (``lifecycle.batch``), with the same ``judge`` and ``settle`` as ``fire_deadline``.
"""

from __future__ import annotations

import time
from functools import partial
from collections.abc import Callable
from dataclasses import dataclass, field

import pendulum
import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lifecycle import audit, obligations, outbox, standing
from lifecycle.clock import Clock
from lifecycle.machines import TransitionContext, fire
from lifecycle.models import ActionPlan, Deadline, Finding, Member, TransitionRecord
from lifecycle.uow import UnitOfWork
from policies.calendar import (
    Quarter,
    add_months,
    next_quarter_check_due,
    start_of_local_day,
)
from policies.deadlines import MONITORING_DELIVERABLES, DeadlineKind as K, DeadlineStatus
from policies.errors import NotFound
from policies.machines import ACTIVE_STATES, TERMINAL_MEMBER_STATES, CommitmentState, MemberState
from policies.notices import DELIVERABLE_RECIPIENTS, MEMBER_RECIPIENTS
from policies.timed import SEVERITY, meeting_finding

log = structlog.get_logger(__name__)
SYSTEM = "system"


@dataclass
class Verdict:
    """What one due deadline finds as of its breach instant."""

    deadline: Deadline
    rule: str | None = None  # the rule that holds, or None when the condition no longer holds (D6)
    trigger: str | None = None  # the member transition it calls for, if the member's state allows one
    detail: str = ""
    successor_due: object | None = None  # the due date of a recurring check's successor


@dataclass
class FireReport:
    deadlines: int = 0
    transitions: list[dict] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)
    reminders: int = 0
    opened_due: bool = False
    busy: bool = False  # the member was locked by another transaction: nothing was done (see ``fire_deadline``)

    def merge(self, other: "FireReport") -> None:
        self.deadlines += other.deadlines
        self.transitions += other.transitions
        self.findings += other.findings
        self.reminders += other.reminders


# ---------------------------------------------------------------- judging


def _plan_of(session: Session, member: Member, d: Deadline) -> ActionPlan | None:
    return session.get(ActionPlan, d.subject_id) if d.subject_type == "plan" else member.current_plan


def judge(session: Session | None, member, d, plan) -> Verdict:
    """What ``d`` finds as of its breach instant; ``plan`` is the plan it is about (its own, or the current one).

    ``member``, ``d`` and ``plan`` may be mapped objects or the batch writer's rows: only their
    columns are read. The quarterly and meeting checks read the member's records with ``session``.
    """
    kind = K(d.kind)
    state = member.state
    plan_in_force = plan is not None and plan.status == "in_force" and member.current_plan_id == plan.id
    if state in TERMINAL_MEMBER_STATES:
        return Verdict(d)
    if kind is K.first_plan:
        # D11: in orientation as in co-creation, a missed first plan makes the member inactive.
        # D9: a member inactive or on probation still owes its first plan; the finding is recorded, not met.
        if member.current_plan_id is None and state in (MemberState.orientation, MemberState.co_creation,
                                                        MemberState.inactive, MemberState.probation):
            return Verdict(d, "R5.1", "become_inactive" if state in (MemberState.orientation, MemberState.co_creation)
                           else None, f"no action plan filed by {d.due_on.isoformat()}")
    elif kind is K.next_plan:
        if not plan_in_force and state in (MemberState.co_creation, MemberState.inactive, MemberState.probation):
            return Verdict(d, "R5.2", "become_inactive" if state == MemberState.co_creation else None,
                           f"no new action plan filed by {d.due_on.isoformat()}")
    elif kind is K.plan_end:
        # R3.13: a joint plan ends for every coalition member, though the first one fired marks it ended.
        partner_ended = (plan is not None and plan.coalition_id is not None and plan.status == "ended"
                         and member.current_plan_id == plan.id)
        if plan_in_force or partner_ended:
            return Verdict(d, "R2.5", "end_plan", f"plan {plan.id} ended on {plan.end_on.isoformat()}")
    elif kind is K.quarterly_tracker_check:
        if plan_in_force:
            later = Quarter.containing(d.due_on)
            found = standing.quarters_finding(session, member, plan, later)  # R3.13: over the plan, for the coalition
            verdict = Verdict(d, successor_due=next_quarter_check_due(d.due_on))
            if found:
                verdict.rule = found
                verdict.trigger = "become_inactive" if state == MemberState.implementing else None
                verdict.detail = (f"no tracker update in {later.previous()} and {later}" if found == "R5.4"
                                  else f"no progress on any commitment in {later.previous()} and {later}")
            return verdict
    elif kind is K.meeting_check:
        if plan_in_force:
            # R3.13: the meetings of every member of a joint plan's coalition count for each of them.
            meetings = standing.implementation_meetings(session, standing.coalition_of(session, plan, member.id),
                                                        d.due_on)
            months = (d.due_on.year - plan.filed_on.year) * 12 + d.due_on.month - plan.filed_on.month
            verdict = Verdict(d, successor_due=add_months(plan.filed_on, 12 * (months // 12 + 1)))
            if meeting_finding(meetings):
                verdict.rule = "R6.2"
                verdict.trigger = "place_on_probation" if state in ACTIVE_STATES else None
                verdict.detail = f"{meetings} implementation meeting(s) with stakeholders in the 12 months to {d.due_on}"
            return verdict
    elif kind is K.probation_clock:
        if state == MemberState.inactive and not member.voluntary_inactivity:
            return Verdict(d, "R6.1", "place_on_probation", f"inactive since {d.opened_at.to_date_string()}")
    elif kind is K.revocation_clock:
        if state == MemberState.probation:
            return Verdict(d, "R6.5", "revoke", f"on probation since {d.opened_at.to_date_string()}")
    elif kind in MONITORING_DELIVERABLES:
        return Verdict(d, d.rule_id, None, f"{kind.value.replace('_', ' ')} due {d.due_on.isoformat()} not filed")
    return Verdict(d)


# ---------------------------------------------------------------- firing


def _ctx(session: Session, at, recorded_at, rule: str, reason: str) -> TransitionContext:
    return TransitionContext(session=session, now=at, recorded_at=recorded_at, actor=SYSTEM, reason=reason, rule=rule)


def _end_plan(uow: UnitOfWork, member: Member, plan: ActionPlan, at, recorded_at, fire_member: bool) -> list:
    """R2.5 at the plan's end; D9: for an inactive member or one on probation, the plan ends all the same."""
    from lifecycle.handlers import end_plan

    s = uow.session
    ctx = _ctx(s, at, recorded_at, "R2.5", f"plan {plan.id} ended on {plan.end_on.isoformat()}")
    if fire_member:
        end_plan(uow, member, ctx)
        return ctx.records
    plan.status = "ended"
    for commitment in plan.commitments:
        if commitment.state == CommitmentState.implementing:
            fire(commitment, "end_incomplete", _ctx(s, at, recorded_at, "R4.2", ctx.reason))
    obligations.close(s, member_id=member.id, kind=(K.quarterly_tracker_check, K.meeting_check),
                      status=DeadlineStatus.cancelled, now=at, subject=("plan", plan.id))
    obligations.close(s, member_id=member.id, kind=K.plan_end, status=DeadlineStatus.met, now=at,
                      subject=("plan", plan.id))
    from policies.deadlines import Anchors, due_on

    obligations.open_deadline(s, member=member, subject_type="member", subject_id=member.id, kind=K.next_plan,
                              due=due_on(K.next_plan, Anchors(transition_day=plan.end_on, plan_end=plan.end_on)),
                              now=at, by=None)
    return ctx.records


def _remind(session: Session, member: Member, d: Deadline, now) -> int:
    """Send the latest reminder whose day has come; earlier ones that were missed are not sent late."""
    tz = member.jurisdiction.time_zone
    passed = [days for days in d.reminder_days or []
              if days not in (d.reminders_sent or [])
              and start_of_local_day(d.due_on - pendulum.duration(days=days), tz) <= now]
    sent = 0
    if passed:
        days = min(passed)
        at = start_of_local_day(d.due_on - pendulum.duration(days=days), tz)
        roles = DELIVERABLE_RECIPIENTS[:2] if K(d.kind) in MONITORING_DELIVERABLES else MEMBER_RECIPIENTS[:1]
        for role in roles:
            # The due date is part of the key: an extension (R5.1) owes the reminders again for the new date.
            outbox.emit(session, key=f"reminder:{d.id}:{d.due_on.isoformat()}:{days}:{role}", kind="reminder",
                        member_id=member.id, recipient_role=role, created_at=at, rule_id=d.rule_id,
                        deadline_id=d.id,
                        payload={"deadline_kind": d.kind, "due_on": d.due_on.isoformat(), "days_before": days})
        d.reminders_sent = [*(d.reminders_sent or []), *passed]
        sent = 1
    d.next_reminder_at = obligations.next_reminder(d.due_on, tz, [x for x in d.reminder_days or []
                                                                     if x not in d.reminders_sent], after=now)
    return sent


def fire_deadline(deadline_id: int, *, uow: UnitOfWork, clock: Clock, busy: set[int] | None = None) -> FireReport:
    """Judge and fire one due deadline (and any of its member's due at the same instant).

    With ``busy`` (schedulers sharing one due set, as ``tick``), a member whose row another
    transaction holds, or that is already in ``busy``, is not waited for: it is added to
    ``busy``, nothing is done, the report says ``busy``, and the caller claims it again later.
    """
    report = FireReport()
    with uow:
        s = uow.session
        row = s.execute(select(Deadline.member_id, Deadline.status).where(Deadline.id == deadline_id)).first()
        if row is None:
            raise NotFound(f"There is no deadline {deadline_id}.", field="id")
        if row.status != DeadlineStatus.pending:
            return report  # closed and committed already: nothing to lock, nothing to wait for
        member_id = row.member_id
        if busy is None:
            member = uow.lock(Member, member_id, what="member")  # member first, as every handler locks
        else:
            member = None if member_id in busy else s.scalars(
                select(Member).where(Member.id == member_id).with_for_update(of=Member, skip_locked=True)
                .execution_options(populate_existing=True)).unique().one_or_none()
            if member is None:
                busy.add(member_id)
                report.busy = True
                return report
        # Every pending obligation of the member, locked in one statement: the one to fire is among
        # them unless it was fired or closed meanwhile, and so are those due at the same instant (D7).
        pending = list(s.scalars(select(Deadline).where(
            Deadline.member_id == member.id, Deadline.status == DeadlineStatus.pending.value)
            .order_by(Deadline.id).with_for_update().execution_options(populate_existing=True)))
        obligations.remember_pending(s, member.id, pending)
        d = next((p for p in pending if p.id == deadline_id), None)
        now = clock.now()
        if d is None:
            return report  # already fired or closed: a redelivered message changes nothing
        if d.breach_at > now:
            if d.next_reminder_at is not None and d.next_reminder_at <= now:
                report.reminders = _remind(s, member, d, now)
                uow.commit()
            return report
        at = d.breach_at
        # A tick that runs late, after a later action on the member, must not write history out of order:
        # the rule is judged as things stand, so it takes effect no earlier than the member's last transition.
        chain = audit.heads(s, "member", [member.id]).get(member.id)  # (seq, hash, latest business time)
        effective = max(at, chain[2]) if chain is not None else at
        recorded_at = uow.recorded_at()
        s.info.pop("opened_deadlines", None)  # obligations.open_deadline lists here what this fire opens
        group = [p for p in pending if p.breach_at == at]
        verdicts = [judge(s, member, g, _plan_of(s, member, g)) for g in group]
        state_before = member.state
        report.deadlines = len(group)
        record = settle(_SessionPort(uow), member, verdicts, at=at, effective=effective, recorded_at=recorded_at,
                        head=chain[:2] if chain is not None else None, report=report)

        # Recurring checks open their successor while the member is in the programme.
        for v in verdicts:
            if v.successor_due is not None and member.state not in TERMINAL_MEMBER_STATES:
                obligations.open_deadline(s, member=member, subject_type=v.deadline.subject_type,
                                          subject_id=v.deadline.subject_id, kind=K(v.deadline.kind),
                                          due=v.successor_due, now=at, by=record)

        for v in verdicts:
            if v.trigger == "end_plan" and member.state not in TERMINAL_MEMBER_STATES:
                plan = s.get(ActionPlan, v.deadline.subject_id)
                if plan is not None and plan.status in ("in_force", "ended"):
                    fire_member = member.state == MemberState.implementing
                    for r in _end_plan(uow, member, plan, effective, recorded_at, fire_member):
                        if r.subject_type == "member":
                            report.transitions.append(_transition_row(r))
                v.deadline.status = DeadlineStatus.met.value
        s.flush()
        report.opened_due = any(o.status == DeadlineStatus.pending.value and o.breach_at <= now
                                for o in s.info.pop("opened_deadlines", ()))
        uow.commit()
    for t in report.transitions:
        log.info("transition_fired", **t)
    if state_before != member.state or report.findings:
        log.debug("deadline_fired", deadline_id=deadline_id, member_id=member.id, findings=len(report.findings))
    return report


def settle(port, member, verdicts: list[Verdict], *, at, effective, recorded_at, head, report: FireReport):
    """Close a due group's deadlines, fire the most severe transition it calls for (D7), record the findings.

    Shared by ``fire_deadline`` and the batch writer (``lifecycle.batch``): ``port`` is where the
    records go (the session's unit of work, or the batch's rows). Returns the audit record of the
    member transition, or None.
    """
    # Close first, so that the transition's own bookkeeping never reopens what was judged here.
    for v in verdicts:
        v.deadline.status = (DeadlineStatus.breached if v.rule and v.trigger != "end_plan"
                             else DeadlineStatus.met).value
        v.deadline.closed_at = at
        v.deadline.next_reminder_at = None

    # D7: of the status transitions called for, the most severe one fires; the others are recorded.
    status_verdicts = [v for v in verdicts if v.rule and v.trigger and v.trigger != "end_plan"]
    chosen = max(status_verdicts, key=lambda v: SEVERITY[_dest(v.trigger)], default=None)
    record = None
    if chosen is not None:
        # Set before firing, so that they are written by the transition's own UPDATE of the member.
        if chosen.trigger == "become_inactive":
            member.inactivity_rule, member.voluntary_inactivity = chosen.rule, False
        elif chosen.trigger == "place_on_probation":
            member.probation_rule = chosen.rule
        record = fire(member, chosen.trigger, port.context(member, at=effective, recorded_at=recorded_at,
                                                           rule=chosen.rule, reason=chosen.detail, head=head))
        plan = port.current_plan(member)
        if chosen.trigger == "revoke" and plan is not None and plan.coalition_id is None:
            plan.status = "revoked"
        for v in verdicts:
            if v is chosen:
                continue
            if v.deadline.kind in (K.first_plan, K.next_plan) and v.deadline.closed_by is None:
                v.deadline.closed_by = port.ref(record)
        chosen.deadline.closed_by = port.ref(record)
        report.transitions.append(_transition_row(record))

    for v in verdicts:
        if not v.rule or v.trigger == "end_plan":
            continue
        outcome = ("transition" if v is chosen else "superseded" if v.trigger else
                   "overdue" if K(v.deadline.kind) in MONITORING_DELIVERABLES else "recorded")
        port.add_finding(dict(member_id=member.id, deadline_id=v.deadline.id, rule_id=v.rule, outcome=outcome,
                              found_at=at, transition_id=port.ref(record) if v is chosen else None,
                              detail=v.detail))
        report.findings.append({"member_id": member.id, "deadline_id": v.deadline.id, "rule_id": v.rule,
                                "outcome": outcome, "at": at.to_iso8601_string()})
        if outcome in ("overdue", "recorded"):
            roles = DELIVERABLE_RECIPIENTS if outcome == "overdue" else MEMBER_RECIPIENTS
            for role in roles:
                port.emit(key=f"overdue:{v.deadline.id}:{role}", kind="overdue", member_id=member.id,
                          recipient_role=role, created_at=at, rule_id=v.rule, deadline_id=v.deadline.id,
                          payload={"deadline_kind": v.deadline.kind, "due_on": v.deadline.due_on.isoformat(),
                                   "detail": v.detail})
    return record


class _SessionPort:
    """``settle``'s records through the unit of work's session (mapped objects)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.session = uow.session

    def context(self, member, *, at, recorded_at, rule, reason, head) -> TransitionContext:
        ctx = _ctx(self.session, at, recorded_at, rule, reason)
        if head is not None:
            ctx.heads[("member", member.id)] = head
        return ctx

    def current_plan(self, member):
        return member.current_plan

    @staticmethod
    def ref(record):
        return record.id

    def add_finding(self, values: dict) -> None:
        self.session.add(Finding(**values))

    def emit(self, **values) -> None:
        outbox.emit(self.session, **values)


def _dest(trigger: str) -> str:
    return {"become_inactive": "inactive", "place_on_probation": "probation", "revoke": "revoked"}[trigger]


def _transition_row(r: TransitionRecord) -> dict:
    return {"subject": f"{r.subject_type}:{r.subject_id}", "from_state": r.from_state, "to_state": r.to_state,
            "trigger": r.trigger, "rule_id": r.rule_id, "business_time": r.business_time.to_iso8601_string(),
            "actor": r.actor}


# ---------------------------------------------------------------- claiming and ticking


def claim_due(session: Session, now, *, limit: int, exclude: set[int] | frozenset = frozenset(),
              lock_members: bool = False) -> list[int]:
    """Ids of pending deadlines due as of ``now``: breached ones in breach order, else those owing a reminder.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so that several schedulers share the work; with
    ``lock_members`` the lock is taken on the deadlines' members instead, for a caller that fires
    them in the same transaction (it then holds what every unit of work on those members locks
    first, so two such callers take different members and never wait on each other).
    """
    dialect = session.get_bind().dialect.name
    ids: list[int] = []
    # Reminders in reminder order, so that the claim walks the index on next_reminder_at and stops
    # at the first one still ahead, however many pending deadlines there are.
    for condition, order in ((Deadline.breach_at <= now, Deadline.breach_at),
                             (Deadline.next_reminder_at <= now, Deadline.next_reminder_at)):
        stmt = (select(Deadline.id).where(Deadline.status == DeadlineStatus.pending.value, condition)
                .order_by(order, Deadline.id).limit(limit))
        if exclude:
            stmt = stmt.where(Deadline.id.not_in(exclude))
        if dialect == "postgresql" and lock_members:
            stmt = stmt.join(Member, Member.id == Deadline.member_id).with_for_update(of=Member, skip_locked=True)
        elif dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        ids += [i for i in session.scalars(stmt) if i not in ids]
        if ids:
            break  # breaches first; reminders once nothing is breached
    return ids


@dataclass
class TickReport:
    now: str
    deadlines: int = 0
    transitions: list[dict] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)
    reminders: int = 0
    failed: list[int] = field(default_factory=list)


def tick(now: pendulum.DateTime, *, session_factory: sessionmaker, clock: Clock, batch: int = 200,
         on_fired: Callable[[FireReport], None] | None = None) -> TickReport:
    """One sweep as of ``now``: fire every due deadline, in breach order, until none is left.

    Each claimed batch is fired in one transaction by ``lifecycle.batch``; the deadlines it hands
    back (checks that read records, plan ends, reminders) are fired one by one. A batch that
    fails is fired again one deadline at a time, so that one broken deadline stops no other.
    """
    from lifecycle.batch import BatchFailed, BatchResult, fire_batch

    report = TickReport(now=now.to_iso8601_string())
    failed: set[int] = set()

    def count(fired: FireReport) -> None:
        report.deadlines += fired.deadlines
        report.transitions += fired.transitions
        report.findings += fired.findings
        report.reminders += fired.reminders
        if on_fired:
            on_fired(fired)

    while True:
        busy: set[int] = set()  # members another scheduler is firing: skipped here, claimed again after
        try:
            # Claimed in the batch's own transaction, locking the members: concurrent ticks take
            # different members.
            result = fire_batch(lambda s: claim_due(s, now, limit=batch, exclude=failed, lock_members=True),
                                uow=UnitOfWork(session_factory), now=clock.now())
        except BatchFailed as exc:
            log.exception("batch_failed", deadlines=len(exc.claimed))
            result = BatchResult(claimed=exc.claimed, deferred=exc.claimed)
        if not result.claimed:
            break
        for fired in result.reports:
            for t in fired.transitions:
                log.info("transition_fired", **t)
            count(fired)
        progressed = bool(result.reports)
        if result.opened_due:
            continue  # a newly due deadline may come before the rest: claim again in order
        # One connection serves the deferred units of work (each still its own transaction), so the
        # pool's checkout and liveness ping are paid once per batch rather than once per deadline.
        connection = None
        try:
            for deadline_id in result.deferred:
                if connection is None:
                    connection = session_factory.kw["bind"].connect()
                try:
                    fired = fire_deadline(deadline_id, uow=UnitOfWork(partial(session_factory, bind=connection)),
                                          clock=clock, busy=busy)
                except Exception:  # one broken deadline must not stop the others; it is retried next tick
                    log.exception("deadline_failed", deadline_id=deadline_id)
                    failed.add(deadline_id)
                    connection.close()  # back to the pool, whose pre-ping finds a broken one before reuse
                    connection = None
                    continue
                if fired.busy:
                    continue
                progressed = True
                count(fired)
                if fired.opened_due:
                    break  # a newly due deadline may come before the rest of this batch: claim again in order
        finally:
            if connection is not None:
                connection.close()
        if busy and not progressed:
            time.sleep(0.05)  # every member claimed is held by another transaction: let those end first
    report.failed = sorted(failed)
    return report
