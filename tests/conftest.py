"""Fixtures for the whole suite: the real SQLite and PostgreSQL databases the tests run against."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from pgserver import ENV_URL, PostgresServer
from procs import Services, start_or_fail
from redisserver import RedisServer

TEMPLATE_DATABASE = "ogp_template"


def _upgrade(url: str) -> None:
    # Imported here so that tests which need no database never import the persistence layer.
    from lifecycle.db import upgrade_database

    upgrade_database(url)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test that reaches the server carries the marker, so `-m "not postgres"` leaves them all out.
    for item in items:
        if "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer.from_environment()
    start_or_fail(server, stop=server.stop, failure=(
        "The PostgreSQL test server could not be started, and tests marked `postgres` need it.\n{reason}\n"
        f"Install it with `make system-deps`, point {ENV_URL} at a running server, "
        "or leave those tests out with -m 'not postgres'."))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> Iterator[str]:
    """A migrated database that each test's PostgreSQL database is copied from."""
    postgres_server.drop_database(TEMPLATE_DATABASE)
    postgres_server.create_database(TEMPLATE_DATABASE)
    _upgrade(postgres_server.url(TEMPLATE_DATABASE))
    yield TEMPLATE_DATABASE
    postgres_server.drop_database(TEMPLATE_DATABASE)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, postgres_template: str) -> Iterator[str]:
    """URL of a fresh, migrated PostgreSQL database of this test's own."""
    name = f"test_{uuid.uuid4().hex}"
    postgres_server.create_database(name, template=postgres_template)
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test's SQLite database is copied from."""
    path = tmp_path_factory.mktemp("sqlite-template") / "lifecycle.db"
    _upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """URL of a fresh, migrated SQLite file of this test's own."""
    path = tmp_path / "lifecycle.db"
    # The backup API copies a consistent image even if the template is in WAL mode.
    with closing(sqlite3.connect(sqlite_template)) as source, closing(sqlite3.connect(path)) as target:
        source.backup(target)
    return f"sqlite:///{path}"


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest) -> str:
    """URL of a fresh, migrated database; each test using it runs once on SQLite and once on PostgreSQL."""
    fixture = {"sqlite": "sqlite_url", "postgresql": "postgres_url"}[request.param]
    return request.getfixturevalue(fixture)


# ---------------------------------------------------------------- Redis and real processes (faults, letters)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    start_or_fail(server, stop=server.close, failure=(
        "The Redis test server could not be started, and the tests using `redis_server` need it.\n{reason}\n"
        "Install it with `make system-deps` (it installs redis-server)."))
    yield server
    server.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """URL of the test Redis server, running and emptied for this test."""
    import redis

    if not redis_server.running:  # a test that stopped it and failed before restarting it
        redis_server.start()
    client = redis.Redis.from_url(redis_server.url())
    try:
        client.flushall()
    finally:
        client.close()
    yield redis_server.url()


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    """Starts ``ogp-lifecycle`` worker and scheduler processes; every one is killed at teardown."""
    started = Services(tmp_path)
    try:
        yield started
    finally:
        started.reap_all()


@pytest.fixture
def restore_global_broker() -> Iterator[None]:
    """make_broker sets dramatiq's global broker; put the previous one back afterwards."""
    import dramatiq.broker as module

    previous = module.global_broker
    try:
        yield
    finally:
        module.global_broker = previous


def pytest_terminal_summary(terminalreporter) -> None:
    """Print what tests measured (``record_property("figure", text)``) whether or not output is captured."""
    lines = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            for name, value in getattr(report, "user_properties", ()):
                if name == "figure":
                    lines.append(f"{report.nodeid.split('::')[-1][:70]}…: {value}")
    if lines:
        terminalreporter.write_sep("-", "measured figures")
        for line in lines:
            terminalreporter.write_line(line)
