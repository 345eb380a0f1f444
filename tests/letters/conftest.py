"""Fixtures of the letter tests: a real SMTP server on loopback, members on real databases, real processes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

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
