"""Delivering letters over a real SMTP server, on SQLite and PostgreSQL: once per event, whatever fails (R7.3)."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest
from sqlalchemy import func, select

from config.settings import Settings
from letterworld import MAIL_DOMAIN, SUPPORT_UNIT, make_letter_world, mail_settings
from lifecycle import commands as c, handlers
from lifecycle.models import OutboxEvent
from policies.errors import RuleViolation
from workers.letters import delivery
from workers.letters.transport import TemporaryDeliveryError


def test_r7_3_each_letter_is_rendered_once_stored_with_a_message_id_from_its_key_and_sent_once(world, smtp_server):
    m = world.accepted("riverton")
    letters = world.letters(m, "accepted")
    assert [e.recipient_role for e in letters] == ["poc", "support_unit"]
    assert all(e.status == "pending" and e.message_id is None for e in letters)

    assert world.deliver_pending() == {e.id: "sent" for e in letters}
    archive = smtp_server.archive
    for e in (world.letter(e.id) for e in letters):
        expected_id = f"<{hashlib.sha256(e.idempotency_key.encode()).hexdigest()[:32]}@{MAIL_DOMAIN}>"
        assert (e.status, e.attempts, e.message_id, e.last_error) == ("sent", 1, expected_id, None)
        assert e.rendered_at is not None and e.sent_at is not None and e.language == "en"
        assert e.subject and e.body_text and e.body_html and e.pdf.startswith(b"%PDF")
        (got,) = [r for r in archive.all() if r.message_id == e.message_id]
        assert list(got.rcpt_to) == e.recipients
        assert got.subject == e.subject and got.pdf() == e.pdf
        assert got.message["Date"].datetime == e.created_at  # dated at the event, not at the sending
    assert world.letter(letters[0].id).recipients == ["poc@riverton.example"]
    assert world.letter(letters[1].id).recipients == [SUPPORT_UNIT]

    # Delivered again (a redelivered message, a second scheduler): nothing more goes out.
    assert [world.deliver(e.id) for e in letters] == ["already sent", "already sent"]
    assert archive.count() == 2


def test_r7_3_a_worker_dying_after_the_server_accepted_the_letter_but_before_marking_it_sent_resends_the_same_letter(
        world, smtp_server, monkeypatch):
    m = world.accepted("riverton")
    poc_letter = world.letters(m, "accepted")[0]
    real_mark_sent = delivery._mark_sent
    calls = []

    def dies_once(session, event, **kw):
        calls.append(event.id)
        if len(calls) == 1:
            raise RuntimeError("the worker died here")
        return real_mark_sent(session, event, **kw)

    monkeypatch.setattr(delivery, "_mark_sent", dies_once)
    with pytest.raises(RuntimeError, match="worker died"):
        world.deliver(poc_letter.id)
    stored = world.letter(poc_letter.id)
    assert (stored.status, stored.attempts) == ("pending", 0)  # nothing recorded the hand-over
    assert smtp_server.archive.count() == 1

    assert world.deliver(poc_letter.id) == "sent"
    copies = smtp_server.archive.all()
    assert len(copies) == 2
    assert {r.message_id for r in copies} == {world.letter(poc_letter.id).message_id}
    assert copies[0].text() == copies[1].text() and copies[0].subject == copies[1].subject
    with world.factory() as s:  # one event, one outbox row, one letter
        assert s.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.idempotency_key == poc_letter.idempotency_key)) == 1
    assert world.letter(poc_letter.id).status == "sent"


def test_r7_3_the_send_letter_actor_retries_after_a_crash_before_marking_and_the_copy_has_the_same_message_id(
        world, smtp_server, monkeypatch, restore_global_broker):
    from dramatiq import Worker

    from workers.actors import LETTERS_QUEUE, declare_actors
    from workers.broker import make_broker

    m = world.accepted("riverton")
    letter = world.letters(m, "accepted")[0]
    real_mark_sent = delivery._mark_sent
    failures = iter([True])

    def dies_once(session, event, **kw):
        if next(failures, False):
            raise ConnectionResetError("database connection lost before the letter was marked")
        return real_mark_sent(session, event, **kw)

    monkeypatch.setattr(delivery, "_mark_sent", dies_once)
    broker = make_broker(Settings(_env_file=None, redis_url=None))
    actors = declare_actors(broker, session_factory=world.factory, clock=world.clock, settings=world.settings,
                            transport=world.transport)
    worker = Worker(broker, queues={LETTERS_QUEUE}, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        actors.send_letter.send(letter.id)
        actors.send_letter.send(letter.id)  # a duplicate message, as a second relay would send
        deadline = time.monotonic() + 20
        while world.letter(letter.id).status != "sent" and time.monotonic() < deadline:
            time.sleep(0.05)  # the Retries middleware backs off at least a second
        broker.join(LETTERS_QUEUE, timeout=20_000)
    finally:
        worker.stop()
        broker.close()
    stored = world.letter(letter.id)
    assert (stored.status, stored.attempts) == ("sent", 1)
    assert [r.message_id for r in smtp_server.archive.all()] == [stored.message_id] * 2


def test_r7_3_a_temporary_refusal_keeps_the_letter_pending_counts_the_attempt_and_raises_so_the_broker_retries(
        world, smtp_server):
    m = world.accepted("riverton")
    letter = world.letters(m, "accepted")[0]
    smtp_server.archive.refuse["poc@riverton.example"] = "451 4.2.0 mailbox busy, try again"
    with pytest.raises(TemporaryDeliveryError, match="451"):
        world.deliver(letter.id)
    stored = world.letter(letter.id)
    assert (stored.status, stored.attempts) == ("pending", 1) and "451" in stored.last_error

    del smtp_server.archive.refuse["poc@riverton.example"]
    assert world.deliver(letter.id) == "sent"
    stored = world.letter(letter.id)
    assert (stored.status, stored.attempts, stored.last_error) == ("sent", 2, None)
    assert smtp_server.archive.ids() == {stored.message_id: 1}


def test_r7_3_a_permanent_refusal_fails_the_letter_which_no_worker_sends_again_until_it_is_retried(
        world, smtp_server):
    m = world.accepted("riverton")
    letter = world.letters(m, "accepted")[0]
    smtp_server.archive.refuse["poc@riverton.example"] = "550 5.1.1 mailbox unavailable"
    assert world.deliver(letter.id) == "failed"
    stored = world.letter(letter.id)
    assert (stored.status, stored.attempts) == ("failed", 1) and "550 5.1.1 mailbox unavailable" in stored.last_error
    assert world.deliver(letter.id) == "failed"  # a redelivered message changes nothing
    assert smtp_server.archive.count() == 0

    del smtp_server.archive.refuse["poc@riverton.example"]
    assert delivery.retry(letter.id, session_factory=world.factory, transport=world.transport,
                          settings=world.settings, clock=world.clock) == "sent"
    stored = world.letter(letter.id)
    assert (stored.status, stored.attempts) == ("sent", 2)
    assert smtp_server.archive.ids() == {stored.message_id: 1}
    with pytest.raises(RuleViolation, match="R7.3"):  # a sent letter is never sent a second time
        delivery.retry(letter.id, session_factory=world.factory, transport=world.transport,
                       settings=world.settings, clock=world.clock)


def test_r7_3_a_letter_with_no_one_to_go_to_fails_with_a_clear_reason_and_goes_out_once_a_poc_is_recorded(
        world, smtp_server):
    m = world.applicant("lakeside", with_poc=False)
    world.run(handlers.reject_application, c.RejectApplication(member_id=m, actor="support-unit",
                                                               reason="no co-creation record"))
    letter = world.letters(m, "rejected")[0]
    assert letter.recipient_role == "poc"
    assert world.deliver(letter.id) == "failed"
    stored = world.letter(letter.id)
    assert stored.status == "failed" and stored.recipients == []
    assert stored.last_error.startswith(f"No recipient: member {m} (Lakeside) has no person with the poc role")
    assert f"letters retry {letter.id}" in stored.last_error

    world.person(m, "poc", "Mayor@Lakeside.example")
    assert delivery.retry(letter.id, session_factory=world.factory, transport=world.transport,
                          settings=world.settings, clock=world.clock) == "sent"
    assert world.letter(letter.id).recipients == ["mayor@lakeside.example"]
    (got,) = smtp_server.archive.all()
    assert got.rcpt_to == ("mayor@lakeside.example",)


def test_r7_1_poc_letters_also_reach_the_lead_agency_contacts_of_the_current_plan_and_support_unit_letters_the_unit(
        world, smtp_server):
    m = world.implementing("riverton")
    world.person(m, "poc", "deputy@riverton.example", name="Deputy")
    world.at("2027-10-01T09:00:00Z")
    world.status(m, "become_inactive", "R5.4", "no tracker update in two quarters")
    poc_letter, su_letter = world.letters(m, "inactive")
    world.deliver_pending()
    # The sample plan names ana.ruiz@city.example as every commitment's lead-agency contact.
    assert world.letter(poc_letter.id).recipients == ["poc@riverton.example", "deputy@riverton.example",
                                                      "ana.ruiz@city.example"]
    assert world.letter(su_letter.id).recipients == [SUPPORT_UNIT]
    to_lead_agency = {r.message_id for r in smtp_server.archive.to("ana.ruiz@city.example")}
    assert world.letter(poc_letter.id).message_id in to_lead_agency


def test_r7_3_two_threads_of_one_worker_delivering_the_same_letter_send_it_once(world, smtp_server):
    m = world.accepted("riverton")
    letter = world.letters(m, "accepted")[0]
    smtp_server.archive.hold.set()
    outcomes = []
    first = threading.Thread(target=lambda: outcomes.append(world.deliver(letter.id)))
    first.start()
    assert smtp_server.archive.held.wait(10)
    outcomes.append(world.deliver(letter.id))  # while the first is still in the SMTP conversation
    smtp_server.archive.release.set()
    first.join(10)
    assert sorted(outcomes) == ["busy", "sent"]
    assert smtp_server.archive.count() == 1


def test_r7_3_on_postgresql_a_second_worker_skips_a_letter_another_worker_is_sending(
        postgres_url, smtp_server, tmp_path, monkeypatch):
    world = make_letter_world(postgres_url, mail_settings(postgres_url, tmp_path / "data", smtp_server))
    try:
        m = world.accepted("riverton")
        letter = world.letters(m, "accepted")[0]
        smtp_server.archive.hold.set()
        outcomes = []
        first = threading.Thread(target=lambda: outcomes.append(world.deliver(letter.id)))
        first.start()
        assert smtp_server.archive.held.wait(10)
        # Another process: it does not share this one's in-process guard, only the database.
        monkeypatch.setattr(delivery, "_in_flight", set())
        outcomes.append(world.deliver(letter.id))
        smtp_server.archive.release.set()
        first.join(10)
        assert sorted(outcomes) == ["busy", "sent"]
        assert smtp_server.archive.count() == 1
    finally:
        world.engine.dispose()
