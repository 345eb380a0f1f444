"""The tamper-evident transition history: append, chain hashes, verify, export."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import pendulum
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lifecycle import exports
from lifecycle.models import TransitionRecord

GENESIS = "0" * 64
EXPORT_FIELDS = (
    "id", "subject_type", "subject_id", "seq", "from_state", "to_state", "trigger", "actor",
    "reason", "rule_id", "evidence", "business_time", "recorded_at", "prev_hash", "hash", "override",
)


def _instant(value: pendulum.DateTime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC: the form hashed, so it must never change."""
    utc = dt.datetime.astimezone(value, dt.timezone.utc)
    return f"{utc:%Y-%m-%dT%H:%M:%S.%f}Z"


def record_hash(record: TransitionRecord) -> str:
    """SHA-256 of the record's content and its predecessor's hash, in canonical JSON."""
    content = {
        "subject_type": record.subject_type,
        "subject_id": record.subject_id,
        "seq": record.seq,
        "from": record.from_state,
        "to": record.to_state,
        "trigger": record.trigger,
        "actor": record.actor,
        "reason": record.reason,
        "rule_id": record.rule_id,
        "evidence": record.evidence,
        "business_time": _instant(record.business_time),
        "recorded_at": _instant(record.recorded_at),
        "prev_hash": record.prev_hash,
    }
    if getattr(record, "override", False):
        # D14: hashed only when set, so that every record written before overrides existed keeps its hash.
        content["override"] = True
    blob = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def chained(head: tuple[int, str] | None, **fields) -> dict:
    """The column values of the record that follows ``head`` (its chain's last seq and hash; None: none yet).

    ``fields`` are the record's content (subject, states, trigger, actor, reason, rule, evidence and
    both instants); the result adds its place in the chain and its hash. ``append`` and the batch
    writer of the deadline engine both build records with it.
    """
    seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS)
    values = {**fields, "seq": seq, "prev_hash": prev_hash, "evidence": list(fields.get("evidence") or ()),
              "business_time": fields["business_time"].in_timezone("UTC"),
              "recorded_at": fields["recorded_at"].in_timezone("UTC")}
    values["hash"] = record_hash(SimpleNamespace(**values))
    return values


def append(
    session: Session,
    *,
    subject_type: str,
    subject_id: int,
    from_state: str,
    to_state: str,
    trigger: str,
    actor: str,
    reason: str | None,
    rule_id: str,
    evidence: Iterable[str] = (),
    business_time: pendulum.DateTime,
    recorded_at: pendulum.DateTime,
    head: tuple[int, str] | None = None,
    override: bool = False,
) -> TransitionRecord:
    """Append one record to its subject's chain, in the caller's transaction.

    The caller holds the subject's row lock, so reading the chain's head here cannot race.
    ``head`` is the chain's last (seq, hash) when the caller has read it already in this
    transaction, under the same lock.
    """
    if head is None:
        head = session.execute(
            select(TransitionRecord.seq, TransitionRecord.hash)
            .where(TransitionRecord.subject_type == subject_type, TransitionRecord.subject_id == subject_id)
            .order_by(TransitionRecord.seq.desc())
            .limit(1)
        ).first()
    record = TransitionRecord(**chained(
        head, subject_type=subject_type, subject_id=subject_id, from_state=from_state, to_state=to_state,
        trigger=trigger, actor=actor, reason=reason, rule_id=rule_id, evidence=evidence,
        business_time=business_time, recorded_at=recorded_at, **({"override": True} if override else {})))
    session.add(record)
    session.flush()
    return record


def heads(session: Session, subject_type: str, subject_ids: list[int]) -> dict[int, tuple[int, str, pendulum.DateTime]]:
    """Each subject's chain head (seq, hash) and its latest business time, in one statement; absent: no chain."""
    t = TransitionRecord
    last = (select(t.subject_id, func.max(t.seq).label("seq"), func.max(t.business_time).label("latest"))
            .where(t.subject_type == subject_type, t.subject_id.in_(subject_ids))
            .group_by(t.subject_id).subquery())
    rows = session.execute(select(t.subject_id, t.seq, t.hash, last.c.latest)
                           .join(last, (t.subject_id == last.c.subject_id) & (t.seq == last.c.seq))
                           .where(t.subject_type == subject_type))
    return {r.subject_id: (r.seq, r.hash, r.latest) for r in rows}


def history(session: Session, subject_type: str, subject_id: int) -> list[TransitionRecord]:
    return list(
        session.scalars(
            select(TransitionRecord)
            .where(TransitionRecord.subject_type == subject_type, TransitionRecord.subject_id == subject_id)
            .order_by(TransitionRecord.seq)
        )
    )


@dataclass(frozen=True)
class BadRecord:
    record_id: int
    subject: str
    seq: int
    problem: str


@dataclass(frozen=True)
class VerifyReport:
    chains: int
    records: int
    first_bad: BadRecord | None

    @property
    def ok(self) -> bool:
        return self.first_bad is None


def iter_records(session: Session, *, batch: int = 5000) -> Iterator[TransitionRecord]:
    """Every record in chain order, streamed in batches so memory stays flat."""
    stmt = select(TransitionRecord).order_by(
        TransitionRecord.subject_type, TransitionRecord.subject_id, TransitionRecord.seq
    )
    for partition in session.execute(stmt.execution_options(yield_per=batch)).scalars().partitions():
        yield from partition


def verify(session: Session, progress=None) -> VerifyReport:
    """Recompute every chain; report the first record that was changed, removed or reordered."""
    chains = records = 0
    current: tuple[str, int] | None = None
    expected_prev, expected_seq = GENESIS, 1
    for record in iter_records(session):
        key = (record.subject_type, record.subject_id)
        if key != current:
            current, expected_prev, expected_seq = key, GENESIS, 1
            chains += 1
        records += 1
        if progress:
            progress()
        subject = f"{record.subject_type}:{record.subject_id}"
        problem = None
        if record.seq != expected_seq:
            problem = f"sequence {record.seq} where {expected_seq} was expected (a record was removed or reordered)"
        elif record.prev_hash != expected_prev:
            problem = "its link to the previous record does not match (a record was removed, reordered or changed)"
        elif record_hash(record) != record.hash:
            problem = "its content does not match its hash (the record was changed)"
        if problem:
            return VerifyReport(chains, records, BadRecord(record.id, subject, record.seq, problem))
        expected_prev, expected_seq = record.hash, record.seq + 1
    return VerifyReport(chains, records, None)


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(TransitionRecord)) or 0


def as_row(record: TransitionRecord) -> dict:
    return {
        "id": record.id,
        "subject_type": record.subject_type,
        "subject_id": record.subject_id,
        "seq": record.seq,
        "from_state": record.from_state,
        "to_state": record.to_state,
        "trigger": record.trigger,
        "actor": record.actor,
        "reason": record.reason,
        "rule_id": record.rule_id,
        "evidence": list(record.evidence or []),
        "business_time": _instant(record.business_time),
        "recorded_at": _instant(record.recorded_at),
        "prev_hash": record.prev_hash,
        "hash": record.hash,
        "override": bool(getattr(record, "override", False)),
    }


def export(records: Iterable[TransitionRecord], fmt: str, out: io.TextIOBase) -> int:
    """Write records as CSV or JSON (an array); returns how many were written."""
    written = 0

    def counted() -> Iterator[TransitionRecord]:
        nonlocal written
        for record in records:
            written += 1
            yield record

    for chunk in export_chunks(counted(), fmt):
        out.write(chunk)
    return written


def export_chunks(records: Iterable[TransitionRecord], fmt: str, *, rows_per_chunk: int = 1000) -> Iterator[str]:
    """The export as text chunks of ``rows_per_chunk`` records, for streaming responses."""
    return exports.text_chunks((as_row(r) for r in records), fmt, EXPORT_FIELDS, rows_per_chunk=rows_per_chunk)
