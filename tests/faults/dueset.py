"""A due set built through the real handlers: members left inactive long enough that R6.1 is due.

Each member applies, is accepted, goes through orientation into co-creation and becomes
inactive under R5.1 about seven months before the real present, so that its probation
clock (R6.1, six months) is breached about a month ago while the revocation clock it
opens when it fires (R6.5, four months on probation) lies months ahead: every due
deadline fires exactly one transition, place_on_probation, and nothing else is due.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pendulum
from sqlalchemy import func, select

from lifecycle import audit, commands as c, handlers, samples
from lifecycle.clock import FixedClock
from lifecycle.db import make_engine, make_session_factory
from lifecycle.models import Deadline, Member, TransitionRecord
from lifecycle.schemas import LetterOfSupportIn
from lifecycle.uow import UnitOfWork

SU = "support-unit"
POC = "poc@city.example"
CALL = "Fault call"
TRIGGER = "place_on_probation"
KIND = "probation_clock"
#: Members in the PostgreSQL due set of the fault tests; each has one due probation clock (R6.1).
DUE_SET_SIZE = 300


def inactive_since(today: dt.date | None = None) -> dt.date:
    """The day the members became inactive: seven months before today (R6.1 due a month ago, R6.5 months ahead)."""
    today = today or pendulum.now("UTC").date()
    return pendulum.date(today.year, today.month, 1).subtract(months=7)


def build_due_set(url: str, n: int, *, prefix: str = "city") -> list[int]:
    """Create ``n`` inactive members through the handlers; return their ids."""
    day = inactive_since()
    start = pendulum.datetime(day.year, day.month, day.day, 9, tz="UTC").subtract(days=40)
    clock = FixedClock(start)
    engine = make_engine(url)
    factory = make_session_factory(engine)

    def run(handler, command):
        return handler(command, uow=UnitOfWork(factory), clock=clock)

    try:
        run(handlers.open_call, c.OpenCall(name=CALL, opens_on=start.date().subtract(days=5),
                                           closes_on=start.date().add(days=30), first_plan_due=day.subtract(days=5)))
        letter = LetterOfSupportIn.model_validate(samples.letter_of_support())
        term_end = day.add(years=4)
        members = []
        for i in range(n):
            code = f"{prefix}{i:04d}"
            run(handlers.register_jurisdiction, c.RegisterJurisdiction(
                code=code, name=code.title(), country="France", time_zone="Europe/Paris", term_end=term_end))
            m = run(handlers.apply, c.Apply(jurisdiction=code, call=CALL, letter_of_support=letter, actor=POC))
            run(handlers.accept_application, c.AcceptApplication(member_id=m, actor=SU))
            run(handlers.complete_orientation, c.CompleteOrientation(member_id=m, actor=SU))
            run(handlers.start_co_creation, c.StartCoCreation(member_id=m, actor=POC))
            members.append(m)
        clock.set(pendulum.datetime(day.year, day.month, day.day, 9, tz="UTC"))
        for m in members:
            run(handlers.apply_status, c.ApplyStatus(member_id=m, trigger="become_inactive", rule="R5.1", actor=SU,
                                                     reason="no action plan filed by the deadline", override=True))
        return members
    finally:
        engine.dispose()


@dataclass
class Outcome:
    """What the database says about the due set."""

    members: int
    pending_due: int  # due probation clocks not yet fired
    breached: int  # probation clocks closed as breached
    fired: dict[int, int]  # member id -> place_on_probation records
    states: dict[str, int]
    audit_ok: bool
    audit_problem: str | None

    @property
    def duplicates(self) -> dict[int, int]:
        return {m: k for m, k in self.fired.items() if k > 1}


def progress(factory) -> int:
    """How many probation clocks have fired so far (cheap: one count)."""
    with factory() as s:
        return s.scalar(select(func.count()).select_from(TransitionRecord).where(
            TransitionRecord.subject_type == "member", TransitionRecord.trigger == TRIGGER)) or 0


def outcome(factory, now: pendulum.DateTime | None = None) -> Outcome:
    now = now or pendulum.now("UTC")
    with factory() as s:
        members = s.scalar(select(func.count()).select_from(Member)) or 0
        pending_due = s.scalar(select(func.count()).select_from(Deadline).where(
            Deadline.status == "pending", Deadline.breach_at <= now)) or 0
        breached = s.scalar(select(func.count()).select_from(Deadline).where(
            Deadline.kind == KIND, Deadline.status == "breached")) or 0
        fired = dict(s.execute(select(TransitionRecord.subject_id, func.count()).where(
            TransitionRecord.subject_type == "member", TransitionRecord.trigger == TRIGGER)
            .group_by(TransitionRecord.subject_id)).all())
        states = dict(s.execute(select(Member.state, func.count()).group_by(Member.state)).all())
        report = audit.verify(s)
    bad = report.first_bad
    return Outcome(members=members, pending_due=pending_due, breached=breached, fired=fired, states=states,
                   audit_ok=report.ok, audit_problem=None if bad is None else f"{bad.subject} #{bad.seq}: {bad.problem}")


def due_ids(factory, now: pendulum.DateTime | None = None) -> list[int]:
    now = now or pendulum.now("UTC")
    with factory() as s:
        return list(s.scalars(select(Deadline.id).where(Deadline.status == "pending", Deadline.breach_at <= now)
                              .order_by(Deadline.breach_at, Deadline.id)))


def inconsistencies(factory) -> list[str]:
    """Members whose state, audit trail and deadlines disagree: a fired deadline half done, or fired twice.

    A member of the due set is either untouched (inactive, no R6.1 record, its probation clock
    pending, no revocation clock) or fired once (on probation, one R6.1 record, its probation
    clock breached and closed by that record, one revocation clock pending).
    """
    problems = []
    with factory() as s:
        members = dict(s.execute(select(Member.id, Member.state)).all())
        records: dict[int, list[int]] = {}
        for member_id, record_id in s.execute(select(TransitionRecord.subject_id, TransitionRecord.id).where(
                TransitionRecord.subject_type == "member", TransitionRecord.trigger == TRIGGER)):
            records.setdefault(member_id, []).append(record_id)
        clocks: dict[int, list[tuple[str, str, int | None]]] = {}
        for member_id, kind, status, closed_by in s.execute(select(
                Deadline.member_id, Deadline.kind, Deadline.status, Deadline.closed_by).where(
                Deadline.kind.in_((KIND, "revocation_clock"))).order_by(Deadline.id)):
            clocks.setdefault(member_id, []).append((kind, status, closed_by))
    for member_id, state in sorted(members.items()):
        fired = records.get(member_id, [])
        mine = clocks.get(member_id, [])
        if state == "inactive":
            expected = [(KIND, "pending", None)]
            if fired or mine != expected:
                problems.append(f"member {member_id}: inactive with records {fired} and clocks {mine}")
        elif state == "probation":
            expected = [(KIND, "breached", fired[0] if fired else -1), ("revocation_clock", "pending", None)]
            if len(fired) != 1 or mine != expected:
                problems.append(f"member {member_id}: on probation with records {fired} and clocks {mine}")
        else:
            problems.append(f"member {member_id}: unexpected state {state}")
    return problems
