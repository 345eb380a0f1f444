"""The ways out of sanctions as pure decisions (R5.6, R6.4, D10–D14), over plain facts the engine reads.

- progress (D4, D12): a milestone reaching a status further along ``not_started < in_progress <
  finished`` than any it had reached before;
- evidence (D13): what ends an inactivity (R5.6) and what meets a probation's unmet requirement (R6.4);
- the plan owed after a return to co-creation (D10), or to orientation (D11);
- whether the rule a Support Unit status action cites holds as of its instant (D14).

Nothing here reads a clock or a database: callers pass today's local date and the counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from policies.calendar import add_months
from policies.deadlines import DeadlineKind
from policies.errors import InvalidInput, RuleViolation, TriggerNotAllowed
from policies.machines import ACTIVE_STATES, MemberState
from policies.rules import DEFAULT_DURATIONS, Durations

M = MemberState

# D4/D12: the order along which a milestone moves forward; stuck and incomplete are off it.
MILESTONE_ORDER: dict[str, int] = {"not_started": 0, "in_progress": 1, "finished": 2}


def is_progress(furthest: str | None, status: str) -> bool:
    """D12: ``status`` is further along than the furthest status the milestone ever reached."""
    return status in MILESTONE_ORDER and MILESTONE_ORDER[status] > MILESTONE_ORDER.get(furthest or "", 0)


def furthest(previous: str | None, status: str) -> str:
    """D12: the furthest status reached once the milestone is at ``status``."""
    return status if is_progress(previous, status) else (previous or "not_started")


class Activity(StrEnum):
    """What a point of contact files that may count as evidence against a sanction (D13)."""

    progress = "progress"  # a tracker update showing progress (D12), or a commitment completed
    co_creation_meeting = "co_creation_meeting"  # "starts co-creation": with at least one non-governmental participant
    plan_filed = "plan_filed"  # a valid action plan
    implementation_meeting = "implementation_meeting"  # with non-governmental participants: counts for D8 only


# R5.6, D13: evidence that the member resumed.
RESUMPTION_EVIDENCE = frozenset({Activity.progress, Activity.co_creation_meeting, Activity.plan_filed})

RESUMPTION_HINT = (
    "A member resumes by itself once it files a tracker update showing progress, records a co-creation "
    "meeting with non-governmental participants, or files a valid action plan (R5.6, D13)."
)


def probation_requirements_met(probation_rule: str | None, *, evidence: Activity | None, meetings: int,
                               durations: Durations = DEFAULT_DURATIONS) -> bool:
    """R6.4, D13: whether every requirement the probation found unmet is met now.

    R6.2 (no evidence of engagement): the D8 count of implementation meetings with non-governmental
    participants in the last 12 months reaches its threshold, whatever else is filed. R6.1 (six months
    inactive): evidence of resumption.
    """
    if probation_rule == "R6.2":
        return meetings >= durations.meetings_per_year
    return evidence in RESUMPTION_EVIDENCE


@dataclass(frozen=True, slots=True)
class Exit:
    """A transition out of a sanction that the evidence calls for."""

    trigger: str
    rule: str


def exit_on_evidence(state: str, *, probation_rule: str | None, evidence: Activity, meetings: int,
                     durations: Durations = DEFAULT_DURATIONS) -> Exit | None:
    """What ``evidence`` does to a member in ``state`` (R5.6, R6.4): resume, reinstate, or nothing.

    Any inactivity ends on evidence of resumption (R5.6; D9: voluntary inactivity too). A member
    on probation is reinstated at once when every unmet requirement is met (R6.4).
    """
    if state == M.inactive and evidence in RESUMPTION_EVIDENCE:
        return Exit("resume", "R5.6")
    if state == M.probation and probation_requirements_met(probation_rule, evidence=evidence, meetings=meetings,
                                                           durations=durations):
        return Exit("reinstate", "R6.4")
    return None


def plan_owed_on_return(dest: str, *, plan_in_force: bool, ever_filed: bool) -> DeadlineKind | None:
    """D10: a member back in co-creation (or, D11, in orientation) without a plan in force owes one.

    R5.2's deadline if it ever filed a plan, R5.1's if it never did.
    """
    if plan_in_force or dest not in (M.co_creation, M.orientation):
        return None
    return DeadlineKind.next_plan if ever_filed else DeadlineKind.first_plan


def plan_due_after_return(returned_on: dt.date, *, durations: Durations = DEFAULT_DURATIONS) -> dt.date:
    """D10: four months (D1) from the local date of the return."""
    return add_months(returned_on, durations.next_plan_months)


# ---------------------------------------------------------------- D14: status actions by hand


@dataclass(frozen=True, slots=True)
class StandingFacts:
    """What the engine reads to judge a Support Unit status action as of one instant (D14).

    Dates are local calendar dates of the member's jurisdiction (D2). ``status_since`` is the
    local date of the transition that conferred the current state (D5).
    """

    state: str
    today: dt.date
    status_since: dt.date
    voluntary: bool = False
    probation_rule: str | None = None
    ever_filed: bool = False
    plan_in_force: bool = False
    plan_end: dt.date | None = None
    plan_filed_on: dt.date | None = None
    first_plan_due: dt.date | None = None
    next_plan_due: dt.date | None = None
    quarterly_finding: str | None = None  # D3 over the two quarters just ended: R5.3, R5.4 or None
    meetings: int = 0  # D8: implementation meetings with non-governmental participants in the 12 months to today
    unmet_in_start_assessment: bool = False  # D8: a start assessment recorded an R3.11 requirement unmet
    resumption_since_status: bool = False  # D13: evidence of resumption filed since the current status began


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


# D14: the states from which each status action may cite each rule; elsewhere the citation is wrong, override or not.
RULE_STATES: dict[tuple[str, str], tuple[str, ...]] = {
    ("become_inactive", "R5.1"): (M.orientation, M.co_creation),
    ("become_inactive", "R5.2"): (M.co_creation,),
    ("become_inactive", "R5.3"): (M.implementing,),
    ("become_inactive", "R5.4"): (M.implementing,),
    ("place_on_probation", "R6.1"): (M.inactive,),
    ("place_on_probation", "R6.2"): ACTIVE_STATES,
    ("reinstate", "R6.4"): (M.probation,),
    ("revoke", "R6.5"): (M.probation,),
    ("resume", "R5.6"): (M.inactive,),
    ("end_plan", "R2.5"): (M.implementing,),
}
# The same pairs by action: each status action and the rules it may cite, in table order.
STATUS_ACTIONS: dict[str, tuple[str, ...]] = {
    trigger: tuple(rule for t, rule in RULE_STATES if t == trigger) for trigger, _ in RULE_STATES
}


def _clock_running(f: StandingFacts, rule: str, status: str, months: int, spelled: str) -> str | None:
    """D5: a status clock counted from the transition that conferred the status, still running on ``f.today``."""
    until = add_months(f.status_since, months)
    if f.today > until:
        return None
    return (f"{rule} does not hold yet: the member is {status} since {_long(f.status_since)}; "
            f"{spelled} months run until {_long(until)} (D5).")


def why_status_rule_fails(trigger: str, rule: str, f: StandingFacts,
                          durations: Durations = DEFAULT_DURATIONS) -> str | None:
    """D14: ``None`` when ``rule`` holds for ``trigger`` as of ``f.today``, else a sentence saying why not.

    The member's state is one ``RULE_STATES`` allows (``check_status_action`` sees to it first).
    A deadline's rule holds from the day after its due date (D2: breached at the next local midnight).
    """
    d = durations
    match (trigger, rule):
        case ("become_inactive", "R5.1"):
            if f.ever_filed:
                return "R5.1 applies to a member that never filed a plan; this one did (R5.2 is its plan rule)."
            if f.first_plan_due is None or f.today <= f.first_plan_due:
                due = f"it is due on {_long(f.first_plan_due)}" if f.first_plan_due else "no first plan is due"
                return f"R5.1 does not hold yet: the first action plan is not late; {due}."
        case ("become_inactive", "R5.2"):
            if f.plan_in_force or not f.ever_filed:
                return "R5.2 applies to a member in co-creation whose previous plan has ended."
            if f.next_plan_due is None or f.today <= f.next_plan_due:
                due = f"it is due on {_long(f.next_plan_due)}" if f.next_plan_due else "no next plan is due"
                return f"R5.2 does not hold yet: the next action plan is not late; {due}."
        case ("become_inactive", "R5.3" | "R5.4"):
            if f.quarterly_finding != rule:
                shown = {"R5.4": "no tracker update in either", "R5.3": "updates but no progress in either"}
                if f.quarterly_finding is not None:
                    return (f"{rule} does not hold: the two quarters just ended find {f.quarterly_finding} instead "
                            f"({shown[f.quarterly_finding]}, D3).")
                return (f"{rule} does not hold: of the two quarters just ended, one does not count (the member "
                        f"was not implementing throughout it, D3), or they do not show {shown[rule]}.")
        case ("place_on_probation", "R6.1"):
            return _clock_running(f, "R6.1", "inactive", d.inactive_before_probation_months, "six")
        case ("place_on_probation", "R6.2"):
            year_passed = f.plan_filed_on is not None and f.today >= add_months(f.plan_filed_on, 12)
            if not (year_passed or f.unmet_in_start_assessment):
                return ("R6.2 does not hold yet: it is checked at the plan's first anniversary, or when a start "
                        "assessment records a co-creation requirement unmet (D8).")
            if f.meetings >= d.meetings_per_year:
                return (f"R6.2 does not hold: {f.meetings} implementation meetings with non-governmental "
                        f"participants in the last 12 months (D8 asks for {d.meetings_per_year}).")
        case ("revoke", "R6.5"):
            return _clock_running(f, "R6.5", "on probation", d.probation_before_revocation_months, "four")
        case ("reinstate", "R6.4"):
            if f.probation_rule == "R6.2" and f.meetings < d.meetings_per_year:
                return (f"R6.4 does not hold: {f.meetings} implementation meetings with non-governmental "
                        f"participants in the last 12 months; R6.2 asks for {d.meetings_per_year} (D13).")
            if f.probation_rule != "R6.2" and not f.resumption_since_status:
                return "R6.4 does not hold: no evidence of resumption since the probation began. " + RESUMPTION_HINT
        case ("resume", "R5.6"):
            pass  # the Support Unit may resume any inactive member, giving its reason (its judgement of R5.6)
        case ("end_plan", "R2.5"):
            if not f.plan_in_force or f.plan_end is None:
                return "R2.5 ends a plan in force; the member has none."
            if f.today <= f.plan_end:
                return f"R2.5 does not hold yet: the plan ends on {_long(f.plan_end)}."
    return None


def check_status_action(trigger: str, rule: str, facts: StandingFacts, *, override: bool,
                        durations: Durations = DEFAULT_DURATIONS) -> bool:
    """D14: refuse a status action whose rule does not hold as of its instant, unless it is an override.

    A rule cited from a state it does not apply to, or R6.1 for voluntary inactivity (never
    probation), is refused even as an override. Returns whether the action is an override.
    """
    states = RULE_STATES.get((trigger, rule))
    if states is None:
        raise InvalidInput(f"{trigger.replace('_', ' ')} does not cite {rule}.", rule=rule, field="rule")
    if facts.state not in states:
        where = " or ".join(str(s).replace("_", " ") for s in states)
        raise TriggerNotAllowed(f"{rule} applies to a member in {where}; this one is {facts.state.replace('_', ' ')}.",
                                rule=rule, field="rule")
    if (trigger, rule) == ("place_on_probation", "R6.1") and facts.voluntary:
        raise RuleViolation("Voluntary inactivity never leads to probation.", rule="R6.1", field="rule")
    why = why_status_rule_fails(trigger, rule, facts, durations)
    if why is None:
        return False
    if not override:
        raise RuleViolation(why, rule=rule, field="rule",
                            hint="Mark the action as an override, with its reason, to take it all the same (D14).")
    return True
