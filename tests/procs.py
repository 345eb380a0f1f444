"""Real servers and ``ogp-lifecycle`` processes for the tests: started for real or the run fails, always reaped."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def start_or_fail(server, *, stop, failure: str):
    """Start a test server and return it; if it cannot start, stop what did and fail the run, never skip.

    ``failure`` says what could not start and how to install it; ``{reason}`` in it is the error.
    """
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001 - whatever the cause, the run must fail, never skip
        stop()
        reason = f"{type(exc).__name__}: {exc}"
    else:
        return server
    # Failed outside the except block, so the report shows the reason without a traceback chain.
    pytest.fail(failure.format(reason=reason), pytrace=False)


def console_script() -> str:
    """The installed ``ogp-lifecycle`` console script: beside this Python, else on PATH."""
    beside = Path(sys.executable).with_name("ogp-lifecycle")
    found = str(beside) if beside.exists() else shutil.which("ogp-lifecycle")
    assert found, "the ogp-lifecycle console script is not installed (pip install -e .)"
    return found


START_TIMEOUT = 30.0


def wait_until(condition, *, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll ``condition`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class Service:
    """One ``ogp-lifecycle`` process in its own process group, its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> Service:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.argv, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def events(self) -> list[dict]:
        """The structlog JSON lines of the log (dramatiq's own lines are plain text and left out)."""
        found = []
        for line in self.log().splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except ValueError:
                    pass
        return found

    def has_event(self, name: str) -> bool:
        return any(e.get("event") == name for e in self.events())

    def tail(self, lines: int = 30) -> str:
        return f"--- {self.name} (pid {self.process.pid if self.process else '-'}, " \
               f"exit {self.returncode}) ---\n" + "\n".join(self.log().splitlines()[-lines:])

    def wait_for_event(self, name: str, timeout: float = START_TIMEOUT) -> None:
        def seen() -> bool:
            if not self.alive and not self.has_event(name):
                raise AssertionError(f"{self.name} exited before logging {name}:\n{self.tail()}")
            return self.has_event(name)

        wait_until(seen, timeout=timeout, what=f"{self.name} to log {name}")

    def kill9(self) -> None:
        """SIGKILL the whole process group: no clean-up, no acks, no goodbye."""
        if self.alive:
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(10)

    def terminate(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (a graceful stop), then SIGKILL if it does not exit in time; returns the exit code of the first."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                return self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
                return None
        return self.process.returncode

    def reap(self) -> None:
        """Make sure nothing of this process group outlives the test."""
        if self.process is None:
            return
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a zombie the kernel will reap
            pass


class Services:
    """Starts workers and schedulers against one database and one Redis; reaps them all at teardown."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[Service] = []

    def base_env(self, redis_url: str, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OGP_")}
        # Letters the workers write without SMTP go to the test's own folder, never the working tree.
        env.update(OGP_REDIS_URL=redis_url, OGP_LOG_FORMAT="json", OGP_LOG_LEVEL="INFO", PYTHONUNBUFFERED="1",
                   OGP_DATA_DIR=str(self.log_dir / "data"))
        env.update(extra)
        return env

    def _start(self, name: str, argv: list[str], env: dict[str, str]) -> Service:
        service = Service(name, [console_script(), *argv], env, self.log_dir / f"{name}.log")
        self.started.append(service)
        return service.start()

    def worker(self, db_url: str, redis_url: str, *, threads: int = 2, name: str | None = None,
               **env: str) -> Service:
        name = name or f"worker{sum(s.name.startswith('worker') for s in self.started) + 1}"
        return self._start(name, ["--db", db_url, "worker", "--threads", str(threads)],
                           self.base_env(redis_url, **env))

    def scheduler(self, db_url: str, redis_url: str, *, interval_s: float = 0.5, resend_after_s: float | None = None,
                  name: str | None = None, **env: str) -> Service:
        name = name or f"scheduler{sum(s.name.startswith('scheduler') for s in self.started) + 1}"
        extra = {"OGP_SCHEDULER_INTERVAL_S": str(interval_s), **env}
        if resend_after_s is not None:
            extra["OGP_SCHEDULER_RESEND_AFTER_S"] = str(resend_after_s)
        return self._start(name, ["--db", db_url, "scheduler"], self.base_env(redis_url, **extra))

    def tails(self) -> str:
        return "\n".join(s.tail() for s in self.started)

    def reap_all(self) -> None:
        for service in self.started:
            service.reap()
