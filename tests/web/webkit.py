"""Builders of the web tests: an app on a real database, people with API tokens, members walked into a state.

A module of its own (not conftest) so that tests import it by a name no other folder uses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pendulum
from fastapi.testclient import TestClient

from config.settings import Settings
from lifecycle import accounts, commands as c, handlers, samples
from lifecycle.clock import FixedClock
from lifecycle.db import make_engine, make_session_factory
from lifecycle.schemas import LetterOfSupportIn, PlanIn
from lifecycle.uow import UnitOfWork
from web.app import create_app

CALL = "Call 2027"
PASSWORD = "correct horse battery staple"


@dataclass
class Person:
    id: int
    email: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class WebWorld:
    """An app on a database with one open call; ``client`` speaks HTTP to it in-process."""

    factory: object
    clock: FixedClock
    client: TestClient
    app: object
    people: dict[str, Person] = field(default_factory=dict)

    def run(self, handler, command):
        return handler(command, uow=UnitOfWork(self.factory), clock=self.clock)

    def session(self):
        return self.factory()

    def today(self) -> dt.date:
        return self.clock.now().date()

    def person(self, key: str, role: str, member_id: int | None = None, *, password: bool = False) -> Person:
        email = f"{key}@people.example"
        pid = self.run(handlers.register_person, c.RegisterPerson(name=key.replace("_", " ").title(), email=email,
                                                                  role=role, member_id=member_id))
        if password:
            self.run(accounts.set_password, c.SetPassword(person_id=pid, password=PASSWORD))
        token = self.run(accounts.create_token, c.CreateApiToken(person_id=pid, name=f"{key} tests")).token
        self.people[key] = Person(pid, email, token)
        return self.people[key]

    def jurisdiction(self, code: str, *, term_end: dt.date | None = dt.date(2031, 6, 30)) -> str:
        self.run(handlers.register_jurisdiction, c.RegisterJurisdiction(
            code=code, name=code.title(), country="France", time_zone="Europe/Paris",
            has_elections=term_end is not None, term_end=term_end))
        return code

    def applicant(self, code: str) -> int:
        self.jurisdiction(code)
        letter = LetterOfSupportIn.model_validate(samples.letter_of_support())
        return self.run(handlers.apply, c.Apply(jurisdiction=code, call=CALL, letter_of_support=letter,
                                                actor="poc@city.example"))

    def co_creating(self, code: str) -> int:
        m = self.applicant(code)
        self.run(handlers.accept_application, c.AcceptApplication(member_id=m, actor="su"))
        self.run(handlers.complete_orientation, c.CompleteOrientation(member_id=m, actor="su"))
        self.run(handlers.start_co_creation, c.StartCoCreation(member_id=m, actor="poc"))
        self.run(handlers.record_meeting, c.RecordMeeting(
            member_id=m, phase="co_creation", held_on=self.today(), government_participants=3,
            non_governmental_participants=4, actor="poc"))
        return m

    def plan_document(self, commitments: int = 3, plan_end: dt.date = dt.date(2029, 6, 30), **overrides) -> dict:
        return samples.plan(self.today(), plan_end, commitments, **overrides)

    def implementing(self, code: str) -> int:
        m = self.co_creating(code)
        self.run(handlers.submit_plan, c.SubmitPlan(member_id=m, plan=PlanIn.model_validate(self.plan_document()),
                                                    actor="poc"))
        return m

    def commitments_of(self, member_id: int) -> list[dict]:
        return self.client.get(f"/api/members/{member_id}/commitments").json()


def make_web_world(url: str, tmp_path: Path, **settings) -> tuple[WebWorld, object]:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = FixedClock(pendulum.datetime(2027, 1, 10, 9, tz="UTC"))
    app = create_app(Settings(database_url=url, data_dir=tmp_path / "data", **settings), session_factory=factory,
                     clock=clock)
    world = WebWorld(factory=factory, clock=clock, client=TestClient(app), app=app)
    world.run(handlers.open_call, c.OpenCall(name=CALL, opens_on=dt.date(2027, 1, 1), closes_on=dt.date(2027, 3, 31),
                                             first_plan_due=dt.date(2027, 9, 30)))
    return world, engine
