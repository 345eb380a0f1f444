"""The unit of work: one database transaction per command, with the subject locked."""

from __future__ import annotations

from typing import TypeVar

import pendulum
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lifecycle.clock import Clock, SystemClock
from policies.errors import NotFound

T = TypeVar("T")


class UnitOfWork:
    """``with uow:`` opens a session; ``commit()`` ends it; leaving without commit rolls back.

    ``lock`` loads a subject with ``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite every
    transaction already began with ``BEGIN IMMEDIATE`` (see ``lifecycle.db``), which
    serializes writers on the database lock.
    """

    def __init__(self, session_factory: sessionmaker, *, wall_clock: Clock | None = None) -> None:
        self._factory = session_factory
        self.wall_clock = wall_clock or SystemClock()
        self.session: Session | None = None

    def __enter__(self) -> "UnitOfWork":
        self.session = self._factory()
        return self

    def __exit__(self, *exc) -> None:
        assert self.session is not None
        try:
            self.session.rollback()
        finally:
            self.session.close()
            self.session = None

    def commit(self) -> None:
        assert self.session is not None
        self.session.commit()

    def rollback(self) -> None:
        assert self.session is not None
        self.session.rollback()

    def recorded_at(self) -> pendulum.DateTime:
        return self.wall_clock.now()

    def lock(self, model: type[T], ident: int, *, what: str | None = None) -> T:
        """Load and lock one row, or refuse with NotFound naming it."""
        assert self.session is not None
        stmt = (
            select(model)
            .where(model.id == ident)  # type: ignore[attr-defined]
            .with_for_update(of=model)
            .execution_options(populate_existing=True)
        )
        entity = self.session.scalars(stmt).unique().one_or_none()
        if entity is None:
            raise NotFound(f"There is no {what or model.__name__.lower()} {ident}.", field="id")
        return entity

    def get(self, model: type[T], ident: int, *, what: str | None = None) -> T:
        assert self.session is not None
        entity = self.session.get(model, ident)
        if entity is None:
            raise NotFound(f"There is no {what or model.__name__.lower()} {ident}.", field="id")
        return entity
