"""Fixtures of the web tests; the builders live in webkit.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from webkit import WebWorld, make_web_world


@pytest.fixture
def web(db_url: str, tmp_path: Path) -> Iterator[WebWorld]:
    """The app on each real database (SQLite and PostgreSQL), clock at 2027-01-10 09:00 UTC."""
    w, engine = make_web_world(db_url, tmp_path)
    with w.client:
        yield w
    engine.dispose()


@pytest.fixture
def web_sqlite(sqlite_url: str, tmp_path: Path) -> Iterator[WebWorld]:
    """The app on SQLite only, for tests about the HTTP edge rather than the database."""
    w, engine = make_web_world(sqlite_url, tmp_path)
    with w.client:
        yield w
    engine.dispose()
