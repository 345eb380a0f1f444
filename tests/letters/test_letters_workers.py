"""Real ``ogp-lifecycle worker`` and ``scheduler`` processes on PostgreSQL and Redis, sending to a real SMTP server.

Workers are killed with SIGKILL at the worst moments: while the SMTP server holds a letter
it has already stored, and in the middle of 1,000 letters. Each event still yields exactly
one letter (R7.3): one outbox row, sent, and every copy the server received carries that
letter's one Message-ID.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from letterworld import MAIL_DOMAIN, SUPPORT_UNIT, make_letter_world, mail_settings
from lifecycle import outbox
from lifecycle.models import OutboxEvent
from procs import wait_until

log = logging.getLogger(__name__)

LETTERS = 1_000
MEMBERS = 10
FINISH_TIMEOUT_S = 90.0


def mail_env(smtp_server, tmp_path) -> dict[str, str]:
    return {**smtp_server.env(), "OGP_MAIL_DOMAIN": MAIL_DOMAIN, "OGP_SUPPORT_UNIT_EMAIL": SUPPORT_UNIT,
            "OGP_DATA_DIR": str(tmp_path / "data")}


def statuses(world) -> Counter:
    with world.factory() as s:
        return Counter(dict(s.execute(select(OutboxEvent.status, func.count()).group_by(OutboxEvent.status)).all()))


def stored_ids(world) -> dict[str, int]:
    with world.factory() as s:
        return {mid: i for i, mid in s.execute(select(OutboxEvent.id, OutboxEvent.message_id))}


@pytest.fixture
def pg_world(postgres_url, smtp_server, tmp_path):
    world = make_letter_world(postgres_url, mail_settings(postgres_url, tmp_path / "data", smtp_server))
    yield world
    world.engine.dispose()


def test_r7_3_a_worker_killed_while_the_smtp_server_holds_its_letter_leaves_one_letter_whose_copy_has_the_same_message_id(
        pg_world, postgres_url, redis_url, smtp_server, services, tmp_path):
    world = pg_world
    m = world.accepted("riverton")
    letters = world.letters(m)
    assert [e.status for e in letters] == ["pending", "pending"]
    archive = smtp_server.archive
    archive.hold.set()  # the server stores the first letter, then keeps the worker waiting for its reply

    env = mail_env(smtp_server, tmp_path)
    victim = services.worker(postgres_url, redis_url, threads=1, name="worker-killed", **env)
    scheduler = services.scheduler(postgres_url, redis_url, interval_s=0.3, resend_after_s=2, **env)
    assert archive.held.wait(30), services.tails()
    (held,) = archive.all()
    victim.kill9()  # after the server has the letter, before the worker could mark it sent
    archive.hold.clear()
    archive.release.set()
    assert statuses(world) == Counter(pending=2)

    services.worker(postgres_url, redis_url, threads=2, name="worker-survivor", **env)
    wait_until(lambda: statuses(world) == Counter(sent=2), timeout=45, interval=0.1,
               what=f"both letters to be sent after the kill\n{services.tails()}")

    received = archive.ids()
    stored = stored_ids(world)
    assert set(received) == set(stored), "a copy arrived under a Message-ID that is not its letter's"
    assert received[held.message_id] == 2, "the held letter was sent again, under the same Message-ID"
    assert sorted(received.values()) == [1, 2]
    with world.factory() as s:
        rows = list(s.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))
    assert len(rows) == 2 and len({r.idempotency_key for r in rows}) == 2  # one row, one letter per event
    again = next(r for r in rows if r.message_id == held.message_id)
    assert again.attempts == 1  # the killed attempt recorded nothing
    assert scheduler.alive, services.tails()


def _make_letters(world) -> None:
    """MEMBERS accepted members through the handlers, then outbox events up to LETTERS in one transaction.

    The members' own letters are left for the workers to render. The others are stored as a
    first attempt that rendered them and died would have left them (rendered, with their own
    Message-ID, no recipients yet), their text copied from one real rendering per member and
    role: a PDF costs fpdf about 0.2 s of font subsetting, which this test does not measure.
    """
    from workers.letters.delivery import message_id_for
    from workers.letters.render import render_event

    members = [world.accepted(f"city{i:02d}", language=("en", "fr", "es")[i % 3]) for i in range(MEMBERS)]
    with world.factory() as s:
        existing = list(s.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))
        templates = [e for e in existing if e.recipient_role == "poc"]
        rendered: dict = {}
        for i in range(LETTERS - len(existing)):
            t = templates[i % len(templates)]
            role = ("poc", "support_unit")[i % 2]
            e = outbox.emit(s, key=f"bulk:{i}:{t.idempotency_key}", kind=t.kind, member_id=t.member_id,
                            recipient_role=role, created_at=t.created_at, rule_id=t.rule_id,
                            transition_id=t.transition_id, payload=dict(t.payload))
            s.flush()
            if (t.member_id, role) not in rendered:
                rendered[t.member_id, role] = render_event(s, e, settings=world.settings)
            r = rendered[t.member_id, role]
            e.subject, e.body_text, e.body_html, e.pdf, e.language = r.subject, r.text, r.html, r.pdf, r.language
            e.message_id = message_id_for(e.idempotency_key, MAIL_DOMAIN)
            e.rendered_at = world.clock.now()
        s.commit()
    assert statuses(world) == Counter(pending=LETTERS) and len(members) == MEMBERS


@pytest.mark.slow
def test_r7_3_one_thousand_letters_through_worker_processes_one_killed_midway_arrive_under_one_thousand_distinct_message_ids(
        pg_world, postgres_url, redis_url, smtp_server, services, tmp_path, record_property):
    world = pg_world
    _make_letters(world)
    env = mail_env(smtp_server, tmp_path)
    archive = smtp_server.archive

    started = time.monotonic()
    victim = services.worker(postgres_url, redis_url, threads=2, name="worker-killed", **env)
    survivor = services.worker(postgres_url, redis_url, threads=2, name="worker-survivor", **env)
    services.scheduler(postgres_url, redis_url, interval_s=0.5, resend_after_s=15, **env)

    wait_until(lambda: archive.count() >= LETTERS // 3, timeout=60, interval=0.02,
               what=f"a third of the letters\n{services.tails()}")
    victim.kill9()
    at_kill = archive.count()
    assert at_kill < LETTERS, "the kill came too late to be midway"

    def all_sent() -> bool:
        return statuses(world).get("sent", 0) == LETTERS and len(archive.ids()) >= LETTERS

    try:
        wait_until(all_sent, timeout=FINISH_TIMEOUT_S, interval=0.2, what="all letters to be sent")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {statuses(world)}, {len(archive.ids())} distinct received\n"
                             f"{services.tails()}") from None
    elapsed = time.monotonic() - started

    received = archive.ids()
    stored = stored_ids(world)
    figures = {"letters": LETTERS, "received": sum(received.values()), "distinct_message_ids": len(received),
               "duplicates": sum(received.values()) - len(received), "received_at_kill": at_kill,
               "seconds": round(elapsed, 1)}
    record_property("figure", json.dumps(figures))
    log.warning("1,000 letters: %s", figures)

    assert len(received) == LETTERS, figures
    assert set(received) == set(stored), "a letter arrived under a Message-ID other than its own"
    assert all(mid.endswith(f"@{MAIL_DOMAIN}>") for mid in received)
    assert statuses(world) == Counter(sent=LETTERS)
    assert survivor.alive, survivor.tail()
    with world.factory() as s:
        assert s.scalar(select(func.count(func.distinct(OutboxEvent.idempotency_key)))) == LETTERS
