"""Running a use case from a page: the same handlers as the CLI, one unit of work, the app's clock.

A refusal (a ``RuleViolation``) comes back as data for the page to show with its rule ID
and sentence; the handler raised before committing, so nothing changed.
"""

from __future__ import annotations

from typing import Any

import structlog
from starlette.requests import Request

from lifecycle.uow import UnitOfWork
from policies.errors import RuleViolation

log = structlog.get_logger(__name__)


def run_use_case(request: Request, handler, command) -> tuple[Any, dict[str, Any] | None]:
    """``(result, None)`` when the handler committed, ``(None, refusal)`` when it refused."""
    state = request.app.state
    try:
        result = handler(command, uow=UnitOfWork(state.session_factory), clock=state.clock)
    except RuleViolation as exc:
        log.info("page_action_refused", handler=handler.__name__, rule=exc.rule, field=exc.field)
        return None, exc.as_dict()
    log.info("page_action_done", handler=handler.__name__)
    return result, None


# Refusals of what was typed into the form answer 400; refusals by a rule or the subject's state, 409.
INPUT_REFUSALS = frozenset({"InvalidInput", "NotFound", "RatingInvalid"})


def refusal_status(refusal: dict[str, Any]) -> int:
    """The status a page answers a refusal with, the form shown again with the refusal on it."""
    return 400 if refusal.get("type") in INPUT_REFUSALS else 409


def form_values(form) -> dict[str, Any]:
    """What the user typed, to show the form again as it was (the CSRF token is issued afresh)."""
    return {k: v for k, v in form.items() if k != "csrf_token"}


def text(form, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
