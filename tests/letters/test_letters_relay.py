"""The outbox relay and the embedded default: a lost broker message never loses a letter (R7.3)."""

from __future__ import annotations

import email
import hashlib
import time
from email import policy

from dramatiq import Worker

from config.settings import Settings
from letterworld import make_letter_world, mail_settings
from procs import wait_until
from workers.actors import LETTERS_QUEUE, declare_actors
from workers.broker import make_broker
from workers.letters.transport import FolderTransport
from workers.scheduler import Scheduler
from workers.service import EmbeddedService


def test_r7_3_the_relay_enqueues_each_pending_letter_once_per_resend_window_and_never_a_sent_one(world):
    m = world.accepted("riverton")
    poc_letter, su_letter = world.letters(m, "accepted")
    enqueued: list[int] = []
    scheduler = Scheduler(world.factory, lambda _id: None, clock=world.clock, resend_after_s=0.5,
                          enqueue_letter=enqueued.append)
    scheduler.run_once()
    assert enqueued == [poc_letter.id, su_letter.id]
    scheduler.run_once()
    assert enqueued == [poc_letter.id, su_letter.id]  # within the window: its message may still be on its way

    assert world.deliver(poc_letter.id) == "sent"
    time.sleep(0.6)
    scheduler.run_once()
    assert enqueued == [poc_letter.id, su_letter.id, su_letter.id]  # still pending after the window: sent again


def test_r7_3_a_letter_whose_broker_message_was_lost_goes_out_after_the_next_relay_run(
        world, smtp_server, restore_global_broker):
    m = world.accepted("riverton")
    letters = world.letters(m, "accepted")
    broker = make_broker(Settings(_env_file=None, redis_url=None))
    actors = declare_actors(broker, session_factory=world.factory, clock=world.clock, settings=world.settings,
                            transport=world.transport)
    lost: list[int] = []

    def lossy(outbox_id: int) -> None:  # the broker loses the first message of each letter (Redis restarted empty)
        if outbox_id not in lost:
            lost.append(outbox_id)
            return
        actors.send_letter.send(outbox_id)

    scheduler = Scheduler(world.factory, lambda _id: None, clock=world.clock, resend_after_s=0.3,
                          enqueue_letter=lossy)
    worker = Worker(broker, queues={LETTERS_QUEUE}, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        scheduler.run_once()
        broker.join(LETTERS_QUEUE, timeout=10_000)
        assert [world.letter(e.id).status for e in letters] == ["pending", "pending"]
        time.sleep(0.35)
        scheduler.run_once()
        broker.join(LETTERS_QUEUE, timeout=10_000)
        worker.join()
    finally:
        worker.stop()
        broker.close()
    assert [world.letter(e.id).status for e in letters] == ["sent", "sent"]
    assert sorted(smtp_server.archive.ids().values()) == [1, 1]


def test_r7_3_the_embedded_default_without_smtp_writes_each_letter_as_eml_and_pdf_files_in_the_outbox_folder(
        sqlite_url, tmp_path, restore_global_broker):
    data = tmp_path / "data"
    settings = mail_settings(sqlite_url, data, scheduler_interval_s=0.2, worker_threads=2)
    assert settings.smtp_host is None
    world = make_letter_world(sqlite_url, settings, transport=FolderTransport(settings.outbox_dir))
    try:
        m = world.accepted("riverton")
        letters = world.letters(m)
        assert len(letters) == 2

        service = EmbeddedService(settings)
        service.start()
        try:
            wait_until(lambda: all(world.letter(e.id).status == "sent" for e in letters), timeout=30,
                       what="the embedded service to write the letters")
        finally:
            service.stop()
    finally:
        world.engine.dispose()

    outbox = settings.outbox_dir
    names = {hashlib.sha256(e.idempotency_key.encode()).hexdigest()[:32] for e in letters}
    assert sorted(p.name for p in outbox.iterdir()) == sorted([f"{n}.{ext}" for n in names for ext in ("eml", "pdf")])
    for e in letters:
        stored = world.letter(e.id)
        name = hashlib.sha256(e.idempotency_key.encode()).hexdigest()[:32]
        message = email.message_from_bytes((outbox / f"{name}.eml").read_bytes(), policy=policy.default)
        assert message["Message-ID"] == stored.message_id
        assert message["To"] == ", ".join(stored.recipients)
        assert message.get_body(preferencelist=("plain",)).get_content().strip() == stored.body_text.strip()
        pdf = (outbox / f"{name}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF") and pdf == stored.pdf
        attached = [p.get_content() for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
        assert attached == [pdf]

