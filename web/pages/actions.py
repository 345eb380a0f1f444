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


def refusal_of(exc: RuleViolation) -> dict[str, Any]:
    return exc.as_dict()


def run_use_case(request: Request, handler, command) -> tuple[Any, dict[str, Any] | None]:
    """``(result, None)`` when the handler committed, ``(None, refusal)`` when it refused."""
    state = request.app.state
    try:
        result = handler(command, uow=UnitOfWork(state.session_factory), clock=state.clock)
    except RuleViolation as exc:
        log.info("page_action_refused", handler=handler.__name__, rule=exc.rule, field=exc.field)
        return None, refusal_of(exc)
    log.info("page_action_done", handler=handler.__name__)
    return result, None


def text(form, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
