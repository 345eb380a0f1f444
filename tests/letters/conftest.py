"""Fixtures of the letter tests: a real SMTP server on loopback, members on real databases, real processes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "faults"))  # procs: worker and scheduler processes, always reaped

from letterworld import LetterWorld, make_letter_world, mail_settings  # noqa: E402
from smtpserver import SmtpServer, start_smtp_server  # noqa: E402


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 that archives every message it accepts."""
    server = start_smtp_server()
    yield server
    server.stop()


@pytest.fixture
def world(db_url: str, smtp_server: SmtpServer, tmp_path: Path) -> Iterator[LetterWorld]:
    """Members on each real database (SQLite, PostgreSQL), letters sent to the test SMTP server."""
    w = make_letter_world(db_url, mail_settings(db_url, tmp_path / "data", smtp_server))
    yield w
    w.engine.dispose()


@pytest.fixture(scope="session")
def redis_server():
    from redisserver import RedisServer

    server = RedisServer()
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001 - whatever the cause, the run must fail, never skip
        server.close()
        reason = str(exc)
    else:
        reason = None
    if reason is not None:
        pytest.fail(f"The Redis test server could not be started, and the letter worker tests need it.\n{reason}\n"
                    "Install it with `make system-deps`.", pytrace=False)
    yield server
    server.close()


@pytest.fixture
def redis_url(redis_server) -> str:
    import redis

    if not redis_server.running:
        redis_server.start()
    client = redis.Redis.from_url(redis_server.url())
    try:
        client.flushall()
    finally:
        client.close()
    return redis_server.url()


@pytest.fixture
def services(tmp_path: Path):
    """``ogp-lifecycle`` worker and scheduler processes; every one is killed at teardown."""
    from procs import Services

    started = Services(tmp_path)
    try:
        yield started
    finally:
        started.reap_all()


@pytest.fixture
def restore_global_broker() -> Iterator[None]:
    import dramatiq.broker as module

    previous = module.global_broker
    try:
        yield
    finally:
        module.global_broker = previous


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the 1,000-letter figures (recorded with record_property) whether or not output is captured."""
    lines = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            for name, value in getattr(report, "user_properties", ()):
                if name == "letters_figures":
                    lines.append(f"{report.nodeid.split('::')[-1][:70]}…: {value}")
    if lines:
        terminalreporter.write_sep("-", "letter figures")
        for line in lines:
            terminalreporter.write_line(line)
