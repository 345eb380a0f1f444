"""Builders for the page tests: a small world of members and people with passwords, the app, logged-in clients.

A module of its own (not conftest) so that tests and the browser kit import it by a name no other folder uses.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import pendulum
from sqlalchemy import select

from config.settings import Settings
from lifecycle import accounts, commands as c, handlers, samples
from lifecycle.clock import FixedClock
from lifecycle.db import make_engine, make_session_factory
from lifecycle.schemas import LetterOfSupportIn, PlanIn
from lifecycle.uow import UnitOfWork

CALL = "Call 2027"
PASSWORD = "correct horse battery staple"
START = pendulum.datetime(2027, 1, 10, 9, tz="UTC")
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class PageWorld:
    """Members in several states, and the people who act for them.

    - ``riverton`` (France): implementing a plan of three commitments; POC ``poc-a``,
      monitoring body ``mb-a``; one quarterly update with a stuck milestone and its reason.
    - ``lyon`` (France): co-creating, POC ``poc-b``.
    - ``bogota`` (Colombia): an applicant.
    - ``su``: the Support Unit.
    """

    factory: object
    clock: FixedClock
    url: str
    engine: object
    members: dict[str, int] = field(default_factory=dict)
    people: dict[str, str] = field(default_factory=dict)  # short name -> e-mail
    update_id: int | None = None

    def run(self, handler, command):
        return handler(command, uow=UnitOfWork(self.factory), clock=self.clock)

    def at(self, when: str) -> None:
        """Move the clock: a date (09:00 UTC that day) or an ISO 8601 instant."""
        self.clock.set(pendulum.parse(when if "T" in when else f"{when}T09:00:00", tz="UTC"))

    def fire(self, code: str, kind: str, *, status: str = "pending") -> None:
        """Fire the member's deadline of this kind as the timed workers would, as of the clock."""
        from lifecycle.engine import fire_deadline
        from lifecycle.models import Deadline

        with self.session() as s:
            ident = s.scalar(select(Deadline.id).where(Deadline.member_id == self.members[code], Deadline.kind == kind,
                                                       Deadline.status == status).order_by(Deadline.breach_at))
        assert ident is not None, f"{code} has no {status} {kind} deadline"
        fire_deadline(ident, uow=UnitOfWork(self.factory), clock=self.clock)

    def session(self):
        return self.factory()

    def person(self, key: str, role: str, member: str | None = None) -> str:
        email = f"{key}@ogp.example"
        person_id = self.run(handlers.register_person, c.RegisterPerson(
            name=key.upper(), email=email, role=role, member_id=self.members[member] if member else None))
        self.run(accounts.set_password, c.SetPassword(person_id=person_id, password=PASSWORD))
        self.people[key] = email
        return email

    def jurisdiction(self, code: str, *, country: str = "France", tz: str = "Europe/Paris", language: str = "en"):
        self.run(handlers.register_jurisdiction, c.RegisterJurisdiction(
            code=code, name=code.title(), country=country, time_zone=tz, language=language, has_elections=True,
            term_end=dt.date(2031, 6, 30)))

    def applicant(self, code: str, **kw) -> int:
        self.jurisdiction(code, **kw)
        letter = LetterOfSupportIn.model_validate(samples.letter_of_support())
        member_id = self.run(handlers.apply, c.Apply(jurisdiction=code, call=CALL, letter_of_support=letter,
                                                     actor="poc@example.org"))
        self.members[code] = member_id
        return member_id

    def co_creating(self, code: str, **kw) -> int:
        m = self.applicant(code, **kw)
        self.run(handlers.accept_application, c.AcceptApplication(member_id=m, actor="support-unit"))
        self.run(handlers.complete_orientation, c.CompleteOrientation(member_id=m, actor="support-unit"))
        self.run(handlers.start_co_creation, c.StartCoCreation(member_id=m, actor="support-unit"))
        self.run(handlers.record_meeting, c.RecordMeeting(
            member_id=m, phase="co_creation", held_on=self.clock.now().date(), government_participants=3,
            non_governmental_participants=4, actor="support-unit"))
        return m

    def implementing(self, code: str, *, plan_end: dt.date = dt.date(2029, 6, 30), **kw) -> int:
        m = self.co_creating(code, **kw)
        self.file_plan(code, plan_end)
        return m

    def file_plan(self, code: str, plan_end: dt.date, commitments: int = 3) -> int:
        """The member files a plan today (R2.4), ending on ``plan_end``; returns its id."""
        plan = PlanIn.model_validate(samples.plan(self.clock.now().date(), plan_end, commitments))
        return self.run(handlers.submit_plan, c.SubmitPlan(member_id=self.members[code], plan=plan,
                                                           actor="support-unit"))

    def commitments(self, code: str) -> list[int]:
        from lifecycle.models import Member

        with self.session() as s:
            return [cm.id for cm in s.get(Member, self.members[code]).current_plan.commitments]

    def milestones(self, code: str) -> list[int]:
        from lifecycle.models import Member

        with self.session() as s:
            plan = s.get(Member, self.members[code]).current_plan
            return [ms.id for cm in plan.commitments for ms in cm.milestones]

    def state(self, code: str) -> str:
        from lifecycle.models import Member

        with self.session() as s:
            return s.get(Member, self.members[code]).state

    def snapshot(self) -> dict[str, list[tuple]]:
        """Every row of every table: equal before and after a refused action."""
        from lifecycle.models import Base

        with self.session() as s:
            return {t.name: sorted((tuple(r) for r in s.execute(select(t))), key=repr)
                    for t in Base.metadata.sorted_tables}

    def dispose(self) -> None:
        self.engine.dispose()


def make_page_world(url: str) -> PageWorld:
    engine = make_engine(url)
    w = PageWorld(factory=make_session_factory(engine), clock=FixedClock(START), url=url, engine=engine)
    w.run(handlers.open_call, c.OpenCall(name=CALL, opens_on=dt.date(2027, 1, 1), closes_on=dt.date(2027, 3, 31),
                                         first_plan_due=dt.date(2027, 9, 30)))
    w.implementing("riverton")
    w.co_creating("lyon")
    w.applicant("bogota", country="Colombia", tz="America/Bogota", language="es")
    w.person("su", "support_unit")
    w.person("poc-a", "poc", "riverton")
    w.person("poc-b", "poc", "lyon")
    w.person("mb-a", "monitoring_body", "riverton")
    w.clock.set(pendulum.datetime(2027, 4, 5, 10, tz="UTC"))
    ids = w.milestones("riverton")
    w.update_id = w.run(handlers.record_tracker_update, c.RecordTrackerUpdate(
        member_id=w.members["riverton"], narrative="The register is live; reviews with residents come next.",
        actor=w.people["poc-a"], changes=(c.MilestoneChange(milestone_id=ids[0], status="in_progress"),
                                          c.MilestoneChange(milestone_id=ids[1], status="stuck",
                                                            delay_reason="The budget was voted late."))))
    return w


def settings_for(url: str, tmp_path) -> Settings:
    return Settings(database_url=url, data_dir=tmp_path / "data", log_format="json", log_level="WARNING")


def csrf_from(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, "the page has no csrf_token field"
    return found.group(1)


def log_in(client, email: str, password: str = PASSWORD, *, next_path: str = "/"):
    """Log in through the login page's form, as a browser does; returns the response of the POST."""
    page = client.get("/login", params={"next": next_path})
    assert page.status_code == 200, page.text
    return client.post("/login", data={"email": email, "password": password, "next": next_path,
                                       "csrf_token": csrf_from(page.text)}, follow_redirects=False)


FIELD = re.compile(r"<(?:input|select|textarea)\b[^>]*>")
HEADING = re.compile(r"<h([1-6])[\s>]")


def assert_accessible(html: str, lang: str | None = None) -> None:
    """What every page owes a reader with assistive technology, checked on the HTML itself.

    A ``lang`` attribute, a skip link to ``main``, the landmarks, exactly one h1 and headings
    that never skip a level, and a label for every visible form field.
    """
    found = re.search(r'<html lang="([a-z]{2,3})">', html)
    assert found and (lang is None or found.group(1) == lang), "the page has no (or the wrong) lang attribute"
    assert 'class="skip-link" href="#main"' in html and '<main id="main"' in html
    for landmark in ("<header", "<nav", "<main", "<footer"):
        assert landmark in html, landmark
    levels = [int(level) for level in HEADING.findall(html)]
    assert levels and levels[0] == 1 and levels.count(1) == 1, levels
    for before, after in zip(levels, levels[1:]):
        assert after <= before + 1, f"heading h{after} follows h{before}: {levels}"
    for tag in FIELD.findall(html):
        if 'type="hidden"' in tag:
            continue
        field_id = re.search(r'\bid="([^"]+)"', tag)
        assert field_id, f"a form field without id (so without label): {tag}"
        assert f'for="{field_id.group(1)}"' in html, f"no label for {field_id.group(1)}"
