"""The scheduler: every N seconds, find due deadlines and enqueue ``fire_deadline(id)`` for each.

It never fires anything itself, so any number of schedulers may run: a deadline enqueued
twice is fired once, because firing is idempotent. It holds no delayed messages: a
deadline is enqueued only once it is due.

It is also the outbox relay: each run enqueues ``send_letter(id)`` for every letter still
pending (committed, so never before its transaction), again after the same resend window,
so that a lost broker message never loses a letter (R7.3); sending is idempotent too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog
from sqlalchemy.orm import sessionmaker

from lifecycle.clock import Clock, SystemClock
from lifecycle.engine import claim_due

log = structlog.get_logger(__name__)


class Scheduler:
    def __init__(self, session_factory: sessionmaker, enqueue: Callable[[int], None], *, interval_s: float = 60.0,
                 batch: int = 500, clock: Clock | None = None, resend_after_s: float = 300.0,
                 enqueue_letter: Callable[[int], None] | None = None) -> None:
        self.session_factory = session_factory
        self.enqueue = enqueue
        self.interval_s = interval_s
        self.batch = batch
        self.clock = clock or SystemClock()
        self.resend_after_s = resend_after_s
        self._sent: dict[int, float] = {}
        self.enqueue_letter = enqueue_letter
        self._letters_sent: dict[int, float] = {}
        self._stop = threading.Event()

    def run_once(self) -> int:
        """Enqueue every due deadline not enqueued recently; returns how many were enqueued."""
        now = self.clock.now()
        started = time.monotonic()
        self._sent = {k: v for k, v in self._sent.items() if started - v < self.resend_after_s}
        enqueued = 0
        while True:
            with self.session_factory() as session:
                ids = claim_due(session, now, limit=self.batch, exclude=set(self._sent))
                session.commit()
            if not ids:
                break
            for deadline_id in ids:
                self.enqueue(deadline_id)
                self._sent[deadline_id] = time.monotonic()
                enqueued += 1
        if enqueued:
            log.info("deadlines_enqueued", count=enqueued, now=now.to_iso8601_string(),
                     seconds=round(time.monotonic() - started, 3))
        if self.enqueue_letter is not None:
            self.relay_letters()
        return enqueued

    def relay_letters(self) -> int:
        """Enqueue every pending letter not enqueued within the resend window; returns how many."""
        from workers.letters.delivery import pending_ids

        started = time.monotonic()
        self._letters_sent = {k: v for k, v in self._letters_sent.items() if started - v < self.resend_after_s}
        enqueued, after = 0, 0
        while True:
            with self.session_factory() as session:
                ids = pending_ids(session, limit=self.batch, after=after)
                session.commit()
            if not ids:
                break
            after = ids[-1]
            for outbox_id in ids:
                if outbox_id in self._letters_sent:
                    continue
                self.enqueue_letter(outbox_id)
                self._letters_sent[outbox_id] = time.monotonic()
                enqueued += 1
        if enqueued:
            log.info("letters_enqueued", count=enqueued, seconds=round(time.monotonic() - started, 3))
        return enqueued

    def run(self) -> None:
        """Tick until stopped; a failed tick is logged and retried at the next interval."""
        log.info("scheduler_started", interval_s=self.interval_s)
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the database or broker may be briefly away: try again next time
                log.exception("scheduler_tick_failed")
            self._stop.wait(self.interval_s)
        log.info("scheduler_stopped")

    def stop(self) -> None:
        self._stop.set()
