"""Builders of the letter tests: members walked through the real handlers, and their letters delivered."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pendulum
from sqlalchemy import select

from config.settings import Settings
from lifecycle import commands as c, handlers, samples
from lifecycle.clock import FixedClock
from lifecycle.db import make_engine, make_session_factory
from lifecycle.models import OutboxEvent
from lifecycle.schemas import LetterOfSupportIn, PlanIn
from lifecycle.uow import UnitOfWork
from workers.letters import delivery
from workers.letters.transport import SmtpTransport, TemporaryDeliveryError, Transport

SU = "support-unit"
CALL = "Call 2027"
SUPPORT_UNIT = "support@ogplocal.example"
MAIL_DOMAIN = "letters.ogplocal.example"


def mail_settings(db_url: str, data_dir, smtp=None, **extra) -> Settings:
    """Settings of one test: its database, its data folder, and the test SMTP server when given."""
    values = dict(database_url=db_url, data_dir=data_dir, support_unit_email=SUPPORT_UNIT, mail_domain=MAIL_DOMAIN,
                  mail_from=f"OGP Local Support Unit <{SUPPORT_UNIT}>", redis_url=None)
    if smtp is not None:
        values.update(smtp_host=smtp.host, smtp_port=smtp.port, smtp_starttls=False, smtp_timeout_s=10)
    values.update(extra)
    return Settings(_env_file=None, **values)


@dataclass
class LetterWorld:
    """A database with one open call; helpers walk members into a state and deliver their letters."""

    factory: object
    clock: FixedClock
    settings: Settings
    transport: Transport
    engine: object = None
    names: dict[int, str] = field(default_factory=dict)

    def run(self, handler, command):
        return handler(command, uow=UnitOfWork(self.factory), clock=self.clock)

    def at(self, when: str) -> None:
        self.clock.set(pendulum.parse(when, tz="UTC"))

    def today(self) -> dt.date:
        return self.clock.now().date()

    # -- members ------------------------------------------------------------------

    def applicant(self, code: str, *, name: str | None = None, language: str = "en", tz: str = "Europe/Paris",
                  poc: str | None = None, with_poc: bool = True) -> int:
        self.run(handlers.register_jurisdiction, c.RegisterJurisdiction(
            code=code, name=name or code.title(), country="France", time_zone=tz, language=language,
            term_end=dt.date(2031, 6, 30)))
        letter = LetterOfSupportIn.model_validate(samples.letter_of_support())
        m = self.run(handlers.apply, c.Apply(jurisdiction=code, call=CALL, letter_of_support=letter,
                                             actor=poc or f"poc@{code}.example"))
        self.names[m] = name or code.title()
        if with_poc:
            self.person(m, "poc", poc or f"poc@{code}.example")
        return m

    def person(self, member_id: int, role: str, email: str, name: str = "Ana Ruiz") -> int:
        return self.run(handlers.register_person, c.RegisterPerson(name=name, email=email, role=role,
                                                                   member_id=member_id))

    def accepted(self, code: str, **kw) -> int:
        m = self.applicant(code, **kw)
        self.run(handlers.accept_application, c.AcceptApplication(member_id=m, actor=SU, reason="strong application"))
        return m

    def co_creating(self, code: str, **kw) -> int:
        m = self.accepted(code, **kw)
        self.run(handlers.complete_orientation, c.CompleteOrientation(member_id=m, actor=SU))
        self.run(handlers.start_co_creation, c.StartCoCreation(member_id=m, actor=f"poc@{code}.example"))
        self.run(handlers.record_meeting, c.RecordMeeting(
            member_id=m, phase="co_creation", held_on=self.today(), government_participants=3,
            non_governmental_participants=4, actor=f"poc@{code}.example"))
        return m

    def implementing(self, code: str, *, plan_end: dt.date = dt.date(2029, 6, 30), **kw) -> int:
        m = self.co_creating(code, **kw)
        plan = PlanIn.model_validate(samples.plan(self.today(), plan_end, 2))
        self.run(handlers.submit_plan, c.SubmitPlan(member_id=m, plan=plan, actor=f"poc@{code}.example"))
        return m

    def status(self, member_id: int, trigger: str, rule: str, reason: str, *, override: bool = False) -> None:
        self.run(handlers.apply_status, c.ApplyStatus(member_id=member_id, trigger=trigger, rule=rule, actor=SU,
                                                      reason=reason, override=override))

    # -- letters ------------------------------------------------------------------

    def letters(self, member_id: int | None = None, kind: str | None = None) -> list[OutboxEvent]:
        with self.factory() as s:
            stmt = select(OutboxEvent).order_by(OutboxEvent.id)
            if member_id is not None:
                stmt = stmt.where(OutboxEvent.member_id == member_id)
            if kind is not None:
                stmt = stmt.where(OutboxEvent.kind == kind)
            return list(s.scalars(stmt))

    def letter(self, outbox_id: int) -> OutboxEvent:
        with self.factory() as s:
            return s.get(OutboxEvent, outbox_id)

    def deliver(self, outbox_id: int) -> str:
        return delivery.deliver(outbox_id, session_factory=self.factory, transport=self.transport,
                                settings=self.settings, clock=self.clock)

    def deliver_pending(self) -> dict[int, str]:
        """Deliver every pending letter once, as the workers would; returns each outcome."""
        with self.factory() as s:
            ids = delivery.pending_ids(s)
        outcomes = {}
        for outbox_id in ids:
            try:
                outcomes[outbox_id] = self.deliver(outbox_id)
            except TemporaryDeliveryError as exc:
                outcomes[outbox_id] = f"deferred: {exc}"
        return outcomes


def make_letter_world(db_url: str, settings: Settings, transport: Transport | None = None) -> LetterWorld:
    engine = make_engine(db_url)
    world = LetterWorld(factory=make_session_factory(engine), clock=FixedClock(pendulum.datetime(2027, 1, 10, 9,
                                                                                                  tz="UTC")),
                        settings=settings, transport=transport or SmtpTransport(settings), engine=engine)
    world.run(handlers.open_call, c.OpenCall(name=CALL, opens_on=dt.date(2027, 1, 1), closes_on=dt.date(2027, 3, 31),
                                             first_plan_due=dt.date(2027, 9, 30)))
    return world
