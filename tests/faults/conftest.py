"""Fixtures of the fault tests: a real Redis server, a prebuilt due set on PostgreSQL, real processes."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dueset import DUE_SET_SIZE, build_due_set  # noqa: E402
from procs import Services  # noqa: E402
from redisserver import RedisServer  # noqa: E402

DUE_TEMPLATE = "ogp_faults_due"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001 - whatever the cause, the run must fail, never skip
        server.close()
        reason = str(exc)
    else:
        reason = None
    if reason is not None:
        pytest.fail(
            f"The Redis test server could not be started, and the fault tests need it.\n{reason}\n"
            "Install it with `make system-deps` (it installs redis-server), or leave the fault tests out "
            "with --ignore=tests/faults.",
            pytrace=False,
        )
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
    """Print the measured figures (recorded with record_property) whether or not output is captured."""
    lines = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            for name, value in getattr(report, "user_properties", ()):
                if name == "redelivery_s":
                    lines.append(f"{report.nodeid.split('::')[-1][:60]}…: redelivery after kill -9 = {value} s")
    if lines:
        terminalreporter.write_sep("-", "fault figures")
        for line in lines:
            terminalreporter.write_line(line)
