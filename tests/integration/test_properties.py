"""Properties of the service under random sequences of commands and clock moves, on both databases.

Each example gets a fresh database of its own and runs a drawn program: commands of every
kind, aimed at members, commitments, milestones and requests picked by position, mixed
with moves of the clock from a day to eight months. Many commands are refused, as a real
user's would be. After every step the test checks its property: the audit chains are
paths through the machines (§2), the limits of §3 hold, or a refused command left every
table as it was.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

import pytest
from worldkit import POC, SU, World, make_world
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from lifecycle import audit, commands as c, handlers, samples
from lifecycle.models import (
    ActionPlan,
    Base,
    Coalition,
    Commitment,
    InactivityRequest,
    Meeting,
    Member,
    Milestone,
    TransitionRecord,
)
from lifecycle.schemas import CommitmentIn, LetterOfSupportIn, PlanIn
from policies.calendar import add_months, local_date
from policies.errors import RuleViolation
from policies.machines import COMMITMENT_TRANSITIONS, MEMBER_TRANSITIONS, OPEN_COMMITMENT_STATES
from policies.rules import DEFAULT_DURATIONS, commitment_limit
from policies.vocabularies import MILESTONE_STATUSES


# Four jurisdictions of one country: two with different terms, one without elections (R3.1
# period of 1-4 years), one whose term is too short to be accepted (R1.2).
JURISDICTIONS: tuple[tuple[str, dt.date | None], ...] = (
    ("alpha", dt.date(2031, 6, 30)),
    ("beta", dt.date(2030, 12, 31)),
    ("gamma", None),
    ("delta", dt.date(2028, 3, 31)),
)
STATUS_ACTIONS: tuple[tuple[str, str], ...] = tuple(
    (trigger, rule) for trigger, rules in handlers.SUPPORT_UNIT_TRIGGERS.items() for rule in rules
)
CLOCK_MOVES_DAYS = (1, 3, 14, 31, 62, 92, 183, 243)  # a day to eight months


# ---------------------------------------------------------------- one fresh database per example


@dataclass(frozen=True)
class Databases:
    """Makes a fresh migrated database for each hypothesis example, and how many examples to draw."""

    kind: str
    fresh: Callable[[], Any]
    max_examples: int


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def databases(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Databases:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        folder = tmp_path_factory.mktemp("properties")
        numbers = itertools.count()

        @contextmanager
        def fresh_sqlite() -> Iterator[str]:
            path = folder / f"example-{next(numbers)}.db"
            with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(path)) as target:
                source.backup(target)
            try:
                yield f"sqlite:///{path}"
            finally:
                for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                    leftover.unlink(missing_ok=True)

        return Databases("sqlite", fresh_sqlite, max_examples=35)

    server = request.getfixturevalue("postgres_server")
    template_name: str = request.getfixturevalue("postgres_template")

    @contextmanager
    def fresh_postgres() -> Iterator[str]:
        name = f"prop_{uuid.uuid4().hex}"
        server.create_database(name, template=template_name)
        try:
            yield server.url(name)
        finally:
            server.drop_database(name)

    return Databases("postgresql", fresh_postgres, max_examples=8)


# ---------------------------------------------------------------- programs

MEMBER = st.integers(0, 5)
ITEM = st.integers(0, 40)

STEP = st.one_of(
    st.tuples(st.just("clock"), st.sampled_from(CLOCK_MOVES_DAYS)),
    *[st.tuples(st.just("advance"), MEMBER)] * 8,
    *[st.tuples(st.just("escalate"), MEMBER, st.booleans())] * 3,
    st.tuples(st.just("apply"), st.integers(0, len(JURISDICTIONS) - 1), st.booleans()),
    st.tuples(st.just("accept"), MEMBER),
    st.tuples(st.just("reject"), MEMBER),
    st.tuples(st.just("complete_orientation"), MEMBER),
    st.tuples(st.just("start_co_creation"), MEMBER),
    st.tuples(st.just("record_meeting"), MEMBER, st.sampled_from(("co_creation", "implementation")),
              st.sampled_from((3, 0)), st.sampled_from((0, 20, -3))),
    st.tuples(st.just("submit_plan"), MEMBER, st.integers(1, 7), st.sampled_from((24, 13, 36, 6, 52)),
              st.one_of(st.none(), MEMBER), st.booleans()),
    st.tuples(st.just("request_inactivity"), MEMBER, st.booleans()),
    st.tuples(st.just("approve_inactivity"), ITEM),
    st.tuples(st.just("decline_inactivity"), ITEM, st.sampled_from(("Consult the forum first.", " "))),
    st.tuples(st.just("resume"), MEMBER),
    # D14: by hand, with and without an override of a rule that does not hold yet.
    *[st.tuples(st.just("apply_status"), MEMBER, st.sampled_from(STATUS_ACTIONS), st.booleans())] * 2,
    st.tuples(st.just("complete"), ITEM, st.sampled_from((0, 30, 800))),
    st.tuples(st.just("modify"), ITEM, st.sampled_from(("end_earlier", "end_later", "title", "unapproved"))),
    st.tuples(st.just("withdraw"), ITEM, st.booleans()),
    st.tuples(st.just("replacement"), MEMBER, st.sampled_from((None, 13, 6, 30))),
    st.tuples(st.just("assess"), MEMBER, st.sampled_from(("start", "end_of_commitment", "final_report")), ITEM),
    st.tuples(st.just("tracker"), MEMBER, ITEM, st.sampled_from(MILESTONE_STATUSES + ("none",))),
)
PROGRAMS = st.lists(STEP, min_size=15, max_size=50)
STAGES = st.lists(st.sampled_from(("implementing", "co_creating", "in_orientation", "applicant")), min_size=1,
                  max_size=3).map(tuple)


class Simulation:
    """Turns drawn steps into commands on a world; every command goes through its real handler."""

    def __init__(self, world: World, stages: tuple[str, ...]) -> None:
        self.world = world
        # Members to start from, walked by the world's helpers through the real handlers.
        for (code, term_end), stage in zip(JURISDICTIONS, stages, strict=False):
            getattr(world, stage)(code, term_end=term_end)
        for code, term_end in JURISDICTIONS[len(stages):]:
            world.jurisdiction(code, term_end=term_end)

    # -- reading the current state to aim commands

    def _ids(self, model, *where) -> list[int]:
        with self.world.session() as s:
            return list(s.scalars(select(model.id).where(*where).order_by(model.id)))

    def _pick(self, model, index: int, *where, first: tuple[str, ...] = OPEN_COMMITMENT_STATES) -> int | None:
        ids = self._ids(model, *where)
        if model is Commitment:
            # Commitments in the states a command applies to come first, so that small indexes hit them.
            preferred = set(self._ids(Commitment, Commitment.state.in_(first)))
            ids.sort(key=lambda i: (i not in preferred, i))
        return ids[index % len(ids)] if ids else None

    def _member(self, index: int) -> int | None:
        return self._pick(Member, index)

    def _today(self) -> dt.date:
        return self.world.today()

    def _plan_document(self, *, commitments: int, months: int, partner: int | None,
                       short: bool) -> PlanIn:
        today = self._today()
        plan_end = add_months(today, months)
        data = samples.plan(today, plan_end, commitments)
        if short:
            for item in data["commitments"]:
                item["end"] = add_months(today, 6).isoformat()
        if partner is not None:
            data["coalition"] = [partner]
        return PlanIn.model_validate(data)

    def _valid_plan(self, member: Member) -> PlanIn:
        today = self._today()
        plan_end = add_months(today, 24)
        term_end = member.jurisdiction.term_end
        if term_end is not None:
            plan_end = min(plan_end, add_months(term_end, -DEFAULT_DURATIONS.plan_end_before_term_end_months))
        return PlanIn.model_validate(samples.plan(today, plan_end, 3))

    # -- steps

    def command(self, step: tuple) -> tuple[Callable, object] | None:
        """The handler and command a step stands for, or None when it has nothing to aim at."""
        name, *args = step
        today = self._today()
        if name == "apply":
            j, good_letter = args
            letter = samples.letter_of_support() if good_letter else {**samples.letter_of_support(), "pages": 5}
            return handlers.apply, c.Apply(jurisdiction=JURISDICTIONS[j][0], call="Call 2027",
                                           letter_of_support=LetterOfSupportIn.model_validate(letter), actor=POC)
        if name in ("approve_inactivity",):
            request_id = self._pick(InactivityRequest, args[0])
            if request_id is None:
                return None
            return handlers.approve_voluntary_inactivity, c.ApproveVoluntaryInactivity(request_id=request_id, actor=SU)
        if name == "decline_inactivity":
            request_id = self._pick(InactivityRequest, args[0])
            if request_id is None:
                return None
            return handlers.decline_voluntary_inactivity, c.DeclineVoluntaryInactivity(request_id=request_id, actor=SU,
                                                                                       reason=args[1])
        if name in ("complete", "modify", "withdraw"):
            return self._commitment_command(name, *args)
        member_id = self._member(args[0])
        if member_id is None:
            return None
        match name:
            case "advance":
                return self._advance(member_id)
            case "escalate":
                return self._escalate(member_id, end_plan=args[1])
            case "accept":
                return handlers.accept_application, c.AcceptApplication(member_id=member_id, actor=SU)
            case "reject":
                return handlers.reject_application, c.RejectApplication(member_id=member_id, actor=SU,
                                                                        reason="Not convincing enough")
            case "complete_orientation":
                return handlers.complete_orientation, c.CompleteOrientation(member_id=member_id, actor=SU)
            case "start_co_creation":
                return handlers.start_co_creation, c.StartCoCreation(member_id=member_id, actor=POC)
            case "record_meeting":
                _, phase, non_governmental, days_ago = args
                return handlers.record_meeting, c.RecordMeeting(
                    member_id=member_id, phase=phase, held_on=today - dt.timedelta(days=days_ago),
                    government_participants=2, non_governmental_participants=non_governmental, actor=POC)
            case "submit_plan":
                _, commitments, months, partner, short = args
                partner_id = self._member(partner) if partner is not None else None
                plan = self._plan_document(commitments=commitments, months=months, partner=partner_id,
                                           short=short)
                return handlers.submit_plan, c.SubmitPlan(member_id=member_id, plan=plan, actor=POC)
            case "request_inactivity":
                return handlers.request_voluntary_inactivity, c.RequestVoluntaryInactivity(
                    member_id=member_id, reason="Municipal restructuring", stakeholders_consulted=args[1], actor=POC)
            case "resume":
                # D9, D13: lifts voluntary inactivity only; any other is refused naming R5.6.
                return handlers.resume, c.Resume(member_id=member_id, actor=POC, reason="Co-creation restarted")
            case "apply_status":
                trigger, rule = args[1]
                return handlers.apply_status, c.ApplyStatus(member_id=member_id, trigger=trigger, rule=rule, actor=SU,
                                                            reason=f"{rule} applies", override=args[2])
            case "replacement":
                months = args[1]
                with self.world.session() as s:
                    plan = s.get(Member, member_id).current_plan
                    end = plan.end_on if plan is not None and months is None else add_months(today, months or 13)
                commitment = CommitmentIn.model_validate(samples.commitment(today, end, 9))
                return handlers.add_replacement_commitment, c.AddReplacementCommitment(
                    member_id=member_id, commitment=commitment, actor=POC, approved_by=("Civic Data Association",),
                    decision_process="Forum vote of 3 March")
            case "assess":
                return self._assessment(member_id, args[1], args[2])
            case "tracker":
                return self._tracker(member_id, args[1], args[2])
        raise AssertionError(f"unknown step {name}")

    def _commitment_command(self, name: str, index: int, variant) -> tuple[Callable, object] | None:
        commitment_id = self._pick(Commitment, index)
        if commitment_id is None:
            return None
        with self.world.session() as s:
            commitment = s.get(Commitment, commitment_id)
            start, end = commitment.start_on, commitment.end_on
        if name == "complete":
            return handlers.complete_commitment, c.CompleteCommitment(
                commitment_id=commitment_id, completed_on=self._today() - dt.timedelta(days=variant), actor=POC)
        approved = ("Civic Data Association",)
        if name == "withdraw":
            return handlers.withdraw_commitment, c.WithdrawCommitment(
                commitment_id=commitment_id, actor=POC, decision_process="Forum vote of 3 March",
                approved_by=approved if variant else ())
        changes: dict[str, Any] = {
            "end_earlier": {"end": add_months(end, -6)},
            "end_later": {"end": add_months(end, 6)},
            "title": {"title": "Open contracting register, widened"},
            "unapproved": {"start": start},
        }[variant]
        return handlers.modify_commitment, c.ModifyCommitment(
            commitment_id=commitment_id, actor=POC, decision_process="Forum vote of 3 March",
            approved_by=() if variant == "unapproved" else approved, **changes)

    def _assessment(self, member_id: int, kind: str, index: int) -> tuple[Callable, object]:
        ratings: dict[str, Any]
        commitment_id = None
        if kind == "start":
            with self.world.session() as s:
                plan = s.get(Member, member_id).current_plan
                rated = [x.id for x in plan.commitments if not x.is_replacement] if plan is not None else []
            ratings = {"public_influence": "involve",
                       "commitments": {str(i): {"relevant": True, "verifiable": True, "potential_impact": "moderate"}
                                       for i in rated}}
        elif kind == "end_of_commitment":
            commitment_id = self._pick(Commitment, index, first=("completed", "ended_incomplete"))
            ratings = {"completion": "substantial", "early_results": "Contracts are published within ten days."}
        else:
            ratings = {"summary": "The plan opened procurement data; participation grew."}
        return handlers.file_assessment, c.FileAssessment(member_id=member_id, kind=kind, actor="observatory",
                                                          ratings=ratings, commitment_id=commitment_id)

    def _tracker(self, member_id: int, index: int, status: str) -> tuple[Callable, object]:
        changes: tuple[c.MilestoneChange, ...] = ()
        if status != "none":
            milestone_id = self._pick(Milestone, index)
            if milestone_id is not None:
                reason = "Supplier delays" if status in ("stuck", "incomplete") else None
                changes = (c.MilestoneChange(milestone_id=milestone_id, status=status, delay_reason=reason),)
        return handlers.record_tracker_update, c.RecordTrackerUpdate(
            member_id=member_id, narrative="What happened this quarter", actor=POC, changes=changes)

    def _advance(self, member_id: int) -> tuple[Callable, object]:
        """The next natural command for the member, so that programs reach the later states."""
        today = self._today()
        with self.world.session() as s:
            member = s.get(Member, member_id)
            state = member.state
            if state == "applicant":
                return handlers.accept_application, c.AcceptApplication(member_id=member_id, actor=SU)
            if state == "orientation":
                if member.orientation_completed_at is None:
                    return handlers.complete_orientation, c.CompleteOrientation(member_id=member_id, actor=SU)
                return handlers.start_co_creation, c.StartCoCreation(member_id=member_id, actor=POC)
            if state == "co_creation":
                since = member.current_plan.filed_on if member.current_plan is not None else dt.date.min
                met = s.scalar(select(Meeting.id).where(Meeting.member_id == member_id, Meeting.held_on >= since,
                                                        Meeting.phase == "co_creation"))
                if met is None:
                    return handlers.record_meeting, c.RecordMeeting(
                        member_id=member_id, phase="co_creation", held_on=today, government_participants=3,
                        non_governmental_participants=4, actor=POC)
                return handlers.submit_plan, c.SubmitPlan(member_id=member_id, plan=self._valid_plan(member), actor=POC)
            if state == "inactive" and member.voluntary_inactivity:
                return handlers.resume, c.Resume(member_id=member_id, actor=POC, reason="Co-creation restarted")
            if state == "inactive" or (state == "probation" and member.probation_rule != "R6.2"):
                # D13: evidence of resumption ends the inactivity (R5.6) or the probation for R6.1 (R6.4).
                return handlers.record_meeting, c.RecordMeeting(
                    member_id=member_id, phase="co_creation", held_on=today, government_participants=3,
                    non_governmental_participants=4, actor=POC)
            if state == "probation":
                # D13: R6.2's requirement is met once the D8 count reaches two meetings in twelve months.
                return handlers.record_meeting, c.RecordMeeting(
                    member_id=member_id, phase="implementation", held_on=today, government_participants=3,
                    non_governmental_participants=4, actor=POC)
            if state == "implementing":
                milestone = s.scalar(select(Milestone).join(Commitment).where(
                    Commitment.plan_id == member.current_plan_id, Milestone.status != "finished").order_by(Milestone.id))
                changes = ()
                if milestone is not None:
                    nxt = "finished" if milestone.status == "in_progress" else "in_progress"
                    changes = (c.MilestoneChange(milestone_id=milestone.id, status=nxt),)
                return handlers.record_tracker_update, c.RecordTrackerUpdate(
                    member_id=member_id, narrative="Progress this quarter", actor=POC, changes=changes)
            code = member.jurisdiction.code
        letter = LetterOfSupportIn.model_validate(samples.letter_of_support())
        return handlers.apply, c.Apply(jurisdiction=code, call="Call 2027", letter_of_support=letter, actor=POC)

    def _escalate(self, member_id: int, *, end_plan: bool) -> tuple[Callable, object] | None:
        """The Support Unit's next step down for the member: inactivity, probation, revocation, or plan end."""
        with self.world.session() as s:
            state = s.get(Member, member_id).state
        action = {
            "co_creation": ("become_inactive", "R5.1"),
            "implementing": ("end_plan", "R2.5") if end_plan else ("become_inactive", "R5.4"),
            "inactive": ("place_on_probation", "R6.1"),
            "probation": ("revoke", "R6.5"),
        }.get(state)
        if action is None:
            return None
        trigger, rule = action
        # Ahead of the rule's own date, so an override (D14).
        return handlers.apply_status, c.ApplyStatus(member_id=member_id, trigger=trigger, rule=rule, actor=SU,
                                                    reason=f"{rule} applies", override=True)

    def step(self, step: tuple) -> tuple[str, object | None]:
        """Run one step; returns what happened ("moved", "skipped", "done", "refused") and the command."""
        if step[0] == "clock":
            self.world.clock.advance(days=step[1])
            return "moved", None
        planned = self.command(step)
        if planned is None:
            return "skipped", None
        handler, command = planned
        try:
            self.world.run(handler, command)
        except RuleViolation:
            return "refused", command
        return "done", command


@contextmanager
def simulated(url: str, stages: tuple[str, ...]) -> Iterator[Simulation]:
    world, engine = make_world(url)
    try:
        yield Simulation(world, stages)
    finally:
        engine.dispose()


def run_programs(databases: Databases, check: Callable[[Simulation, str, object | None, Any], None],
                 *, before: Callable[[Simulation], Any] | None = None) -> None:
    """Run drawn programs, each on a fresh database, calling ``check`` after every step."""

    @settings(max_examples=databases.max_examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture])
    @given(stages=STAGES, program=PROGRAMS)
    def run(stages: tuple[str, ...], program: list[tuple]) -> None:
        with databases.fresh() as url, simulated(url, stages) as sim:
            for step in program:
                seen = before(sim) if before is not None else None
                outcome, command = sim.step(step)
                check(sim, outcome, command, seen)

    run()


# ---------------------------------------------------------------- the properties

INITIAL = {"member": ("apply", "applicant"), "commitment": ("create", "draft")}
PATHS = {
    kind: {(row.trigger, str(source), str(source) if row.dest == "=" else str(row.dest))
           for row in table for source in row.source}
    for kind, table in (("member", MEMBER_TRANSITIONS), ("commitment", COMMITMENT_TRANSITIONS))
}


def assert_chains_are_paths(sim: Simulation, *_: object) -> None:
    with sim.world.session() as s:
        stored = {
            "member": {i: st_ for i, st_ in s.execute(select(Member.id, Member.state))},
            "commitment": {i: st_ for i, st_ in s.execute(select(Commitment.id, Commitment.state))},
        }
        records = s.scalars(select(TransitionRecord).order_by(
            TransitionRecord.subject_type, TransitionRecord.subject_id, TransitionRecord.seq)).all()
        chained: dict[str, dict[int, str]] = {"member": {}, "commitment": {}}
        for (kind, subject_id), chain in groupby(records, key=lambda r: (r.subject_type, r.subject_id)):
            chain = list(chain)
            first = chain[0]
            assert (first.trigger, first.from_state, first.to_state) == (INITIAL[kind][0], "", INITIAL[kind][1]), \
                f"{kind} {subject_id} starts with {first.trigger} {first.from_state!r} -> {first.to_state}"
            for previous, record in itertools.pairwise(chain):
                assert record.from_state == previous.to_state, \
                    f"{kind} {subject_id} record {record.seq} starts from {record.from_state}, not {previous.to_state}"
                assert (record.trigger, record.from_state, record.to_state) in PATHS[kind], \
                    f"{kind} {subject_id}: {record.trigger} {record.from_state} -> {record.to_state} is no transition"
            chained[kind][subject_id] = chain[-1].to_state
        assert chained == stored, "every stored state is its chain's last to_state, and nothing lacks a chain"
        report = audit.verify(s)
        assert report.ok, report.first_bad


def assert_limits_hold(sim: Simulation, *_: object) -> None:
    with sim.world.session() as s:
        for plan in s.scalars(select(ActionPlan)):
            size = len(s.get(Coalition, plan.coalition_id).member_ids) if plan.coalition_id else 1
            open_ = [x.id for x in plan.commitments if x.state in OPEN_COMMITMENT_STATES]
            assert len(open_) <= commitment_limit(size), f"plan {plan.id} has {len(open_)} open commitments (R3.3)"
            for x in plan.commitments:
                assert x.end_on >= add_months(x.start_on, 12), f"commitment {x.id} lasts under 12 months (R3.5)"
                assert x.end_on <= plan.end_on, f"commitment {x.id} ends after plan {plan.id} (R3.5)"


def snapshot(sim: Simulation) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    with sim.world.session() as s:
        return {
            table.name: [tuple(row) for row in s.execute(select(table).order_by(*table.primary_key.columns))]
            for table in Base.metadata.sorted_tables
        }


def assert_unchanged_when_refused(sim: Simulation, outcome: str, command: object, before: dict) -> None:
    if outcome == "refused":
        after = snapshot(sim)
        changed = [name for name in before if before[name] != after[name]]
        assert not changed, f"refused {command!r} changed {changed}"


def assert_evidence_ends_what_it_meets(sim: Simulation, outcome: str, command: object, _: object) -> None:
    """R5.6, R6.4 (D13): after evidence of resumption is filed, no member it counts for stays inactive,
    nor on probation for anything but R6.2 (whose requirement is the D8 meeting count)."""
    if outcome != "done":
        return
    from lifecycle.models import TrackerUpdate

    with sim.world.session() as s:
        if isinstance(command, c.RecordTrackerUpdate):
            update = s.scalars(select(TrackerUpdate).order_by(TrackerUpdate.id.desc())).first()
            if not update.progress:
                return
        elif isinstance(command, c.RecordMeeting):
            if command.phase != "co_creation" or command.non_governmental_participants <= 0:
                return
        elif not isinstance(command, c.SubmitPlan):
            return
        member = s.get(Member, command.member_id)
        if isinstance(command, c.RecordMeeting) and command.held_on < local_date(member.state_since,
                                                                                  member.jurisdiction.time_zone):
            return  # held before the status began: not evidence of resuming from it
        assert member.state != "inactive", f"{command!r} left member {member.id} inactive (R5.6)"
        assert member.state != "probation" or member.probation_rule == "R6.2", \
            f"{command!r} left member {member.id} on probation for {member.probation_rule} (R6.4)"


# ---------------------------------------------------------------- tests


def test_r2_every_audit_chain_is_a_valid_path_through_the_machine(databases: Databases) -> None:
    run_programs(databases, assert_chains_are_paths)


def test_r3_3_r3_5_commitment_limits_and_durations_always_hold(databases: Databases) -> None:
    run_programs(databases, assert_limits_hold)


def test_refused_commands_leave_the_database_unchanged(databases: Databases) -> None:
    run_programs(databases, assert_unchanged_when_refused, before=snapshot)


def test_r5_6_r6_4_d13_evidence_of_resumption_always_ends_the_sanction_it_meets(databases: Databases) -> None:
    run_programs(databases, assert_evidence_ends_what_it_meets)
