"""The timed rules as pure decisions: what a due deadline finds, and which finding wins (D3, D7, D8)."""

from __future__ import annotations

from dataclasses import dataclass

from policies.calendar import Quarter
from policies.rules import DEFAULT_DURATIONS, Durations

# D7: when several rules fire for one member at one instant, the most severe state wins.
SEVERITY: dict[str, int] = {"revoked": 3, "probation": 2, "inactive": 1}


@dataclass(frozen=True, slots=True)
class QuarterRecord:
    """What the tracker shows for one calendar quarter (D3, D4).

    ``counts`` is true only when the member was implementing throughout the quarter.
    """

    quarter: Quarter
    counts: bool
    updated: bool
    progressed: bool


def quarterly_finding(earlier: QuarterRecord, later: QuarterRecord) -> str | None:
    """D3: the rule the two quarters just ended breach, if both count.

    R5.4 when neither quarter has a tracker update; otherwise R5.3 when neither shows
    progress (D4); ``None`` when a quarter does not count or the tracker is alive.
    """
    if not (earlier.counts and later.counts):
        return None
    if not earlier.updated and not later.updated:
        return "R5.4"
    if not earlier.progressed and not later.progressed:
        return "R5.3"
    return None


def meeting_finding(implementation_meetings: int, *, durations: Durations = DEFAULT_DURATIONS) -> str | None:
    """D8/R6.2: fewer than the yearly minimum of implementation meetings with stakeholders."""
    return "R6.2" if implementation_meetings < durations.meetings_per_year else None


def most_severe(dest_states: list[str]) -> str | None:
    """D7: of the states several findings lead to, the most severe one."""
    ranked = [s for s in dest_states if s in SEVERITY]
    return max(ranked, key=SEVERITY.__getitem__) if ranked else None
