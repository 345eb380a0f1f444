"""The deadline table: which transitions open and close which obligations, and their due dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from policies.rules import DEFAULT_DURATIONS, Durations


class DeadlineKind(StrEnum):
    """Obligations with a date (§3.8, §4–§6, D3, D8)."""

    first_plan = "first_plan"  # R5.1
    next_plan = "next_plan"  # R3.8 / R5.2
    plan_end = "plan_end"  # R2.5
    start_assessment = "start_assessment"  # R4.1
    end_of_commitment_assessment = "end_of_commitment_assessment"  # R4.2
    final_learning_report = "final_learning_report"  # R4.3
    quarterly_tracker_check = "quarterly_tracker_check"  # R5.3 / R5.4 per D3
    meeting_check = "meeting_check"  # R6.2 per D8
    probation_clock = "probation_clock"  # R6.1
    revocation_clock = "revocation_clock"  # R6.5


class DeadlineStatus(StrEnum):
    pending = "pending"
    met = "met"
    breached = "breached"
    cancelled = "cancelled"


DEADLINE_RULES: dict[DeadlineKind, str] = {
    DeadlineKind.first_plan: "R5.1",
    DeadlineKind.next_plan: "R5.2",
    DeadlineKind.plan_end: "R2.5",
    DeadlineKind.start_assessment: "R4.1",
    DeadlineKind.end_of_commitment_assessment: "R4.2",
    DeadlineKind.final_learning_report: "R4.3",
    DeadlineKind.quarterly_tracker_check: "R5.4",
    DeadlineKind.meeting_check: "R6.2",
    DeadlineKind.probation_clock: "R6.1",
    DeadlineKind.revocation_clock: "R6.5",
}

# Obligations that belong to one action plan rather than to the member as a whole.
PLAN_OBLIGATIONS = frozenset(
    {
        DeadlineKind.plan_end,
        DeadlineKind.start_assessment,
        DeadlineKind.final_learning_report,
        DeadlineKind.quarterly_tracker_check,
        DeadlineKind.meeting_check,
    }
)

# Deliverables of the monitoring body: overdue ones never change the member's state (§4).
MONITORING_DELIVERABLES = frozenset(
    {DeadlineKind.start_assessment, DeadlineKind.end_of_commitment_assessment, DeadlineKind.final_learning_report}
)

K = DeadlineKind

# (entity kind, trigger) -> obligations the transition opens / fulfils / makes moot.
OPENS: dict[tuple[str, str], tuple[DeadlineKind, ...]] = {
    ("member", "accept"): (K.first_plan,),
    ("member", "submit_plan"): (
        K.plan_end, K.start_assessment, K.final_learning_report, K.quarterly_tracker_check, K.meeting_check,
    ),
    ("member", "end_plan"): (K.next_plan,),
    ("member", "become_inactive"): (K.probation_clock,),
    ("member", "place_on_probation"): (K.revocation_clock,),
    ("commitment", "start"): (K.end_of_commitment_assessment,),
}
CLOSES_AS_MET: dict[tuple[str, str], tuple[DeadlineKind, ...]] = {
    ("member", "submit_plan"): (K.first_plan, K.next_plan),
    ("member", "end_plan"): (K.plan_end,),
    ("member", "resume"): (K.probation_clock,),
    ("member", "reinstate"): (K.revocation_clock,),
    ("commitment", "assess"): (K.end_of_commitment_assessment,),
}
# The status that a transition confers because an obligation ran out closes that obligation as breached.
CLOSES_AS_BREACHED: dict[tuple[str, str], tuple[DeadlineKind, ...]] = {
    ("member", "become_inactive"): (K.first_plan, K.next_plan),
    ("member", "place_on_probation"): (K.probation_clock,),
    ("member", "revoke"): (K.revocation_clock,),
}
CANCELS: dict[tuple[str, str], tuple[DeadlineKind, ...] | None] = {
    ("member", "revoke"): None,  # None: every pending obligation of the member
    ("member", "reject"): None,
    # The recurring checks of a plan stop with it; the monitoring deliverables stay owed.
    ("member", "end_plan"): (K.quarterly_tracker_check, K.meeting_check),
    ("commitment", "withdraw"): (K.end_of_commitment_assessment,),
}


@dataclass(frozen=True, slots=True)
class Anchors:
    """The dates a due date may be computed from, all local calendar dates."""

    transition_day: dt.date
    plan_filed_on: dt.date | None = None
    plan_end: dt.date | None = None
    first_plan_due: dt.date | None = None
    commitment_completed_on: dt.date | None = None


def due_on(kind: DeadlineKind, anchors: Anchors, *, durations: Durations = DEFAULT_DURATIONS) -> dt.date:
    """The local due date of an obligation opened with these anchors (D1 month arithmetic)."""
    from policies.calendar import add_months, quarter_check_due

    d = durations
    match kind:
        case K.first_plan:
            return _required(anchors.first_plan_due, kind)
        case K.plan_end:
            return _required(anchors.plan_end, kind)
        case K.next_plan:
            return add_months(_required(anchors.plan_end, kind), d.next_plan_months)
        case K.start_assessment:
            return add_months(_required(anchors.plan_filed_on, kind), d.start_assessment_months)
        case K.final_learning_report:
            return add_months(_required(anchors.plan_end, kind), d.final_report_months)
        case K.end_of_commitment_assessment:
            return end_of_commitment_due(
                plan_end=_required(anchors.plan_end, kind),
                completed_on=anchors.commitment_completed_on,
                durations=d,
            )
        case K.quarterly_tracker_check:
            return quarter_check_due(_required(anchors.plan_filed_on, kind))
        case K.meeting_check:
            return add_months(_required(anchors.plan_filed_on, kind), 12)
        case K.probation_clock:
            return add_months(anchors.transition_day, d.inactive_before_probation_months)
        case K.revocation_clock:
            return add_months(anchors.transition_day, d.probation_before_revocation_months)
    raise ValueError(f"no due-date rule for {kind}")


def end_of_commitment_due(
    *, plan_end: dt.date, completed_on: dt.date | None, durations: Durations = DEFAULT_DURATIONS
) -> dt.date:
    """R4.2: one month after completion or after the plan's end, whichever comes first."""
    from policies.calendar import add_months

    months = durations.end_of_commitment_assessment_months
    candidates = [add_months(plan_end, months)]
    if completed_on is not None:
        candidates.append(add_months(completed_on, months))
    return min(candidates)


def _required(value: dt.date | None, kind: DeadlineKind) -> dt.date:
    if value is None:
        raise ValueError(f"the {kind} deadline needs an anchor date it was not given")
    return value
