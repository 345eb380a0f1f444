"""Concurrent commands on one member serialize on its lock: none is lost and the audit chain stays whole."""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pendulum
from sqlalchemy import func, select

from lifecycle import audit, commands as c, handlers
from lifecycle.clock import FixedClock
from lifecycle.db import make_engine, make_session_factory
from lifecycle.models import Commitment, InactivityRequest, Meeting, Member, Milestone, TrackerUpdate, TransitionRecord
from lifecycle.uow import UnitOfWork
from policies.errors import RuleViolation, TriggerNotAllowed

SU = "support-unit"
POC = "poc@city.example"


def _race(world, jobs: list[Callable[[], object]]) -> list[BaseException | None]:
    """Run every job in its own thread and unit of work, released together by a barrier; their exceptions, in order."""
    barrier = threading.Barrier(len(jobs))

    def start(job):
        barrier.wait(timeout=10)
        return job()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(start, job) for job in jobs]
        return [f.exception(timeout=60) for f in futures]


def _run(world, handler, command) -> Callable[[], object]:
    return lambda: handler(command, uow=UnitOfWork(world.factory), clock=world.clock)


def _assert_chains_whole(world) -> None:
    """verify() is ok, and every chain's seq runs 1..n with each record leaving the state the previous one entered."""
    with world.session() as s:
        assert audit.verify(s).ok
        chains: dict[tuple[str, int], list[TransitionRecord]] = {}
        for r in audit.iter_records(s):
            chains.setdefault((r.subject_type, r.subject_id), []).append(r)
    for records in chains.values():
        assert [r.seq for r in records] == list(range(1, len(records) + 1))
        for before, after in zip(records, records[1:]):
            assert after.from_state == before.to_state


# ---------------------------------------------------------------- threads


def test_r3_11_eight_meetings_recorded_at_once_on_one_member_are_all_kept(world):
    m = world.co_creating()
    outcomes = _race(world, [
        _run(world, handlers.record_meeting, c.RecordMeeting(
            member_id=m, phase="co_creation", held_on=world.today(), government_participants=2,
            non_governmental_participants=i + 1, actor=POC, description=f"workshop {i}"))
        for i in range(8)
    ])
    assert outcomes == [None] * 8
    with world.session() as s:
        kept = s.scalars(select(Meeting.description).where(Meeting.member_id == m)).all()
    assert sorted(kept) == sorted(["", *(f"workshop {i}" for i in range(8))])


def test_r4_4_tracker_updates_filed_at_once_each_move_their_milestone_and_none_is_lost(world):
    m = world.implementing(commitments=3)
    world.at("2027-04-02T09:00:00Z")
    with world.session() as s:
        milestones = s.scalars(select(Milestone.id).order_by(Milestone.id)).all()
    assert len(milestones) == 6
    outcomes = _race(world, [
        _run(world, handlers.record_tracker_update, c.RecordTrackerUpdate(
            member_id=m, narrative=f"milestone {ms} under way", actor=POC,
            changes=(c.MilestoneChange(milestone_id=ms, status="in_progress"),)))
        for ms in milestones
    ])
    assert outcomes == [None] * 6
    with world.session() as s:
        assert s.scalar(select(func.count()).select_from(TrackerUpdate)) == 6
        assert set(s.scalars(select(Milestone.status))) == {"in_progress"}
        assert all(s.scalars(select(TrackerUpdate.progress)))


def test_r2_3_the_same_transition_fired_four_times_at_once_happens_exactly_once(world):
    m = world.in_orientation()
    world.run(handlers.complete_orientation, c.CompleteOrientation(member_id=m, actor=SU))
    outcomes = _race(world, [_run(world, handlers.start_co_creation, c.StartCoCreation(member_id=m, actor=POC))
                             for _ in range(4)])
    assert outcomes.count(None) == 1
    refusals = [o for o in outcomes if o is not None]
    assert all(isinstance(o, TriggerNotAllowed) and o.rule == "R2.3" for o in refusals), refusals
    with world.session() as s:
        assert [r.trigger for r in audit.history(s, "member", m)] == ["apply", "accept", "start_co_creation"]
    _assert_chains_whole(world)


def test_r5_5_two_pending_requests_approved_at_once_make_the_member_inactive_exactly_once(world):
    m = world.implementing()
    first = world.run(handlers.request_voluntary_inactivity, c.RequestVoluntaryInactivity(
        member_id=m, reason="elections", stakeholders_consulted=True, actor=POC))
    with world.session() as s:  # a second request, as if filed twice from two browser tabs
        second = InactivityRequest(member_id=m, requested_at=world.clock.now(), reason="elections (again)",
                                   stakeholders_consulted=True, status="pending")
        s.add(second)
        s.commit()
        second = second.id
    outcomes = _race(world, [
        _run(world, handlers.approve_voluntary_inactivity, c.ApproveVoluntaryInactivity(request_id=rid, actor=SU))
        for rid in (first, second)
    ])
    assert outcomes.count(None) == 1
    (refusal,) = [o for o in outcomes if o is not None]
    assert isinstance(refusal, TriggerNotAllowed) and refusal.rule == "R5.5"
    with world.session() as s:
        member = s.get(Member, m)
        assert (member.state, member.voluntary_inactivity) == ("inactive", True)
        statuses = {r.id: r.status for r in s.scalars(select(InactivityRequest))}
        history = audit.history(s, "member", m)
    winner = (first, second)[outcomes.index(None)]
    loser = (first, second)[1 - outcomes.index(None)]
    assert (statuses[winner], statuses[loser]) == ("approved", "pending")
    assert [r.trigger for r in history].count("approve_voluntary_inactivity") == 1
    _assert_chains_whole(world)


def test_r2_6_r2_7_status_changes_racing_tracker_updates_and_completions_never_break_a_chain(world):
    m = world.implementing(commitments=3)
    world.at("2027-08-02T09:00:00Z")
    with world.session() as s:
        commitments = s.scalars(select(Commitment.id).order_by(Commitment.id)).all()
        milestones = s.scalars(select(Milestone.id).order_by(Milestone.id)).all()
        before = s.scalar(select(func.count()).select_from(TransitionRecord))

    def flip(n: int) -> None:
        # Each flipper pushes the member the same way three times; attempts that meet the wrong state are refused.
        trigger, rule = ("become_inactive", "R5.4") if n % 2 else ("resume", "R5.6")
        for _ in range(3):
            _collect(_run(world, handlers.apply_status, c.ApplyStatus(
                member_id=m, trigger=trigger, rule=rule, actor=SU, reason=f"flipper {n}", override=True)))

    jobs: list[Callable[[], object]] = [lambda n=n: flip(n) for n in range(4)]
    jobs += [lambda ms=ms: _collect(_run(world, handlers.record_tracker_update, c.RecordTrackerUpdate(
        member_id=m, narrative="progress", actor=POC, changes=(c.MilestoneChange(milestone_id=ms, status="in_progress"),))))
             for ms in milestones[:4]]
    jobs += [lambda cid=cid: _collect(_run(world, handlers.complete_commitment, c.CompleteCommitment(
        commitment_id=cid, completed_on=dt.date(2027, 8, 1), actor=POC))) for cid in commitments]
    outcomes = _race(world, jobs)
    assert outcomes == [None] * len(jobs), "only refusals are expected, and those are collected"
    with world.session() as s:
        after = s.scalar(select(func.count()).select_from(TransitionRecord))
        member_chain = audit.history(s, "member", m)
        completed = s.scalars(select(Commitment.state)).all()
    assert completed == ["completed"] * 3, "completions are never refused here, so none may be lost"
    assert after - before == 3 + len(member_chain) - 4  # three completions plus every member transition since the plan
    assert all(r.trigger in ("become_inactive", "resume") for r in member_chain[4:])
    _assert_chains_whole(world)


def _collect(job: Callable[[], object]) -> None:
    """Run a job whose only acceptable failure is a refusal with a rule ID."""
    with contextlib.suppress(TriggerNotAllowed):
        job()


def test_r2_5_a_completion_and_the_plan_end_locking_in_opposite_orders_still_both_take_effect(world, monkeypatch):
    """Each command holds its first lock until the other holds its own, which deadlocks unless all lock member first."""
    m = world.implementing(commitments=1)
    world.at("2027-08-02T09:00:00Z")
    with world.session() as s:
        (cid,) = s.scalars(select(Commitment.id)).all()
    both_hold_a_lock = threading.Barrier(2, timeout=1.0)
    first_lock_taken = threading.local()
    real_lock = UnitOfWork.lock

    def lock(self, model, ident, *, what=None):
        entity = real_lock(self, model, ident, what=what)
        if not getattr(first_lock_taken, "done", False):
            first_lock_taken.done = True
            with contextlib.suppress(threading.BrokenBarrierError):  # the other may be waiting for this very lock
                both_hold_a_lock.wait()
        return entity

    monkeypatch.setattr(UnitOfWork, "lock", lock)
    outcomes = _race(world, [
        _run(world, handlers.complete_commitment, c.CompleteCommitment(commitment_id=cid, completed_on=dt.date(2027, 8, 1),
                                                                        actor=POC)),
        _run(world, handlers.apply_status, c.ApplyStatus(member_id=m, trigger="end_plan", rule="R2.5", actor=SU,
                                                         reason="plan ended early", override=True)),
    ])
    completion, plan_end = outcomes
    assert plan_end is None
    with world.session() as s:
        assert s.get(Member, m).state == "co_creation"
        commitment = [(r.trigger, r.rule_id) for r in audit.history(s, "commitment", cid)][2:]
    if completion is None:  # completed first: the plan's end leaves a completed commitment alone
        assert commitment == [("complete", "R4.2")]
    else:  # the plan ended first: completing a commitment that ended incomplete is refused, not lost
        assert isinstance(completion, TriggerNotAllowed) and completion.rule == "R4.2"
        assert commitment == [("end_incomplete", "R4.2")]
    _assert_chains_whole(world)


# ---------------------------------------------------------------- processes


def _process_worker(url: str, member_id: int, n: int, start, results) -> None:
    """One separate process: its own engine, two meetings and one attempt to make the member inactive."""
    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        clock = FixedClock(pendulum.datetime(2027, 3, 1, 9, tz="UTC"))
        start.wait(timeout=30)
        outcome = []
        for i in range(2):
            handlers.record_meeting(c.RecordMeeting(
                member_id=member_id, phase="implementation", held_on=dt.date(2027, 2, 20), government_participants=1,
                non_governmental_participants=1, actor=POC, description=f"process {n} meeting {i}"),
                uow=UnitOfWork(factory), clock=clock)
        try:
            handlers.apply_status(c.ApplyStatus(member_id=member_id, trigger="become_inactive", rule="R5.4", actor=SU,
                                                reason=f"process {n}", override=True), uow=UnitOfWork(factory),
                                clock=clock)
            outcome.append("inactive")
        except RuleViolation as refusal:
            outcome.append(refusal.rule)
        results.put((n, outcome))
    finally:
        engine.dispose()


def test_r2_6_separate_processes_with_their_own_engines_serialize_on_the_member(world):
    m = world.implementing(commitments=1)
    world.at("2027-03-01T09:00:00Z")
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_process_worker, args=(world.url, m, n, start, results)) for n in range(4)]
    for p in procs:
        p.start()
    reports = dict(results.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(timeout=30)
    assert [p.exitcode for p in procs] == [0] * 4
    assert Counter(o for outcome in reports.values() for o in outcome) == {"inactive": 1, "R5.4": 3}
    with world.session() as s:
        meetings = s.scalar(select(func.count()).select_from(Meeting).where(Meeting.phase == "implementation"))
        history = audit.history(s, "member", m)
    assert meetings == 8
    assert [r.trigger for r in history][-2:] == ["submit_plan", "become_inactive"]
    _assert_chains_whole(world)
