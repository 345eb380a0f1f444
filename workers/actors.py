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
LETTERS_QUEUE = "letters"


@dataclass
class Actors:
    fire_deadline: dramatiq.Actor
    send_letter: dramatiq.Actor


def declare_actors(broker: dramatiq.Broker, *, session_factory: sessionmaker, clock: Clock | None = None,
                   settings=None, transport=None) -> Actors:
    """Bind the actors to a broker and a database; called once by each entry point.

    ``settings`` (and ``transport``, else the one the settings call for) are what ``send_letter`` delivers with.
    """
    clock = clock or SystemClock()
    mail: dict = {"settings": settings, "transport": transport}

    def fire_deadline(deadline_id: int) -> None:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(actor="fire_deadline", deadline_id=deadline_id)
        report = engine.fire_deadline(deadline_id, uow=UnitOfWork(session_factory), clock=clock)
        if report.deadlines or report.reminders:
            log.info("deadline_processed", deadlines=report.deadlines, transitions=len(report.transitions),
                     findings=len(report.findings), reminders=report.reminders)

    def send_letter(outbox_id: int) -> None:
        from workers.letters.delivery import deliver
        from workers.letters.transport import make_transport

        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(actor="send_letter", outbox_id=outbox_id)
        if mail["settings"] is None:  # an entry point that passed none: the environment's, read once
            from config.settings import Settings

            mail["settings"] = Settings()
        if mail["transport"] is None:
            mail["transport"] = make_transport(mail["settings"])
        # A temporary failure raises, and the Retries middleware sends the message again with backoff.
        deliver(outbox_id, session_factory=session_factory, transport=mail["transport"], settings=mail["settings"],
                clock=clock)

    return Actors(
        fire_deadline=dramatiq.actor(fire_deadline, actor_name="fire_deadline", queue_name=QUEUE, broker=broker),
        # Lower priority: a worker holding both kinds of message fires deadlines first.
        send_letter=dramatiq.actor(send_letter, actor_name="send_letter", queue_name=LETTERS_QUEUE, broker=broker,
                                   priority=10),
    )
