"""The test run has a real PostgreSQL server of a supported version to run against."""

import re

import pytest

pytestmark = pytest.mark.postgres


def test_the_test_server_accepts_connections_and_runs_postgresql_15_or_newer(postgres_server):
    with postgres_server.connect() as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]

    major = re.match(r"\d+", version)
    assert major is not None, version
    assert int(major.group()) >= 15, version
