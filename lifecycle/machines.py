"""The one shared ``transitions.Machine`` per entity kind, and firing a trigger on an entity.

Models are never added to the machines (``add_model`` costs grow with the number of
models and would overwrite stored states): triggers are fired with
``machine.events[trigger].trigger(entity, ctx=…)``. The after-callbacks append the audit
record and open or close deadlines, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, partial

import pendulum
from sqlalchemy.orm import Session
from transitions import EventData, Machine

from lifecycle import audit
from lifecycle.models import Member, TransitionRecord
from policies.errors import TriggerNotAllowed
from policies.machines import MACHINES, TERMINAL_MEMBER_STATES, TransitionRow, rows_for, sources_of


@dataclass
class TransitionContext:
    """Everything a transition's callbacks need, passed as the trigger's keyword."""

    session: Session
    now: pendulum.DateTime
    recorded_at: pendulum.DateTime
    actor: str
    reason: str | None = None
    rule: str | None = None
    evidence: tuple[str, ...] = ()
    override: bool = False  # D14: a Support Unit action taken although its rule did not hold
    records: list[TransitionRecord] = field(default_factory=list)
    # (subject_type, subject_id) -> its audit chain's (seq, hash), when known in this transaction.
    heads: dict[tuple[str, int], tuple[int, str]] = field(default_factory=dict)


    def transitioned(self, entity, *, source: str, dest: str, trigger: str, rule: str) -> None:
        """Record a fired transition: its audit record, then the deadline table and letters."""
        from lifecycle import obligations

        subject = (entity.subject_type, entity.id)
        record = audit.append(
            self.session,
            subject_type=entity.subject_type,
            subject_id=entity.id,
            from_state=source,
            to_state=dest,
            trigger=trigger,
            actor=self.actor,
            reason=self.reason,
            rule_id=rule,
            evidence=self.evidence,
            business_time=self.now,
            recorded_at=self.recorded_at,
            head=self.heads.get(subject),
            override=self.override,
        )
        self.heads[subject] = (record.seq, record.hash)
        self.records.append(record)
        obligations.on_transition(self, entity, trigger, record)


def _predicate(name: str):
    return lambda event: bool(getattr(event.model, name))


def _after(row: TransitionRow, event: EventData) -> None:
    # The context decides where the records go: the command's session, or the deadline engine's batch.
    ctx = event.kwargs["ctx"]
    entity = event.model
    source = event.transition.source
    dest = event.transition.dest or source
    if dest != source:
        entity.state_since = ctx.now  # D5: a status is counted from the transition that conferred it
    ctx.transitioned(entity, source=source, dest=dest, trigger=event.event.name,
                     rule=ctx.rule or row.rule)


@cache
def machine(kind: str) -> Machine:
    """The shared machine of an entity kind, built once from its table in ``policies``."""
    states, table = MACHINES[kind]
    m = Machine(
        model=None,
        states=[s.value for s in states],
        initial=next(iter(states)).value,
        model_attribute="state",
        auto_transitions=False,
        send_event=True,
    )
    for row in table:
        m.add_transition(
            row.trigger,
            [str(s) for s in row.source],
            row.dest if row.dest == "=" else str(row.dest),
            conditions=[_predicate(row.condition)] if row.condition else None,
            unless=[_predicate(row.unless)] if row.unless else None,
            after=[partial(_after, row)],
        )
    return m


def possible_triggers(entity) -> list[str]:
    """What can happen next to this entity, for ``member show`` and the pages."""
    return machine(entity.subject_type).get_triggers(entity.state)


def fire(entity, trigger: str, ctx: TransitionContext) -> TransitionRecord:
    """Fire ``trigger`` on ``entity``; refuses with the transition's rule when it is not possible."""
    kind = entity.subject_type
    if kind == "commitment":
        # A revoked (terminal) member's commitments are closed with it: nothing more happens to them.
        owner = ctx.session.get(Member, entity.member_id)
        if owner is not None and owner.state in TERMINAL_MEMBER_STATES:
            raise TriggerNotAllowed(
                f"The member is {owner.state}; nothing more can happen to its commitments.",
                rule="R2.11", field="state",
            )
    rows = rows_for(kind, trigger, entity.state)
    if not rows:
        allowed = sources_of(kind, trigger)
        rule = ctx.rule or (_rule_of(kind, trigger) if allowed else "R2")
        where = ", ".join(allowed) if allowed else "no state"
        raise TriggerNotAllowed(
            f"The {kind} is {entity.state.replace('_', ' ')}; {trigger.replace('_', ' ')} is possible only from {where}.",
            rule=rule,
            field="state",
            hint=_next_steps_hint(entity),
        )
    before = len(ctx.records)
    fired = machine(kind).events[trigger].trigger(entity, ctx=ctx)
    if not fired or len(ctx.records) == before:
        raise TriggerNotAllowed(f"{trigger} did not apply to the {kind} in its current state.", rule=rows[0].rule)
    return ctx.records[-1]


def _rule_of(kind: str, trigger: str) -> str:
    _, table = MACHINES[kind]
    return next(r.rule for r in table if r.trigger == trigger)


def _next_steps_hint(entity) -> str:
    triggers = possible_triggers(entity)
    if not triggers:
        return f"Nothing more can happen to this {entity.subject_type}."
    return "Possible now: " + ", ".join(t.replace("_", " ") for t in triggers) + "."
