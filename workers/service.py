"""Running the processes: the scheduler, dramatiq workers, and the embedded all-in-one service."""

from __future__ import annotations

import signal
import threading

import dramatiq
import structlog
from dramatiq import Worker

from config.settings import Settings
from lifecycle.db import current_revision, make_engine, make_session_factory, read_only_factory, upgrade_database
from workers.actors import LETTERS_QUEUE, QUEUE, declare_actors
from workers.broker import make_broker
from workers.scheduler import Scheduler

log = structlog.get_logger(__name__)


def session_factory_for(settings: Settings):
    url = settings.db_url
    if settings.is_embedded and current_revision(url) is None:
        upgrade_database(url)
    return make_session_factory(make_engine(url), reminder_days=settings.deadline_reminder_days)


def _wait_for_signal(stop: threading.Event) -> None:
    def handler(signum, _frame):
        log.info("stopping", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    while not stop.is_set():
        stop.wait(0.5)


def run_scheduler(settings: Settings, stop: threading.Event | None = None) -> None:
    """Production scheduler: enqueue due deadlines on the broker every interval."""
    broker = make_broker(settings)
    actors = declare_actors(broker, session_factory=session_factory_for(settings), settings=settings)
    # The scheduler only reads (its claims hold no lock past their own statement).
    scheduler = Scheduler(read_only_factory(session_factory_for(settings)), lambda i: actors.fire_deadline.send(i),
                          interval_s=settings.scheduler_interval_s, batch=settings.tick_batch,
                          resend_after_s=settings.scheduler_resend_after_s,
                          enqueue_letter=lambda i: actors.send_letter.send(i))
    stop = stop or threading.Event()
    thread = threading.Thread(target=scheduler.run, name="scheduler", daemon=True)
    thread.start()
    _wait_for_signal(stop)
    scheduler.stop()
    thread.join()


def run_worker(settings: Settings, threads: int | None = None, stop: threading.Event | None = None) -> None:
    """A dramatiq worker process consuming ``fire_deadline`` and ``send_letter`` messages."""
    broker = make_broker(settings)
    declare_actors(broker, session_factory=session_factory_for(settings), settings=settings)
    worker = Worker(broker, queues={QUEUE, LETTERS_QUEUE}, worker_threads=threads or settings.worker_threads,
                    worker_timeout=1000)
    worker.start()
    log.info("worker_started", threads=worker.worker_threads, broker=type(broker).__name__)
    stop = stop or threading.Event()
    _wait_for_signal(stop)
    worker.stop()  # lets messages in flight finish: each is one transaction, never half done
    broker.close()
    log.info("worker_stopped")


class EmbeddedService:
    """Scheduler thread and an in-process dramatiq worker on a stub broker: no servers needed."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.broker: dramatiq.Broker = make_broker(settings)
        self.session_factory = session_factory_for(settings)
        self.actors = declare_actors(self.broker, session_factory=self.session_factory, settings=settings)
        self.worker = Worker(self.broker, queues={QUEUE, LETTERS_QUEUE}, worker_threads=settings.worker_threads,
                             worker_timeout=100)
        # Read-only sessions: on SQLite the scheduler's claims never wait behind the workers' units of work.
        self.scheduler = Scheduler(read_only_factory(self.session_factory), lambda i: self.actors.fire_deadline.send(i),
                                   interval_s=settings.scheduler_interval_s, batch=settings.tick_batch,
                                   resend_after_s=settings.scheduler_resend_after_s,
                                   enqueue_letter=lambda i: self.actors.send_letter.send(i))
        self._thread = threading.Thread(target=self.scheduler.run, name="scheduler", daemon=True)

    def start(self) -> None:
        self.worker.start()
        self._thread.start()
        log.info("service_started", database=self.settings.db_url, broker=type(self.broker).__name__)

    def stop(self) -> None:
        self.scheduler.stop()
        # The worker first: on SQLite the scheduler's claim waits for the write lock that busy worker
        # threads keep taking, so joining the scheduler first waited until the whole backlog was done.
        self.worker.stop()
        self._thread.join()
        log.info("service_stopped")


def run_embedded(settings: Settings, stop: threading.Event | None = None) -> None:
    service = EmbeddedService(settings)
    service.start()
    stop = stop or threading.Event()
    _wait_for_signal(stop)
    service.stop()
