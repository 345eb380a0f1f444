"""Fixtures of the browser tests: one headless Chromium per session, a real server per test; helpers in browserkit.py."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import browserkit

# The page tests' world builder (tests/pages/pagekit.py) is shared, by its own unique module name.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "pages"))

from pagekit import PageWorld, make_page_world  # noqa: E402

NOW = "2027-04-05T10:00:00Z"  # the instant the page world was built at; the server's simulated clock


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    try:
        driver = browserkit.make_driver()
    except Exception as exc:  # noqa: BLE001 - a missing or broken browser fails the run with its reason
        reason = str(exc)
    else:
        reason = None
    if reason is not None:
        pytest.fail(f"Headless Chromium could not be started: {reason}\nRun `make system-deps` to install it.",
                    pytrace=False)
    yield driver
    driver.quit()


@pytest.fixture
def driver(browser):
    """The session's browser with no cookies left from another test."""
    browser.delete_all_cookies()
    yield browser
    browser.delete_all_cookies()


def _site(url: str, tmp_path: Path) -> Iterator[tuple[PageWorld, browserkit.Server]]:
    world = make_page_world(url)
    server = browserkit.Server(db_url=url, now=NOW, workdir=tmp_path)
    try:
        server.start()
        yield world, server
    finally:
        server.stop()
        world.dispose()


@pytest.fixture
def site(sqlite_url: str, tmp_path: Path):
    """The page world on a SQLite file, served by `ogp-lifecycle serve` in a subprocess."""
    yield from _site(sqlite_url, tmp_path)


@pytest.fixture
def pg_site(postgres_url: str, tmp_path: Path):
    """The same on PostgreSQL."""
    yield from _site(postgres_url, tmp_path)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test leaves a screenshot of the page it failed on."""
    outcome = yield
    report = outcome.get_result()
    driver = item.funcargs.get("driver") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and driver is not None:
        try:
            browserkit.screenshot(driver, f"FAILED-{item.name}")
        except Exception:  # noqa: BLE001 - the failure itself is what the report must show
            pass


def pytest_terminal_summary(terminalreporter) -> None:
    if browserkit.SAVED:
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(f"{len(browserkit.SAVED)} saved in {browserkit.SCREENSHOTS}")
        for path in browserkit.SAVED:
            terminalreporter.write_line(f"  {path}")
