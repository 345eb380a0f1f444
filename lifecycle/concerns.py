"""Civic-space concern cases (R6.6): opened on a report from local civil society, closed with an outcome.

A case is not a transition of the member's state machine, so it is not written to the
hash-chained transition history (which holds one record per transition and nothing
else). Opening and closing a case each add a ``Finding`` row with rule R6.6 to the
member's record instead, beside the findings of the timed checks, so the member's
trail shows when a case was opened and how it ended. The finding never names the
reporter: civil society reporting violations may be at risk, so only the case holds it.
"""

from __future__ import annotations

import structlog

from lifecycle import commands as c
from lifecycle.clock import Clock
from lifecycle.models import ConcernCase, Finding, Member
from lifecycle.uow import UnitOfWork
from policies.errors import InvalidInput, RuleViolation

log = structlog.get_logger(__name__)

RULE = "R6.6"


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def open_case(cmd: c.OpenConcernCase, *, uow: UnitOfWork, clock: Clock) -> int:
    if _blank(cmd.reported_by) or len(cmd.reported_by) > 300:
        raise InvalidInput("Say who reported the concern (up to 300 characters).", rule=RULE, field="reported_by")
    if _blank(cmd.summary):
        raise InvalidInput("Summarise the reported civic-space violations.", rule=RULE, field="summary")
    with uow:
        member = uow.lock(Member, cmd.member_id, what="member")
        now = clock.now()
        case = ConcernCase(member_id=member.id, opened_at=now, reported_by=cmd.reported_by.strip(),
                           summary=cmd.summary.strip(), status="open")
        uow.session.add(case)
        uow.session.flush()
        uow.session.add(Finding(member_id=member.id, rule_id=RULE, outcome="concern_opened", found_at=now,
                                detail=f"concern case {case.id} opened by {cmd.actor}"))
        uow.commit()
    log.info("concern_case_opened", case_id=case.id, member_id=cmd.member_id, actor=cmd.actor)
    return case.id


def close_case(cmd: c.CloseConcernCase, *, uow: UnitOfWork, clock: Clock) -> None:
    """R6.6: the outcome is decided case by case and recorded."""
    if _blank(cmd.outcome):
        raise InvalidInput("A concern case is closed with its outcome.", rule=RULE, field="outcome")
    with uow:
        case = uow.lock(ConcernCase, cmd.case_id, what="concern case")
        if case.status != "open":
            raise RuleViolation(f"Concern case {case.id} is already closed.", rule=RULE, field="status")
        now = clock.now()
        case.status, case.outcome, case.closed_at, case.closed_by = "closed", cmd.outcome.strip(), now, cmd.actor
        uow.session.add(Finding(member_id=case.member_id, rule_id=RULE, outcome="concern_closed", found_at=now,
                                detail=f"concern case {case.id} closed by {cmd.actor}: {case.outcome}"))
        uow.commit()
    log.info("concern_case_closed", case_id=cmd.case_id, actor=cmd.actor)
