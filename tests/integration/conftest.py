"""Fixtures of the integration tests; the builders they use live in worldkit.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from worldkit import World, make_world


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    """A world on each real database (SQLite and PostgreSQL), clock at 2027-01-10 09:00 UTC."""
    w, engine = make_world(db_url)
    yield w
    engine.dispose()
