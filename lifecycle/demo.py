"""A guided walk of sample members through several years of the lifecycle, printing each transition."""

from __future__ import annotations

import datetime as dt

import pendulum
from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from lifecycle import commands as c, handlers, samples
from lifecycle.clock import FixedClock
from lifecycle.models import Jurisdiction, TransitionRecord
from lifecycle.schemas import LetterOfSupportIn, PlanIn
from lifecycle.uow import UnitOfWork
from policies.errors import RuleViolation


class _Walk:
    def __init__(self, factory: sessionmaker, console: Console) -> None:
        self.factory = factory
        self.console = console
        self.clock = FixedClock(pendulum.datetime(2027, 1, 4, 9, tz="UTC"))
        with factory() as s:
            self.last_id = s.scalar(select(func.max(TransitionRecord.id))) or 0
            self.suffix = str((s.scalar(select(func.count()).select_from(Jurisdiction)) or 0) // 3 + 1)

    def at(self, day: str) -> None:
        self.clock.set(pendulum.parse(day + "T09:00:00", tz="UTC"))

    def do(self, handler, command):
        try:
            result = handler(command, uow=UnitOfWork(self.factory), clock=self.clock)
        except RuleViolation as exc:
            self.console.print(f"  [yellow]refused[/yellow] {exc}", highlight=False)
            return None
        self._print_new()
        return result

    def _print_new(self) -> None:
        with self.factory() as s:
            rows = s.scalars(select(TransitionRecord).where(TransitionRecord.id > self.last_id)
                             .order_by(TransitionRecord.id)).all()
        for r in rows:
            self.last_id = r.id
            if r.subject_type == "commitment" and r.trigger in ("create", "start"):
                continue  # one line per plan is enough; the audit trail has them all
            self.console.print(
                f"  {r.business_time.to_date_string()}  {r.subject_type} {r.subject_id}: "
                f"{r.from_state or '—'} → [bold]{r.to_state}[/bold]  ({r.trigger}, {r.rule_id}, by {r.actor})",
                highlight=False,
            )

    def say(self, text: str) -> None:
        self.console.print(f"\n[cyan]{self.clock.now().to_date_string()}[/cyan] {text}", highlight=False)


def _plan(filed: dt.date, end: dt.date, n: int = 3) -> PlanIn:
    return PlanIn.model_validate(samples.plan(filed, end, commitments=n))


def run_demo(factory: sessionmaker, *, console: Console, years: int = 4) -> None:
    w = _Walk(factory, console)
    s = w.suffix
    su = "support-unit"
    console.print("[bold]OGP Local lifecycle demo[/bold]: three members over several years.")

    w.say("The Support Unit opens a call; three jurisdictions register.")
    w.do(handlers.open_call, c.OpenCall(name=f"Call 2027 #{s}", opens_on=dt.date(2027, 1, 1),
                                        closes_on=dt.date(2027, 2, 28), first_plan_due=dt.date(2027, 9, 30)))
    codes = {}
    for code, name, country, tz, lang, term in [
        ("riverton", "Riverton", "France", "Europe/Paris", "fr", dt.date(2031, 6, 30)),
        ("monteverde", "Monteverde", "Colombia", "America/Bogota", "es", dt.date(2031, 12, 31)),
        ("haneul", "Haneul", "Korea", "Asia/Seoul", "en", None),
    ]:
        codes[code] = f"{code}-{s}"
        w.do(handlers.register_jurisdiction, c.RegisterJurisdiction(
            code=codes[code], name=name, country=country, time_zone=tz, language=lang,
            has_elections=term is not None, term_end=term))
    letter = LetterOfSupportIn.model_validate(samples.letter_of_support())
    long_letter = LetterOfSupportIn.model_validate({**samples.letter_of_support(), "pages": 5})
    w.at("2027-02-10")
    w.say("Applications arrive (R1.1).")
    a = w.do(handlers.apply, c.Apply(jurisdiction=codes["riverton"], call=f"Call 2027 #{s}", letter_of_support=letter,
                                     actor="poc@riverton.example"))
    b = w.do(handlers.apply, c.Apply(jurisdiction=codes["monteverde"], call=f"Call 2027 #{s}",
                                     letter_of_support=long_letter, actor="poc@monteverde.example"))
    h = w.do(handlers.apply, c.Apply(jurisdiction=codes["haneul"], call=f"Call 2027 #{s}", letter_of_support=letter,
                                     actor="poc@haneul.example"))
    w.at("2027-03-15")
    w.say("The Support Unit decides; a five-page letter of support cannot be accepted (R1.3).")
    w.do(handlers.accept_application, c.AcceptApplication(member_id=a, actor=su))
    w.do(handlers.accept_application, c.AcceptApplication(member_id=b, actor=su))
    w.do(handlers.reject_application, c.RejectApplication(member_id=b, actor=su,
                                                          reason="Letter of support longer than three pages"))
    w.do(handlers.accept_application, c.AcceptApplication(member_id=h, actor=su))

    w.at("2027-04-20")
    w.say("Orientation, then co-creation (R2.3).")
    for m in (a, h):
        w.do(handlers.start_co_creation, c.StartCoCreation(member_id=m, actor=su))
        w.do(handlers.complete_orientation, c.CompleteOrientation(member_id=m, actor=su))
        w.do(handlers.start_co_creation, c.StartCoCreation(member_id=m, actor=su))
        w.do(handlers.record_meeting, c.RecordMeeting(member_id=m, phase="co_creation", held_on=dt.date(2027, 4, 20),
                                                      government_participants=3, non_governmental_participants=6,
                                                      actor="poc"))

    w.at("2027-06-15")
    w.say("Both file action plans (R2.4); Riverton's first try ends after its term allows (R3.1).")
    w.do(handlers.submit_plan, c.SubmitPlan(member_id=a, plan=_plan(dt.date(2027, 6, 15), dt.date(2031, 6, 1)),
                                            actor="poc@riverton.example"))
    w.do(handlers.submit_plan, c.SubmitPlan(member_id=a, plan=_plan(dt.date(2027, 6, 15), dt.date(2029, 6, 30)),
                                            actor="poc@riverton.example"))
    w.do(handlers.submit_plan, c.SubmitPlan(member_id=h, plan=_plan(dt.date(2027, 6, 15), dt.date(2029, 6, 30), 2),
                                            actor="poc@haneul.example"))

    w.at("2027-12-01")
    w.say("Haneul asks for voluntary inactivity; the Support Unit approves (R5.5).")
    rid = w.do(handlers.request_voluntary_inactivity, c.RequestVoluntaryInactivity(
        member_id=h, reason="Municipal restructuring", stakeholders_consulted=True, actor="poc@haneul.example"))
    w.do(handlers.approve_voluntary_inactivity, c.ApproveVoluntaryInactivity(request_id=rid, actor=su))

    if years >= 2:
        w.at("2028-07-01")
        w.say("Riverton's tracker shows no update for two quarters: the Support Unit applies R5.4.")
        w.do(handlers.apply_status, c.ApplyStatus(member_id=a, trigger="become_inactive", rule="R5.4", actor=su,
                                                  reason="No tracker update in 2027-Q4 and 2028-Q1"))
        w.at("2028-08-20")
        w.say("Haneul reports progress, which ends its voluntary inactivity (R5.6).")
        w.do(handlers.record_tracker_update, _first_milestone_started(factory, h, "Register live",
                                                                      "poc@haneul.example"))
    if years >= 3:
        w.at("2029-01-02")
        w.say("Six months inactive without resuming: probation (R6.1).")
        w.do(handlers.apply_status, c.ApplyStatus(member_id=a, trigger="place_on_probation", rule="R6.1", actor=su,
                                                  reason="Inactive since 2028-07-01"))
        w.at("2029-03-10")
        w.say("Riverton reports progress: the unmet requirement is met and it is reinstated at once (R6.4, D13).")
        w.do(handlers.record_tracker_update, _first_milestone_started(factory, a, "Open contracting portal launched",
                                                                      "poc@riverton.example"))
        w.at("2029-07-01")
        w.say("Plans end (R2.5): both return to co-creation with four months to file the next (R3.8).")
        for m in (a, h):
            w.do(handlers.apply_status, c.ApplyStatus(member_id=m, trigger="end_plan", rule="R2.5", actor="system",
                                                      reason="plan end date passed"))
    if years >= 4:
        w.at("2029-10-15")
        w.say("Riverton files its next plan in time; Haneul does not and becomes inactive (R5.2).")
        w.do(handlers.record_meeting, c.RecordMeeting(member_id=a, phase="co_creation", held_on=dt.date(2029, 9, 1),
                                                      government_participants=2, non_governmental_participants=4,
                                                      actor="poc"))
        w.do(handlers.submit_plan, c.SubmitPlan(member_id=a, plan=_plan(dt.date(2029, 10, 15), dt.date(2031, 4, 30), 2),
                                                actor="poc@riverton.example"))
        w.at("2029-11-01")
        w.do(handlers.apply_status, c.ApplyStatus(member_id=h, trigger="become_inactive", rule="R5.2", actor="system",
                                                  reason="No plan by 2029-10-31"))
    console.print("\nDone. See `ogp-lifecycle member show ID`, `ogp-lifecycle audit show member:ID` "
                  "and `ogp-lifecycle audit verify`.")


def _first_milestone_started(factory, member_id: int, narrative: str, actor: str) -> c.RecordTrackerUpdate:
    """A tracker update moving the first milestone of the member's plan to in progress (progress, D12)."""
    from lifecycle.models import Member

    with factory() as sess:
        milestone = sess.get(Member, member_id).current_plan.commitments[0].milestones[0].id
    return c.RecordTrackerUpdate(member_id=member_id, narrative=narrative, actor=actor,
                                 changes=(c.MilestoneChange(milestone_id=milestone, status="in_progress"),))
