"""Faults of the production set-up (ARCHITECTURE.md, "Deadlines and workers"), on real servers and processes.

A real PostgreSQL server, a real Redis server, and real ``ogp-lifecycle worker`` and
``ogp-lifecycle scheduler`` processes on the system clock. The due set: members made
inactive through the handlers seven months ago, so that each one's probation clock
(R6.1, six months inactive) is breached and fires exactly one transition,
``place_on_probation``. Whatever goes wrong — duplicate schedulers, a worker killed with
SIGKILL, Redis restarting empty — every due deadline must fire exactly once: "Firing twice
is a no-op, so several schedulers or a redelivered message change nothing."
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time

import pendulum
import pytest
from sqlalchemy import select

from config.settings import Settings
from dueset import DUE_SET_SIZE, Outcome, build_due_set, due_ids, inconsistencies, outcome, progress
from lifecycle import audit
from lifecycle.db import make_engine, make_session_factory
from lifecycle.models import Deadline, TransitionRecord
from procs import Services, wait_until
from workers.actors import QUEUE, declare_actors
from workers.broker import make_broker
from workers.service import EmbeddedService

log = logging.getLogger(__name__)

NAMESPACE = "ogp-lifecycle"  # workers.broker.make_broker
#: The default of OGP_BROKER_HEARTBEAT_TIMEOUT_MS, which these tests leave alone.
HEARTBEAT_TIMEOUT_S = Settings.model_fields["broker_heartbeat_timeout_ms"].default / 1000
REDELIVERY_LIMIT_S = 30.0
FINISH_TIMEOUT_S = 60.0
FIRED_SQL = "SELECT count(*) FROM transition_records WHERE trigger = 'place_on_probation'"


@pytest.fixture
def db(due_db_url: str):
    """A session factory on this test's copy of the due set."""
    engine = make_engine(due_db_url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


def assert_exactly_once(result: Outcome, expected: int, services: Services | None = None) -> None:
    context = f"\n{services.tails()}" if services is not None else ""
    assert result.duplicates == {}, f"deadlines fired more than once: {result.duplicates}{context}"
    assert len(result.fired) == expected, f"{expected - len(result.fired)} members never fired{context}"
    assert result.pending_due == 0, f"{result.pending_due} due deadlines still pending{context}"
    assert result.breached == expected
    assert result.states == {"probation": expected}
    assert result.audit_ok, result.audit_problem


def wait_until_all_fired(db, expected: int, services: Services, timeout: float = FINISH_TIMEOUT_S) -> None:
    def done() -> bool:
        return progress(db) >= expected and not due_ids(db)

    try:
        wait_until(done, timeout=timeout, interval=0.1, what=f"all {expected} due deadlines to fire")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {progress(db)} fired\n{services.tails()}") from None


def stop_gracefully(services: Services) -> None:
    """SIGTERM every live process: each must stop on its own, exit 0, and say so."""
    for service in services.started:
        if not service.alive:
            continue
        code = service.terminate(timeout=20)
        assert code == 0, f"{service.name} did not stop cleanly on SIGTERM (exit {code})\n{service.tail()}"
        assert service.has_event("worker_stopped") or service.has_event("scheduler_stopped"), service.tail()


# ---------------------------------------------------------------- (a) several schedulers and workers


def test_two_schedulers_and_two_worker_processes_fire_every_due_r6_1_deadline_exactly_once_because_firing_twice_is_a_no_op(
        db, due_db_url, redis_url, services):
    expected = len(due_ids(db))
    assert expected == DUE_SET_SIZE and progress(db) == 0

    # The schedulers first: with no worker yet, each enqueues every due deadline, so that each
    # deadline has two messages on the queue and one of them must change nothing.
    schedulers = [services.scheduler(due_db_url, redis_url, interval_s=0.5) for _ in range(2)]

    def enqueued(service) -> int:
        return sum(e.get("count", 0) for e in service.events() if e.get("event") == "deadlines_enqueued")

    for s in schedulers:
        s.wait_for_event("scheduler_started")
    wait_until(lambda: all(enqueued(s) >= expected for s in schedulers), timeout=30,
               what="both schedulers to enqueue the due set")
    assert [enqueued(s) for s in schedulers] == [expected, expected]  # the resend window is 300 s

    workers = [services.worker(due_db_url, redis_url, threads=2) for _ in range(2)]
    wait_until_all_fired(db, expected, services)

    result = outcome(db)
    assert_exactly_once(result, expected, services)
    assert inconsistencies(db) == []
    for w in workers:
        assert w.has_event("deadline_processed"), f"{w.name} processed nothing\n{services.tails()}"
    processed = sum(1 for w in workers for e in w.events() if e.get("event") == "deadline_processed")
    assert processed == expected  # the other message of each pair found the deadline closed and did nothing
    stop_gracefully(services)


# ---------------------------------------------------------------- (b) a worker killed with SIGKILL


def _held_by_dead_workers(redis_url: str, killed_at_ms: int) -> dict[str, list[int]]:
    """Deadline ids in the unacknowledged sets of workers whose heartbeat stopped before the kill."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        held: dict[str, list[int]] = {}
        for worker_id, beat in client.zrange(f"{NAMESPACE}:__heartbeats__", 0, -1, withscores=True):
            if beat >= killed_at_ms:
                continue  # alive after the kill
            worker_id = worker_id.decode()
            message_ids = client.smembers(f"{NAMESPACE}:__acks__.{worker_id}.{QUEUE}")
            for message_id in message_ids:
                data = client.hget(f"{NAMESPACE}:{QUEUE}.msgs", message_id)
                if data is not None:
                    held.setdefault(worker_id, []).append(json.loads(data)["args"][0])
        return held
    finally:
        client.close()


def measure_redelivery_after_kill(db, due_db_url: str, redis_url: str, services: Services) -> dict:
    """Two workers, every due deadline enqueued once (no scheduler), one worker SIGKILLed mid-batch."""
    expected_ids = due_ids(db)
    expected = len(expected_ids)
    victim = services.worker(due_db_url, redis_url, threads=2, name="worker-killed")
    survivor = services.worker(due_db_url, redis_url, threads=2, name="worker-survivor")
    victim.wait_for_event("worker_started")
    survivor.wait_for_event("worker_started")

    # Enqueued once, from here: with no scheduler running, a lost message would never come back,
    # so the figure below measures the broker's redelivery, not a scheduler's re-enqueueing.
    broker = make_broker(Settings(redis_url=redis_url, database_url=due_db_url))
    try:
        actors = declare_actors(broker, session_factory=db)
        for deadline_id in expected_ids:
            actors.fire_deadline.send(deadline_id)
    finally:
        broker.close()

    wait_until(lambda: progress(db) >= expected // 5, timeout=30, interval=0.01, what="a fifth of the due set")
    killed_at = pendulum.now("UTC")
    killed_at_ms = int(killed_at.timestamp() * 1000)
    started = time.monotonic()
    victim.kill9()
    fired_at_kill = progress(db)
    assert 0 < fired_at_kill < expected, f"the kill came too late to be mid-batch: {fired_at_kill}/{expected}"

    time.sleep(1.5)  # the survivor's heartbeat moves on; the victim's stays before the kill
    held = _held_by_dead_workers(redis_url, killed_at_ms)
    assert len(held) == 1, f"expected the killed worker's unacknowledged messages, found {held}"
    (orphans,) = held.values()
    with db() as s:
        stranded = list(s.scalars(select(Deadline.id).where(Deadline.id.in_(orphans), Deadline.status == "pending")))
        owners = list(s.scalars(select(Deadline.member_id).where(Deadline.id.in_(stranded))))
    assert stranded, f"the killed worker held messages {orphans} but none of them was left undone"
    assert progress(db) < expected  # its deadlines wait for redelivery

    def stranded_fired() -> bool:
        with db() as s:
            return not s.scalar(select(Deadline.id).where(Deadline.id.in_(stranded),
                                                         Deadline.status == "pending").limit(1))

    wait_until(stranded_fired, timeout=REDELIVERY_LIMIT_S + 15, interval=0.1,
               what=f"the killed worker's deadlines {stranded} to be redelivered")
    observed_s = time.monotonic() - started
    wait_until_all_fired(db, expected, services)
    with db() as s:
        last = max(s.scalars(select(TransitionRecord.recorded_at).where(
            TransitionRecord.subject_type == "member", TransitionRecord.subject_id.in_(owners),
            TransitionRecord.trigger == "place_on_probation")))
    return {"redelivery_s": round((last - killed_at).total_seconds(), 3), "observed_s": round(observed_s, 3),
            "held": len(orphans), "stranded": len(stranded), "fired_at_kill": fired_at_kill, "expected": expected,
            "survivor": survivor}


def test_a_worker_killed_with_sigkill_mid_batch_has_its_messages_redelivered_once_its_heartbeat_times_out_and_each_deadline_fires_exactly_once(
        db, due_db_url, redis_url, services, restore_global_broker, record_property):
    figures = measure_redelivery_after_kill(db, due_db_url, redis_url, services)
    survivor = figures.pop("survivor")
    redelivery_s = figures["redelivery_s"]
    record_property("figure", f"redelivery after kill -9 = {redelivery_s} s")
    record_property("redelivery_detail", json.dumps(figures))
    log.warning("redelivery after kill -9: %.3f s (%s)", redelivery_s, figures)

    # Redelivery waits for the dead worker's heartbeat to be older than the timeout (10 s by default).
    assert HEARTBEAT_TIMEOUT_S - 1 <= redelivery_s < REDELIVERY_LIMIT_S, figures
    assert survivor.alive, survivor.tail()
    result = outcome(db)
    assert_exactly_once(result, figures["expected"], services)
    assert inconsistencies(db) == []
    stop_gracefully(services)


# ---------------------------------------------------------------- (c) Redis restarting empty mid-tick


def test_redis_restarting_empty_mid_tick_loses_no_deadline_because_it_stays_pending_in_postgresql_and_the_scheduler_re_enqueues_it(
        db, due_db_url, redis_url, redis_server, services):
    expected = len(due_ids(db))
    worker = services.worker(due_db_url, redis_url, threads=1)
    worker.wait_for_event("worker_started")
    # A short resend window, so that the messages Redis lost are sent again within seconds.
    scheduler = services.scheduler(due_db_url, redis_url, interval_s=0.5, resend_after_s=2)
    scheduler.wait_for_event("scheduler_started")

    wait_until(lambda: progress(db) >= expected // 5, timeout=30, interval=0.01, what="a fifth of the due set")
    redis_server.stop()  # persistence is off: every queued message is gone
    try:
        time.sleep(4)
        assert worker.alive and scheduler.alive, services.tails()
        assert due_ids(db), "everything fired before Redis went away: the fault came too late"
        stranded = len(due_ids(db))
    finally:
        redis_server.start()  # same port, empty
    restarted = time.monotonic()

    wait_until_all_fired(db, expected, services)
    recovered_s = time.monotonic() - restarted
    log.warning("after Redis restarted empty, the %d stranded deadlines fired within %.1f s", stranded, recovered_s)

    result = outcome(db)
    assert_exactly_once(result, expected, services)
    assert inconsistencies(db) == []
    # Both processes noticed, logged it, and kept going.
    assert worker.alive and scheduler.alive, services.tails()
    assert scheduler.has_event("scheduler_tick_failed"), scheduler.tail()
    assert "connection error" in worker.log().lower(), worker.tail()
    stop_gracefully(services)


# ---------------------------------------------------------------- (e) the embedded service


def test_the_embedded_service_on_sqlite_fires_every_due_deadline_exactly_once_and_stops_promptly_with_nothing_half_done(
        sqlite_url, restore_global_broker):

    build_due_set(sqlite_url, 80, prefix="town")
    engine = make_engine(sqlite_url)
    factory = make_session_factory(engine)
    settings = Settings(database_url=sqlite_url, redis_url=None, scheduler_interval_s=0.2, worker_threads=2)
    try:
        expected = len(due_ids(factory))
        assert expected == 80

        # Stopped in the middle: whatever fired is whole, whatever did not is untouched.
        service = EmbeddedService(settings)
        assert type(service.broker).__name__ == "StubBroker"
        reader = sqlite3.connect(f"file:{sqlite_url.split('///', 1)[1]}?mode=ro", uri=True)
        try:
            service.start()
            try:
                # Polled on a plain read-only connection: a WAL reader never waits for the writers.
                seen = wait_until(lambda: (n := reader.execute(FIRED_SQL).fetchone()[0]) >= 5 and n,
                                  timeout=30, interval=0.005, what="the first deadlines")
            finally:
                began = time.monotonic()
                service.stop()
                stop_s = time.monotonic() - began
        finally:
            reader.close()
        assert stop_s < 5, f"stop() took {stop_s:.1f} s"
        assert not service._thread.is_alive()
        midway = progress(factory)
        # Each worker thread finishes the message it holds (and may have taken one more while it was
        # seen); nothing else fires once stop() is called.
        assert midway - seen <= 2 * settings.worker_threads + 1, f"{midway - seen} fired after stop() was called"
        assert 0 < midway < expected, f"not stopped mid-way: {midway} of {expected} fired"
        assert inconsistencies(factory) == []
        with factory() as s:
            assert audit.verify(s).ok
        log.warning("embedded service stopped after %d of %d deadlines in %.2f s", midway, expected, stop_s)

        # Started again, it fires the rest, and nothing twice.
        service = EmbeddedService(settings)
        service.start()
        try:
            wait_until(lambda: progress(factory) >= expected and not due_ids(factory), timeout=60, interval=0.05,
                       what="the embedded service to fire the due set")
        finally:
            service.stop()
        assert_exactly_once(outcome(factory), expected)
        assert inconsistencies(factory) == []
    finally:
        engine.dispose()
