"""Firing a claimed batch of due deadlines in one transaction, with rows read and written set-wise.

The tick's path. A batch claims due deadlines and locks their members in one statement
(``SKIP LOCKED`` on PostgreSQL), reads their pending deadlines, audit heads and plans in
one statement each, judges every member's due group with the engine's own ``judge`` and
``settle`` on plain rows, fires the transitions on the shared machines, and writes what they produced with one multi-row statement per table. Exactly-once
comes from the same place as for ``fire_deadline``: the member's row lock and the deadline's
status, both re-read under the lock. One commit serves the whole batch, so the cost of a
transaction is paid once per batch rather than once per deadline.

Groups that need more than these rows (quarterly and meeting checks read the member's records;
a plan's end moves its commitments; reminders) are handed back to the caller, who fires them
one by one with ``engine.fire_deadline``. Claims are taken in breach order: the batch fires
those before the first group it hands back, hands back the run that follows, and leaves the
rest to the next claim.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, ClassVar

import pendulum
from sqlalchemy import JSON, Boolean, Date, Integer, String, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from lifecycle import audit, engine, obligations, outbox
from lifecycle.engine import SYSTEM, FireReport
from lifecycle.db import UTCInstant
from lifecycle.models import ActionPlan, Call, Deadline, Finding, Jurisdiction, Member, OutboxEvent, TransitionRecord
from lifecycle.uow import UnitOfWork
from policies.deadlines import MONITORING_DELIVERABLES, DeadlineKind as K, DeadlineStatus, due_on
from policies.notices import DEFAULT_REMINDER_DAYS

# The kinds judged from the member's row, its pending deadlines and its plan alone.
ROW_KINDS = frozenset({K.first_plan.value, K.next_plan.value, K.probation_clock.value, K.revocation_clock.value,
                       *(k.value for k in MONITORING_DELIVERABLES)})
PENDING = DeadlineStatus.pending.value


@dataclass(slots=True, eq=False)
class MemberRow:
    """The member as the rules and the machine see it; ``state`` is set by the machine only."""

    subject_type: ClassVar[str] = "member"
    id: int
    state: str
    state_since: pendulum.DateTime
    voluntary_inactivity: bool
    inactivity_rule: str | None
    probation_rule: str | None
    current_plan_id: int | None
    first_plan_due: Any
    time_zone: str


@dataclass(slots=True, eq=False)
class DeadlineRow:
    """A deadline as the rules see it; ``id`` is None for one opened in this batch."""

    id: int | None
    member_id: int
    subject_type: str
    subject_id: int
    kind: str
    rule_id: str
    due_on: Any
    breach_at: pendulum.DateTime
    opened_at: pendulum.DateTime
    status: str = PENDING
    closed_at: pendulum.DateTime | None = None
    closed_by: Any = None
    next_reminder_at: pendulum.DateTime | None = None


@dataclass(slots=True, eq=False)
class PlanRow:
    """The plan a deadline is about, or the member's current plan."""

    id: int
    status: str
    coalition_id: int | None
    filed_on: Any
    end_on: Any
    loaded_status: str = ""  # as read, so that only a changed plan is written

    def __post_init__(self) -> None:
        self.loaded_status = self.status


class PendingRecord(SimpleNamespace):
    """An audit record built in the batch; ``id`` is known once the batch has written it."""

    id: int | None = None


def _id(ref) -> int | None:
    return ref.id if isinstance(ref, PendingRecord) else ref


@dataclass
class BatchResult:
    """What a batch did, for ``tick`` to report, log and go on from."""

    reports: list[FireReport] = field(default_factory=list)  # one per member whose group was fired
    deferred: list[int] = field(default_factory=list)  # claimed ids for ``engine.fire_deadline``, in claim order
    claimed: list[int] = field(default_factory=list)  # the batch's deadlines, in claim order
    opened_due: bool = False  # a deadline opened here is due already: claim again before going on


class _Batch:
    """The rows a batch reads and the records it makes, written at the end with one statement per table."""

    def __init__(self, session: Session, recorded_at: pendulum.DateTime) -> None:
        self.session = session
        self.recorded_at = recorded_at
        self.reminder_days = session.info.get("reminder_days", DEFAULT_REMINDER_DAYS)
        self.pending: dict[int, list[DeadlineRow]] = {}
        self.plans: dict[int, PlanRow] = {}
        self.records: list[tuple[int, PendingRecord]] = []  # (member id, record)
        self.fired: dict[int, MemberRow] = {}  # members a transition was fired on, by id
        self.opened: list[tuple[DeadlineRow, dict]] = []
        self.findings: list[dict] = []
        self.events: list[dict] = []

    # ------------------------------------------------ what ``settle`` and the machine call

    def context(self, member: MemberRow, *, at, recorded_at, rule, reason, head) -> "_BatchContext":
        return _BatchContext(self, now=at, recorded_at=recorded_at, rule=rule, reason=reason, head=head)

    def current_plan(self, member: MemberRow) -> PlanRow | None:
        return self.plans.get(member.current_plan_id)

    @staticmethod
    def ref(record):
        return record  # resolved to its id when the records are written

    def add_finding(self, values: dict) -> None:
        self.findings.append(values)

    def emit(self, *, key: str, **values) -> None:
        # The key names a deadline that is closed in this transaction: no event can have it yet.
        self.events.append({"idempotency_key": key, "transition_id": None, "deadline_id": None, "rule_id": None,
                            **values, "status": "pending"})

    # ------------------------------------------------ writing

    def write(self) -> None:
        s = self.session
        rows = _Rows(s)
        if self.records:
            for (_, record), ident in zip(self.records, rows.new_ids(TransitionRecord.__table__, len(self.records)),
                                          strict=True):
                record.id = ident
            rows.insert(TransitionRecord.__table__, [dict(vars(r)) for _, r in self.records])
            for member_id, record in self.records:
                self.events += outbox.status_events(member_id, record)
        rows.update(Member.__table__, [
            {"id": m.id, "state": m.state, "state_since": m.state_since, "voluntary_inactivity": m.voluntary_inactivity,
             "inactivity_rule": m.inactivity_rule, "probation_rule": m.probation_rule} for m in self.fired.values()])
        rows.update(ActionPlan.__table__, [{"id": p.id, "status": p.status}
                                           for p in self.plans.values() if p.status != p.loaded_status])
        rows.update(Deadline.__table__, [
            {"id": d.id, "status": d.status, "closed_at": d.closed_at, "closed_by": _id(d.closed_by),
             "next_reminder_at": d.next_reminder_at}
            for ds in self.pending.values() for d in ds if d.id is not None and d.status != PENDING])
        # As they stand now: a later transition of the same member in this batch may have closed one.
        rows.insert(Deadline.__table__, [
            {**values, "opened_by": _id(values["opened_by"]), "status": row.status, "closed_at": row.closed_at,
             "closed_by": _id(row.closed_by), "next_reminder_at": row.next_reminder_at}
            for row, values in self.opened])
        rows.insert(Finding.__table__, [{**f, "transition_id": _id(f["transition_id"])} for f in self.findings])
        rows.insert(OutboxEvent.__table__, self.events)


class _Rows:
    """Many rows in one statement: on PostgreSQL over arrays (``unnest``), so that the statement's
    text is the same for any number of rows and the server plans it once; elsewhere ``executemany``."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"

    def new_ids(self, table, n: int) -> list[int]:
        """``n`` ids from the table's sequence, in increasing order (SQLite: the next ones after the largest)."""
        if self.postgres:
            return sorted(self.session.execute(
                text(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) FROM generate_series(1, :n)"),
                {"n": n}).scalars())
        # SQLite: the transaction holds the database's write lock (BEGIN IMMEDIATE), so no one else inserts.
        top = self.session.execute(select(func.max(table.c.id))).scalar() or 0
        return list(range(top + 1, top + 1 + n))

    def insert(self, table, rows: list[dict]) -> None:
        if not rows:
            return
        if not self.postgres:
            self.session.execute(insert(table), rows)
            return
        names = list(rows[0])
        # The columns' Python-side defaults, which a statement over arrays does not apply by itself.
        for column in table.columns:
            if column.name not in names and column.default is not None and not column.primary_key:
                value = column.default.arg if column.default.is_scalar else column.default.arg(None)
                rows = [{**r, column.name: value} for r in rows]
                names.append(column.name)
        arrays, params = self._arrays(table, names, rows)
        self._send(f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays})", params)

    def update(self, table, rows: list[dict]) -> None:
        """Rows are ``{"id": …, column: value, …}``, all with the same columns."""
        if not rows:
            return
        names = [n for n in rows[0] if n != "id"]
        if not self.postgres:
            stmt = update(table).where(table.c.id == bindparam("b_id")).values(
                {n: bindparam(f"b_{n}") for n in names})
            self.session.execute(stmt, [{f"b_{k}": v for k, v in r.items()} for r in rows])
            return
        arrays, params = self._arrays(table, ["id", *names], rows)
        sets = ", ".join(f"{n} = u.{n}" for n in names)
        self._send(f"UPDATE {table.name} SET {sets} FROM unnest({arrays}) AS u(id, {', '.join(names)}) "
                   f"WHERE {table.name}.id = u.id", params)

    def _send(self, sql: str, params: dict) -> None:
        # Straight to the driver, with the arrays in binary (``%(name)b``): psycopg escapes text arrays
        # element by element with regular expressions, which cost more than the rest of the write.
        self.session.connection().exec_driver_sql(sql, params)

    @staticmethod
    def _arrays(table, names: list[str], rows: list[dict]) -> tuple[str, dict]:
        casts, params = [], {}
        for i, name in enumerate(names):
            array_type, convert = _pg_array(table.c[name].type)
            params[f"a{i}"] = [convert(r[name]) for r in rows]
            casts.append(f"CAST(%(a{i})b AS {array_type})" if array_type != "json[]"
                         else f"CAST(CAST(%(a{i})b AS text[]) AS json[])")
        return ", ".join(casts), params


def _pg_array(column_type) -> tuple[str, Any]:
    """The PostgreSQL array type a column's values travel in, and how one value is made ready for it."""
    if isinstance(column_type, UTCInstant):
        return "timestamp[]", lambda v: column_type.process_bind_param(v, None)
    if isinstance(column_type, JSON):
        return "json[]", lambda v: None if v is None else json.dumps(v)
    for kind, name in ((Boolean, "boolean[]"), (Integer, "bigint[]"), (Date, "date[]"), (String, "text[]")):
        if isinstance(column_type, kind):
            return name, lambda v: v
    raise TypeError(f"no array type for {column_type!r}")


class _BatchContext:
    """The machine's context for a transition fired in a batch: records go to the batch's rows."""

    actor = SYSTEM
    evidence = ()

    def __init__(self, batch: _Batch, *, now, recorded_at, rule, reason, head) -> None:
        self.batch = batch
        self.now, self.recorded_at, self.rule, self.reason, self.head = now, recorded_at, rule, reason, head
        self.records: list[PendingRecord] = []

    def transitioned(self, entity: MemberRow, *, source: str, dest: str, trigger: str, rule: str) -> None:
        batch = self.batch
        record = PendingRecord(**audit.chained(
            self.head, subject_type="member", subject_id=entity.id, from_state=source, to_state=dest,
            trigger=trigger, actor=self.actor, reason=self.reason, rule_id=rule, evidence=self.evidence,
            business_time=self.now, recorded_at=self.recorded_at))
        self.head = (record.seq, record.hash)
        self.records.append(record)
        batch.records.append((entity.id, record))
        batch.fired[entity.id] = entity
        pending = batch.pending[entity.id]
        closes, opens = obligations.table_actions("member", trigger, self.rule)
        for kinds, status in closes:
            closed = (obligations.matching(pending, None) if kinds is None else
                      [d for k in kinds
                       for d in obligations.matching(pending, {k.value}, obligations.subject_of(k, entity, entity))])
            for d in closed:
                d.status, d.closed_at, d.closed_by = status.value, self.now, record
        plan = batch.current_plan(entity)
        for kind in opens:
            subject = obligations.subject_of(kind, entity, entity)
            if obligations.matching(pending, {kind.value}, subject):
                continue  # an identical obligation is pending already: kept rather than doubled
            tz = entity.time_zone
            values = obligations.deadline_values(
                member_id=entity.id, tz=tz, subject=subject, kind=kind,
                due=due_on(kind, obligations.anchors(self.now, tz, plan, entity.first_plan_due)),
                now=self.now, opened_by=record, reminders=batch.reminder_days)
            row = DeadlineRow(id=None, member_id=entity.id, subject_type=subject[0], subject_id=subject[1],
                              kind=values["kind"], rule_id=values["rule_id"], due_on=values["due_on"],
                              breach_at=values["breach_at"], opened_at=self.now,
                              next_reminder_at=values["next_reminder_at"])
            pending.append(row)
            batch.opened.append((row, values))


class BatchFailed(Exception):
    """Raised when a batch could not be fired; nothing of it was written, and ``claimed`` are its deadlines."""

    def __init__(self, claimed: list[int]) -> None:
        super().__init__(f"a batch of {len(claimed)} deadlines failed")
        self.claimed = claimed


def fire_batch(claim: Callable[[Session], list[int]], *, uow: UnitOfWork, now: pendulum.DateTime) -> BatchResult:
    """Claim due deadlines with ``claim`` and fire their members' due groups, all in one transaction.

    ``claim`` is ``engine.claim_due`` with ``lock_members``: the batch's members are locked from
    the claim on, so concurrent ticks take different members. Claimed deadlines whose groups
    need more than rows are returned in ``deferred``.
    """
    result = BatchResult()
    with uow:
        result.claimed = claim(uow.session)
        if not result.claimed:
            return result
        try:
            _fire_claimed(uow, result, now=now)
        except Exception as exc:
            raise BatchFailed(result.claimed) from exc
        uow.commit()
    return result


def _fire_claimed(uow: UnitOfWork, result: BatchResult, *, now: pendulum.DateTime) -> None:
    """Lock, read, judge, settle and write the batch's groups (the caller commits)."""
    s = uow.session
    claimed = s.execute(select(Deadline.id, Deadline.member_id)
                        .where(Deadline.id.in_(result.claimed), Deadline.status == PENDING)).all()
    order = {i: n for n, i in enumerate(result.claimed)}
    claimed.sort(key=lambda r: order[r.id])
    if not claimed:
        return
    members = _lock_members(s, list(dict.fromkeys(r.member_id for r in claimed)))
    batch = _Batch(s, uow.recorded_at())
    for d in s.execute(select(*_DEADLINE_COLUMNS).where(Deadline.member_id.in_(list(members)),
                                                       Deadline.status == PENDING)
                       .order_by(Deadline.id).with_for_update()):
        batch.pending.setdefault(d.member_id, []).append(DeadlineRow(**d._mapping))
    plan_ids = {m.current_plan_id for m in members.values() if m.current_plan_id is not None}
    plan_ids |= {d.subject_id for rows in batch.pending.values() for d in rows if d.subject_type == "plan"}
    if plan_ids:
        batch.plans = {p.id: PlanRow(**p._mapping) for p in s.execute(
            select(ActionPlan.id, ActionPlan.status, ActionPlan.coalition_id, ActionPlan.filed_on,
                   ActionPlan.end_on).where(ActionPlan.id.in_(plan_ids)))}
    heads = audit.heads(s, "member", list(members))

    # Claimed deadlines in claim (breach) order, as fire_deadline would take them one by one; a
    # member's later group fires after its earlier one, chained to the record that one made.
    for entry in claimed:
        member = members[entry.member_id]
        pending = batch.pending.get(entry.member_id, [])
        first = next((d for d in pending if d.id == entry.id and d.status == PENDING), None)
        if first is None:
            continue  # closed by an earlier group of this batch
        group = [d for d in pending if d.status == PENDING and d.breach_at == first.breach_at]
        if first.breach_at > now or any(d.kind not in ROW_KINDS for d in group):
            result.deferred.append(entry.id)
            continue
        if result.deferred:
            break  # what comes after the deferred run waits for the next claim, to keep the order
        at = first.breach_at
        head = heads.get(entry.member_id)
        # As in fire_deadline: never before the member's last recorded transition.
        effective = max(at, head[2]) if head is not None else at
        verdicts = [engine.judge(None, member, d, _plan_of(batch, member, d)) for d in group]
        report = FireReport(deadlines=len(group))
        opened = len(batch.opened)
        record = engine.settle(batch, member, verdicts, at=at, effective=effective,
                               recorded_at=batch.recorded_at, head=head[:2] if head is not None else None,
                               report=report)
        if record is not None:
            heads[entry.member_id] = (record.seq, record.hash, effective)
        result.reports.append(report)
        if any(row.breach_at <= now for row, _ in batch.opened[opened:]):
            result.opened_due = True
            break  # a deadline opened here is due already and may come before the rest: claim again
    batch.write()


_DEADLINE_COLUMNS = (Deadline.id, Deadline.member_id, Deadline.subject_type, Deadline.subject_id, Deadline.kind,
                     Deadline.rule_id, Deadline.due_on, Deadline.breach_at, Deadline.opened_at,
                     Deadline.next_reminder_at)


def _plan_of(batch: _Batch, member: MemberRow, d: DeadlineRow) -> PlanRow | None:
    return batch.plans.get(d.subject_id if d.subject_type == "plan" else member.current_plan_id)


def _lock_members(s: Session, ids: list[int]) -> dict[int, MemberRow]:
    """The members, locked (PostgreSQL: the claim holds them already; SQLite: the transaction began IMMEDIATE)."""
    rows = s.execute(
        select(Member.id, Member.state, Member.state_since, Member.voluntary_inactivity, Member.inactivity_rule,
               Member.probation_rule, Member.current_plan_id,
               func.coalesce(Member.first_plan_due, Call.first_plan_due).label("first_plan_due"),
               Jurisdiction.time_zone)
        .join(Jurisdiction, Jurisdiction.id == Member.jurisdiction_id).join(Call, Call.id == Member.call_id)
        .where(Member.id.in_(ids)).order_by(Member.id)
        .with_for_update(of=Member))
    return {r.id: MemberRow(**r._mapping) for r in rows}
