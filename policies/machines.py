"""The member and commitment machines as data: states and {trigger, source, dest, rule} rows.

`lifecycle.machines` builds one shared ``transitions.Machine`` per entity kind from these
tables, and ``ogp-lifecycle diagram`` draws them; nothing else knows the transitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MemberState(StrEnum):
    """Where a member stands in the programme (RULEBOOK §2)."""

    applicant = "applicant"
    orientation = "orientation"
    co_creation = "co_creation"
    implementing = "implementing"
    inactive = "inactive"
    probation = "probation"
    revoked = "revoked"
    rejected = "rejected"


class CommitmentState(StrEnum):
    """Where a commitment stands (RULEBOOK §2, last paragraph)."""

    draft = "draft"
    implementing = "implementing"
    completed = "completed"
    ended_incomplete = "ended_incomplete"
    assessed = "assessed"
    withdrawn = "withdrawn"


ACTIVE_STATES = (MemberState.co_creation, MemberState.implementing)
TERMINAL_MEMBER_STATES = (MemberState.revoked, MemberState.rejected)
OPEN_COMMITMENT_STATES = (CommitmentState.draft, CommitmentState.implementing)  # R3.3


@dataclass(frozen=True, slots=True)
class TransitionRow:
    """One row of a transition table.

    ``condition`` names a predicate of the model that picks between rows sharing a
    trigger and source (R2.7, R2.10: back to the phase the current plan is in, D11: to
    orientation when it was never completed); rows are tried in table order, the first
    whose predicates hold is taken; ``dest`` ``"="`` keeps the state (the event is recorded);
    ``rule`` is the rule the row enforces; a deadline that fires it may cite a more
    specific rule (R5.2 for R2.6).
    """

    trigger: str
    source: tuple[str, ...]
    dest: str
    rule: str
    description: str
    condition: str | None = None
    unless: str | None = None


M = MemberState
C = CommitmentState

MEMBER_TRANSITIONS: tuple[TransitionRow, ...] = (
    TransitionRow("accept", (M.applicant,), M.orientation, "R2.1", "Support Unit accepts the application"),
    TransitionRow("reject", (M.applicant,), M.rejected, "R2.2", "Support Unit rejects the application"),
    TransitionRow("start_co_creation", (M.orientation,), M.co_creation, "R2.3", "POC starts co-creation after orientation"),
    TransitionRow("submit_plan", (M.co_creation,), M.implementing, "R2.4", "POC files a valid action plan"),
    # D13, R6.3: a plan filed while inactive or on probation is recorded on the spot; whether it
    # ends the status is then judged on the evidence (R5.6, R6.4), by the rows below.
    TransitionRow("submit_plan", (M.inactive,), "=", "R5.6", "An inactive member files a valid action plan"),
    TransitionRow("submit_plan", (M.probation,), "=", "R6.3", "A member on probation files a valid action plan"),
    TransitionRow("end_plan", (M.implementing,), M.co_creation, "R2.5", "The plan's end date passes"),
    TransitionRow("become_inactive", (M.orientation, M.co_creation, M.implementing), M.inactive, "R2.6",
                  "A rule of R5.1-R5.4 fires (R5.1 also in orientation, D11)"),
    TransitionRow("approve_voluntary_inactivity", (M.orientation, M.co_creation, M.implementing), M.inactive, "R5.5",
                  "Support Unit approves voluntary inactivity"),
    TransitionRow("resume", (M.inactive,), M.implementing, "R2.7", "The member resumes with a plan in force", condition="has_plan_in_force"),
    TransitionRow("resume", (M.inactive,), M.orientation, "R2.7", "The member resumes before completing orientation (D11)", condition="orientation_pending"),
    TransitionRow("resume", (M.inactive,), M.co_creation, "R2.7", "The member resumes without a plan in force", unless="has_plan_in_force"),
    TransitionRow("place_on_probation", (M.inactive,), M.probation, "R2.8", "Six months inactive (R6.1)"),
    TransitionRow("place_on_probation", (M.co_creation, M.implementing), M.probation, "R2.9", "No evidence of engagement (R6.2)"),
    TransitionRow("reinstate", (M.probation,), M.implementing, "R2.10", "Every unmet requirement is met, plan in force", condition="has_plan_in_force"),
    TransitionRow("reinstate", (M.probation,), M.orientation, "R2.10", "Every unmet requirement is met before orientation was completed (D11)", condition="orientation_pending"),
    TransitionRow("reinstate", (M.probation,), M.co_creation, "R2.10", "Every unmet requirement is met, no plan in force", unless="has_plan_in_force"),
    TransitionRow("revoke", (M.probation,), M.revoked, "R2.11", "Four months on probation (R6.5)"),
)

COMMITMENT_TRANSITIONS: tuple[TransitionRow, ...] = (
    TransitionRow("start", (C.draft,), C.implementing, "R2.4", "The plan carrying it is filed, or it replaces one (R3.4)"),
    TransitionRow("modify", (C.draft, C.implementing), "=", "R3.10", "Re-timed or its milestones changed"),
    TransitionRow("withdraw", (C.draft, C.implementing), C.withdrawn, "R3.10", "Removed by a modification"),
    TransitionRow("complete", (C.implementing,), C.completed, "R4.2", "The POC reports it completed"),
    TransitionRow("end_incomplete", (C.implementing,), C.ended_incomplete, "R4.2", "The plan ends before it is completed"),
    TransitionRow("assess", (C.completed, C.ended_incomplete), C.assessed, "R4.2", "The end-of-commitment assessment is filed"),
)

MACHINES: dict[str, tuple[type[StrEnum], tuple[TransitionRow, ...]]] = {
    "member": (MemberState, MEMBER_TRANSITIONS),
    "commitment": (CommitmentState, COMMITMENT_TRANSITIONS),
}


def rows_for(kind: str, trigger: str, source: str) -> tuple[TransitionRow, ...]:
    """The rows a trigger may take from a state (empty when it is not possible)."""
    _, table = MACHINES[kind]
    return tuple(r for r in table if r.trigger == trigger and source in r.source)


def sources_of(kind: str, trigger: str) -> tuple[str, ...]:
    """Every state a trigger may start from, in table order."""
    _, table = MACHINES[kind]
    seen: dict[str, None] = {}
    for r in table:
        if r.trigger == trigger:
            seen.update(dict.fromkeys(str(s) for s in r.source))
    return tuple(seen)


def mermaid(kind: str) -> str:
    """The machine as a Mermaid state diagram, drawn from the same table."""
    states, table = MACHINES[kind]
    lines = ["stateDiagram-v2"]
    first = next(iter(states))
    lines.append(f"    [*] --> {first}")
    for r in table:
        for s in r.source:
            dest = s if r.dest == "=" else r.dest
            guard = f" [{r.condition}]" if r.condition else (f" [not {r.unless}]" if r.unless else "")
            lines.append(f"    {s} --> {dest}: {r.trigger}{guard} ({r.rule})")
    terminals = [s for s in states if not any(s in r.source for r in table)]
    for s in terminals:
        lines.append(f"    {s} --> [*]")
    return "\n".join(lines)
