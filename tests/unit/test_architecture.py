"""The direction of dependencies: policies stays pure, time enters through the Clock."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_IN_POLICIES = {"sqlalchemy", "dramatiq", "fastapi", "redis", "psycopg", "structlog", "config",
                         "lifecycle", "workers", "web", "alembic", "typer", "rich"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "policies").glob("*.py")), ids=lambda p: p.name)
def test_policies_import_nothing_of_persistence_messaging_or_settings(path):
    assert not (_imports(path) & FORBIDDEN_IN_POLICIES)


CLOCK_READS = re.compile(r"(datetime\.(now|utcnow|today)\(|pendulum\.(now|today)\(|time\.time\(|date\.today\()")


@pytest.mark.parametrize(
    "path",
    sorted(p for p in [*(ROOT / "policies").glob("*.py"), *(ROOT / "lifecycle").glob("*.py")] if p.name != "clock.py"),
    ids=lambda p: p.name,
)
def test_time_is_read_only_through_the_clock(path):
    assert not CLOCK_READS.search(path.read_text(encoding="utf-8"))


def test_nothing_outside_the_machine_assigns_a_state():
    offenders = []
    for path in (ROOT / "lifecycle").glob("*.py"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\.state\s*=[^=]", line):
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert offenders == []
