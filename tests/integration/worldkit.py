"""Builders shared by the integration tests: a world of members on a real database, and what to read back.

A module of its own (not conftest) so that tests import it by a name no other folder uses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pendulum

from lifecycle import commands as c, handlers, samples
from lifecycle.clock import FixedClock
from lifecycle.db import make_engine, make_session_factory
from lifecycle.schemas import CommitmentIn, LetterOfSupportIn, PlanIn
from lifecycle.uow import UnitOfWork

SU = "support-unit"
POC = "poc@city.example"
CALL = "Call 2027"


@dataclass
class World:
    """A database with one open call, and helpers that walk members into a state."""

    factory: object
    clock: FixedClock
    url: str

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.factory)

    def run(self, handler, command):
        return handler(command, uow=self.uow(), clock=self.clock)

    def at(self, when: str) -> None:
        self.clock.set(pendulum.parse(when, tz="UTC"))

    def session(self):
        return self.factory()

    def jurisdiction(self, code: str, *, tz: str = "Europe/Paris", term_end: dt.date | None = dt.date(2031, 6, 30),
                     country: str = "France", language: str = "en") -> str:
        self.run(handlers.register_jurisdiction, c.RegisterJurisdiction(
            code=code, name=code.title(), country=country, time_zone=tz, language=language,
            has_elections=term_end is not None, term_end=term_end))
        return code

    def applicant(self, code: str = "riverton", **kw) -> int:
        self.jurisdiction(code, **kw)
        letter = LetterOfSupportIn.model_validate(samples.letter_of_support())
        return self.run(handlers.apply, c.Apply(jurisdiction=code, call=CALL, letter_of_support=letter, actor=POC))

    def in_orientation(self, code: str = "riverton", **kw) -> int:
        m = self.applicant(code, **kw)
        self.run(handlers.accept_application, c.AcceptApplication(member_id=m, actor=SU))
        return m

    def co_creating(self, code: str = "riverton", **kw) -> int:
        m = self.in_orientation(code, **kw)
        self.run(handlers.complete_orientation, c.CompleteOrientation(member_id=m, actor=SU))
        self.run(handlers.start_co_creation, c.StartCoCreation(member_id=m, actor=POC))
        self.run(handlers.record_meeting, c.RecordMeeting(
            member_id=m, phase="co_creation", held_on=self.today(), government_participants=3,
            non_governmental_participants=4, actor=POC))
        return m

    def implementing(self, code: str = "riverton", *, commitments: int = 3,
                     plan_end: dt.date = dt.date(2029, 6, 30), **kw) -> int:
        m = self.co_creating(code, **kw)
        self.run(handlers.submit_plan, c.SubmitPlan(member_id=m, plan=self.plan(plan_end, commitments), actor=POC))
        return m

    def today(self) -> dt.date:
        return self.clock.now().date()

    def plan(self, plan_end: dt.date = dt.date(2029, 6, 30), commitments: int = 3, **overrides) -> PlanIn:
        return PlanIn.model_validate(samples.plan(self.today(), plan_end, commitments, **overrides))

    def commitment(self, start: dt.date, end: dt.date, n: int = 9) -> CommitmentIn:
        return CommitmentIn.model_validate(samples.commitment(start, end, n))


def snapshot(world: World) -> dict[str, list[tuple]]:
    """Every row of every table, in id order: equal before and after a refused command."""
    from sqlalchemy import select

    from lifecycle.models import Base

    with world.session() as s:
        return {t.name: sorted((tuple(r) for r in s.execute(select(t))), key=repr) for t in Base.metadata.sorted_tables}


def trail(world: World, kind: str, subject_id: int) -> list[tuple[str, str, str, str]]:
    """A subject's audit trail as (trigger, from, to, rule) rows."""
    from lifecycle import audit

    with world.session() as s:
        return [(r.trigger, r.from_state, r.to_state, r.rule_id) for r in audit.history(s, kind, subject_id)]


def state(world: World, member_id: int) -> str:
    from lifecycle.models import Member

    with world.session() as s:
        return s.get(Member, member_id).state


def make_world(url: str, *, reminder_days: tuple[int, ...] | None = None) -> tuple[World, object]:
    engine = make_engine(url)
    world = World(factory=make_session_factory(engine, reminder_days=reminder_days), clock=FixedClock(pendulum.datetime(2027, 1, 10, 9, tz="UTC")),
                  url=url)
    world.run(handlers.open_call, c.OpenCall(name=CALL, opens_on=dt.date(2027, 1, 1), closes_on=dt.date(2027, 3, 31),
                                             first_plan_due=dt.date(2027, 9, 30)))
    return world, engine
