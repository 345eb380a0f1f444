"""The audit trail on both real databases: one record per transition, hash-chained, append-only, exportable."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pendulum
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from lifecycle import audit, commands as c, handlers
from lifecycle.clock import FixedClock
from lifecycle.db import make_engine
from lifecycle.models import Evidence, TransitionRecord
from policies.errors import RuleViolation, TriggerNotAllowed

SU = "support-unit"
POC = "poc@city.example"  # the actor the shared world's helpers act as for the POC

EVIDENCE = ("https://city.example/tracker/q1", "https://city.example/tracker/q2")


def _member_records(world, member_id: int) -> list[TransitionRecord]:
    with world.session() as s:
        return audit.history(s, "member", member_id)


def _all_rows(world) -> list[dict]:
    with world.session() as s:
        return [audit.as_row(r) for r in audit.iter_records(s)]


def _verify(world) -> audit.VerifyReport:
    with world.session() as s:
        return audit.verify(s)


def _tamper(world, *statements: str) -> None:
    """Run raw SQL against the trail with its append-only guard switched off (as an attacker with DBA rights would)."""
    engine = world.factory.kw["bind"]
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER transition_records_no_update"))
            conn.execute(text("DROP TRIGGER transition_records_no_delete"))
        else:
            conn.execute(text("ALTER TABLE transition_records DISABLE TRIGGER USER"))
        for statement in statements:
            conn.execute(text(statement))


def _long_chain(world) -> int:
    """A member with a chain of seven records: apply, accept, start_co_creation, then inactive and back twice.

    The first plan is not late yet, so the inactivity is an override (D14).
    """
    m = world.co_creating()
    for trigger, rule, reason in [("become_inactive", "R5.1", "no plan in sight"),
                                  ("resume", "R5.6", "co-creation restarted"),
                                  ("become_inactive", "R5.1", "the forum stopped meeting"),
                                  ("resume", "R5.6", "progress reported")]:
        world.clock.advance(days=3)
        world.run(handlers.apply_status, c.ApplyStatus(member_id=m, trigger=trigger, rule=rule, actor=SU,
                                                       reason=reason, override=True))
    return m


# ---------------------------------------------------------------- one record per transition (R2 table note)


def test_r2_every_member_transition_writes_exactly_one_record_with_every_field(world):
    wall_before = pendulum.now("UTC")
    world.at("2027-01-10T09:00:00Z")
    m = world.applicant()
    assert len(_member_records(world, m)) == 1

    world.at("2027-01-15T10:30:00Z")
    world.run(handlers.accept_application, c.AcceptApplication(member_id=m, actor=SU, reason="strong application"))
    world.run(handlers.complete_orientation, c.CompleteOrientation(member_id=m, actor=SU))
    assert len(_member_records(world, m)) == 2, "completing orientation is not a transition"

    world.at("2027-02-01T08:00:00Z")
    world.run(handlers.start_co_creation, c.StartCoCreation(member_id=m, actor=POC))
    world.at("2027-02-03T12:00:00Z")
    world.run(handlers.apply_status, c.ApplyStatus(member_id=m, trigger="become_inactive", rule="R5.1", actor=SU,
                                                   reason="no tracker update", evidence=EVIDENCE, override=True))
    wall_after = pendulum.now("UTC")

    records = _member_records(world, m)
    got = [(r.seq, r.subject_type, r.subject_id, r.from_state, r.to_state, r.trigger, r.actor, r.reason, r.rule_id,
            list(r.evidence), r.business_time) for r in records]
    assert got == [
        (1, "member", m, "", "applicant", "apply", POC, "applied in call Call 2027", "R1.1", [],
         pendulum.datetime(2027, 1, 10, 9, tz="UTC")),
        (2, "member", m, "applicant", "orientation", "accept", SU, "strong application", "R2.1", [],
         pendulum.datetime(2027, 1, 15, 10, 30, tz="UTC")),
        (3, "member", m, "orientation", "co_creation", "start_co_creation", POC, None, "R2.3", [],
         pendulum.datetime(2027, 2, 1, 8, tz="UTC")),
        (4, "member", m, "co_creation", "inactive", "become_inactive", SU, "no tracker update", "R5.1",
         list(EVIDENCE), pendulum.datetime(2027, 2, 3, 12, tz="UTC")),
    ]
    for r in records:
        assert wall_before <= r.recorded_at <= wall_after, "record time is the wall clock, not the business clock"
        assert r.hash == audit.record_hash(r)
    assert records[0].prev_hash == audit.GENESIS == "0" * 64
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]


def test_r2_4_filing_a_plan_chains_the_member_and_each_commitment_separately(world):
    m = world.implementing(commitments=2)
    with world.session() as s:
        member_chain = audit.history(s, "member", m)
        commitment_ids = s.scalars(select(TransitionRecord.subject_id).where(
            TransitionRecord.subject_type == "commitment").distinct()).all()
        chains = {cid: audit.history(s, "commitment", cid) for cid in commitment_ids}
    assert [r.trigger for r in member_chain] == ["apply", "accept", "start_co_creation", "submit_plan"]
    assert len(chains) == 2
    for chain in chains.values():
        assert [(r.seq, r.trigger, r.to_state) for r in chain] == [(1, "create", "draft"), (2, "start", "implementing")]
        assert chain[0].prev_hash == audit.GENESIS
        assert chain[1].prev_hash == chain[0].hash
    assert _verify(world).ok


# ---------------------------------------------------------------- a refusal leaves no trace


def test_r2_3_a_refused_start_of_co_creation_writes_no_audit_record(world):
    m = world.in_orientation()
    before = _all_rows(world)
    with pytest.raises(RuleViolation) as refused:
        world.run(handlers.start_co_creation, c.StartCoCreation(member_id=m, actor=POC))
    assert refused.value.rule == "R2.3"
    assert _all_rows(world) == before


def test_r2_1_accepting_twice_is_refused_by_the_machine_and_writes_no_audit_record(world):
    m = world.in_orientation()
    before = _all_rows(world)
    with pytest.raises(TriggerNotAllowed) as refused:
        world.run(handlers.accept_application, c.AcceptApplication(member_id=m, actor=SU))
    assert refused.value.rule == "R2.1"
    assert _all_rows(world) == before


def test_r3_1_a_plan_ending_too_late_writes_no_audit_record_for_member_or_commitments(world):
    m = world.co_creating()  # term ends 2031-06-30: plans end by 2031-04-30
    before = _all_rows(world)
    with pytest.raises(RuleViolation) as refused:
        world.run(handlers.submit_plan, c.SubmitPlan(member_id=m, plan=world.plan(dt.date(2031, 6, 1)), actor=POC))
    assert refused.value.rule == "R3.1"
    assert _all_rows(world) == before


# ---------------------------------------------------------------- the database refuses changes


def test_the_database_refuses_to_update_a_transition_record(world):
    world.applicant()
    engine = world.factory.kw["bind"]
    with pytest.raises(IntegrityError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text("UPDATE transition_records SET reason = 'rewritten' WHERE seq = 1"))
    assert _member_records(world, 1)[0].reason == "applied in call Call 2027"


def test_the_database_refuses_to_delete_a_transition_record(world):
    world.applicant()
    engine = world.factory.kw["bind"]
    with pytest.raises(IntegrityError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM transition_records"))
    assert len(_member_records(world, 1)) == 1


def test_postgresql_refuses_to_truncate_the_transition_records(postgres_url):
    engine = make_engine(postgres_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO transition_records (subject_type, subject_id, seq, from_state, to_state, trigger, actor,"
                " rule_id, evidence, business_time, recorded_at, prev_hash, hash) VALUES ('member', 1, 1, '',"
                " 'applicant', 'apply', 'poc', 'R1.1', '[]', now(), now(), :genesis, :hash)"),
                {"genesis": audit.GENESIS, "hash": "f" * 64})
        with pytest.raises(IntegrityError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE transition_records CASCADE"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM transition_records")).scalar_one() == 1
    finally:
        engine.dispose()


# ---------------------------------------------------------------- verify


def test_verify_reports_an_intact_trail_as_ok(world):
    _long_chain(world)
    world.implementing("lakeside")
    report = _verify(world)
    assert report.ok and report.first_bad is None
    assert report.records == len(_all_rows(world))
    assert report.chains == 2 + 3  # two members, three commitments


def test_verify_names_a_record_whose_reason_was_changed(world):
    m = _long_chain(world)
    target = _member_records(world, m)[4]
    _tamper(world, f"UPDATE transition_records SET reason = 'nothing happened' WHERE id = {target.id}")
    bad = _verify(world).first_bad
    assert (bad.record_id, bad.subject, bad.seq) == (target.id, f"member:{m}", 5)
    assert "content does not match its hash" in bad.problem


def test_verify_names_the_record_after_a_deleted_middle_record(world):
    m = _long_chain(world)
    chain = _member_records(world, m)
    # start_co_creation opens and closes no deadline, so no foreign key holds on to its record.
    removed, following = chain[2], chain[3]
    assert removed.trigger == "start_co_creation"
    _tamper(world, f"DELETE FROM transition_records WHERE id = {removed.id}")
    bad = _verify(world).first_bad
    assert (bad.record_id, bad.subject, bad.seq) == (following.id, f"member:{m}", 4)
    assert "sequence 4 where 3 was expected" in bad.problem


def test_verify_names_the_first_record_of_a_swapped_pair(world):
    m = _long_chain(world)
    chain = _member_records(world, m)
    first, second = chain[4], chain[5]
    _tamper(world,
            f"UPDATE transition_records SET seq = -1 WHERE id = {first.id}",
            f"UPDATE transition_records SET seq = {first.seq} WHERE id = {second.id}",
            f"UPDATE transition_records SET seq = {second.seq} WHERE id = {first.id}")
    bad = _verify(world).first_bad
    assert (bad.record_id, bad.subject, bad.seq) == (second.id, f"member:{m}", 5)
    assert "link to the previous record does not match" in bad.problem


# ---------------------------------------------------------------- export


def _exported(world, fmt: str) -> tuple[int, str]:
    buffer = io.StringIO()
    with world.session() as s:
        n = audit.export(audit.iter_records(s), fmt, buffer)
    return n, buffer.getvalue()


def _rebuilt(row: dict) -> TransitionRecord:
    fields = {k: v for k, v in row.items() if k not in ("id", "hash")}
    fields["business_time"] = pendulum.parse(row["business_time"])
    fields["recorded_at"] = pendulum.parse(row["recorded_at"])
    return TransitionRecord(**fields)


def test_a_json_export_round_trips_every_field_so_each_hash_recomputes(world):
    m = _long_chain(world)
    world.run(handlers.apply_status, c.ApplyStatus(member_id=m, trigger="become_inactive", rule="R5.1", actor=SU,
                                                   reason="quarterly check: é, ü, 日本", evidence=EVIDENCE,
                                                   override=True))
    rows = _all_rows(world)
    n, exported = _exported(world, "json")
    parsed = json.loads(exported)
    assert n == len(parsed) == len(rows)
    assert parsed == rows
    assert set(parsed[0]) == set(audit.EXPORT_FIELDS)
    for row in parsed:
        assert audit.record_hash(_rebuilt(row)) == row["hash"]


def test_a_csv_export_carries_every_field_of_every_record(world):
    m = _long_chain(world)
    world.run(handlers.apply_status, c.ApplyStatus(member_id=m, trigger="become_inactive", rule="R5.1", actor=SU,
                                                   reason='says "no update", then a comma', evidence=EVIDENCE,
                                                   override=True))
    rows = _all_rows(world)
    n, exported = _exported(world, "csv")
    parsed = list(csv.DictReader(io.StringIO(exported)))
    assert n == len(parsed) == len(rows)
    assert tuple(parsed[0]) == audit.EXPORT_FIELDS
    expected = [{k: (" ".join(v) if k == "evidence" else "" if v is None else str(v)) for k, v in row.items()}
                for row in rows]
    assert parsed == expected
    assert parsed[-1]["evidence"].split(" ") == list(EVIDENCE)


def test_an_empty_trail_exports_as_an_empty_json_array_and_a_csv_header(world):
    assert _exported(world, "json") == (0, "[]\n")
    n, exported = _exported(world, "csv")
    assert n == 0 and exported.strip() == ",".join(audit.EXPORT_FIELDS)


# ---------------------------------------------------------------- instants (UTCInstant)


def test_d2_instants_come_back_as_pendulum_utc_even_when_given_with_an_offset(world):
    world.clock = FixedClock(pendulum.parse("2027-01-15T18:30:00+09:00"))
    m = world.applicant()
    record = _member_records(world, m)[0]
    for value in (record.business_time, record.recorded_at):
        assert isinstance(value, pendulum.DateTime)
        assert value.utcoffset() == dt.timedelta(0) and value.timezone_name == "UTC"
    assert record.business_time == pendulum.datetime(2027, 1, 15, 9, 30, tz="UTC")
    assert record.business_time.to_iso8601_string() == "2027-01-15T09:30:00Z"


def test_d2_a_stdlib_datetime_with_a_plus_nine_offset_is_stored_and_read_back_in_utc(world):
    tokyo = dt.timezone(dt.timedelta(hours=9))
    with world.session() as s:
        s.add(Evidence(subject_type="member", subject_id=1, kind="media", url="https://news.example/a",
                       recorded_at=dt.datetime(2027, 1, 15, 18, 30, 15, 250000, tzinfo=tokyo)))
        s.commit()
    with world.session() as s:
        stored = s.scalars(select(Evidence.recorded_at)).one()
    assert isinstance(stored, pendulum.DateTime) and stored.timezone_name == "UTC"
    assert stored == pendulum.datetime(2027, 1, 15, 9, 30, 15, 250000, tz="UTC")


def test_d2_a_naive_instant_is_refused_before_it_reaches_the_database(world):
    with world.session() as s:
        s.add(Evidence(subject_type="member", subject_id=1, kind="media", url="https://news.example/a",
                       recorded_at=dt.datetime(2027, 1, 15, 18, 30)))
        with pytest.raises(StatementError, match="timezone-aware"):
            s.commit()


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_an_export_streamed_in_small_chunks_is_the_same_text_as_the_export_written_at_once(world, fmt):
    _long_chain(world)
    _, whole = _exported(world, fmt)
    with world.session() as s:
        chunks = list(audit.export_chunks(audit.iter_records(s), fmt, rows_per_chunk=2))
    assert len(chunks) > 2
    assert "".join(chunks) == whole
