"""Fixtures of the fault tests: a prebuilt due set on PostgreSQL (Redis and processes come from tests/conftest.py)."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dueset import DUE_SET_SIZE, build_due_set  # noqa: E402

DUE_TEMPLATE = "ogp_faults_due"


@pytest.fixture(scope="session")
def due_template(postgres_server, postgres_template: str) -> Iterator[str]:
    """A migrated PostgreSQL database holding the due set, built once through the handlers."""
    postgres_server.drop_database(DUE_TEMPLATE)
    postgres_server.create_database(DUE_TEMPLATE, template=postgres_template)
    build_due_set(postgres_server.url(DUE_TEMPLATE), DUE_SET_SIZE)
    yield DUE_TEMPLATE
    postgres_server.drop_database(DUE_TEMPLATE)


@pytest.fixture
def due_db_url(postgres_server, due_template: str) -> Iterator[str]:
    """URL of a fresh PostgreSQL database of this test's own, copied from the due set."""
    name = f"test_{uuid.uuid4().hex}"
    postgres_server.create_database(name, template=due_template)
    yield postgres_server.url(name)
    postgres_server.drop_database(name)
