"""The ``ogp-lifecycle`` command line: every use case as a command, reads as tables or JSON."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as _RichTable

from config.logging import configure_logging
from config.settings import Settings
from lifecycle import audit, commands as c, handlers, queries
from lifecycle.clock import Clock, FixedClock, SystemClock, parse_instant
from lifecycle.db import current_revision, make_engine, make_session_factory, upgrade_database
from lifecycle.schemas import CommitmentIn, LetterOfSupportIn, MilestoneIn, PlanIn, load_document, parse
from lifecycle.uow import UnitOfWork
from policies.errors import RuleViolation

app = typer.Typer(help="OGP Local lifecycle service: members and commitments as audited state machines.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
jurisdiction_app = typer.Typer(help="Jurisdictions (name, country, time zone, term).", no_args_is_help=True)
call_app = typer.Typer(help="Calls for applications (R1.1).", no_args_is_help=True)
person_app = typer.Typer(help="People and their roles.", no_args_is_help=True)
member_app = typer.Typer(help="Members: apply, accept, co-create, file plans, inactivity, statuses.",
                         no_args_is_help=True)
commitment_app = typer.Typer(help="Commitments: complete, modify, withdraw, replace (R3.4, R3.10).",
                             no_args_is_help=True)
meeting_app = typer.Typer(help="Meetings of the participation space (R3.11).", no_args_is_help=True)
tracker_app = typer.Typer(help="Quarterly tracker updates (R4.4).", no_args_is_help=True)
assessment_app = typer.Typer(help="Monitoring deliverables (R4.1–R4.3).", no_args_is_help=True)
evidence_app = typer.Typer(help="Evidence links (R8.3).", no_args_is_help=True)
deadline_app = typer.Typer(help="Recorded deadlines.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident transition history.", no_args_is_help=True)
plan_app = typer.Typer(help="Plan files.", no_args_is_help=True)
for sub, name in [(db_app, "db"), (jurisdiction_app, "jurisdiction"), (call_app, "call"), (person_app, "person"),
                  (member_app, "member"), (commitment_app, "commitment"), (meeting_app, "meeting"),
                  (tracker_app, "tracker"), (assessment_app, "assessment"), (evidence_app, "evidence"),
                  (deadline_app, "deadlines"), (audit_app, "audit"), (plan_app, "plan")]:
    app.add_typer(sub, name=name)

class Table(_RichTable):
    """A rich table whose cells are plain text: names and reasons are never read as markup."""

    def add_row(self, *cells, **kw):  # type: ignore[override]
        super().add_row(*(None if c is None else escape(str(c)) for c in cells), **kw)


out = Console()
err = Console(stderr=True, soft_wrap=True)  # a refusal stays one line that scripts can grep
# Set from the global --json option: main() prints a refusal as a JSON object on stderr then.
_refusals_as_json = False


@dataclass
class Env:
    """What every command needs, built once from the global options."""

    settings: Settings
    as_json: bool
    actor: str
    clock: Clock

    @cached_property
    def session_factory(self):
        url = self.settings.db_url
        if self.settings.is_embedded and current_revision(url) is None:
            upgrade_database(url)  # the embedded default makes its own schema on first use
        return make_session_factory(make_engine(url), reminder_days=self.settings.deadline_reminder_days)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)

    def run(self, handler, command) -> Any:
        return handler(command, uow=self.uow(), clock=self.clock)

    def session(self):
        return self.session_factory()


def env(ctx: typer.Context) -> Env:
    return ctx.find_root().obj


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[Optional[str], typer.Option("--db", help="Database URL (default: the embedded SQLite file).",
                                              envvar="OGP_DATABASE_URL")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print read results as JSON.")] = False,
    now: Annotated[Optional[str], typer.Option("--now", help="Act at this ISO 8601 instant (simulated clock).")] = None,
    actor: Annotated[str, typer.Option("--actor", help="Who is acting (recorded in the audit trail).",
                                       envvar="OGP_ACTOR")] = "support-unit",
) -> None:
    global _refusals_as_json
    _refusals_as_json = as_json
    settings = Settings(**({"database_url": db} if db else {}))
    # Processes log every transition; one-shot commands print their own results, so they log warnings only.
    service = ctx.invoked_subcommand in ("run", "scheduler", "worker", "serve")
    level = settings.log_level if service or "OGP_LOG_LEVEL" in os.environ else "WARNING"
    configure_logging(fmt=settings.log_format, level=level)
    clock: Clock = SystemClock()
    if now is not None:
        if not settings.allow_simulated_clock:
            raise _fail("--now needs a simulated clock, which these settings forbid "
                        "(set OGP_ALLOW_SIMULATED_CLOCK=true outside production).")
        try:
            clock = FixedClock(parse_instant(now))
        except Exception:
            raise _fail(f"--now: {now!r} is not an ISO 8601 instant (e.g. 2027-03-01T09:00:00Z).") from None
    ctx.obj = Env(settings=settings, as_json=as_json, actor=actor, clock=clock)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code)


def _emit(e: Env, data: Any, table: Table | None = None, text: str | None = None) -> None:
    if e.as_json:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    elif table is not None:
        out.print(table)
    elif text is not None:
        out.print(text, highlight=False)
    else:
        out.print_json(data=data)


def _done(e: Env, message: str, **data: Any) -> None:
    if e.as_json:
        sys.stdout.write(json.dumps({"ok": True, "message": message, **data}, default=str) + "\n")
    else:
        out.print(message, highlight=False)


def _date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _fail(f"{field}: {value!r} is not a date (YYYY-MM-DD).") from None


# ---------------------------------------------------------------- db


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context, revision: str = "head") -> None:
    """Apply the migrations (the only way the schema is made)."""
    e = env(ctx)
    upgrade_database(e.settings.db_url, revision)
    _done(e, f"database at {current_revision(e.settings.db_url)}")


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Print the schema revision."""
    e = env(ctx)
    _done(e, str(current_revision(e.settings.db_url)), revision=current_revision(e.settings.db_url))


# ---------------------------------------------------------------- reference data


@jurisdiction_app.command("add")
def jurisdiction_add(
    ctx: typer.Context,
    code: str,
    name: Annotated[str, typer.Option(help="Display name.")],
    country: Annotated[str, typer.Option(help="Country.")],
    tz: Annotated[str, typer.Option("--tz", help="IANA time zone, e.g. Europe/Paris.")],
    language: Annotated[str, typer.Option(help="Letter language: en, fr, es…")] = "en",
    term_end: Annotated[Optional[str], typer.Option(help="End of the administration's term (YYYY-MM-DD).")] = None,
    no_elections: Annotated[bool, typer.Option("--no-elections", help="The jurisdiction has no elections.")] = False,
) -> None:
    """Register a jurisdiction."""
    e = env(ctx)
    jid = e.run(handlers.register_jurisdiction, c.RegisterJurisdiction(
        code=code, name=name, country=country, time_zone=tz, language=language, has_elections=not no_elections,
        term_end=_date(term_end, "--term-end") if term_end else None))
    _done(e, f"jurisdiction {code} registered (id {jid})", id=jid)


@call_app.command("open")
def call_open(
    ctx: typer.Context,
    name: str,
    opens: Annotated[str, typer.Option(help="Opening date.")],
    closes: Annotated[str, typer.Option(help="Closing date.")],
    first_plan_due: Annotated[str, typer.Option(help="Default deadline for new members' first plan (R5.1).")],
) -> None:
    """Open a call for applications."""
    e = env(ctx)
    cid = e.run(handlers.open_call, c.OpenCall(name=name, opens_on=_date(opens, "--opens"),
                                               closes_on=_date(closes, "--closes"),
                                               first_plan_due=_date(first_plan_due, "--first-plan-due")))
    _done(e, f"call {name} opened (id {cid})", id=cid)


@person_app.command("add")
def person_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option()],
    email: Annotated[str, typer.Option()],
    role: Annotated[str, typer.Option(help="support_unit, poc, monitoring_body, stakeholder or auditor.")],
    member: Annotated[Optional[int], typer.Option(help="The member they act for.")] = None,
    organisation: Annotated[Optional[str], typer.Option()] = None,
) -> None:
    """Record a person and one of their roles."""
    e = env(ctx)
    pid = e.run(handlers.register_person, c.RegisterPerson(name=name, email=email, role=role,
                                                           organisation=organisation, member_id=member))
    _done(e, f"person {pid} recorded as {role}", id=pid)


# ---------------------------------------------------------------- members


@member_app.command("apply")
def member_apply(
    ctx: typer.Context,
    jurisdiction: Annotated[str, typer.Option(help="Jurisdiction code.")],
    call: Annotated[str, typer.Option(help="Call name.")],
    letter: Annotated[Path, typer.Option(help="Letter of support as JSON or YAML (pages, language, signatories).")],
) -> None:
    """Apply to join during an open call (R1.1)."""
    e = env(ctx)
    los = parse(LetterOfSupportIn, load_document(letter), what="letter of support")
    mid = e.run(handlers.apply, c.Apply(jurisdiction=jurisdiction, call=call, letter_of_support=los, actor=e.actor))
    _done(e, f"member {mid} applied", id=mid)


@member_app.command("accept")
def member_accept(ctx: typer.Context, member_id: int, reason: Optional[str] = None,
                  notes: Annotated[Optional[str], typer.Option(help="Reviewer notes on the R1.4 criteria.")] = None,
                  ) -> None:
    """Accept an application (R2.1; checks R1.2 and R1.3)."""
    e = env(ctx)
    e.run(handlers.accept_application, c.AcceptApplication(member_id=member_id, actor=e.actor, reason=reason,
                                                           notes=notes))
    _done(e, f"member {member_id} accepted: orientation")


@member_app.command("reject")
def member_reject(ctx: typer.Context, member_id: int, reason: Annotated[str, typer.Option()]) -> None:
    """Reject an application, with a reason (R2.2)."""
    e = env(ctx)
    e.run(handlers.reject_application, c.RejectApplication(member_id=member_id, actor=e.actor, reason=reason))
    _done(e, f"member {member_id} rejected")


@member_app.command("complete-orientation")
def member_complete_orientation(ctx: typer.Context, member_id: int) -> None:
    """Record the orientation programme as completed (needed by R2.3)."""
    e = env(ctx)
    e.run(handlers.complete_orientation, c.CompleteOrientation(member_id=member_id, actor=e.actor))
    _done(e, f"member {member_id} completed orientation")


@member_app.command("start-co-creation")
def member_start_co_creation(ctx: typer.Context, member_id: int) -> None:
    """Start co-creation (R2.3)."""
    e = env(ctx)
    e.run(handlers.start_co_creation, c.StartCoCreation(member_id=member_id, actor=e.actor))
    _done(e, f"member {member_id} is co-creating")


@member_app.command("submit-plan")
def member_submit_plan(
    ctx: typer.Context, member_id: int,
    file: Annotated[Path, typer.Option("--file", "-f", help="The plan as JSON or YAML (see `plan schema`).")],
) -> None:
    """File an action plan (R2.4, validated against all of §3)."""
    e = env(ctx)
    plan = parse(PlanIn, load_document(file), what="plan file")
    pid = e.run(handlers.submit_plan, c.SubmitPlan(member_id=member_id, plan=plan, actor=e.actor))
    _done(e, f"action plan {pid} filed: member {member_id} is implementing", id=pid)


@member_app.command("request-inactivity")
def member_request_inactivity(
    ctx: typer.Context, member_id: int, reason: Annotated[str, typer.Option()],
    stakeholders_consulted: Annotated[bool, typer.Option(
        "--stakeholders-consulted", help="Your non-governmental stakeholders and the OGP Local team were consulted "
                                         "(recommended, not required; the Support Unit sees it).")
    ] = False,
) -> None:
    """Ask for voluntary inactivity (R5.5). Consulting your stakeholders and the OGP Local team first is recommended."""
    from policies.notices import CONSULTATION_REMINDER

    e = env(ctx)
    rid = e.run(handlers.request_voluntary_inactivity, c.RequestVoluntaryInactivity(
        member_id=member_id, reason=reason, stakeholders_consulted=stakeholders_consulted, actor=e.actor))
    reminder = None if stakeholders_consulted else CONSULTATION_REMINDER
    message = f"request {rid} sent to the Support Unit"
    if reminder and not e.as_json:
        message += f"\nreminder: {reminder}"
    _done(e, message, id=rid, stakeholders_consulted=stakeholders_consulted,
          **({"reminder": reminder} if reminder else {}))


@member_app.command("approve-inactivity")
def member_approve_inactivity(ctx: typer.Context, request_id: int, reason: Optional[str] = None) -> None:
    """Approve a request for voluntary inactivity (R5.5)."""
    e = env(ctx)
    e.run(handlers.approve_voluntary_inactivity, c.ApproveVoluntaryInactivity(request_id=request_id, actor=e.actor,
                                                                              reason=reason))
    _done(e, f"request {request_id} approved")


@member_app.command("decline-inactivity")
def member_decline_inactivity(
    ctx: typer.Context, request_id: int,
    reason: Annotated[str, typer.Option(help="Why the request is declined (R5.5); sent to the point of contact.")] = "",
) -> None:
    """Decline a request for voluntary inactivity, with the reason (R5.5); the member's status does not change."""
    e = env(ctx)
    e.run(handlers.decline_voluntary_inactivity, c.DeclineVoluntaryInactivity(request_id=request_id, actor=e.actor,
                                                                              reason=reason))
    _done(e, f"request {request_id} declined")


@member_app.command("resume")
def member_resume(ctx: typer.Context, member_id: int, reason: Annotated[str, typer.Option()]) -> None:
    """End the member's voluntary inactivity (R5.5, D9); back to the phase of its current plan (R2.7).

    Any other inactivity ends by itself on evidence (R5.6, D13: a tracker update showing progress, a
    co-creation meeting with non-governmental participants, a valid plan), or by the Support Unit's
    `member status ID resume --rule R5.6 --reason ...`.
    """
    e = env(ctx)
    e.run(handlers.resume, c.Resume(member_id=member_id, actor=e.actor, reason=reason))
    _done(e, f"member {member_id} resumed")


@member_app.command("status")
def member_status(
    ctx: typer.Context, member_id: int,
    action: Annotated[str, typer.Argument(help="become_inactive, place_on_probation, reinstate, revoke, resume, end_plan")],
    rule: Annotated[str, typer.Option(help="The rule that justifies it, e.g. R5.4.")],
    reason: Annotated[str, typer.Option()],
    override: Annotated[bool, typer.Option(
        "--override", help="Take the action although its rule does not hold yet (D14); the reason is recorded "
                           "and the audit record says it was an override.")] = False,
) -> None:
    """Apply or lift a status by hand, citing its rule (Support Unit).

    The rule must hold as of now (D14: for example R6.5 after four months of probation); otherwise the
    action is refused naming the rule, unless it is marked --override.
    """
    e = env(ctx)
    e.run(handlers.apply_status, c.ApplyStatus(member_id=member_id, trigger=action, rule=rule, actor=e.actor,
                                               reason=reason, override=override))
    _done(e, f"member {member_id}: {action} ({rule})" + (" as an override (D14)" if override else ""))


@member_app.command("extend")
def member_extend(ctx: typer.Context, member_id: int,
                  to: Annotated[str, typer.Option("--to", help="The new due date of the plan.")],
                  reason: Annotated[str, typer.Option()]) -> None:
    """Grant more time to file a plan: a new member's first plan (R5.1), or the plan owed after a return (D10)."""
    e = env(ctx)
    e.run(handlers.extend_first_plan_deadline, c.ExtendFirstPlanDeadline(member_id=member_id, new_due=_date(to, "--to"),
                                                                        actor=e.actor, reason=reason))
    _done(e, f"member {member_id}: plan now due {to}")


@member_app.command("show")
def member_show(ctx: typer.Context, member_id: int) -> None:
    """State, plan, commitments, open deadlines and the triggers possible now."""
    e = env(ctx)
    with e.session() as s:
        data = queries.member_detail(s, member_id, now=e.clock.now())
    if e.as_json:
        return _emit(e, data)
    out.print(f"[bold]Member {data['id']}[/bold] {escape(data['name'])} ({escape(data['jurisdiction'])}, "
              f"{escape(data['country'])})")
    out.print(f"state: [bold]{data['state']}[/bold] since {data['since']}"
              + (" (voluntary)" if data["voluntary_inactivity"] else ""))
    out.print("possible now: " + (", ".join(data["possible_triggers"]) or "nothing"))
    if data["plan"]:
        p = data["plan"]
        out.print(f"plan {p['id']}: filed {p['filed_on']}, ends {p['end']} ({p['status']}), "
                  f"monitoring body {p['monitoring_body']}")
        t = Table("id", "commitment", "state", "start", "end", "milestones", title="Commitments")
        for cm in p["commitments"]:
            t.add_row(str(cm["id"]), cm["title"], cm["state"], cm["start"], cm["end"],
                      ", ".join(f"{m['id']}:{m['status']}" for m in cm["milestones"]))
        out.print(t)
    t = Table("id", "kind", "rule", "due", "subject", title="Open deadlines")
    for d in data["deadlines"]:
        t.add_row(str(d["id"]), d["kind"], d["rule_id"], d["due_on"], d["subject"])
    out.print(t)
    ahead = data.get("next_deadline")
    out.print("next deadline: " + (f"{ahead['kind']} ({ahead['rule_id']}) due {ahead['due_on']}" if ahead else "none"))
    if data.get("overdue"):
        t = Table("id", "deliverable", "rule", "due", "of", title="Overdue deliverables")
        for o in data["overdue"]:
            of = (f"commitment {o['commitment_id']} {o['commitment'] or ''}".strip() if o["commitment_id"]
                  else f"plan {o['plan_id']}") + (" (earlier plan)" if o.get("earlier_plan") else "")
            t.add_row(str(o["id"]), o["kind"], o["rule_id"], o["due_on"], escape(of))
        out.print(t)
    caused = [(r, x) for r in data["history"] for x in r.get("letters", ())]
    if caused:
        t = Table("letter", "kind", "to", "status", "transition", title="Letters caused by transitions")
        for r, x in caused:
            t.add_row(str(x["id"]), x["kind"], x["recipient_role"], x["status"],
                      f"#{r['seq']} {r['trigger']} ({r['rule_id']}, {r['business_time'][:10]})")
        out.print(t)


@member_app.command("list")
def member_list(ctx: typer.Context, state: Optional[str] = None, country: Optional[str] = None) -> None:
    """Every member with its state."""
    e = env(ctx)
    with e.session() as s:
        rows = queries.list_members(s, state=state, country=country)
    t = Table("id", "jurisdiction", "name", "country", "state", "since")
    for r in rows:
        t.add_row(str(r["id"]), r["jurisdiction"], r["name"], r["country"], r["state"], r["since"])
    _emit(e, rows, t)


# ---------------------------------------------------------------- commitments


@commitment_app.command("show")
def commitment_show(ctx: typer.Context, commitment_id: int) -> None:
    """A commitment with its milestones, versions and history."""
    e = env(ctx)
    with e.session() as s:
        data = queries.commitment_detail(s, commitment_id)
    _emit(e, data)


@commitment_app.command("complete")
def commitment_complete(ctx: typer.Context, commitment_id: int,
                        on: Annotated[str, typer.Option("--on", help="Completion date.")]) -> None:
    """Report a commitment completed (opens its R4.2 assessment window)."""
    e = env(ctx)
    e.run(handlers.complete_commitment, c.CompleteCommitment(commitment_id=commitment_id,
                                                             completed_on=_date(on, "--on"), actor=e.actor))
    _done(e, f"commitment {commitment_id} completed")


# R3.10: without them the command is refused by the rule (exit 1, naming R3.10), never as a usage error.
Decision = Annotated[Optional[str], typer.Option("--decision", help="How the change was decided (R3.10).")]
ApprovedBy = Annotated[Optional[list[str]], typer.Option(
    "--approved-by", help="A non-governmental stakeholder recorded for the plan who approved (R3.10); repeat.")]


@commitment_app.command("modify")
def commitment_modify(
    ctx: typer.Context, commitment_id: int, decision: Decision = None, approved_by: ApprovedBy = None,
    start: Optional[str] = None, end: Optional[str] = None, title: Optional[str] = None,
    milestones: Annotated[Optional[Path], typer.Option(help="New milestone list as JSON or YAML.")] = None,
) -> None:
    """Re-time or re-plan a commitment within six months of its submission (R3.10)."""
    e = env(ctx)
    ms = None
    if milestones is not None:
        doc = load_document(milestones)
        ms = tuple(parse(MilestoneIn, m, what=f"milestone {i + 1}") for i, m in enumerate(doc or []))
    e.run(handlers.modify_commitment, c.ModifyCommitment(
        commitment_id=commitment_id, actor=e.actor, decision_process=decision or "",
        approved_by=tuple(approved_by or ()),
        start=_date(start, "--start") if start else None, end=_date(end, "--end") if end else None, title=title,
        milestones=ms))
    _done(e, f"commitment {commitment_id} modified")


@commitment_app.command("withdraw")
def commitment_withdraw(ctx: typer.Context, commitment_id: int, decision: Decision = None,
                        approved_by: ApprovedBy = None) -> None:
    """Remove a commitment within six months of its submission, approved and documented (R3.10)."""
    e = env(ctx)
    e.run(handlers.withdraw_commitment, c.WithdrawCommitment(commitment_id=commitment_id, actor=e.actor,
                                                             decision_process=decision or "",
                                                             approved_by=tuple(approved_by or ())))
    _done(e, f"commitment {commitment_id} withdrawn")


@commitment_app.command("add")
def commitment_add(ctx: typer.Context, member_id: int,
                   file: Annotated[Path, typer.Option("--file", "-f", help="The commitment as JSON or YAML.")],
                   decision: Decision = None, approved_by: ApprovedBy = None) -> None:
    """Add a replacement commitment once a completed one is assessed (R3.4), approved and documented (R3.10)."""
    e = env(ctx)
    data = parse(CommitmentIn, load_document(file), what="commitment file")
    cid = e.run(handlers.add_replacement_commitment, c.AddReplacementCommitment(
        member_id=member_id, commitment=data, actor=e.actor, decision_process=decision or "",
        approved_by=tuple(approved_by or ())))
    _done(e, f"commitment {cid} added", id=cid)


# ---------------------------------------------------------------- meetings, tracker, assessments, evidence


@meeting_app.command("record")
def meeting_record(
    ctx: typer.Context, member_id: int,
    phase: Annotated[str, typer.Option(help="co_creation or implementation.")],
    held_on: Annotated[str, typer.Option(help="Date held.")],
    government: Annotated[int, typer.Option(help="Government participants.")],
    non_governmental: Annotated[int, typer.Option(help="Non-governmental participants.")],
    description: str = "",
    evidence: Annotated[Optional[list[str]], typer.Option(help="Link to minutes; repeat.")] = None,
) -> None:
    """Record a meeting with stakeholders (R3.11)."""
    e = env(ctx)
    mid = e.run(handlers.record_meeting, c.RecordMeeting(
        member_id=member_id, phase=phase, held_on=_date(held_on, "--held-on"), government_participants=government,
        non_governmental_participants=non_governmental, actor=e.actor, description=description,
        evidence=tuple(evidence or ())))
    _done(e, f"meeting {mid} recorded", id=mid)


@tracker_app.command("update")
def tracker_update(
    ctx: typer.Context, member_id: int,
    narrative: Annotated[str, typer.Option(help="What happened this quarter.")],
    milestone: Annotated[Optional[list[str]], typer.Option(
        help="MILESTONE_ID=STATUS or MILESTONE_ID=STATUS:reason for delay; repeat.")] = None,
) -> None:
    """File the quarterly progress update (R4.4)."""
    e = env(ctx)
    changes = []
    for item in milestone or ():
        ident, _, rest = item.partition("=")
        status, _, why = rest.partition(":")
        if not ident.strip().isdigit() or not status:
            raise _fail(f"--milestone {item!r}: write MILESTONE_ID=STATUS[:reason].")
        changes.append(c.MilestoneChange(milestone_id=int(ident), status=status.strip(), delay_reason=why or None))
    uid = e.run(handlers.record_tracker_update, c.RecordTrackerUpdate(member_id=member_id, narrative=narrative,
                                                                      actor=e.actor, changes=tuple(changes)))
    _done(e, f"tracker update {uid} filed", id=uid)


@assessment_app.command("file")
def assessment_file(
    ctx: typer.Context, member_id: int,
    kind: Annotated[str, typer.Option(help="start, end_of_commitment or final_report.")],
    ratings: Annotated[Path, typer.Option(help="Ratings as JSON or YAML (scales of §4).")],
    commitment: Annotated[Optional[int], typer.Option(help="The commitment (end_of_commitment only).")] = None,
    unmet: Annotated[Optional[list[str]], typer.Option(help="R3.11 requirement recorded as unmet; repeat.")] = None,
    plan: Annotated[Optional[int], typer.Option(help="An earlier plan of the member (default: the current one).")]
    = None,
) -> None:
    """File a start assessment, an end-of-commitment assessment or the final learning report."""
    e = env(ctx)
    data = load_document(ratings)
    if not isinstance(data, dict):
        raise _fail("--ratings: the file holds a mapping of ratings.")
    aid = e.run(handlers.file_assessment, c.FileAssessment(member_id=member_id, kind=kind, actor=e.actor,
                                                           ratings=data, commitment_id=commitment,
                                                           unmet_requirements=tuple(unmet or ()), plan_id=plan))
    _done(e, f"assessment {aid} filed", id=aid)


@evidence_app.command("add")
def evidence_add(ctx: typer.Context, subject_type: str, subject_id: int,
                 kind: Annotated[str, typer.Option(help="Evidence kind of R8.3.")],
                 url: Annotated[str, typer.Option()], title: Optional[str] = None) -> None:
    """Attach a typed evidence link to a member, plan, commitment, meeting or tracker update."""
    e = env(ctx)
    eid = e.run(handlers.add_evidence, c.AddEvidence(subject_type=subject_type, subject_id=subject_id, kind=kind,
                                                     url=url, actor=e.actor, title=title))
    _done(e, f"evidence {eid} attached", id=eid)


@deadline_app.command("list")
def deadlines_list(ctx: typer.Context, member: Optional[int] = None,
                   status: Annotated[str, typer.Option(help="pending, met, breached, cancelled or all.")] = "pending",
                   ) -> None:
    """Recorded deadlines, soonest first."""
    e = env(ctx)
    with e.session() as s:
        rows = queries.list_deadlines(s, member_id=member, status=None if status == "all" else status)
    t = Table("id", "member", "kind", "rule", "due", "breached at (UTC)", "status")
    for r in rows:
        t.add_row(str(r["id"]), str(r["member_id"]), r["kind"], r["rule_id"], r["due_on"], r["breach_at"], r["status"])
    _emit(e, rows, t)


# ---------------------------------------------------------------- audit


def _subject(text: str) -> tuple[str, int]:
    kind, _, ident = text.partition(":")
    if not ident:
        kind, ident = "member", kind
    if kind not in ("member", "commitment") or not ident.isdigit():
        raise _fail(f"subject {text!r}: write member:ID, commitment:ID or just a member ID.")
    return kind, int(ident)


@audit_app.command("show")
def audit_show(ctx: typer.Context, subject: Annotated[str, typer.Argument(help="member:ID or commitment:ID")]) -> None:
    """The transition history of one subject."""
    e = env(ctx)
    kind, ident = _subject(subject)
    with e.session() as s:
        rows = queries.with_letters(s, [audit.as_row(r) for r in audit.history(s, kind, ident)])
    t = Table("seq", "business time", "from", "to", "trigger", "rule", "actor", "reason", "letters")
    for r in rows:
        t.add_row(str(r["seq"]), r["business_time"], r["from_state"] or "—", r["to_state"], r["trigger"],
                  r["rule_id"], r["actor"], r["reason"] or "",
                  ", ".join(f"#{x['id']} {x['recipient_role']} {x['status']}" for x in r["letters"]))
    _emit(e, rows, t)


@audit_app.command("export")
def audit_export(ctx: typer.Context,
                 fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "json",
                 output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File (default: stdout).")]
                 = None) -> None:
    """Export the whole history as CSV or JSON."""
    e = env(ctx)
    if fmt not in ("csv", "json"):
        raise _fail("--format is csv or json.")
    with e.session() as s:
        if output is None:
            audit.export(audit.iter_records(s), fmt, sys.stdout)
        else:
            with output.open("w", encoding="utf-8", newline="") as fh:
                n = audit.export(audit.iter_records(s), fmt, fh)
            err.print(f"{n} records written to {output}")


@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Recompute every hash chain; exit 1 and name the first bad record if any."""
    e = env(ctx)
    with e.session() as s:
        report = audit.verify(s)
    data = {"ok": report.ok, "chains": report.chains, "records": report.records,
            "first_bad": report.first_bad.__dict__ if report.first_bad else None}
    if e.as_json:
        _emit(e, data)
    elif report.ok:
        out.print(f"audit trail intact: {report.records} records in {report.chains} chains")
    else:
        b = report.first_bad
        out.print(f"[red]audit trail broken[/red] at record {b.record_id} ({b.subject} #{b.seq}): {b.problem}")
    if not report.ok:
        raise typer.Exit(1)


# ---------------------------------------------------------------- letters (R7.1–R7.3)


letters_app = typer.Typer(help="Status letters and deadline notices (R7.1–R7.3): list, show, retry, send, PDF.",
                          no_args_is_help=True)
app.add_typer(letters_app, name="letters")


def _mail(e: Env):
    """The delivery module and the transport the settings call for (SMTP, or the outbox folder)."""
    from workers.letters import delivery
    from workers.letters.transport import make_transport

    return delivery, make_transport(e.settings)


@letters_app.command("list")
def letters_list(
    ctx: typer.Context,
    failed: Annotated[bool, typer.Option("--failed", help="Only letters that could not be delivered.")] = False,
    member: Annotated[Optional[int], typer.Option(help="Only this member's letters.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Letters of the outbox, oldest first, with their delivery state."""
    e = env(ctx)
    e.as_json = e.as_json or as_json
    with e.session() as s:
        rows = queries.list_letters(s, status="failed" if failed else None, member_id=member)
    t = Table("id", "member", "kind", "rule", "to", "recipients", "status", "attempts", "created", "sent / last error")
    for r in rows:
        t.add_row(str(r["id"]), str(r["member_id"]), r["kind"], r["rule_id"] or "", r["recipient_role"],
                  ", ".join(r["recipients"]), r["status"], str(r["attempts"]), r["created_at"][:10],
                  r["sent_at"] if r["status"] == "sent" else (r["last_error"] or ""))
    _emit(e, rows, t)


@letters_app.command("show")
def letters_show(ctx: typer.Context, letter_id: int) -> None:
    """One letter: its text, recipients, Message-ID, status and the transition or deadline it came from."""
    e = env(ctx)
    with e.session() as s:
        data = queries.letter_detail(s, letter_id)
        preview = data["body_text"] is None
        if preview:  # not rendered yet: show what it will say, without storing anything
            from workers.letters.render import render_event
            from lifecycle.models import OutboxEvent

            rendered = render_event(s, s.get(OutboxEvent, letter_id), settings=e.settings)
            data.update(subject=rendered.subject, body_text=rendered.text)
    data["preview"] = preview
    if e.as_json:
        return _emit(e, data)

    def p(text: str) -> None:
        out.print(text, highlight=False, markup=False)  # a letter's text is never markup

    p(f"Letter {data['id']}: {data['kind']}" + (f" ({data['rule_id']})" if data["rule_id"] else "")
      + f" to {data['recipient_role']}, member {data['member_id']}")
    p(f"Status: {data['status']}" + (f", sent {data['sent_at']}" if data["sent_at"] else "")
      + f", {data['attempts']} attempt(s)" + (" — not rendered yet, this is a preview" if preview else ""))
    if data["last_error"]:
        p(f"Last error: {data['last_error']}")
    p(f"Message-ID: {data['message_id'] or '(given when it is first sent)'}")
    p(f"To: {', '.join(data['recipients']) or '(found when it is first sent)'}")
    if data["language"]:
        p(f"Language: {data['language']}")
    if data["transition"]:
        r = data["transition"]
        p(f"From transition {r['id']}: {r['subject_type']}:{r['subject_id']} #{r['seq']} "
          f"{r['from_state'] or '—'} → {r['to_state']} ({r['trigger']}, {r['rule_id']}, by {r['actor']}) "
          f"at {r['business_time']}")
    if data["deadline"]:
        d = data["deadline"]
        p(f"From deadline {d['id']}: {d['kind']} ({d['rule_id']}) due {d['due_on']}, {d['status']}")
    p(f"Subject: {data['subject']}")
    p("")
    p(data["body_text"] or "")


def _delivered(e: Env, letter_id: int, outcome: str) -> None:
    with e.session() as s:
        row = queries.letter_detail(s, letter_id)
    if outcome in ("sent", "already sent"):
        return _done(e, f"letter {letter_id} {outcome} to {', '.join(row['recipients'])} "
                        f"(Message-ID {row['message_id']})", id=letter_id, status=row["status"],
                     message_id=row["message_id"])
    raise _fail(f"letter {letter_id} {outcome}: {row['last_error'] or 'another worker is sending it'}", code=1)


@letters_app.command("retry")
def letters_retry(ctx: typer.Context, letter_id: int) -> None:
    """Put a failed letter back to pending (its recipients found afresh) and send it now."""
    e = env(ctx)
    delivery, transport = _mail(e)
    from workers.letters.transport import TemporaryDeliveryError

    try:
        outcome = delivery.retry(letter_id, session_factory=e.session_factory, transport=transport,
                                 settings=e.settings, clock=e.clock)
    except TemporaryDeliveryError as exc:
        raise _fail(f"letter {letter_id} is pending; the workers will try again: {exc}", code=1) from None
    _delivered(e, letter_id, outcome)


@letters_app.command("send")
def letters_send(ctx: typer.Context) -> None:
    """Deliver every pending letter now, with a progress bar; exit 1 if any could not be delivered."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from workers.letters.transport import TemporaryDeliveryError

    e = env(ctx)
    delivery, transport = _mail(e)
    with e.session() as s:
        ids = delivery.pending_ids(s)
    counts = {"sent": 0, "failed": 0, "deferred": 0, "skipped": 0}
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeRemainingColumn(), console=err, transient=True, disable=e.as_json) as progress:
        task = progress.add_task("sending letters", total=len(ids))
        for letter_id in ids:
            try:
                outcome = delivery.deliver(letter_id, session_factory=e.session_factory, transport=transport,
                                           settings=e.settings, clock=e.clock)
            except TemporaryDeliveryError:
                outcome = "deferred"
            counts[{"sent": "sent", "failed": "failed", "deferred": "deferred"}.get(outcome, "skipped")] += 1
            progress.advance(task)
    summary = (f"{len(ids)} pending letter(s): {counts['sent']} sent, {counts['failed']} failed, "
               f"{counts['deferred']} deferred, {counts['skipped']} skipped")
    ok = not (counts["failed"] or counts["deferred"])
    if e.as_json:
        sys.stdout.write(json.dumps({"ok": ok, "message": summary, **counts}) + "\n")
    else:
        out.print(summary, highlight=False)
    if not ok:
        raise _fail("some letters were not delivered; see `ogp-lifecycle letters list --failed`.", code=1)


@letters_app.command("pdf")
def letters_pdf(ctx: typer.Context, letter_id: int,
                output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the PDF.")]) -> None:
    """Write a letter's PDF to a file (rendered and kept now if it was not yet)."""
    e = env(ctx)
    delivery, _ = _mail(e)
    letter = delivery.ensure_rendered(letter_id, session_factory=e.session_factory, settings=e.settings,
                                      clock=e.clock)
    if not letter.pdf:
        raise _fail(f"letter {letter_id} has no PDF: {letter.last_error or 'it could not be rendered'}", code=1)
    output.write_bytes(letter.pdf)
    _done(e, f"letter {letter_id} written to {output} ({len(letter.pdf)} bytes)", path=str(output),
          bytes=len(letter.pdf))


# ---------------------------------------------------------------- diagrams, schema, demo


def _simulated(e: Env, option: str) -> None:
    if not e.settings.allow_simulated_clock:
        raise _fail(f"{option} needs a simulated clock, which these settings forbid "
                    "(set OGP_ALLOW_SIMULATED_CLOCK=true outside production).")


def _print_transition(t: dict) -> None:
    out.print(f"{t['business_time']}  {t['subject']}: {t['from_state'] or '—'} → [bold]{t['to_state']}[/bold]  "
              f"({t['trigger']}, {t['rule_id']}, by {t['actor']})", highlight=False)


@app.command("tick")
def tick_command(ctx: typer.Context,
                 now: Annotated[Optional[str], typer.Option("--now", help="Sweep as of this instant.")] = None,
                 batch: Annotated[int, typer.Option(help="Deadlines claimed per batch.")] = 500) -> None:
    """Run one sweep of the deadline engine: fire every due deadline, in breach order."""
    from lifecycle.engine import tick

    e = env(ctx)
    clock = e.clock
    if now is not None:
        _simulated(e, "--now")
        try:
            clock = FixedClock(parse_instant(now))
        except Exception:
            raise _fail(f"--now: {now!r} is not an ISO 8601 instant.") from None
    report = tick(clock.now(), session_factory=e.session_factory, clock=clock, batch=batch)
    if e.as_json:
        return _emit(e, report.__dict__)
    for t in report.transitions:
        _print_transition(t)
    out.print(f"{report.deadlines} deadline(s) processed, {len(report.transitions)} transition(s), "
              f"{len(report.findings)} finding(s), {report.reminders} reminder(s) as of {report.now}",
              highlight=False)
    if report.failed:
        raise _fail(f"deadlines {report.failed} failed and will be retried; see the log.", code=1)


@app.command("simulate")
def simulate(ctx: typer.Context,
             start: Annotated[str, typer.Option("--from", help="First instant.")],
             end: Annotated[str, typer.Option("--to", help="Last instant.")],
             step: Annotated[str, typer.Option(help="Step: 1d, 12h, 1w, 1m (month).")] = "1d") -> None:
    """Advance a simulated clock from A to B, ticking at each step and printing each transition."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from lifecycle.engine import tick

    e = env(ctx)
    _simulated(e, "simulate")
    try:
        a, b = parse_instant(start), parse_instant(end)
    except Exception:
        raise _fail("--from and --to are ISO 8601 instants, e.g. 2027-01-01.") from None
    units = {"h": "hours", "d": "days", "w": "weeks", "m": "months"}
    if len(step) < 2 or step[-1] not in units or not step[:-1].isdigit() or int(step[:-1]) < 1:
        raise _fail("--step is a positive number and a unit: h, d, w or m (e.g. 1d).")
    if b < a:
        raise _fail("--to comes after --from.")
    delta = {units[step[-1]]: int(step[:-1])}
    instants, t = [], a
    while t <= b:
        instants.append(t)
        t = t.add(**delta)
    if instants[-1] != b:
        instants.append(b)
    clock = FixedClock(a)
    totals = {"transitions": 0, "findings": 0, "reminders": 0}
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeRemainingColumn(), console=err, transient=True, disable=e.as_json) as progress:
        task = progress.add_task("simulating", total=len(instants))
        for instant in instants:
            clock.set(instant)
            progress.update(task, description=instant.to_date_string())
            report = tick(instant, session_factory=e.session_factory, clock=clock)
            for tr in report.transitions:
                if e.as_json:
                    sys.stdout.write(json.dumps(tr) + "\n")
                else:
                    _print_transition(tr)
            totals["transitions"] += len(report.transitions)
            totals["findings"] += len(report.findings)
            totals["reminders"] += report.reminders
            progress.advance(task)
    if not e.as_json:
        out.print(f"{len(instants)} tick(s) from {a.to_iso8601_string()} to {b.to_iso8601_string()}: "
                  f"{totals['transitions']} transition(s), {totals['findings']} finding(s), "
                  f"{totals['reminders']} reminder(s)", highlight=False)


@app.command("scheduler")
def scheduler_command(ctx: typer.Context) -> None:
    """Run the scheduler: every interval, enqueue fire_deadline(id) for each due deadline."""
    from workers.service import run_scheduler

    run_scheduler(env(ctx).settings)


@app.command("worker")
def worker_command(ctx: typer.Context,
                   threads: Annotated[Optional[int], typer.Option(help="Worker threads.")] = None) -> None:
    """Run a dramatiq worker consuming fire_deadline messages (Redis when OGP_REDIS_URL is set)."""
    from workers.service import run_worker

    run_worker(env(ctx).settings, threads=threads)


@app.command("run")
def run_command(ctx: typer.Context,
                host: Annotated[str, typer.Option(help="Address the web server listens on.")] = "127.0.0.1",
                port: Annotated[int, typer.Option(help="Port of the web server.")] = 8000) -> None:
    """Run everything in one process: the web app, the scheduler thread and an in-process worker."""
    _serve(env(ctx), host, port, embedded=True)


@app.command("diagram")
def diagram(kind: Annotated[str, typer.Argument(help="member, commitment or all")] = "all") -> None:
    """Print the state machines as Mermaid, drawn from the transition tables."""
    from policies.machines import MACHINES, mermaid

    kinds = list(MACHINES) if kind == "all" else [kind]
    for k in kinds:
        if k not in MACHINES:
            raise _fail(f"unknown machine {k!r}; use member, commitment or all.")
        sys.stdout.write(f"%% {k}\n{mermaid(k)}\n")


@plan_app.command("schema")
def plan_schema() -> None:
    """Print the JSON Schema of plan files."""
    from lifecycle.schemas import plan_json_schema

    sys.stdout.write(json.dumps(plan_json_schema(), indent=2) + "\n")


@app.command("demo")
def demo(ctx: typer.Context,
         years: Annotated[int, typer.Option(help="How many years to walk through.")] = 4) -> None:
    """Walk sample members through a multi-year lifecycle, printing each transition."""
    from lifecycle.demo import run_demo

    e = env(ctx)
    run_demo(e.session_factory, console=out, years=years)



# ---------------------------------------------------------------- the web service, accounts and API tokens


def _serve(e: Env, host: str, port: int, *, embedded: bool) -> None:
    """uvicorn on ``create_app`` in this (main) thread; with ``embedded``, the scheduler and worker beside it."""
    import signal

    import structlog
    import uvicorn

    from web.app import create_app

    log = structlog.get_logger("lifecycle.cli")
    service = None
    if embedded:
        from workers.service import EmbeddedService

        service = EmbeddedService(e.settings)
    app_ = create_app(e.settings, session_factory=service.session_factory if service else e.session_factory,
                      clock=e.clock)
    server = uvicorn.Server(uvicorn.Config(app_, host=host, port=port, log_config=None, access_log=False,
                                           lifespan="on", server_header=False))

    # uvicorn stops on SIGINT/SIGTERM, then raises the signal again under the handlers it found; these
    # handlers make that a no-op, so the embedded service is stopped cleanly and the exit status is 0.
    def stopping(signum, _frame):
        log.info("stopping", signal=signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, stopping) for sig in (signal.SIGINT, signal.SIGTERM)}
    if service is not None:
        service.start()
    log.info("web_started", host=host, port=port, database=e.settings.db_url, embedded=embedded)
    try:
        server.run()
    finally:
        if service is not None:
            service.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("web_stopped")


@app.command("serve")
def serve_command(ctx: typer.Context,
                  host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
                  port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000) -> None:
    """Serve the web app (JSON API, pages, /metrics) on the configured database; workers run elsewhere."""
    _serve(env(ctx), host, port, embedded=False)


account_app = typer.Typer(help="Accounts: passwords for people, API tokens for programs.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (shown once; only their SHA-256 is kept).", no_args_is_help=True)
app.add_typer(account_app, name="account")
account_app.add_typer(token_app, name="token")


@account_app.command("password")
def account_password(
    ctx: typer.Context, person_id: int,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Set a person's password (asked twice, or read from stdin); stored as a salted scrypt hash."""
    from lifecycle import accounts

    e = env(ctx)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    e.run(accounts.set_password, c.SetPassword(person_id=person_id, password=password))
    _done(e, f"password set for person {person_id}", id=person_id)


@token_app.command("create")
def token_create(ctx: typer.Context, person_id: int,
                 name: Annotated[str, typer.Option("--name", help="Which program uses it.")]) -> None:
    """Make an API token acting as PERSON_ID; it is printed once and never again."""
    from lifecycle import accounts

    e = env(ctx)
    made = e.run(accounts.create_token, c.CreateApiToken(person_id=person_id, name=name))
    if e.as_json:
        _done(e, f"token {made.id} created", id=made.id, token=made.token, prefix=made.prefix, name=made.name)
    else:
        err.print(f"token {made.id} ({made.name}) created; it is shown only now, keep it somewhere safe:",
                  highlight=False)
        sys.stdout.write(made.token + "\n")


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, token_id: int) -> None:
    """Revoke an API token at once."""
    from lifecycle import accounts

    e = env(ctx)
    e.run(accounts.revoke_token, c.RevokeApiToken(token_id=token_id, actor=e.actor))
    _done(e, f"token {token_id} revoked", id=token_id)


@token_app.command("list")
def token_list(ctx: typer.Context,
               person: Annotated[Optional[int], typer.Option(help="Only this person's tokens.")] = None) -> None:
    """API tokens: id, owner, name, prefix, created, revoked (never the token itself)."""
    from lifecycle import accounts

    e = env(ctx)
    with e.session() as s:
        rows = accounts.list_tokens(s, person_id=person)
    t = Table("id", "person", "email", "name", "prefix", "created", "revoked")
    for r in rows:
        t.add_row(str(r["id"]), str(r["person_id"]), r["email"], r["name"], r["prefix"] + "…", r["created_at"],
                  r["revoked_at"] or "")
    _emit(e, rows, t)


def main() -> None:
    from sqlalchemy.exc import OperationalError

    try:
        app()
    except OperationalError as exc:
        err.print(f"[red]error:[/red] the database cannot be reached or used: {escape(str(exc.orig))}",
                  highlight=False)
        sys.exit(2)
    except RuleViolation as exc:
        if _refusals_as_json:
            sys.stderr.write(json.dumps(exc.as_dict(), ensure_ascii=False, default=str) + "\n")
        else:
            err.print(f"[red]refused[/red] {escape(str(exc))}", highlight=False)  # user input is not markup
        sys.exit(1)
