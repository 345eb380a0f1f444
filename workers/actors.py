"""The dramatiq actors. They take ids, are idempotent, and start each message with a clean log context."""

from __future__ import annotations

from dataclasses import dataclass

import dramatiq
import structlog
from sqlalchemy.orm import sessionmaker

from lifecycle import engine
from lifecycle.clock import Clock, SystemClock
from lifecycle.uow import UnitOfWork

log = structlog.get_logger(__name__)

QUEUE = "deadlines"


@dataclass
class Actors:
    fire_deadline: dramatiq.Actor


def declare_actors(broker: dramatiq.Broker, *, session_factory: sessionmaker, clock: Clock | None = None) -> Actors:
    """Bind the actors to a broker and a database; called once by each entry point."""
    clock = clock or SystemClock()

    def fire_deadline(deadline_id: int) -> None:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(actor="fire_deadline", deadline_id=deadline_id)
        report = engine.fire_deadline(deadline_id, uow=UnitOfWork(session_factory), clock=clock)
        if report.deadlines or report.reminders:
            log.info("deadline_processed", deadlines=report.deadlines, transitions=len(report.transitions),
                     findings=len(report.findings), reminders=report.reminders)

    return Actors(
        fire_deadline=dramatiq.actor(fire_deadline, actor_name="fire_deadline", queue_name=QUEUE, broker=broker),
    )
